/**
 * Mixpanel's raw event export client (vendor-export-apis.md §3): `GET https://{data|data-eu|data-in}.mixpanel.com
 * /api/2.0/export?project_id=&from_date=&to_date=` with a service account (HTTP Basic user:secret plus
 * project_id), one day per request (both dates included). Dates are UTC for projects created from 2023 on and
 * the project's time zone before: with `sources.mixpanel.project_timezone` set, windows are that zone's days.
 * Only whole past days are exported (today is still arriving).
 *
 * Limits kept by the limiter: 60 queries per hour, 3 per second, 100 concurrent (docs.mixpanel.com/reference/
 * rate-limits). The body is NDJSON (gzip when accepted); it may end with the literal line `terminated early`
 * when Mixpanel cut the export short — that is partial data, so the day is fetched again (never written as
 * complete). A record split over several lines is joined back (seen by Airbyte). The body is held in a sealed
 * spool (export/sealed-spool.ts) until its last line is known: it is not masked yet, so never on disk in clear.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { basicAuth, lookbackFrom, type EndpointSpec, type ExporterDefinition, type ExporterSettings, type ProbeOptions, type ProbeResult } from '../export/exporter-definition.js';
import { probeHttpClient } from '../export/probe-client.js';
import { probeAcrossRegions } from '../export/probe-regions.js';
import type { SourceExporter, VendorRecord, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError } from '../export/export-errors.js';
import { DAY_MS, floorToGrid, localDate, type ExportWindow, type WindowGrid } from '../export/export-window.js';
import { ndjsonRecords } from '../export/ndjson-stream.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';
import { spoolStream, type SealedSpool } from '../export/sealed-spool.js';

export const MIXPANEL_HOSTS = { us: 'https://data.mixpanel.com', eu: 'https://data-eu.mixpanel.com', in: 'https://data-in.mixpanel.com' } as const;
export type MixpanelRegion = keyof typeof MIXPANEL_HOSTS;

/** "60 queries per hour, 3 queries per second, and a maximum of 100 concurrent queries." */
export const MIXPANEL_LIMITS: RateLimitSpec = {
  concurrency: 100,
  rolling: [
    { limit: 3, periodMs: 1_000 },
    { limit: 60, periodMs: 3_600_000 },
  ],
};

/** Mixpanel keys export dates by event time: late mobile batches land in past days. */
export const MIXPANEL_DEFAULT_LOOKBACK_MS = 2 * DAY_MS;

const TERMINATED_EARLY = 'terminated early';

export interface MixpanelExportOptions {
  readonly user: string;
  readonly secret: string;
  readonly projectId: string;
  readonly region: MixpanelRegion;
  /** IANA zone of a pre-2023 project (its dates and `time` values are local); UTC otherwise. */
  readonly projectTimezone?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly lookbackMs?: number | undefined;
  readonly limits?: RateLimitSpec | undefined;
  readonly origins?: { readonly user: string; readonly secret: string } | undefined;
}

