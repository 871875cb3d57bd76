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
 * complete). A record split over several lines is joined back (seen by Airbyte).
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { basicAuth, lookbackFrom, type ExporterDefinition, type ExporterSettings } from '../export/exporter-definition.js';
import type { SourceExporter, VendorRecord, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError } from '../export/export-errors.js';
import { DAY_MS, floorToGrid, localDate, type ExportWindow, type WindowGrid } from '../export/export-window.js';
import { ndjsonRecords } from '../export/ndjson-stream.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';

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

/** The last line of a downloaded body, read from the end of the file (bodies can be gigabytes). */
function lastLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const span = Math.min(size, 256);
    const buf = Buffer.alloc(span);
    readSync(fd, buf, 0, span, size - span);
    const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return lines[lines.length - 1] ?? '';
  } finally {
    closeSync(fd);
  }
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
      const body = join(ctx.tempDir, 'export.ndjson');
      const what = `Mixpanel export ${day === lastDay ? day : `${day}..${lastDay}`}`;
      const query = new URLSearchParams({ project_id: options.projectId, from_date: day, to_date: lastDay });
      await ctx.http.request({ method: 'GET', url: `${base}/api/2.0/export?${query.toString()}`, headers: { authorization }, what }, async (res) => {
        await pipeline(res.body, createWriteStream(body));
        if (lastLine(body) === TERMINATED_EARLY) {
          throw transientError('export_body_terminated', `${what}: Mixpanel ended the export early ("${TERMINATED_EARLY}")`, {
            hint: 'Mixpanel cut the response short; the day is fetched again, and fails as partial data if it keeps happening',
          });
        }
      });
      let processed: number | undefined;
      let eventTime: number | undefined;
      for await (const record of ndjsonRecords(createReadStream(body), { what, joinSplitRecords: true })) {
        const props = record.properties as VendorRecord | undefined;
        const p = typeof props?.mp_processing_time_ms === 'number' ? props.mp_processing_time_ms : undefined;
        if (p !== undefined) processed = Math.max(processed ?? 0, p);
        const t = timeMs(props?.time);
        if (t !== undefined) eventTime = Math.max(eventTime ?? -Infinity, t);
        await ctx.emit(record);
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

export const mixpanelExporterDefinition: ExporterDefinition = {
  source: 'mixpanel',
  displayName: 'Mixpanel',
  recordLayout: MIXPANEL_RECORD_LAYOUT,
  credentials: [
    { key: 'service_account_user', variable: 'MIXPANEL_SERVICE_ACCOUNT_USER', secret: false },
    { key: 'service_account_secret', variable: 'MIXPANEL_SERVICE_ACCOUNT_SECRET', secret: true },
    { key: 'project_id', variable: 'MIXPANEL_PROJECT_ID', secret: false },
  ],
  create(settings: ExporterSettings): SourceExporter {
    const region = settings.section.region;
    const tz = settings.section.project_timezone;
    return createMixpanelExporter({
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
    });
  },
};
