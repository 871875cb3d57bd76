/**
 * The BigQuery calls the GA4 exporter makes, through the official client (`@google-cloud/bigquery` 8; 9 needs
 * Node 22) with the client's own retries off: every call goes through the export HttpClient's `call`, so the
 * source's limiter, retries with backoff, Retry-After, progress counts and the refusal mapping are the same as
 * for every other source.
 *
 *  - datasets.get — `usagelab check`;
 *  - tables.list — which daily / intraday tables exist (pageToken paging);
 *  - tables.get — a daily table's schema, numRows and lastModifiedTime (its completeness reference);
 *  - tabledata.list — a daily table's rows (pageToken paging; free, unlike a query);
 *  - jobs.insert + jobs.getQueryResults — an intraday table is read by a query (a snapshot with an exact row
 *    count, where tabledata.list would race the streaming inserts).
 *
 * Authentication: the service account key signs a JWT exchanged for an access token at the key's token_uri.
 * google-auth-library 10 always posts to https://oauth2.googleapis.com/token; a key naming another token_uri
 * (another token service, or the test server) has its requests sent there.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { toolVersion } from '../../core/tool-version.js';
import { transientError, windowError } from '../export/export-errors.js';
import type { HttpClient, SdkCall, SdkFailure } from '../export/http-client.js';
import { rowObject, type BigQueryField, type BigQueryRestRow } from './bigquery-rows.js';
import { GOOGLE_TOKEN_URI, type ServiceAccountKey } from './ga4-service-account.js';
import type { BigQuery, Dataset } from '@google-cloud/bigquery';

export const BIGQUERY_API = 'https://bigquery.googleapis.com';
/** Rows per tabledata.list / getQueryResults page (BigQuery also caps a page at about 10 MB). */
export const GA4_PAGE_ROWS = 10_000;
/** A query job still running after this long fails the window. */
const QUERY_MAX_MS = 30 * 60_000;
/** Pause between two "jobComplete: false" answers (BigQuery itself holds each call up to 10 s). */
const QUERY_POLL_PAUSE_MS = 250;

export interface Ga4Target {
  /** Project of the dataset (analytics_<property id>). */
  readonly project: string;
  readonly dataset: string;
  /** BigQuery location of the dataset (US, EU, ...), when configured: jobs run there. */
  readonly location?: string | undefined;
}

export interface TableInfo {
  readonly numRows: bigint;
  readonly lastModified: string | null;
  readonly fields: readonly BigQueryField[];
}

export interface DatasetInfo {
  readonly location: string | null;
}

export interface ReadResult {
  readonly rows: number;
  /** Rows BigQuery says the table / result has. */
  readonly expected: bigint;
  readonly requests: number;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: { reason?: unknown; message?: unknown }[];
  response?: { status?: unknown; statusCode?: unknown; headers?: unknown; data?: unknown };
  config?: { url?: unknown };
}

function plainHeaders(headers: unknown): Record<string, string> | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const out: Record<string, string> = {};
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return out;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) if (typeof value === 'string') out[name.toLowerCase()] = value;
  return out;
}

const TOKEN_REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied']);

/** What an error of the BigQuery client (ApiError), of the token exchange (GaxiosError) or of the network means. */
export function describeGoogleError(err: unknown): SdkFailure | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const data = e.response?.data as { error?: unknown; error_description?: unknown } | undefined;
  const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
  if (status !== undefined && data !== null && typeof data === 'object' && typeof data.error === 'string') {
    // The token exchange answered (OAuth error body): a refused key is 400 invalid_grant ("Invalid JWT
    // Signature.") — a credential problem, so it is reported as one (401).
    const description = typeof data.error_description === 'string' ? data.error_description : message;
    const refused = status === 401 || status === 403 || TOKEN_REFUSALS.has(data.error);
    return { status: refused ? 401 : status, headers: plainHeaders(e.response?.headers), body: `token exchange: ${data.error}: ${description}`, message };
  }
  if (typeof e.code === 'number' && e.code >= 100) {
    // The BigQuery API answered: ApiError carries the status and the reasons (rateLimitExceeded, notFound, ...).
    const reasons = (e.errors ?? []).map((x) => String(x.reason ?? '')).filter((r) => r !== '');
    return { status: e.code, headers: plainHeaders(e.response?.headers), body: reasons.length > 0 ? `${message} [${reasons.join(', ')}]` : message, message };
  }
  if (status !== undefined) return { status, headers: plainHeaders(e.response?.headers), body: message, message };
  const code = typeof e.code === 'string' ? e.code : typeof (e as { cause?: { code?: unknown } }).cause?.code === 'string' ? String((e as { cause: { code: string } }).cause.code) : undefined;
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return { networkCode: code, message };
  if (/socket hang up|ECONNRESET|premature close|aborted/i.test(message)) return { networkCode: 'ECONNRESET', message };
  return undefined;
}

