/**
 * Test helper: the BigQuery REST API as the GA4 exporter calls it through the official client, plus the OAuth
 * token endpoint a service account key names (token_uri), on 127.0.0.1:
 *  - POST /token: a JWT-bearer grant; the assertion's RS256 signature is verified against the registered public
 *    keys (an unknown key gets Google's 400 invalid_grant "Invalid JWT Signature.");
 *  - datasets.get, tables.list (pageToken paging), tables.get (numRows, schema), tabledata.list (rows as
 *    `{f: [{v}]}`, INT64 as strings, pageToken paging), jobs.insert of a `SELECT * FROM \`p.d.table\`` query and
 *    jobs.getQueryResults (optionally `jobComplete: false` first);
 *  - every BigQuery call needs a Bearer token this server issued (else 401), and a service account listed in
 *    `denied` gets 403 accessDenied.
 * Faults on top of FakeVendorServer's (429 / 5xx / resets): rows silently missing from tabledata.list, a page
 * token that loops back, a tables.list that pages.
 */
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { FakeVendorServer, type FakeRequest, type FakeResponse } from './fake-vendor-server.js';
import type { BigQueryField } from '../sources/ga4/bigquery-rows.js';

export type Ga4Row = Record<string, unknown>;

export interface BigQueryFakeOptions {
  readonly project: string;
  readonly dataset: string;
  readonly location?: string;
  /** Table name → rows in BigQuery's JSON export form. */
  readonly tables: Map<string, Ga4Row[]>;
  /** Service accounts whose JWTs are accepted: client_email → public key. */
  readonly keys: Map<string, KeyObject>;
  /** Service accounts refused by BigQuery (IAM): 403 accessDenied. */
  denied?: Set<string>;
  /** Rows per tabledata.list / getQueryResults page at most. */
  pageRows?: number;
  /** Tables per tables.list page at most. */
  tablesPageSize?: number;
  /** tabledata.list leaves out this many rows of the last page, silently. */
  dropRows?: number;
  /** tabledata.list sends the first page's token again instead of the third one. */
  tokenLoop?: boolean;
  /** getQueryResults answers `jobComplete: false` this many times per job first. */
  pendingPolls?: number;
}

/** The GA4 export schema (the fields the test rows use; vendor-export-apis.md §6.2). */
const S = (name: string, type = 'STRING', mode = 'NULLABLE', fields?: BigQueryField[]): BigQueryField => ({ name, type, mode, ...(fields === undefined ? {} : { fields }) });
const PARAM_VALUE = [S('string_value'), S('int_value', 'INTEGER'), S('float_value', 'FLOAT'), S('double_value', 'FLOAT')];
export const GA4_SCHEMA: BigQueryField[] = [
  S('event_date'),
  S('event_timestamp', 'INTEGER'),
  S('event_name'),
  S('event_params', 'RECORD', 'REPEATED', [S('key'), S('value', 'RECORD', 'NULLABLE', PARAM_VALUE)]),
  S('event_previous_timestamp', 'INTEGER'),
  S('event_value_in_usd', 'FLOAT'),
  S('event_bundle_sequence_id', 'INTEGER'),
  S('event_server_timestamp_offset', 'INTEGER'),
  S('user_id'),
  S('user_pseudo_id'),
  S('privacy_info', 'RECORD', 'NULLABLE', [S('analytics_storage'), S('ads_storage'), S('uses_transient_token')]),
  S('user_properties', 'RECORD', 'REPEATED', [S('key'), S('value', 'RECORD', 'NULLABLE', [...PARAM_VALUE, S('set_timestamp_micros', 'INTEGER')])]),
  S('user_first_touch_timestamp', 'INTEGER'),
  S('user_ltv', 'RECORD', 'NULLABLE', [S('revenue', 'FLOAT'), S('currency')]),
  S('device', 'RECORD', 'NULLABLE', [
    S('category'),
    S('mobile_brand_name'),
    S('mobile_model_name'),
    S('operating_system'),
    S('operating_system_version'),
    S('language'),
    S('is_limited_ad_tracking'),
    S('web_info', 'RECORD', 'NULLABLE', [S('browser'), S('browser_version'), S('hostname')]),
  ]),
  S('geo', 'RECORD', 'NULLABLE', [S('continent'), S('sub_continent'), S('country'), S('region'), S('city'), S('metro')]),
  S('app_info', 'RECORD', 'NULLABLE', [S('id'), S('version')]),
  S('traffic_source', 'RECORD', 'NULLABLE', [S('name'), S('medium'), S('source')]),
  S('stream_id'),
  S('platform'),
  S('event_dimensions', 'RECORD', 'NULLABLE', [S('hostname')]),
  S('ecommerce', 'RECORD', 'NULLABLE', [S('transaction_id'), S('purchase_revenue', 'FLOAT')]),
  S('items', 'RECORD', 'REPEATED', [S('item_id'), S('item_name')]),
  S('is_active_user', 'BOOLEAN'),
  S('batch_event_index', 'INTEGER'),
  S('batch_ordering_id', 'INTEGER'),
  S('batch_page_id', 'INTEGER'),
];

