/**
 * Amplitude's Export API client (vendor-export-apis.md §2): `GET /api/2/export?start=YYYYMMDDTHH&end=YYYYMMDDTHH`
 * (both hours included, selected by server_upload_time, UTC), HTTP Basic api_key:secret_key, US or EU host. The
 * answer is a zip of gzipped NDJSON members (one or more per hour); 404 means no data (an empty window); 400 /
 * 413 mean the export is too large (4 GB limit), so the range is halved down to single hours — one hour that is
 * still too large fails with its own error; a 504 on a range longer than an hour is read the same way. Data is
 * served 2 hours after upload at the earliest, so windows end at least 2 hours ago.
 *
 * The zip lands in a sealed spool (export/sealed-spool.ts: encrypted under a key held in memory) and is read in
 * place from there, so no unmasked byte of it reaches the disk in clear.
 *
 * Completeness: the zip must open (its central directory is at the end, so a cut-off download fails), every
 * member must inflate to its end, every line must be a JSON object. The records are written as Amplitude sent
 * them (one NDJSON line each), which is what `usagelab import` reads.
 */
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { isUsageLabError, type UsageLabError } from '../../core/errors.js';
import { basicAuth, lookbackFrom, type EndpointSpec, type ExporterDefinition, type ExporterSettings, type ProbeOptions, type ProbeResult } from '../export/exporter-definition.js';
import { probeHttpClient } from '../export/probe-client.js';
import { probeAcrossRegions } from '../export/probe-regions.js';
import type { SourceExporter, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError, windowError } from '../export/export-errors.js';
import { bisectHours, compactInstant, HOUR_MS, isoMinute, type ExportWindow } from '../export/export-window.js';
import { ndjsonRecords } from '../export/ndjson-stream.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';
import { spoolStream, type SealedSpool } from '../export/sealed-spool.js';
import { readZipMembers } from '../zip-archive.js';
import { isEventMember } from './amplitude-input.js';

export const AMPLITUDE_HOSTS = { us: 'https://amplitude.com', eu: 'https://analytics.eu.amplitude.com' } as const;

/** "Data is available to export at a minimum within 2 hours of when the servers received it." */
export const AMPLITUDE_AVAILABILITY_LAG_MS = 2 * HOUR_MS;
/** Late uploads land in later upload-time windows; re-reading 6 hours also covers a slow availability. */
export const AMPLITUDE_DEFAULT_LOOKBACK_MS = 6 * HOUR_MS;
/**
 * No limit is documented for the Export API; the Dashboard REST API allows 5 concurrent requests across all
 * endpoints, which is kept here in case the export counts towards it (unconfirmed).
 */
export const AMPLITUDE_LIMITS: RateLimitSpec = { concurrency: 5, rolling: [] };

export interface AmplitudeExportOptions {
  readonly apiKey: string;
  readonly secretKey: string;
  readonly region: 'us' | 'eu';
  /** Base URL instead of the region's host (a proxy or a test server). */
  readonly endpoint?: string | undefined;
  /** Hours per window, a divisor or multiple of 24 (default 24: one file per UTC day). */
  readonly windowHours?: number | undefined;
  readonly lookbackMs?: number | undefined;
  readonly limits?: RateLimitSpec | undefined;
  /** Names of the credential variables, for the auth hint. */
  readonly origins?: { readonly apiKey: string; readonly secretKey: string } | undefined;
}

/** YYYYMMDDTHH of the hour that starts at `ms` (UTC). */
export function amplitudeHour(ms: number): string {
  return compactInstant(ms).slice(0, 11);
}

/** `<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz` sorts by date, hour, then part. */
function memberOrder(name: string): [string, number, number, string] {
  const m = /_(\d{4}-\d{2}-\d{2})_(\d{1,2})#(\d+)\.json(\.gz)?$/.exec(name);
  return m === null ? ['', -1, -1, name] : [m[1]!, Number(m[2]), Number(m[3]), name];
}

function compareMembers(a: string, b: string): number {
  const x = memberOrder(a);
  const y = memberOrder(b);
  for (let i = 0; i < 4; i++) {
    if (x[i]! < y[i]!) return -1;
    if (x[i]! > y[i]!) return 1;
  }
  return 0;
}

/** "2024-03-10 06:59:59.123456" (UTC) as an ISO instant; undefined when it is not that shape. */
function uploadInstant(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z?$/.exec(value);
  return m === null ? undefined : `${m[1]}T${m[2]}Z`;
}

function rangeLabel(start: number, end: number): string {
  return `${isoMinute(start)}/${isoMinute(end)}`;
}