/** BigQuery reports throttling as 403 rateLimitExceeded (and transient faults as backendError): retry those. */
function bigqueryClassify(status: number, body: string): UsageLabError | undefined {
  if ((status === 403 || status === 400) && /rateLimitExceeded|userRateLimitExceeded|backendError|internalError/.test(body)) {
    return transientError('export_rate_limited', `BigQuery: ${body.slice(0, 200)}`, { exitCode: EXIT.unavailable, hint: 'BigQuery is throttling this project; the request is retried' });
  }
  if (status === 403 && /quotaExceeded|billingNotEnabled|accessDenied.*billing/i.test(body)) {
    return windowError('export_request_rejected', `BigQuery refused the request: ${body.slice(0, 300)}`, {
      hint: 'a BigQuery quota or billing limit of the project was reached; see the Google Cloud console (IAM & Admin > Quotas), then export again with --resume',
    });
  }
  return undefined;
}

/** The client, created on first use (loading it costs half a second that other commands should not pay). */
export class Ga4BigQuery {
  private client: Promise<BigQuery> | undefined;
  readonly apiBase: string;

  constructor(
    readonly target: Ga4Target,
    private readonly key: ServiceAccountKey,
    /** Project that runs the query jobs (billing); the dataset's project by default. */
    private readonly jobProject: string,
    apiEndpoint?: string,
  ) {
    this.apiBase = (apiEndpoint ?? BIGQUERY_API).replace(/\/+$/, '');
  }

  private bigquery(): Promise<BigQuery> {
    this.client ??= (async () => {
      const { BigQuery: Client } = await import('@google-cloud/bigquery');
      const bq = new Client({
        projectId: this.jobProject,
        apiEndpoint: this.apiBase,
        credentials: { client_email: this.key.client_email, private_key: this.key.private_key },
        retryOptions: { autoRetry: false, maxRetries: 0 },
        userAgent: `usagelab/${toolVersion()}`,
        ...(this.target.location === undefined ? {} : { location: this.target.location }),
      });
      const tokenUri = this.key.token_uri;
      if (tokenUri !== undefined && tokenUri !== GOOGLE_TOKEN_URI) {
        const auth = await bq.authClient.getClient();
        auth.transporter.interceptors.request.add({
          resolved: async (config) => {
            if (String(config.url) === GOOGLE_TOKEN_URI) config.url = new URL(tokenUri);
            return config;
          },
        });
      }
      return bq;
    })();
    return this.client;
  }

  private async dataset(): Promise<Dataset> {
    return (await this.bigquery()).dataset(this.target.dataset, { projectId: this.target.project });
  }

  private datasetUrl(): string {
    return `${this.apiBase}/bigquery/v2/projects/${encodeURIComponent(this.target.project)}/datasets/${encodeURIComponent(this.target.dataset)}`;
  }

  private sdk(what: string, method: SdkCall['method'], url: string, classify?: SdkCall['classify']): SdkCall {
    return {
      what,
      method,
      url,
      describe: describeGoogleError,
      classify: (status, body) => classify?.(status, body) ?? bigqueryClassify(status, body),
    };
  }

  /** datasets.get: the cheapest authenticated call that also proves the project and dataset names. */
  async datasetInfo(http: HttpClient): Promise<DatasetInfo> {
    const name = `${this.target.project}.${this.target.dataset}`;
    const [metadata] = await http.call(
      this.sdk(`BigQuery dataset ${name}`, 'GET', this.datasetUrl(), (status) =>
        status === 404
          ? new UsageLabError('ga4_dataset_not_found', `BigQuery has no dataset ${name}`, {
              exitCode: EXIT.usage,
              hint: 'check sources.ga4.gcp_project (the project the GA4 BigQuery link exports to) and sources.ga4.dataset / property_id (analytics_<property id>: GA4 Admin > Product links > BigQuery links)',
              place: { source: 'ga4', field: 'sources.ga4.dataset' },
            })
          : undefined,
      ),
      async () => (await this.dataset()).getMetadata(),
    );
    const location = (metadata as { location?: unknown }).location;
    return { location: typeof location === 'string' ? location : null };
  }