type Cell = { v: unknown };

function toV(field: BigQueryField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (field.type === 'RECORD') return toRestRow(field.fields ?? [], value as Ga4Row);
  return String(value);
}

/** A JSON-export row as the REST API sends it: `{f: [{v}]}`, scalars as strings, repeated as `[{v}]`. */
export function toRestRow(fields: readonly BigQueryField[], row: Ga4Row): { f: Cell[] } {
  return {
    f: fields.map((field) => {
      const value = row[field.name];
      if (field.mode === 'REPEATED') return { v: Array.isArray(value) ? value.map((item) => ({ v: toV(field, item) })) : [] };
      return { v: toV(field, value) };
    }),
  };
}

/** A row with every schema field, members in schema order (what the exporter writes back). */
export function completeRow(fields: readonly BigQueryField[], row: Ga4Row): Ga4Row {
  const out: Ga4Row = {};
  for (const field of fields) {
    const value = row[field.name];
    if (field.mode === 'REPEATED') out[field.name] = Array.isArray(value) ? value.map((v) => (field.type === 'RECORD' ? completeRow(field.fields ?? [], v as Ga4Row) : v)) : [];
    else if (field.type === 'RECORD') out[field.name] = value === null || value === undefined ? null : completeRow(field.fields ?? [], value as Ga4Row);
    else out[field.name] = value ?? null;
  }
  return out;
}

/** `count` GA4 rows of one day: page views and clicks of a few devices, INT64s as strings. */
export function ga4Rows(isoDate: string, count: number, tag = 'd'): Ga4Row[] {
  const dayStartUs = BigInt(Date.parse(`${isoDate}T00:00:00Z`)) * 1000n;
  return Array.from({ length: count }, (_, i) => {
    const device = `${1000 + (i % 7)}.${isoDate.replace(/-/g, '')}`;
    const ts = dayStartUs + BigInt(i) * 61_000_123n + 17n;
    return {
      event_date: isoDate.replace(/-/g, ''),
      event_timestamp: String(ts),
      event_name: i % 3 === 0 ? 'click' : 'page_view',
      event_params: [
        { key: 'page_location', value: { string_value: `https://shop.example.com/p/${i % 5}?tag=${tag}`, int_value: null, float_value: null, double_value: null } },
        { key: 'ga_session_id', value: { string_value: null, int_value: String(1_711_000_000 + (i % 7)), float_value: null, double_value: null } },
        { key: 'big_counter', value: { string_value: null, int_value: '9007199254740993', float_value: null, double_value: null } },
        { key: 'value', value: { string_value: null, int_value: null, float_value: null, double_value: 12.5 } },
      ],
      event_previous_timestamp: null,
      event_value_in_usd: null,
      event_bundle_sequence_id: String(9_007_199_254_740_993n + BigInt(i)),
      event_server_timestamp_offset: '1200',
      user_id: i % 2 === 0 ? `user-${i % 7}` : null,
      user_pseudo_id: device,
      privacy_info: { analytics_storage: 'Yes', ads_storage: 'No', uses_transient_token: 'No' },
      user_properties: [{ key: 'plan', value: { string_value: 'pro', int_value: null, float_value: null, double_value: null, set_timestamp_micros: '1711846000000000' } }],
      user_first_touch_timestamp: '1700000000000000',
      user_ltv: null,
      device: { category: 'desktop', mobile_brand_name: null, mobile_model_name: null, operating_system: 'Windows', operating_system_version: 'Windows 11', language: 'de-de', is_limited_ad_tracking: 'No', web_info: { browser: 'Chrome', browser_version: '123.0', hostname: 'shop.example.com' } },
      geo: { continent: 'Europe', sub_continent: 'Western Europe', country: 'Germany', region: 'Berlin', city: 'Berlin', metro: '(not set)' },
      app_info: null,
      traffic_source: { name: '(direct)', medium: '(none)', source: '(direct)' },
      stream_id: '4567890123',
      platform: 'WEB',
      event_dimensions: null,
      ecommerce: null,
      items: [],
      is_active_user: true,
      batch_event_index: String(i % 4),
      batch_ordering_id: String(5 + i),
      batch_page_id: '1711846000000',
    };
  });
}

