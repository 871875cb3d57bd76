/**
 * GA4's exporter (vendor-export-apis.md §6): the BigQuery export tables of a property, read through the official
 * BigQuery client with a service account, one window per day of the property's time zone (the tables are named
 * by that date). Per day (ga4-tables.ts): the daily table when it exists, else the intraday table as provisional
 * data, replaced by a later run once the daily table appears; a day past GA4's 72-hour rewrite horizon without
 * a table is missing (an error). Incremental runs re-read the last 3 days (`late_data_days`), because GA4
 * rewrites daily tables for up to three days.
 *
 * Rows are written in BigQuery's JSON export form (INT64 as strings, event_params / user_properties nested as
 * GA4 writes them), which is what `usagelab import` reads. Completeness: a daily table's rows must equal its
 * numRows (tables.get, and the totalRows of every page), an intraday query's rows its totalRows; a page token
 * that repeats is an error (paging would loop or repeat rows).
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { lookbackFrom, type EndpointSpec, type ExporterDefinition, type ExporterSettings, type ProbeOptions, type ProbeResult } from '../export/exporter-definition.js';
import type { SourceExporter, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError } from '../export/export-errors.js';
import { DAY_MS, floorToGrid, localDate, nextGridBoundary, type ExportWindow, type WindowGrid } from '../export/export-window.js';
import { probeHttpClient } from '../export/probe-client.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';
import { BIGQUERY_API, Ga4BigQuery, GA4_PAGE_ROWS, type ReadResult } from './ga4-bigquery.js';
import { GOOGLE_TOKEN_URI, readServiceAccountKey, type ServiceAccountKey } from './ga4-service-account.js';
import { chooseGa4Table, GA4_REWRITE_DAYS, isMissingDay } from './ga4-tables.js';

/** GA4 rewrites daily tables for up to three days after the events' date. */
export const GA4_DEFAULT_LOOKBACK_MS = GA4_REWRITE_DAYS * DAY_MS;

/**
 * BigQuery API quotas: 100 requests per second per user per method; windows are days and each reads a few pages,
 * so a handful at once is plenty (BigQuery quotas page; not re-checked against a live project).
 */
export const GA4_LIMITS: RateLimitSpec = { concurrency: 4, rolling: [{ limit: 100, periodMs: 1_000 }] };

const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;

export interface Ga4ExportOptions {
  readonly key: ServiceAccountKey;
  /** Project of the dataset (sources.ga4.gcp_project, else the key's project_id). */
  readonly project: string;
  readonly dataset: string;
  /** Project that runs (and pays for) query jobs; the dataset's project by default. */
  readonly jobProject?: string | undefined;
  readonly location?: string | undefined;
  /** The property's reporting time zone: its dates name the tables. */
  readonly timezone?: string | undefined;
  /** Read today's (and not yet final days') intraday tables; default true. */
  readonly intraday?: boolean | undefined;
  /** BigQuery API base URL instead of https://bigquery.googleapis.com (a test server). */
  readonly endpoint?: string | undefined;
  readonly lookbackMs?: number | undefined;
  readonly limits?: RateLimitSpec | undefined;
  /** The current time, for "which days are final" (the export loop's clock in tests). */
  readonly now?: (() => number) | undefined;
  /** Where the key came from, for hints. */
  readonly origin?: string | undefined;
}

