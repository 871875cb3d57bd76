/**
 * PostHog's query API client (vendor-export-apis.md §5): `POST {host}/api/projects/{id}/query/` with a HogQL query,
 * `Authorization: Bearer <personal API key>` (scope query:read), on US Cloud, EU Cloud or a self-hosted host.
 *
 * Paging is keyset on (timestamp, uuid) — never OFFSET: each page asks for the rows after the last one seen, in
 * (timestamp, uuid) order, so events that share a timestamp across a page boundary are neither skipped nor
 * repeated. A page holds at most 50,000 rows (the documented cap; default 10,000). Window bounds and the
 * cursor travel as HogQL `values` placeholders, not spliced into the query text.
 *
 * Completeness: rows must come strictly in key order; after the last page the window's events are counted on
 * the server and must equal the rows received (a silent server-side cap — PostHog's /events once returned 1,000
 * rows and reported success — shows up as a mismatch, and the window is fetched again, then fails). Limits:
 * 240 requests per minute, 2,400 per hour, 3 queries at once.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { lookbackFrom, type EndpointSpec, type ExporterDefinition, type ExporterSettings, type ProbeOptions, type ProbeResult } from '../export/exporter-definition.js';
import { probeHttpClient } from '../export/probe-client.js';
import { probeAcrossRegions } from '../export/probe-regions.js';
import type { SourceExporter, VendorRecord, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError, windowError } from '../export/export-errors.js';
import { DAY_MS, HOUR_MS, isoMinute, type ExportWindow } from '../export/export-window.js';
import { parseLossless } from '../export/lossless-json.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';

export const POSTHOG_HOSTS = { us: 'https://us.posthog.com', eu: 'https://eu.posthog.com' } as const;

/** "2400 requests per hour, 240 requests per minute, 3 queries running concurrently" (docs/api/queries). */
export const POSTHOG_LIMITS: RateLimitSpec = {
  concurrency: 3,
  rolling: [
    { limit: 240, periodMs: 60_000 },
    { limit: 2_400, periodMs: 3_600_000 },
  ],
};

/** "you can return up to 50k rows per query". */
export const POSTHOG_MAX_PAGE = 50_000;
export const POSTHOG_DEFAULT_PAGE = 10_000;
/** Events are selected by event time; ingestion can lag. */
export const POSTHOG_INGESTION_LAG_MS = HOUR_MS;
export const POSTHOG_DEFAULT_LOOKBACK_MS = DAY_MS;

/** The columns written, in the batch-export "events" shape that `usagelab import` reads. */
export const POSTHOG_COLUMNS = ['uuid', 'event', 'distinct_id', 'person_id', 'properties', 'timestamp', 'created_at', 'elements_chain'] as const;

export interface PosthogExportOptions {
  readonly host: string;
  readonly projectId: string;
  readonly apiKey: string;
  readonly pageSize?: number | undefined;
  readonly windowHours?: number | undefined;
  readonly lookbackMs?: number | undefined;
  readonly limits?: RateLimitSpec | undefined;
  readonly origins?: { readonly apiKey: string } | undefined;
}

/** An instant with microseconds: ISO text with offset (the query API renders the project's zone) → µs since epoch. */
export function instantMicros(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return BigInt(ms - offsetMinutes * 60_000) * 1000n + fraction;
}