export interface FakeServiceAccount {
  /** The JSON key file's content (type service_account, token_uri pointing at the fake). */
  readonly json: string;
  readonly clientEmail: string;
  readonly publicKey: KeyObject;
}

/** A freshly generated, obviously fake service account key whose token_uri is `tokenUri`. */
export function fakeServiceAccount(tokenUri: string, name = 'usagelab-test', project = 'fake-project-0000'): FakeServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `${name}@${project}.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: 'service_account',
    project_id: project,
    private_key_id: 'FAKE-key-id-0000',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: clientEmail,
    client_id: '000000000000000000000',
    token_uri: tokenUri,
  });
  return { json, clientEmail, publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })) };
}

const json = (status: number, body: unknown): FakeResponse => ({ status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(body) });

function apiError(status: number, reason: string, message: string): FakeResponse {
  const statusText: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 400: 'INVALID_ARGUMENT' };
  return json(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: statusText[status] ?? 'UNKNOWN' } });
}

const b64url = (text: string): Buffer => Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

interface Job {
  readonly table: string;
  polls: number;
}

export class BigQueryFake {
  private readonly tokens = new Map<string, string>();
  private readonly jobs = new Map<string, Job>();
  private issued = 0;
  server!: FakeVendorServer;

  constructor(readonly options: BigQueryFakeOptions) {}

  static async start(options: BigQueryFakeOptions): Promise<BigQueryFake> {
    const fake = new BigQueryFake(options);
    fake.server = await FakeVendorServer.start((req) => fake.handle(req));
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  get tokenUri(): string {
    return `${this.server.url}/token`;
  }

  /** Requests to the BigQuery API (the token exchange left out). */
  apiRequests(): FakeRequest[] {
    return this.server.requests.filter((r) => r.path.startsWith('/bigquery/'));
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private token(req: FakeRequest): FakeResponse {
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    const [head, payload, signature] = (form.get('assertion') ?? '').split('.');
    if (head === undefined || payload === undefined || signature === undefined) return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT.' });
    const claims = JSON.parse(b64url(payload).toString('utf8')) as { iss?: string; scope?: string; exp?: number };
    const key = this.options.keys.get(String(claims.iss));
    const valid = key !== undefined && verify('RSA-SHA256', Buffer.from(`${head}.${payload}`), key, b64url(signature));
    if (!valid) return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const token = `FAKE-ya29-token-${++this.issued}`;
    this.tokens.set(token, String(claims.iss));
    return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  }

  private page<T>(items: readonly T[], req: FakeRequest, cap: number | undefined): { slice: T[]; next: string | undefined; offset: number } {
    const token = req.query.get('pageToken');
    const offset = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8').replace('offset-', ''));
    const size = Math.min(Number(req.query.get('maxResults') ?? 100_000), cap ?? Infinity);
    const end = Math.min(items.length, offset + size);
    return { slice: items.slice(offset, end), next: end < items.length ? Buffer.from(`offset-${end}`).toString('base64url') : undefined, offset };
  }

  private handle(req: FakeRequest): FakeResponse {
    if (req.path === '/token' && req.method === 'POST') return this.token(req);
    const auth = req.headers.authorization ?? '';
    const who = this.tokens.get(auth.replace(/^Bearer /, ''));
    if (who === undefined) return apiError(401, 'required', 'Request is missing required authentication credential. Expected OAuth 2 access token.');
    const { project, dataset } = this.options;
    const base = `/bigquery/v2/projects/${project}`;
    if (this.options.denied?.has(who) === true) return apiError(403, 'accessDenied', `Access Denied: Dataset ${project}:${dataset}: Permission bigquery.datasets.get denied on dataset ${project}:${dataset} (or it may not exist).`);

    if (req.method === 'GET' && req.path === `${base}/datasets/${dataset}`) {
      return json(200, { kind: 'bigquery#dataset', id: `${project}:${dataset}`, datasetReference: { projectId: project, datasetId: dataset }, location: this.options.location ?? 'US' });
    }
    if (req.path.startsWith('/bigquery/v2/projects/') && req.path.includes('/datasets/') && !req.path.startsWith(`${base}/datasets/${dataset}`)) {
      return apiError(404, 'notFound', `Not found: Dataset ${req.path.split('/')[4]}:${req.path.split('/')[6]}`);
    }
    if (req.method === 'GET' && req.path === `${base}/datasets/${dataset}/tables`) {
      const names = [...this.options.tables.keys()].sort();
      const { slice, next } = this.page(names, req, this.options.tablesPageSize);
      return json(200, {
        kind: 'bigquery#tableList',
        totalItems: names.length,
        tables: slice.map((tableId) => ({ kind: 'bigquery#table', id: `${project}:${dataset}.${tableId}`, tableReference: { projectId: project, datasetId: dataset, tableId }, type: 'TABLE' })),
        ...(next === undefined ? {} : { nextPageToken: next }),
      });
    }
    const tableMatch = new RegExp(`^${base}/datasets/${dataset}/tables/([^/]+)(/data)?$`).exec(req.path);
    if (req.method === 'GET' && tableMatch !== null) {
      const name = tableMatch[1]!;
      const rows = this.options.tables.get(name);
      if (rows === undefined) return apiError(404, 'notFound', `Not found: Table ${project}:${dataset}.${name}`);
      if (tableMatch[2] === undefined) {
        return json(200, {
          kind: 'bigquery#table',
          tableReference: { projectId: project, datasetId: dataset, tableId: name },
          schema: { fields: GA4_SCHEMA },
          numRows: String(rows.length),
          lastModifiedTime: String(Date.parse(`${name.slice(-8, -4)}-${name.slice(-4, -2)}-${name.slice(-2)}T12:00:00Z`) + 86_400_000),
          type: 'TABLE',
        });
      }
      const { slice, next, offset } = this.page(rows, req, this.options.pageRows);
      let sent = slice;
      let token = next;
      if (next === undefined && (this.options.dropRows ?? 0) > 0) sent = slice.slice(0, Math.max(0, slice.length - this.options.dropRows!));
      if (this.options.tokenLoop === true && offset > 0 && next !== undefined) token = Buffer.from(`offset-${offset}`).toString('base64url');
      return json(200, {
        kind: 'bigquery#tableDataList',
        totalRows: String(rows.length),
        rows: sent.map((r) => toRestRow(GA4_SCHEMA, r)),
        ...(token === undefined ? {} : { pageToken: token }),
      });
    }
    if (req.method === 'POST' && req.path === `${base}/jobs`) {
      const body = JSON.parse(req.body) as { jobReference?: { jobId?: string }; configuration?: { query?: { query?: string; useLegacySql?: boolean } } };
      const query = body.configuration?.query;
      const m = /^SELECT \* FROM `([^`]+)`$/.exec(query?.query ?? '');
      if (m === null || query?.useLegacySql !== false) return apiError(400, 'invalidQuery', 'the fake runs only SELECT * FROM `project.dataset.table` in standard SQL');
      const [p, d, table] = m[1]!.split('.');
      if (p !== project || d !== dataset || !this.options.tables.has(table!)) return apiError(404, 'notFound', `Not found: Table ${m[1]}`);
      const jobId = body.jobReference?.jobId ?? `job_${this.jobs.size + 1}`;
      this.jobs.set(jobId, { table: table!, polls: 0 });
      return json(200, {
        kind: 'bigquery#job',
        id: `${project}:${this.options.location ?? 'US'}.${jobId}`,
        jobReference: { projectId: project, jobId, location: this.options.location ?? 'US' },
        configuration: body.configuration,
        status: { state: 'RUNNING' },
      });
    }
    const results = new RegExp(`^${base}/queries/([^/]+)$`).exec(req.path);
    if (req.method === 'GET' && results !== null) {
      const job = this.jobs.get(results[1]!);
      if (job === undefined) return apiError(404, 'notFound', `Not found: Job ${project}:${results[1]}`);
      if (job.polls < (this.options.pendingPolls ?? 0)) {
        job.polls += 1;
        return json(200, { kind: 'bigquery#getQueryResultsResponse', jobReference: { projectId: project, jobId: results[1] }, jobComplete: false });
      }
      const rows = this.options.tables.get(job.table) ?? [];
      const { slice, next } = this.page(rows, req, this.options.pageRows);
      return json(200, {
        kind: 'bigquery#getQueryResultsResponse',
        jobReference: { projectId: project, jobId: results[1], location: this.options.location ?? 'US' },
        schema: { fields: GA4_SCHEMA },
        totalRows: String(rows.length),
        rows: slice.map((r) => toRestRow(GA4_SCHEMA, r)),
        jobComplete: true,
        ...(next === undefined ? {} : { pageToken: next }),
      });
    }
    return apiError(404, 'notFound', `the fake has no ${req.method} ${req.path}`);
  }
}