  /** tables.list, every page: the names of the dataset's tables. */
  async tableNames(http: HttpClient): Promise<{ names: Set<string>; requests: number }> {
    const names = new Set<string>();
    const tokens = new Set<string>();
    let pageToken: string | undefined;
    let requests = 0;
    for (;;) {
      requests += 1;
      const [, , response] = await http.call(this.sdk(`BigQuery tables of ${this.target.dataset}`, 'GET', `${this.datasetUrl()}/tables`), async () =>
        (await this.dataset()).getTables({ autoPaginate: false, maxResults: 1000, ...(pageToken === undefined ? {} : { pageToken }) }),
      );
      const body = (response ?? {}) as { tables?: { tableReference?: { tableId?: unknown } }[]; nextPageToken?: unknown };
      for (const t of body.tables ?? []) if (typeof t.tableReference?.tableId === 'string') names.add(t.tableReference.tableId);
      const next = typeof body.nextPageToken === 'string' && body.nextPageToken !== '' ? body.nextPageToken : undefined;
      if (next === undefined) return { names, requests };
      if (tokens.has(next)) throw transientError('export_incomplete', `BigQuery tables of ${this.target.dataset}: the page token ${next} came back a second time`, { hint: 'paging would loop; the window is fetched again' });
      tokens.add(next);
      pageToken = next;
    }
  }

  /** tables.get. */
  async tableInfo(http: HttpClient, table: string): Promise<TableInfo> {
    const [metadata] = await http.call(this.sdk(`BigQuery table ${table}`, 'GET', `${this.datasetUrl()}/tables/${table}`, tableGone(table)), async () => (await this.dataset()).table(table).getMetadata());
    const m = metadata as { numRows?: unknown; lastModifiedTime?: unknown; schema?: { fields?: BigQueryField[] } };
    const numRows = typeof m.numRows === 'string' && /^\d+$/.test(m.numRows) ? BigInt(m.numRows) : typeof m.numRows === 'number' ? BigInt(m.numRows) : undefined;
    if (numRows === undefined || m.schema?.fields === undefined) {
      throw transientError('export_incomplete', `BigQuery table ${table}: the metadata has no numRows or schema`, { hint: 'an unexpected answer; the window is fetched again' });
    }
    const modified = Number(m.lastModifiedTime);
    return { numRows, lastModified: Number.isFinite(modified) ? new Date(modified).toISOString() : null, fields: m.schema.fields };
  }

  /** tabledata.list of a daily table, every page; rows must add up to the table's numRows. */
  async readTable(http: HttpClient, table: string, info: TableInfo, onRow: (row: Record<string, unknown>) => Promise<void>): Promise<ReadResult> {
    const dataset = await this.dataset();
    const handle = dataset.table(table);
    // The schema is known (tables.get): getRows must not fetch it again inside a page call.
    handle.metadata = { ...handle.metadata, schema: { fields: info.fields } };
    const tokens = new Set<string>();
    let pageToken: string | undefined;
    let rows = 0;
    let requests = 0;
    let expected = info.numRows;
    for (let page = 1; ; page++) {
      requests += 1;
      const [list, , response] = await http.call(this.sdk(`BigQuery ${table} page ${page}`, 'GET', `${this.datasetUrl()}/tables/${table}/data`, tableGone(table)), () =>
        handle.getRows({ autoPaginate: false, skipParsing: true, maxResults: GA4_PAGE_ROWS, ...(pageToken === undefined ? {} : { pageToken }) }),
      );
      const body = (response ?? {}) as { totalRows?: unknown; pageToken?: unknown };
      if (typeof body.totalRows === 'string' && /^\d+$/.test(body.totalRows)) expected = BigInt(body.totalRows);
      for (const row of (list ?? []) as unknown as BigQueryRestRow[]) {
        await onRow(rowObject(info.fields, row));
        rows += 1;
      }
      const next = typeof body.pageToken === 'string' && body.pageToken !== '' ? body.pageToken : undefined;
      if (next === undefined) break;
      if (tokens.has(next)) {
        throw transientError('export_incomplete', `BigQuery ${table}: the page token ${next} came back a second time after ${rows.toLocaleString('en-US')} rows`, {
          hint: 'paging would repeat rows; the window is fetched again',
        });
      }
      tokens.add(next);
      pageToken = next;
    }
    return { rows, expected, requests };
  }