/** µs since epoch → `2024-03-10 05:00:00.123456` (UTC), the form toDateTime64(..., 6, 'UTC') reads. */
export function utcMicrosText(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const frac = String(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${frac}`;
}

function microsIso(micros: bigint): string {
  return `${utcMicrosText(micros).replace(' ', 'T')}Z`;
}

const PAGE_QUERY = (limit: number, after: boolean): string =>
  `SELECT ${POSTHOG_COLUMNS.join(', ')} FROM events
WHERE timestamp >= toDateTime64({window_start}, 6, 'UTC') AND timestamp < toDateTime64({window_end}, 6, 'UTC')${
    after ? `\n  AND (timestamp > toDateTime64({after_timestamp}, 6, 'UTC') OR (timestamp = toDateTime64({after_timestamp}, 6, 'UTC') AND toString(uuid) > {after_uuid}))` : ''
  }
ORDER BY timestamp ASC, toString(uuid) ASC
LIMIT ${limit}`;

const COUNT_QUERY = `SELECT count() FROM events
WHERE timestamp >= toDateTime64({window_start}, 6, 'UTC') AND timestamp < toDateTime64({window_end}, 6, 'UTC')`;

interface QueryPage {
  readonly columns: readonly string[];
  readonly results: readonly unknown[][];
  readonly hasMore: boolean | undefined;
}

function readPage(value: unknown, what: string): QueryPage {
  const page = value as { columns?: unknown; results?: unknown; hasMore?: unknown };
  if (page === null || typeof page !== 'object' || !Array.isArray(page.results) || !page.results.every(Array.isArray)) {
    throw transientError('export_incomplete', `${what}: the answer has no "results" rows`, { hint: 'PostHog returned an unexpected body; the window is fetched again' });
  }
  const columns = Array.isArray(page.columns) ? page.columns.map(String) : [];
  return { columns, results: page.results as unknown[][], hasMore: typeof page.hasMore === 'boolean' ? page.hasMore : undefined };
}

export function createPosthogExporter(options: PosthogExportOptions): SourceExporter {
  const base = options.host.replace(/\/+$/, '');
  const pageSize = options.pageSize ?? POSTHOG_DEFAULT_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > POSTHOG_MAX_PAGE) {
    throw new UsageLabError('export_page_size_invalid', `PostHog page size ${pageSize} is outside 1..${POSTHOG_MAX_PAGE}`, {
      hint: `PostHog's query API returns at most ${POSTHOG_MAX_PAGE.toLocaleString('en-US')} rows per query`,
    });
  }
  const url = `${base}/api/projects/${encodeURIComponent(options.projectId)}/query/`;
  const headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
  const origin = options.origins?.apiKey ?? 'sources.posthog.personal_api_key';
  const cloud = base === POSTHOG_HOSTS.us ? 'eu' : base === POSTHOG_HOSTS.eu ? 'us' : undefined;

  return {
    source: 'posthog',
    displayName: 'PostHog',
    windowing: {
      grid: { kind: 'hours', size: options.windowHours ?? 24 },
      availableUntil: (now) => Math.floor((now - POSTHOG_INGESTION_LAG_MS) / HOUR_MS) * HOUR_MS,
      lookbackMs: options.lookbackMs ?? POSTHOG_DEFAULT_LOOKBACK_MS,
    },
    limits: options.limits ?? POSTHOG_LIMITS,
    defaultConcurrency: 3,
    authHint:
      `check ${origin} (a personal API key with the query:read scope) and sources.posthog.project_id` +
      (cloud === undefined ? `, and that sources.posthog.host (${base}) is your PostHog instance` : `; a project on PostHog's ${cloud.toUpperCase()} Cloud needs sources.posthog.host: ${POSTHOG_HOSTS[cloud]}`),
    secrets: [options.apiKey],

    classify(status: number, bodyText: string): UsageLabError | undefined {
      if (status === 404) {
        return new UsageLabError('export_request_rejected', `PostHog has no project ${options.projectId} at ${base}`, {
          exitCode: EXIT.usage,
          hint: 'check sources.posthog.project_id and sources.posthog.host',
          place: { source: 'posthog', field: 'sources.posthog.project_id' },
        });
      }
      if (status === 400) {
        return new UsageLabError('export_request_rejected', `PostHog refused the export query: ${bodyText.trim().slice(0, 300)}`, {
          exitCode: EXIT.internal,
          hint: 'this is a bug in usagelab (or a PostHog version that reads HogQL differently); please report it',
        });
      }
      return undefined;
    },

    async exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome> {
      const label = `PostHog events ${isoMinute(window.start)}/${isoMinute(window.end)}`;
      const bounds = { window_start: utcMicrosText(BigInt(window.start) * 1000n), window_end: utcMicrosText(BigInt(window.end) * 1000n) };
      let requests = 0;
      const query = async (text: string, values: Record<string, string>, what: string): Promise<QueryPage> => {
        requests += 1;
        const body = JSON.stringify({ query: { kind: 'HogQLQuery', query: text, values }, name: 'usagelab export' });
        return ctx.http.request({ method: 'POST', url, headers, body, what }, async (res) => {
          let text = '';
          for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
          let parsed: unknown;
          try {
            parsed = parseLossless(text);
          } catch {
            throw transientError('export_body_truncated', `${what}: the answer is not complete JSON`, { hint: 'the response was cut off; the page is fetched again' });
          }
          return readPage(parsed, what);
        });
      };

      let after: { ts: bigint; text: string; uuid: string } | undefined;
      let rows = 0;
      for (let page = 1; ; page++) {
        const values: Record<string, string> = { ...bounds, ...(after === undefined ? {} : { after_timestamp: utcMicrosText(after.ts), after_uuid: after.uuid }) };
        const result = await query(PAGE_QUERY(pageSize, after !== undefined), values, `${label} page ${page}`);
        const at = (name: string): number => {
          const i = result.columns.indexOf(name);
          if (i < 0) throw transientError('export_incomplete', `${label}: the answer lacks the column "${name}"`);
          return i;
        };
        if (result.results.length === 0) break;
        const idx = Object.fromEntries(POSTHOG_COLUMNS.map((c) => [c, at(c)])) as Record<(typeof POSTHOG_COLUMNS)[number], number>;
        for (const row of result.results) {
          const tsText = String(row[idx.timestamp]);
          const ts = instantMicros(tsText);
          const uuid = String(row[idx.uuid]);
          if (ts === undefined) throw windowError('export_record_invalid', `${label}: unreadable timestamp "${tsText}" on event ${uuid}`);
          if (after !== undefined && (ts < after.ts || (ts === after.ts && uuid <= after.uuid))) {
            throw transientError('export_incomplete', `${label}: rows arrived out of (timestamp, uuid) order at event ${uuid}`, {
              hint: 'paging would skip or repeat events; the window is fetched again',
            });
          }
          after = { ts, text: tsText, uuid };
          const record: VendorRecord = {};
          for (const c of POSTHOG_COLUMNS) record[c] = row[idx[c]] ?? null;
          if (typeof record.properties === 'string') {
            try {
              record.properties = parseLossless(record.properties);
            } catch {
              throw windowError('export_record_invalid', `${label}: the properties of event ${uuid} are not JSON`);
            }
          }
          await ctx.emit(record);
          rows += 1;
        }
        // A page shorter than asked ends the window unless the server says more is waiting (it capped the page).
        if (result.results.length < pageSize && result.hasMore !== true) break;
      }

      const counted = await query(COUNT_QUERY, bounds, `${label} count`);
      const total = Number(counted.results[0]?.[0]);
      if (!Number.isFinite(total) || total !== rows) {
        throw transientError('export_incomplete', `${label}: PostHog counts ${Number.isFinite(total) ? total.toLocaleString('en-US') : 'no'} events but ${rows.toLocaleString('en-US')} were received`, {
          hint: 'some pages came back short (or events arrived meanwhile); the window is fetched again',
        });
      }
      return {
        highWaterMark: after === undefined ? null : microsIso(after.ts),
        cursor: after === undefined ? null : { timestamp: after.text, uuid: after.uuid },
        requests,
      };
    },
  };
}