function microsIso(micros: bigint): string {
  const ms = micros / 1000n;
  const frac = String(micros % 1_000_000n).padStart(6, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac}Z`;
}

export function ga4AuthHint(origin: string, key: ServiceAccountKey | undefined): string {
  const who = key === undefined ? 'the service account' : `the service account ${key.client_email}`;
  return (
    `check the key in ${origin} (a deleted or disabled key is refused: create a new one), and that ${who} has BigQuery Data Viewer on the dataset ` +
    'and BigQuery Job User on the project (IAM & Admin > IAM)'
  );
}

export function createGa4Exporter(options: Ga4ExportOptions): SourceExporter {
  const timezone = options.timezone ?? 'UTC';
  const grid: WindowGrid = { kind: 'days', timezone };
  const intraday = options.intraday ?? true;
  const now = options.now ?? Date.now;
  const origin = options.origin ?? 'GOOGLE_APPLICATION_CREDENTIALS';
  const bq = new Ga4BigQuery({ project: options.project, dataset: options.dataset, location: options.location }, options.key, options.jobProject ?? options.project, options.endpoint);

  return {
    source: 'ga4',
    displayName: 'GA4',
    windowing: {
      grid,
      // Today is read from its intraday table (provisional); without intraday, whole past days only.
      availableUntil: (at) => (intraday ? nextGridBoundary(at, grid) : floorToGrid(at, grid)),
      lookbackMs: options.lookbackMs ?? GA4_DEFAULT_LOOKBACK_MS,
    },
    limits: options.limits ?? GA4_LIMITS,
    defaultConcurrency: 2,
    authHint: ga4AuthHint(origin, options.key),
    secrets: [options.key.private_key],

    async exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome> {
      const day = localDate(window.start, timezone);
      const today = localDate(now(), timezone);
      const listed = await bq.tableNames(ctx.http);
      const choice = chooseGa4Table(day, today, listed.names, intraday);
      if (isMissingDay(choice)) {
        // Not retried: the table will not appear by asking again.
        throw new UsageLabError('export_day_missing', `GA4 ${day}: ${options.dataset} has no table events_${day.replace(/-/g, '')}`, {
          exitCode: EXIT.partial,
          hint:
            choice.firstDaily === null
              ? 'the dataset has no daily tables at all: check that the GA4 BigQuery link exports daily (GA4 Admin > BigQuery links)'
              : `GA4 exports only from the day the BigQuery link was created (the first table is ${choice.firstDaily}) and skips days over the daily export limit`,
          place: { source: 'ga4' },
        });
      }
      let high: bigint | undefined;
      const onRow = async (row: Record<string, unknown>): Promise<void> => {
        const ts = row.event_timestamp;
        if (typeof ts === 'string' && /^\d+$/.test(ts)) {
          const micros = BigInt(ts);
          if (high === undefined || micros > high) high = micros;
        }
        await ctx.emit(row);
      };
      let read: ReadResult | undefined;
      let lastModified: string | null = null;
      let requests = listed.requests;
      if (choice.kind === 'daily') {
        const info = await bq.tableInfo(ctx.http, choice.table!);
        requests += 1;
        lastModified = info.lastModified;
        read = await bq.readTable(ctx.http, choice.table!, info, onRow);
        if (read.expected !== info.numRows) {
          throw transientError('export_incomplete', `GA4 ${choice.table}: numRows changed from ${info.numRows} to ${read.expected} while it was read`, {
            hint: 'GA4 rewrote the daily table meanwhile (it may for up to 72 hours); the window is fetched again',
          });
        }
      } else if (choice.kind === 'intraday') {
        read = await bq.queryTable(ctx.http, choice.table!, onRow);
      }
      if (read !== undefined) {
        requests += read.requests;
        if (BigInt(read.rows) !== read.expected) {
          throw transientError('export_incomplete', `GA4 ${choice.table}: BigQuery counts ${read.expected.toLocaleString('en-US')} rows but ${read.rows.toLocaleString('en-US')} were received`, {
            hint: 'pages came back short; the window is fetched again',
          });
        }
      }
      return {
        highWaterMark: high === undefined ? null : microsIso(high),
        cursor: { table: choice.table, kind: choice.kind, rows: read?.rows ?? 0, last_modified: lastModified },
        requests,
        provisional: choice.provisional,
      };
    },
  };
}

/**
 * The export row's fields by canonical column (docs/sources/ga4.md, Field mapping). `device` and `geo` stay whole
 * in `rest` (masked as members of properties, as the reader keeps them): mapping one nested member would take the
 * whole object out of the scan.
 */
export const GA4_RECORD_LAYOUT: RecordLayout = {
  fields: [
    { path: ['event_name'], column: 'event_name' },
    { path: ['user_id'], column: 'user_id' },
    { path: ['user_pseudo_id'], column: 'anonymous_id' },
    { path: ['event_params'], column: 'properties' },
    { path: ['user_properties'], column: 'user_properties' },
  ],
  rest: 'properties',
};

export interface Ga4Config {
  readonly project: string;
  readonly dataset: string;
  readonly jobProject: string;
  readonly key: ServiceAccountKey;
  readonly origin: string;
}

/** The project, dataset and key of `sources.ga4`, or the usage error saying which one is missing. */
export function ga4Config(settings: ExporterSettings): Ga4Config {
  const s = settings.section;
  const origin = settings.credentials.credentials_json !== undefined ? settings.origins.credentials_json ?? 'GA4_SERVICE_ACCOUNT_JSON' : settings.origins.credentials_file ?? 'GOOGLE_APPLICATION_CREDENTIALS';
  const key = readServiceAccountKey({ file: settings.credentials.credentials_file, json: settings.credentials.credentials_json, root: settings.root, origin });
  const project = typeof s.gcp_project === 'string' && s.gcp_project !== '' ? s.gcp_project : key.project_id;
  if (project === undefined) {
    throw new UsageLabError('ga4_project_missing', 'GA4: no Google Cloud project id: sources.ga4.gcp_project is not set and the key has no project_id', {
      exitCode: EXIT.usage,
      hint: 'set sources.ga4.gcp_project to the project the GA4 BigQuery link exports to (GA4 Admin > Product links > BigQuery links)',
      place: { source: 'ga4', field: 'sources.ga4.gcp_project' },
    });
  }
  const property = s.property_id === undefined || s.property_id === null ? undefined : String(s.property_id);
  const dataset = typeof s.dataset === 'string' && s.dataset !== '' ? s.dataset : property === undefined ? undefined : `analytics_${property}`;
  if (dataset === undefined) {
    throw new UsageLabError('ga4_dataset_missing', 'GA4: no dataset: set sources.ga4.dataset (analytics_<property id>) or sources.ga4.property_id', {
      exitCode: EXIT.usage,
      hint: 'the property id is in GA4 Admin > Property details; the export dataset is analytics_<property id>',
      place: { source: 'ga4', field: 'sources.ga4.dataset' },
    });
  }
  const jobProject = typeof s.job_project === 'string' && s.job_project !== '' ? s.job_project : project;
  for (const [field, value] of [['gcp_project', project], ['job_project', jobProject]] as const) {
    if (!PROJECT_ID.test(value)) {
      throw new UsageLabError('ga4_project_invalid', `GA4: "${value}" is not a Google Cloud project id`, {
        exitCode: EXIT.usage,
        hint: 'a project id is 6-30 lower-case letters, digits and hyphens (not the project name or number)',
        place: { source: 'ga4', field: `sources.ga4.${field}` },
      });
    }
  }
  if (!DATASET_ID.test(dataset)) {
    throw new UsageLabError('ga4_dataset_invalid', `GA4: "${dataset}" is not a BigQuery dataset id`, {
      exitCode: EXIT.usage,
      hint: 'the GA4 export dataset is analytics_<property id>',
      place: { source: 'ga4', field: 'sources.ga4.dataset' },
    });
  }
  return { project, dataset, jobProject, key, origin };
}

const V2 = '{{BIGQUERY_HOST}}/bigquery/v2/projects/{{GA4_GCP_PROJECT}}';
const BIGQUERY_AUTH = { kind: 'bearer', token: '{{GA4_ACCESS_TOKEN}}' } as const;
const API_LIMITS = 'BigQuery API: 100 requests per second per user per method (usagelab keeps 100/s and 4 at once)';

/** Every endpoint the exporter and its check call (Postman collection, API notes). */
export const GA4_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'service account token',
    method: 'POST',
    url: '{{GA4_TOKEN_URI}}',
    auth: { kind: 'none' },
    purpose:
      'exchanges a JWT signed with the service account key (RS256; iss = client_email, scope https://www.googleapis.com/auth/bigquery, aud = token_uri) for an access token valid 1 hour; ' +
      'the body is form-encoded grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>. In Postman, get {{GA4_ACCESS_TOKEN}} with `gcloud auth print-access-token` instead',
    limits: 'none documented; tokens are reused until they expire',
  },
  {
    kind: 'http',
    name: 'datasets.get',
    method: 'GET',
    url: `${V2}/datasets/{{GA4_DATASET}}`,
    auth: BIGQUERY_AUTH,
    purpose: '`usagelab check`: proves the key, the project id and the dataset name; 404 = wrong project or dataset, 403 = the service account lacks BigQuery Data Viewer',
    limits: API_LIMITS,
  },
  {
    kind: 'http',
    name: 'tables.list',
    method: 'GET',
    url: `${V2}/datasets/{{GA4_DATASET}}/tables?maxResults=1000`,
    auth: BIGQUERY_AUTH,
    purpose: 'lists events_YYYYMMDD and events_intraday_YYYYMMDD tables (pageToken paging) to choose the daily table of a day, else its intraday table',
    limits: API_LIMITS,
  },
  {
    kind: 'http',
    name: 'tables.get',
    method: 'GET',
    url: `${V2}/datasets/{{GA4_DATASET}}/tables/events_{{GA4_DATE}}`,
    auth: BIGQUERY_AUTH,
    purpose: "a daily table's schema, numRows (the completeness reference) and lastModifiedTime",
    limits: API_LIMITS,
  },
  {
    kind: 'http',
    name: 'tabledata.list',
    method: 'GET',
    url: `${V2}/datasets/{{GA4_DATASET}}/tables/events_{{GA4_DATE}}/data?maxResults=${GA4_PAGE_ROWS}&formatOptions.useInt64Timestamp=true`,
    auth: BIGQUERY_AUTH,
    purpose: "a daily table's rows, page by page (pageToken); free of query charges",
    limits: `${API_LIMITS}; a page holds at most ~10 MB whatever maxResults says`,
  },
  {
    kind: 'http',
    name: 'jobs.insert',
    method: 'POST',
    url: `${V2}/jobs`,
    auth: BIGQUERY_AUTH,
    purpose: "starts a query job reading an intraday table (SELECT * FROM `project.dataset.events_intraday_YYYYMMDD`): a snapshot with an exact row count; billed by bytes scanned",
    limits: 'query jobs: BigQuery concurrent query and bytes-billed quotas of the job project',
    body: {
      jobReference: { projectId: '{{GA4_GCP_PROJECT}}', jobId: '{{GA4_JOB_ID}}' },
      configuration: { query: { query: 'SELECT * FROM `{{GA4_GCP_PROJECT}}.{{GA4_DATASET}}.events_intraday_{{GA4_DATE}}`', useLegacySql: false }, labels: { tool: 'usagelab' } },
    },
  },
  {
    kind: 'http',
    name: 'jobs.getQueryResults',
    method: 'GET',
    url: `${V2}/queries/{{GA4_JOB_ID}}?maxResults=${GA4_PAGE_ROWS}&formatOptions.useInt64Timestamp=true`,
    auth: BIGQUERY_AUTH,
    purpose: 'waits for the job (jobComplete) and pages its rows (pageToken); totalRows is the completeness reference',
    limits: API_LIMITS,
  },
];

export const ga4ExporterDefinition: ExporterDefinition = {
  source: 'ga4',
  displayName: 'GA4',
  recordLayout: GA4_RECORD_LAYOUT,
  credentials: [
    { key: 'credentials_file', variable: 'GOOGLE_APPLICATION_CREDENTIALS', secret: false, optional: true },
    { key: 'credentials_json', variable: 'GA4_SERVICE_ACCOUNT_JSON', secret: true, optional: true },
  ],
  endpoints: GA4_ENDPOINTS,
  endpointVariables: {
    BIGQUERY_HOST: { value: BIGQUERY_API, description: 'the BigQuery REST API' },
    GA4_GCP_PROJECT: { value: '', description: 'the Google Cloud project the GA4 BigQuery link exports to (sources.ga4.gcp_project)' },
    GA4_DATASET: { value: 'analytics_123456789', description: 'analytics_<property id> (sources.ga4.dataset)' },
    GA4_DATE: { value: '20240310', description: "a day of the property's time zone, YYYYMMDD" },
    GA4_JOB_ID: { value: '', description: 'the jobReference.jobId jobs.insert answered' },
    GA4_TOKEN_URI: { value: GOOGLE_TOKEN_URI, description: "the key file's token_uri" },
  },
  create(settings: ExporterSettings): SourceExporter {
    const config = ga4Config(settings);
    const s = settings.section;
    return createGa4Exporter({
      key: config.key,
      project: config.project,
      dataset: config.dataset,
      jobProject: config.jobProject,
      location: typeof s.location === 'string' ? s.location : undefined,
      timezone: typeof s.property_timezone === 'string' ? s.property_timezone : undefined,
      intraday: s.intraday !== false,
      endpoint: settings.endpoint,
      lookbackMs: lookbackFrom(s, GA4_DEFAULT_LOOKBACK_MS),
      origin: config.origin,
    });
  },
  async probe(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
    const config = ga4Config(settings);
    const bq = new Ga4BigQuery({ project: config.project, dataset: config.dataset }, config.key, config.jobProject, settings.endpoint);
    const http = probeHttpClient({ source: 'GA4', authHint: ga4AuthHint(config.origin, config.key), secrets: [config.key.private_key], timeouts: options.timeouts, signal: options.signal });
    const info = await bq.datasetInfo(http);
    return { ok: true, detail: `dataset ${config.project}.${config.dataset}${info.location === null ? '' : ` (${info.location})`} is readable by ${config.key.client_email}` };
  },
};