  /** A query job over an intraday table, its results paged; rows must add up to the job's totalRows. */
  async queryTable(http: HttpClient, table: string, onRow: (row: Record<string, unknown>) => Promise<void>): Promise<ReadResult> {
    const bq = await this.bigquery();
    const jobsUrl = `${this.apiBase}/bigquery/v2/projects/${encodeURIComponent(this.jobProject)}/jobs`;
    const [job] = await http.call(this.sdk(`BigQuery query of ${table}`, 'POST', jobsUrl, tableGone(table)), () =>
      bq.createQueryJob({
        query: `SELECT * FROM \`${this.target.project}.${this.target.dataset}.${table}\``,
        useLegacySql: false,
        labels: { tool: 'usagelab' },
        ...(this.target.location === undefined ? {} : { location: this.target.location }),
      }),
    );
    const tokens = new Set<string>();
    const started = Date.now();
    let pageToken: string | undefined;
    let rows = 0;
    let requests = 1;
    let expected: bigint | undefined;
    let fields: readonly BigQueryField[] | undefined;
    for (let page = 1; ; ) {
      requests += 1;
      const [list, , response] = await http.call(this.sdk(`BigQuery results of ${table} page ${page}`, 'GET', `${this.apiBase}/bigquery/v2/projects/${encodeURIComponent(this.jobProject)}/queries/${job.id ?? ''}`), () =>
        job.getQueryResults({ autoPaginate: false, skipParsing: true, maxResults: GA4_PAGE_ROWS, ...(pageToken === undefined ? {} : { pageToken }) }),
      );
      const body = (response ?? {}) as { jobComplete?: unknown; totalRows?: unknown; pageToken?: unknown; schema?: { fields?: BigQueryField[] }; errors?: unknown[] };
      if (body.jobComplete === false) {
        // Still running (BigQuery held the call up to 10 s): ask again, within a limit.
        if (Date.now() - started > QUERY_MAX_MS) {
          throw windowError('export_job_timeout', `BigQuery query of ${table} did not finish within ${QUERY_MAX_MS / 60_000} minutes`, { hint: 'see the job in the BigQuery console (Job history); export again with --resume' });
        }
        await new Promise((r) => setTimeout(r, QUERY_POLL_PAUSE_MS));
        continue;
      }
      if (Array.isArray(body.errors) && body.errors.length > 0) {
        throw windowError('export_job_failed', `BigQuery query of ${table} failed: ${JSON.stringify(body.errors).slice(0, 300)}`, { hint: 'see the job in the BigQuery console (Job history)' });
      }
      fields ??= body.schema?.fields;
      if (typeof body.totalRows === 'string' && /^\d+$/.test(body.totalRows)) expected ??= BigInt(body.totalRows);
      const pageRows = (list ?? []) as unknown as BigQueryRestRow[];
      if (pageRows.length > 0 && fields === undefined) throw transientError('export_incomplete', `BigQuery results of ${table}: rows without a schema`);
      for (const row of pageRows) {
        await onRow(rowObject(fields!, row));
        rows += 1;
      }
      const next = typeof body.pageToken === 'string' && body.pageToken !== '' ? body.pageToken : undefined;
      if (next === undefined) break;
      if (tokens.has(next)) {
        throw transientError('export_incomplete', `BigQuery results of ${table}: the page token ${next} came back a second time after ${rows.toLocaleString('en-US')} rows`, {
          hint: 'paging would repeat rows; the window is fetched again',
        });
      }
      tokens.add(next);
      pageToken = next;
      page += 1;
    }
    if (expected === undefined) throw transientError('export_incomplete', `BigQuery results of ${table}: no totalRows in the answer`);
    return { rows, expected, requests };
  }
}

/** A table that vanished between tables.list and the read (GA4 drops an intraday table once the day is final). */
function tableGone(table: string): (status: number) => UsageLabError | undefined {
  return (status) =>
    status === 404
      ? transientError('export_incomplete', `BigQuery table ${table} is gone`, { hint: 'GA4 replaced the table (an intraday table becomes the daily one); the window is fetched again' })
      : undefined;
}