/** The batch-export shaped record's fields by canonical column (docs/sources/posthog.md, Field mapping). */
export const POSTHOG_RECORD_LAYOUT: RecordLayout = {
  fields: [
    { path: ['uuid'], column: 'source_event_id' },
    { path: ['event'], column: 'event_name' },
    { path: ['distinct_id'], column: 'anonymous_id' },
    { path: ['person_id'], column: 'anonymous_id' },
    { path: ['elements_chain'], column: 'element_selector' },
    { path: ['properties'], column: 'properties' },
    // Person properties are what the import stores as user_properties: the same rules (a bare `name` is dropped).
    { path: ['person_properties'], column: 'user_properties' },
    { path: ['properties', '$user_id'], column: 'user_id' },
    { path: ['properties', '$device_id'], column: 'anonymous_id' },
    { path: ['properties', 'distinct_id'], column: 'anonymous_id' },
    { path: ['properties', '$session_id'], column: 'vendor_session_id' },
    { path: ['properties', '$current_url'], column: 'page_url' },
    { path: ['properties', '$referrer'], column: 'referrer' },
    { path: ['properties', '$el_text'], column: 'element_text' },
    { path: ['properties', '$browser'], column: 'browser' },
    { path: ['properties', '$os'], column: 'os' },
    { path: ['properties', '$device_type'], column: 'device_type' },
    { path: ['properties', '$geoip_country_code'], column: 'country' },
  ],
  rest: 'properties',
};