/** The last line of a downloaded body, read from its end (bodies can be gigabytes). */
function lastLine(body: SealedSpool): string {
  const span = Math.min(body.size, 256);
  const buf = Buffer.alloc(span);
  body.readAt(buf, 0, span, body.size - span);
  const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** Epoch ms of Mixpanel's `time` (seconds, fractional seconds, or ms with time_in_ms). */
function timeMs(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return n > 1e11 ? n : n * 1000;
}

export function createMixpanelExporter(options: MixpanelExportOptions): SourceExporter {
  const base = (options.endpoint ?? MIXPANEL_HOSTS[options.region]).replace(/\/+$/, '');
  const timezone = options.projectTimezone ?? 'UTC';
  const grid: WindowGrid = { kind: 'days', timezone };
  const authorization = basicAuth(options.user, options.secret);
  const origins = options.origins ?? { user: 'sources.mixpanel.service_account_user', secret: 'sources.mixpanel.service_account_secret' };
  const others = (Object.keys(MIXPANEL_HOSTS) as MixpanelRegion[]).filter((r) => r !== options.region).join(' or ');

  return {
    source: 'mixpanel',
    displayName: 'Mixpanel',
    windowing: {
      grid,
      // Whole past days only: the current day of the project's calendar is still filling.
      availableUntil: (now) => floorToGrid(now, grid),
      lookbackMs: options.lookbackMs ?? MIXPANEL_DEFAULT_LOOKBACK_MS,
    },
    limits: options.limits ?? MIXPANEL_LIMITS,
    defaultConcurrency: 3,
    authHint:
      `check ${origins.user} and ${origins.secret} (a service account with access to project ${options.projectId}: Organization settings > Service accounts), ` +
      `sources.mixpanel.project_id, and the data residency: this project is read from the ${options.region.toUpperCase()} host; set sources.mixpanel.region: ${others} if it lives there`,
    secrets: [options.secret],

    classify(status: number, bodyText: string): UsageLabError | undefined {
      if (status === 400 && /(from|to)_date/i.test(bodyText)) {
        return new UsageLabError('export_range_rejected', `Mixpanel refused the date range: ${bodyText.trim().slice(0, 200)}`, {
          exitCode: EXIT.usage,
          hint: 'projects created before 2023 use their own time zone for dates: set sources.mixpanel.project_timezone (e.g. America/Los_Angeles) so usagelab asks for the days Mixpanel has',
          place: { source: 'mixpanel', field: 'sources.mixpanel.project_timezone' },
        });
      }
      return undefined;
    },

    async exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome> {
      const day = localDate(window.start, timezone);
      const lastDay = localDate(window.end - 1, timezone);
      let body: SealedSpool | undefined;
      const what = `Mixpanel export ${day === lastDay ? day : `${day}..${lastDay}`}`;
      const query = new URLSearchParams({ project_id: options.projectId, from_date: day, to_date: lastDay });
      await ctx.http.request({ method: 'GET', url: `${base}/api/2.0/export?${query.toString()}`, headers: { authorization }, what }, async (res) => {
        // A retried request starts a new spool.
        body?.dispose();
        body = await spoolStream(ctx.tempDir, 'export.ndjson', [res.body]);
        if (lastLine(body) === TERMINATED_EARLY) {
          body.dispose();
          body = undefined;
          throw transientError('export_body_terminated', `${what}: Mixpanel ended the export early ("${TERMINATED_EARLY}")`, {
            hint: 'Mixpanel cut the response short; the day is fetched again, and fails as partial data if it keeps happening',
          });
        }
      });
      const spooled = body as SealedSpool | undefined;
      if (spooled === undefined) throw transientError('export_incomplete', `${what}: no body was received`, { hint: 'the day is fetched again' });
      let processed: number | undefined;
      let eventTime: number | undefined;
      try {
        for await (const record of ndjsonRecords(spooled.stream(), { what, joinSplitRecords: true })) {
          const props = record.properties as VendorRecord | undefined;
          const p = typeof props?.mp_processing_time_ms === 'number' ? props.mp_processing_time_ms : undefined;
          if (p !== undefined) processed = Math.max(processed ?? 0, p);
          const t = timeMs(props?.time);
          if (t !== undefined) eventTime = Math.max(eventTime ?? -Infinity, t);
          await ctx.emit(record);
        }
      } finally {
        spooled.dispose();
      }
      // Ingestion time (mp_processing_time_ms, UTC) is the high-water mark when present; else the newest event time.
      const mark = processed ?? eventTime;
      return { highWaterMark: mark === undefined ? null : new Date(mark).toISOString(), cursor: null, requests: 1 };
    },
  };
}

/** The raw export record's fields by canonical column (docs/sources/mixpanel.md, Field mapping). */
export const MIXPANEL_RECORD_LAYOUT: RecordLayout = {
  fields: [
    { path: ['event'], column: 'event_name' },
    { path: ['properties'], column: 'properties' },
    { path: ['properties', 'distinct_id'], column: 'user_id' },
    { path: ['properties', '$user_id'], column: 'user_id' },
    { path: ['properties', '$device_id'], column: 'anonymous_id' },
    { path: ['properties', '$insert_id'], column: 'source_event_id' },
    { path: ['properties', '$current_url'], column: 'page_url' },
    { path: ['properties', '$referrer'], column: 'referrer' },
    { path: ['properties', '$initial_referrer'], column: 'referrer' },
    { path: ['properties', '$el_text'], column: 'element_text' },
    { path: ['properties', '$browser'], column: 'browser' },
    { path: ['properties', '$os'], column: 'os' },
    { path: ['properties', '$device'], column: 'device_type' },
    { path: ['properties', 'mp_country_code'], column: 'country' },
  ],
  rest: 'properties',
};

export const MIXPANEL_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'raw event export',
    method: 'GET',
    url: '{{MIXPANEL_HOST}}/api/2.0/export?project_id={{MIXPANEL_PROJECT_ID}}&from_date={{FROM_DATE}}&to_date={{TO_DATE}}',
    auth: { kind: 'basic', username: '{{MIXPANEL_SERVICE_ACCOUNT_USER}}', password: '{{MIXPANEL_SERVICE_ACCOUNT_SECRET}}' },
    purpose:
      "one day's events as NDJSON (gzip when accepted), dates included, UTC (the project's zone for projects created before 2023); a body ending in `terminated early` is partial. " +
      '`usagelab check` asks for yesterday with limit=1',
    limits: '60 queries per hour, 3 per second, 100 concurrent (429 beyond); limit ≤ 100,000 rows',
  },
];