export function createAmplitudeExporter(options: AmplitudeExportOptions): SourceExporter {
  const base = (options.endpoint ?? AMPLITUDE_HOSTS[options.region]).replace(/\/+$/, '');
  const authorization = basicAuth(options.apiKey, options.secretKey);
  const windowHours = options.windowHours ?? 24;
  const origins = options.origins ?? { apiKey: 'sources.amplitude.api_key', secretKey: 'sources.amplitude.secret_key' };
  const otherRegion = options.region === 'us' ? 'eu' : 'us';

  const tooLarge = (status: number, start: number, end: number): UsageLabError | undefined => {
    const multiHour = end - start > HOUR_MS;
    if (status === 400 || status === 413 || (status === 504 && multiHour)) {
      return windowError('export_window_too_large', `Amplitude export ${rangeLabel(start, end)} is too large (HTTP ${status})`);
    }
    return undefined;
  };

  /** The zip is read in place from its sealed spool: members stream straight into the parser, never to disk. */
  async function emitMembers(zip: SealedSpool, start: number, end: number, ctx: WindowContext, onRecord: (r: Record<string, unknown>) => void): Promise<void> {
    const order = (names: readonly string[]): string[] => names.filter((n) => isEventMember(n)).sort(compareMembers);
    try {
      await readZipMembers(zip, `Amplitude export ${rangeLabel(start, end)}`, order, async (name, raw) => {
        const stream: Readable = name.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
        if (stream !== raw) raw.once('error', (err) => stream.destroy(err));
        try {
          for await (const record of ndjsonRecords(stream, { what: `Amplitude export ${rangeLabel(start, end)} (member ${name})` })) {
            onRecord(record);
            await ctx.emit(record);
          }
        } catch (err) {
          if (isUsageLabError(err)) throw err;
          throw transientError('export_body_corrupt', `Amplitude export ${rangeLabel(start, end)}: member ${name} is truncated or corrupt (${(err as Error).message})`, {
            hint: 'the download was damaged; the window is fetched again',
            cause: err,
          });
        } finally {
          stream.destroy();
          raw.destroy();
        }
      });
    } catch (err) {
      if (isUsageLabError(err) && err.code !== 'import_file_corrupt') throw err;
      throw transientError('export_body_corrupt', `Amplitude export ${rangeLabel(start, end)}: the zip archive is truncated or corrupt`, {
        hint: 'the download was cut off; the window is fetched again',
        cause: err,
      });
    }
  }

  return {
    source: 'amplitude',
    displayName: 'Amplitude',
    windowing: {
      grid: { kind: 'hours', size: windowHours },
      availableUntil: (now) => Math.floor((now - AMPLITUDE_AVAILABILITY_LAG_MS) / HOUR_MS) * HOUR_MS,
      lookbackMs: options.lookbackMs ?? AMPLITUDE_DEFAULT_LOOKBACK_MS,
    },
    limits: options.limits ?? AMPLITUDE_LIMITS,
    defaultConcurrency: 2,
    authHint:
      `check ${origins.apiKey} and ${origins.secretKey} (Amplitude: Settings > Projects > your project > API Key and Secret Key); ` +
      `a project in Amplitude's ${otherRegion.toUpperCase()} data center needs sources.amplitude.region: ${otherRegion}`,
    secrets: [options.apiKey, options.secretKey],

    async exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome> {
      let requests = 0;
      let highWater: string | null = null;
      const track = (record: Record<string, unknown>): void => {
        const at = uploadInstant(record.server_upload_time);
        if (at !== undefined && (highWater === null || at > highWater)) highWater = at;
      };

      const fetchRange = async (start: number, end: number): Promise<void> => {
        let zip: SealedSpool | undefined;
        try {
          requests += 1;
          await ctx.http.request(
            {
              method: 'GET',
              url: `${base}/api/2/export?start=${amplitudeHour(start)}&end=${amplitudeHour(end - HOUR_MS)}`,
              headers: { authorization },
              what: `Amplitude export ${rangeLabel(start, end)}`,
              accept: (s) => s === 200 || s === 404,
              classify: (status) => tooLarge(status, start, end),
            },
            async (res) => {
              // A retried request (a reset mid-body) starts a new spool.
              zip?.dispose();
              zip = undefined;
              if (res.status === 404) return;
              zip = await spoolStream(ctx.tempDir, `${compactInstant(start)}_${compactInstant(end)}.zip`, [res.body]);
            },
          );
        } catch (err) {
          zip?.dispose();
          if (!isUsageLabError(err) || err.code !== 'export_window_too_large') throw err;
          const halves = bisectHours(start, end);
          if (halves === undefined) {
            throw windowError('export_window_too_large', `Amplitude export of the hour ${rangeLabel(start, end)} is too large even on its own`, {
              hint: "Amplitude's Export API returns at most 4 GB per request; export this hour with Amplitude's Amazon S3 export instead",
            });
          }
          await fetchRange(halves[0], halves[1]);
          await fetchRange(halves[1], halves[2]);
          return;
        }
        if (zip === undefined) return;
        try {
          await emitMembers(zip, start, end, ctx, track);
        } finally {
          zip.dispose();
        }
      };

      await fetchRange(window.start, window.end);
      return { highWaterMark: highWater, cursor: null, requests };
    },
  };
}