export const POSTHOG_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'HogQL query',
    method: 'POST',
    url: '{{POSTHOG_HOST}}/api/projects/{{POSTHOG_PROJECT_ID}}/query/',
    auth: { kind: 'bearer', token: '{{POSTHOG_PERSONAL_API_KEY}}' },
    purpose:
      'pages of a window in (timestamp, uuid) order (keyset: the rows after the last one seen), then a count() of the window that must equal the rows received; ' +
      'window bounds and cursor travel as `values` placeholders. `usagelab check` runs the count query over the last hour',
    limits: '240 requests per minute, 2,400 per hour, 3 queries at once per project; at most 50,000 rows per query (usagelab pages by 10,000)',
    body: {
      query: {
        kind: 'HogQLQuery',
        query: PAGE_QUERY(POSTHOG_DEFAULT_PAGE, false),
        values: { window_start: '2024-03-10 00:00:00.000000', window_end: '2024-03-11 00:00:00.000000' },
      },
      name: 'usagelab export',
    },
  },
];

function posthogSettings(settings: ExporterSettings): PosthogExportOptions {
  const host = typeof settings.section.host === 'string' ? settings.section.host : POSTHOG_HOSTS.us;
  return {
    host: settings.endpoint ?? host,
    projectId: settings.credentials.project_id!,
    apiKey: settings.credentials.personal_api_key!,
    pageSize: settings.pageSize,
    lookbackMs: lookbackFrom(settings.section, POSTHOG_DEFAULT_LOOKBACK_MS),
    origins: { apiKey: settings.origins.personal_api_key ?? 'POSTHOG_PERSONAL_API_KEY' },
  };
}

async function probePosthog(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
  const config = posthogSettings(settings);
  const exporter = createPosthogExporter(config);
  const http = probeHttpClient({ source: 'PostHog', authHint: exporter.authHint, secrets: exporter.secrets, timeouts: options.timeouts, signal: options.signal });
  const configuredHost = (typeof settings.section.host === 'string' ? settings.section.host : POSTHOG_HOSTS.us).replace(/\/+$/, '');
  const cloud = configuredHost === POSTHOG_HOSTS.us ? 'us' : configuredHost === POSTHOG_HOSTS.eu ? 'eu' : undefined;
  const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const values = { window_start: utcMicrosText(BigInt(end - HOUR_MS) * 1000n), window_end: utcMicrosText(BigInt(end) * 1000n) };
  const body = JSON.stringify({ query: { kind: 'HogQLQuery', query: COUNT_QUERY, values }, name: 'usagelab check' });
  const other = cloud === 'us' ? 'eu' : 'us';
  return probeAcrossRegions({
    displayName: 'PostHog',
    source: 'posthog',
    current: { region: cloud ?? 'self-hosted', base: config.host.replace(/\/+$/, '') },
    // A self-hosted instance has no other region.
    others: cloud === undefined ? [] : [{ region: other, base: POSTHOG_HOSTS[other], fix: `sources.posthog.host: ${POSTHOG_HOSTS[other]}` }],
    overridden: settings.endpoint !== undefined,
    probe: options,
    attempt: async (base) => {
      const url = `${base}/api/projects/${encodeURIComponent(config.projectId)}/query/`;
      const count = await http.request(
        { method: 'POST', url, headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' }, body, what: 'PostHog count of the last hour (check)', classify: (status, text) => exporter.classify?.(status, text, { method: 'POST', url, what: 'check' }) },
        async (res) => {
          let text = '';
          for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
          return Number((parseLossless(text) as { results?: unknown[][] }).results?.[0]?.[0]);
        },
      );
      return `${base}: project ${config.projectId} readable (${Number.isFinite(count) ? count.toLocaleString('en-US') : 'no'} events in the last hour)`;
    },
  });
}

export const posthogExporterDefinition: ExporterDefinition = {
  source: 'posthog',
  displayName: 'PostHog',
  recordLayout: POSTHOG_RECORD_LAYOUT,
  credentials: [
    { key: 'personal_api_key', variable: 'POSTHOG_PERSONAL_API_KEY', secret: true },
    { key: 'project_id', variable: 'POSTHOG_PROJECT_ID', secret: false },
  ],
  endpoints: POSTHOG_ENDPOINTS,
  endpointVariables: {
    POSTHOG_HOST: { value: POSTHOG_HOSTS.us, description: `US Cloud; EU Cloud: ${POSTHOG_HOSTS.eu}; or your self-hosted URL` },
    POSTHOG_PROJECT_ID: { value: '', description: 'Project settings > Project ID' },
  },
  probe: probePosthog,
  create(settings: ExporterSettings): SourceExporter {
    return createPosthogExporter(posthogSettings(settings));
  },
};