function mixpanelSettings(settings: ExporterSettings): MixpanelExportOptions {
  const region = settings.section.region;
  const tz = settings.section.project_timezone;
  return {
    user: settings.credentials.service_account_user!,
    secret: settings.credentials.service_account_secret!,
    projectId: settings.credentials.project_id!,
    region: region === 'eu' || region === 'in' ? region : 'us',
    projectTimezone: typeof tz === 'string' ? tz : undefined,
    endpoint: settings.endpoint,
    lookbackMs: lookbackFrom(settings.section, MIXPANEL_DEFAULT_LOOKBACK_MS),
    origins: {
      user: settings.origins.service_account_user ?? 'MIXPANEL_SERVICE_ACCOUNT_USER',
      secret: settings.origins.service_account_secret ?? 'MIXPANEL_SERVICE_ACCOUNT_SECRET',
    },
  };
}

async function probeMixpanel(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
  const config = mixpanelSettings(settings);
  const exporter = createMixpanelExporter(config);
  const http = probeHttpClient({ source: 'Mixpanel', authHint: exporter.authHint, secrets: exporter.secrets, timeouts: options.timeouts, signal: options.signal });
  const authorization = basicAuth(config.user, config.secret);
  // Yesterday exists in every project's calendar (today may not yet, for pre-2023 projects west of UTC).
  const day = localDate(Date.now() - DAY_MS, config.projectTimezone ?? 'UTC');
  const query = new URLSearchParams({ project_id: config.projectId, from_date: day, to_date: day, limit: '1' });
  return probeAcrossRegions({
    displayName: 'Mixpanel',
    source: 'mixpanel',
    current: { region: config.region, base: (config.endpoint ?? MIXPANEL_HOSTS[config.region]).replace(/\/+$/, '') },
    others: (Object.keys(MIXPANEL_HOSTS) as MixpanelRegion[]).filter((r) => r !== config.region).map((r) => ({ region: r, base: MIXPANEL_HOSTS[r], fix: `sources.mixpanel.region: ${r}` })),
    overridden: config.endpoint !== undefined,
    probe: options,
    attempt: async (base) => {
      await http.request({ method: 'GET', url: `${base}/api/2.0/export?${query.toString()}`, headers: { authorization }, what: `Mixpanel export of ${day}, 1 row (check)` }, async (res) => {
        res.body.destroy();
      });
      return `${base}: service account accepted for project ${config.projectId} (export of ${day}, limit 1)`;
    },
  });
}

export const mixpanelExporterDefinition: ExporterDefinition = {
  source: 'mixpanel',
  displayName: 'Mixpanel',
  recordLayout: MIXPANEL_RECORD_LAYOUT,
  credentials: [
    { key: 'service_account_user', variable: 'MIXPANEL_SERVICE_ACCOUNT_USER', secret: false },
    { key: 'service_account_secret', variable: 'MIXPANEL_SERVICE_ACCOUNT_SECRET', secret: true },
    { key: 'project_id', variable: 'MIXPANEL_PROJECT_ID', secret: false },
  ],
  endpoints: MIXPANEL_ENDPOINTS,
  endpointVariables: {
    MIXPANEL_HOST: { value: MIXPANEL_HOSTS.us, description: `US residency; EU: ${MIXPANEL_HOSTS.eu}, India: ${MIXPANEL_HOSTS.in}` },
    MIXPANEL_PROJECT_ID: { value: '', description: 'Project settings > Overview > Project ID' },
    FROM_DATE: { value: '2024-03-10', description: 'first day, YYYY-MM-DD (included)' },
    TO_DATE: { value: '2024-03-10', description: 'last day, YYYY-MM-DD (included)' },
  },
  probe: probeMixpanel,
  create(settings: ExporterSettings): SourceExporter {
    return createMixpanelExporter(mixpanelSettings(settings));
  },
};