/** The export record's fields by canonical column (docs/sources/amplitude.md, Field mapping). */
export const AMPLITUDE_RECORD_LAYOUT: RecordLayout = {
  fields: [
    { path: ['uuid'], column: 'source_event_id' },
    { path: ['$insert_id'], column: 'source_event_id' },
    { path: ['event_id'], column: 'source_event_id' },
    { path: ['user_id'], column: 'user_id' },
    { path: ['device_id'], column: 'anonymous_id' },
    { path: ['amplitude_id'], column: 'anonymous_id' },
    { path: ['adid'], column: 'anonymous_id' },
    { path: ['idfa'], column: 'anonymous_id' },
    { path: ['session_id'], column: 'vendor_session_id' },
    { path: ['event_type'], column: 'event_name' },
    { path: ['device_type'], column: 'device_type' },
    { path: ['os_name'], column: 'browser' },
    { path: ['device_family'], column: 'os' },
    { path: ['country'], column: 'country' },
    { path: ['event_properties'], column: 'properties' },
    { path: ['user_properties'], column: 'user_properties' },
  ],
  rest: 'properties',
};

/** The check's hour: before Amplitude existed, so a valid key gets 404 (no data) and nothing is downloaded. */
export const AMPLITUDE_PROBE_HOUR = '20110101T00';

export const AMPLITUDE_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'export',
    method: 'GET',
    url: '{{AMPLITUDE_HOST}}/api/2/export?start={{START_HOUR}}&end={{END_HOUR}}',
    auth: { kind: 'basic', username: '{{AMPLITUDE_API_KEY}}', password: '{{AMPLITUDE_SECRET_KEY}}' },
    purpose:
      'the events of a window, selected by server_upload_time (UTC), both hours included: a zip of gzipped NDJSON files; 404 = no data (an empty window); 400 / 413 = over 4 GB, ' +
      `the window is halved down to single hours. \`usagelab check\` asks for the hour ${AMPLITUDE_PROBE_HOUR} (before any data): 404 = the key is accepted`,
    limits:
      'no rate limit documented for the Export API; at most 365 days and 4 GB per request; data is served 2 hours after upload; usagelab keeps 5 requests at once (the Dashboard REST API limit, in case it applies)',
  },
];

function amplitudeSettings(settings: ExporterSettings): AmplitudeExportOptions {
  const region = settings.section.region === 'eu' ? 'eu' : 'us';
  return {
    apiKey: settings.credentials.api_key!,
    secretKey: settings.credentials.secret_key!,
    region,
    endpoint: settings.endpoint,
    lookbackMs: lookbackFrom(settings.section, AMPLITUDE_DEFAULT_LOOKBACK_MS),
    origins: { apiKey: settings.origins.api_key ?? 'AMPLITUDE_API_KEY', secretKey: settings.origins.secret_key ?? 'AMPLITUDE_SECRET_KEY' },
  };
}

async function probeAmplitude(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
  const config = amplitudeSettings(settings);
  const exporter = createAmplitudeExporter(config);
  const http = probeHttpClient({ source: 'Amplitude', authHint: exporter.authHint, secrets: exporter.secrets, timeouts: options.timeouts, signal: options.signal });
  const authorization = basicAuth(config.apiKey, config.secretKey);
  const other = config.region === 'us' ? 'eu' : 'us';
  return probeAcrossRegions({
    displayName: 'Amplitude',
    source: 'amplitude',
    current: { region: config.region, base: (config.endpoint ?? AMPLITUDE_HOSTS[config.region]).replace(/\/+$/, '') },
    others: [{ region: other, base: AMPLITUDE_HOSTS[other], fix: `sources.amplitude.region: ${other}` }],
    overridden: config.endpoint !== undefined,
    probe: options,
    attempt: async (base) => {
      const status = await http.request(
        { method: 'GET', url: `${base}/api/2/export?start=${AMPLITUDE_PROBE_HOUR}&end=${AMPLITUDE_PROBE_HOUR}`, headers: { authorization }, what: 'Amplitude export of one hour (check)', accept: (s) => s === 200 || s === 404 },
        async (res) => {
          res.body.destroy();
          return res.status;
        },
      );
      return `${base}: key accepted (export of ${AMPLITUDE_PROBE_HOUR}: HTTP ${status})`;
    },
  });
}

export const amplitudeExporterDefinition: ExporterDefinition = {
  source: 'amplitude',
  displayName: 'Amplitude',
  recordLayout: AMPLITUDE_RECORD_LAYOUT,
  credentials: [
    { key: 'api_key', variable: 'AMPLITUDE_API_KEY', secret: true },
    { key: 'secret_key', variable: 'AMPLITUDE_SECRET_KEY', secret: true },
  ],
  endpoints: AMPLITUDE_ENDPOINTS,
  endpointVariables: {
    AMPLITUDE_HOST: { value: AMPLITUDE_HOSTS.us, description: `US data center; EU: ${AMPLITUDE_HOSTS.eu}` },
    START_HOUR: { value: '20240310T00', description: 'first hour of the window, YYYYMMDDTHH (UTC, included)' },
    END_HOUR: { value: '20240310T23', description: 'last hour of the window, YYYYMMDDTHH (UTC, included)' },
  },
  probe: probeAmplitude,
  create(settings: ExporterSettings): SourceExporter {
    return createAmplitudeExporter(amplitudeSettings(settings));
  },
};
