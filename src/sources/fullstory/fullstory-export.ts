/**
 * FullStory's Segment Export client (vendor-export-apis.md §1): per window, an asynchronous job —
 *   1. `POST /segments/v1/exports` (segment `everyone` by default, TYPE_EVENT, the window as `timeRange`, start
 *      inclusive, end exclusive, by EventStart) → `{operationId}`;
 *   2. `GET /operations/v1/{operationId}` until `state` is COMPLETED (or FAILED), polling with backoff;
 *   3. `GET /search/v1/exports/{searchExportId}/results` → `{location, expires}`, a pre-signed URL;
 *   4. `GET location` **without** the API key (the URL carries its own authorisation) → the gzipped file.
 * Auth is `Authorization: Basic <API key>` — the key as it is, not base64(user:password). One host serves every
 * data center (the key says which).
 *
 * The file is not masked yet, so it is downloaded into a sealed spool (export/sealed-spool.ts: encrypted under a
 * key held in memory) and read from there.
 *
 * Completeness: FullStory states no row count, so the file is read to its end: gzip inflated strictly (checked
 * while downloading, so a cut-off download is fetched again from the same URL), then the format must close (the
 * JSON array's bracket, a whole last line, no open CSV quote). An expired URL (S3 answers 403) is re-fetched from
 * the results endpoint; a FAILED job fails the attempt (the window is tried again with a new job).
 *
 * Events become available with a delay ("swan songs" arrive late; hauser waits 24 hours by default), so windows end
 * `export_delay_hours` before now. The records are written as FullStory sent them, one NDJSON line each, whatever
 * the requested format: `usagelab import` reads them as a Segment Export.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UsageLabError, isUsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { realClock, type ExportClock } from '../export/export-clock.js';
import { lookbackFrom, type EndpointSpec, type ExporterSettings, type ProbeOptions, type ProbeResult, type WindowExporterDefinition } from '../export/exporter-definition.js';
import type { SourceExporter, WindowContext, WindowOutcome } from '../export/exporter.js';
import { transientError, windowError } from '../export/export-errors.js';
import { DAY_MS, HOUR_MS, isoMinute, type ExportWindow } from '../export/export-window.js';
import type { HttpClient } from '../export/http-client.js';
import { parseLossless } from '../export/lossless-json.js';
import { probeHttpClient } from '../export/probe-client.js';
import type { RateLimitSpec } from '../export/rate-limiter.js';
import type { RecordLayout } from '../export/record-layout.js';
import { spoolStream, type SealedSpool } from '../export/sealed-spool.js';
import { segmentExportRecords, startsWithGzipMagic, type SegmentExportFormat } from './segment-export-file.js';

export const FULLSTORY_BASE_URL = 'https://api.fullstory.com';

export const FULLSTORY_FORMATS: Readonly<Record<SegmentExportFormat, string>> = { ndjson: 'FORMAT_NDJSON', json: 'FORMAT_JSON', csv: 'FORMAT_CSV' };

/** hauser's default ExportDelay: "latency between when an event is recorded and when it is available and complete". */
export const FULLSTORY_DEFAULT_EXPORT_DELAY_MS = 24 * HOUR_MS;
export const FULLSTORY_DEFAULT_LOOKBACK_MS = DAY_MS;

/**
 * No numeric limit is published for Segment Export ("rate + burst limiters", 429 with Retry-After). Two jobs at
 * a time keeps a backfill from crowding out the account's other API users.
 */
export const FULLSTORY_LIMITS: RateLimitSpec = { concurrency: 2, rolling: [] };

export interface PollPolicy {
  /** Wait before the first status check (0: check at once). */
  readonly firstMs: number;
  /** Then the wait doubles per check up to this. */
  readonly maxMs: number;
  /** A job still PENDING after this long fails the window. */
  readonly timeoutMs: number;
}

export const DEFAULT_POLL: PollPolicy = { firstMs: 0, maxMs: 30_000, timeoutMs: 2 * HOUR_MS };

/** Re-fetches of the results endpoint when the pre-signed URL has expired. */
const URL_REFRESHES = 3;

/**
 * The export fields asked for when none are configured and the format is CSV ("it is highly recommended that
 * fields are also explicitly provided" for CSV); JSON and NDJSON get FullStory's default field set.
 */
export const FULLSTORY_CSV_FIELDS: readonly string[] = [
  'IndvId', 'UserId', 'SessionId', 'PageId', 'UserCreated', 'UserAppKey', 'UserDisplayName', 'UserEmail', 'SessionStart',
  'EventStart', 'EventType', 'EventSubType', 'EventCustomName', 'EventTargetText', 'EventTargetSelector', 'EventModFrustrated',
  'EventModDead', 'EventModError', 'EventModSuspicious', 'EventPageOffset', 'EventSessionOffset', 'PageName', 'PageStart', 'PageDuration',
  'PageActiveDuration', 'PageUrl', 'PageRefererUrl', 'PageIp', 'PageLatLong', 'PageUserAgent', 'PageBrowser', 'PageBrowserVersion',
  'PageDevice', 'PagePlatform', 'PageOperatingSystem', 'PageScreenWidth', 'PageScreenHeight', 'PageViewportWidth', 'PageViewportHeight',
  'PageNumEvents', 'PageNumDerivedEvents', 'PageNumInfos', 'PageNumWarnings', 'PageNumErrors', 'PageClusterId', 'PageMaxScrollDepthPercent',
  'AppName', 'AppViewName', 'user_*', 'evt_*', 'page_*',
];

export interface FullstoryExportOptions {
  readonly apiKey: string;
  /** Base URL instead of https://api.fullstory.com (a proxy or a test server). */
  readonly endpoint?: string | undefined;
  readonly segmentId?: string | undefined;
  readonly format?: SegmentExportFormat | undefined;
  /** Export fields; FullStory's defaults when absent (CSV: FULLSTORY_CSV_FIELDS). */
  readonly fields?: readonly string[] | undefined;
  /** Hours per window, a divisor or multiple of 24 (default 24). */
  readonly windowHours?: number | undefined;
  readonly exportDelayMs?: number | undefined;
  readonly lookbackMs?: number | undefined;
  readonly limits?: RateLimitSpec | undefined;
  readonly poll?: PollPolicy | undefined;
  /** For the poll waits (tests shorten nothing here; they shorten `poll`). */
  readonly clock?: ExportClock | undefined;
  /** Name of the key's variable, for the auth hint. */
  readonly origin?: string | undefined;
}

interface Operation {
  readonly state: string;
  readonly errorDetails: string | undefined;
  readonly searchExportId: string | undefined;
}

interface ResultsLink {
  readonly location: string;
  readonly expires: number | undefined;
}

async function readJson(body: NodeJS.ReadableStream, what: string): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of body) text += (chunk as Buffer).toString('utf8');
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch {
    throw transientError('export_body_truncated', `${what}: the answer is not complete JSON`, { hint: 'the response was cut off; it is fetched again' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw transientError('export_incomplete', `${what}: the answer is not a JSON object`, { hint: 'FullStory returned an unexpected body; it is fetched again' });
  }
  return value as Record<string, unknown>;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined);

function readOperation(body: Record<string, unknown>): Operation {
  const results = (body.results ?? {}) as Record<string, unknown>;
  return {
    state: String(body.state ?? ''),
    errorDetails: text(body.errorDetails),
    searchExportId: text(results.searchExportId),
  };
}

/** Inflates a downloaded file to its end (a gzip trailer carries CRC and length); resolves for a plain file. */
async function verifyGzip(file: SealedSpool): Promise<void> {
  if (!startsWithGzipMagic(file)) return;
  const sink = new Writable({ write: (_c, _e, done) => done() });
  await pipeline(file.stream(), createGunzip({ chunkSize: 1 << 18 }), sink);
}

function eventStartIso(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function createFullstoryExporter(options: FullstoryExportOptions): SourceExporter {
  const base = (options.endpoint ?? FULLSTORY_BASE_URL).replace(/\/+$/, '');
  const authorization = `Basic ${options.apiKey}`;
  const format = options.format ?? 'ndjson';
  const fields = options.fields ?? (format === 'csv' ? FULLSTORY_CSV_FIELDS : undefined);
  const segmentId = options.segmentId ?? 'everyone';
  const poll = options.poll ?? DEFAULT_POLL;
  const clock = options.clock ?? realClock;
  const exportDelay = options.exportDelayMs ?? FULLSTORY_DEFAULT_EXPORT_DELAY_MS;
  const origin = options.origin ?? 'FULLSTORY_API_KEY';
  const headers = { authorization, 'content-type': 'application/json' };

  const createJob = async (http: HttpClient, window: ExportWindow, label: string): Promise<string> => {
    const body = JSON.stringify({
      segmentId,
      type: 'TYPE_EVENT',
      format: FULLSTORY_FORMATS[format],
      segmentTimeRange: { start: '', end: '' },
      timeRange: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      timezone: 'UTC',
      ...(fields === undefined ? {} : { fields }),
    });
    const answer = await http.request(
      {
        method: 'POST',
        url: `${base}/segments/v1/exports`,
        headers,
        body,
        what: `${label}: create export job`,
        classify: (status, bodyText) =>
          status === 404
            ? new UsageLabError('export_request_rejected', `FullStory has no segment "${segmentId}"`, {
                exitCode: EXIT.usage,
                hint: 'check sources.fullstory.segment_id (the id in the segment URL; "everyone" exports every event)',
                place: { source: 'fullstory', field: 'sources.fullstory.segment_id' },
              })
            : status === 400
              ? new UsageLabError('export_request_rejected', `FullStory refused the export request: ${bodyText.replace(/\s+/g, ' ').trim().slice(0, 300)}`, {
                  exitCode: EXIT.usage,
                  hint: 'check sources.fullstory.fields (FullStory refuses unknown or repeated fields) and sources.fullstory.format',
                  place: { source: 'fullstory', field: 'sources.fullstory.fields' },
                })
              : undefined,
      },
      async (res) => readJson(res.body, `${label}: create export job`),
    );
    const id = text(answer.operationId);
    if (id === undefined) throw transientError('export_incomplete', `${label}: FullStory answered without an operationId`, { hint: 'the job is created again' });
    return id;
  };

  const waitForJob = async (http: HttpClient, operationId: string, label: string, ctx: WindowContext): Promise<{ searchExportId: string; polls: number }> => {
    const started = clock.now();
    let delay = poll.firstMs;
    for (let polls = 1; ; polls++) {
      await clock.sleep(delay, ctx.signal);
      const what = `${label}: status of export job ${operationId}`;
      const op = readOperation(await http.request({ method: 'GET', url: `${base}/operations/v1/${encodeURIComponent(operationId)}`, headers: { authorization }, what }, async (res) => readJson(res.body, what)));
      if (op.state === 'COMPLETED') {
        if (op.searchExportId === undefined) throw transientError('export_incomplete', `${label}: export job ${operationId} completed without a searchExportId`, { hint: 'the window is exported again' });
        return { searchExportId: op.searchExportId, polls };
      }
      if (op.state === 'FAILED') {
        throw transientError('export_job_failed', `${label}: FullStory export job ${operationId} failed${op.errorDetails === undefined ? '' : `: ${op.errorDetails}`}`, {
          hint: 'the window is exported again with a new job; if it keeps failing, try a shorter sources.fullstory.window_hours',
        });
      }
      if (clock.now() - started >= poll.timeoutMs) {
        throw windowError('export_job_timeout', `${label}: FullStory export job ${operationId} was still ${op.state || 'pending'} after ${Math.round(poll.timeoutMs / 60_000)} minutes`, {
          hint: 'run the export again later with --resume; a shorter sources.fullstory.window_hours makes smaller jobs',
        });
      }
      delay = delay <= 0 ? Math.min(1_000, poll.maxMs) : Math.min(delay * 2, poll.maxMs);
    }
  };

  const fetchLink = async (http: HttpClient, searchExportId: string, label: string): Promise<ResultsLink> => {
    const what = `${label}: download link of export ${searchExportId}`;
    const answer = await http.request({ method: 'GET', url: `${base}/search/v1/exports/${encodeURIComponent(searchExportId)}/results`, headers: { authorization }, what }, async (res) => readJson(res.body, what));
    const location = text(answer.location);
    if (location === undefined) throw transientError('export_incomplete', `${what}: no "location" in the answer`, { hint: 'the window is exported again' });
    const expires = text(answer.expires);
    const at = expires === undefined ? Number.NaN : Date.parse(expires);
    return { location, expires: Number.isNaN(at) ? undefined : at };
  };

  /**
   * Downloads the file into a sealed spool in `dir` (it is not masked yet, so it never lies on disk in clear): a
   * cut-off body or gzip is fetched again from the same URL by the client, into a new spool.
   */
  const download = async (http: HttpClient, link: ResultsLink, dir: string, label: string): Promise<SealedSpool> => {
    let file: SealedSpool | undefined;
    return http.request(
      {
        method: 'GET',
        url: link.location,
        // No authorization header: the pre-signed URL is the authorisation, and the key must not reach the
        // storage host.
        what: `${label}: download`,
        classify: (status) =>
          status === 403 || status === 401
            ? new UsageLabError('export_url_expired', `${label}: the download link was refused (HTTP ${status}); it has probably expired`, { exitCode: EXIT.partial })
            : undefined,
      },
      async (res) => {
        file?.dispose();
        file = await spoolStream(dir, 'segment-export.gz', [res.body]);
        try {
          await verifyGzip(file);
        } catch (err) {
          file.dispose();
          throw err;
        }
        return file;
      },
    );
  };

  return {
    source: 'fullstory',
    displayName: 'FullStory',
    windowing: {
      grid: { kind: 'hours', size: options.windowHours ?? 24 },
      availableUntil: (now) => Math.floor((now - exportDelay) / HOUR_MS) * HOUR_MS,
      lookbackMs: options.lookbackMs ?? FULLSTORY_DEFAULT_LOOKBACK_MS,
    },
    limits: options.limits ?? FULLSTORY_LIMITS,
    defaultConcurrency: 2,
    authHint: `check ${origin} (FullStory: Settings > API Keys; an Admin or Architect key, sent as "Authorization: Basic <key>"); Segment Export needs the Enterprise or Advanced tier add-on`,
    secrets: [options.apiKey],

    async exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome> {
      const label = `FullStory events ${isoMinute(window.start)}/${isoMinute(window.end)}`;
      let requests = 0;
      const operationId = await createJob(ctx.http, window, label);
      requests += 1;
      const job = await waitForJob(ctx.http, operationId, label, ctx);
      requests += job.polls;
      let file: SealedSpool | undefined;
      for (let refresh = 0; ; refresh++) {
        const link = await fetchLink(ctx.http, job.searchExportId, label);
        requests += 1;
        // A link already past its expiry is not worth a refused download.
        if (link.expires !== undefined && link.expires <= Date.now() && refresh < URL_REFRESHES) continue;
        try {
          requests += 1;
          file = await download(ctx.http, link, ctx.tempDir, label);
          break;
        } catch (err) {
          if (!isUsageLabError(err) || err.code !== 'export_url_expired') throw err;
          if (refresh >= URL_REFRESHES) {
            throw transientError('export_url_expired', `${label}: FullStory's download link was refused ${refresh + 1} times`, {
              hint: 'the pre-signed links keep expiring before the download starts; check the machine clock, then run with --resume',
            });
          }
        }
      }
      let highWater: string | null = null;
      try {
        for await (const record of segmentExportRecords(file, format, `${label} (${FULLSTORY_FORMATS[format]})`)) {
          const at = eventStartIso(record.EventStart);
          if (at !== undefined && (highWater === null || at > highWater)) highWater = at;
          await ctx.emit(record);
        }
      } finally {
        file.dispose();
      }
      return { highWaterMark: highWater, cursor: { operation_id: operationId, search_export_id: job.searchExportId }, requests };
    },
  };
}

/** The Segment Export record's fields by canonical column (docs/sources/fullstory.md, field mapping). */
export const FULLSTORY_RECORD_LAYOUT: RecordLayout = {
  fields: [
    { path: ['UserAppKey'], column: 'user_id' },
    { path: ['UserId'], column: 'anonymous_id' },
    { path: ['IndvId'], column: 'anonymous_id' },
    { path: ['SessionId'], column: 'vendor_session_id' },
    { path: ['EventCustomName'], column: 'event_name' },
    { path: ['PageUrl'], column: 'page_url' },
    { path: ['AppViewName'], column: 'page_url' },
    { path: ['PageRefererUrl'], column: 'referrer' },
    { path: ['EventTargetText'], column: 'element_text' },
    { path: ['EventTargetSelector'], column: 'element_selector' },
    { path: ['EventTargetSelectorTok'], column: 'element_selector' },
    { path: ['PageDevice'], column: 'device_type' },
    { path: ['PageBrowser'], column: 'browser' },
    { path: ['PageOperatingSystem'], column: 'os' },
  ],
  // UserEmail, UserDisplayName and user_* variables are masked as members (the default rules drop e-mail and
  // display-name members); everything else is properties.
  rest: 'properties',
};

const FS_AUTH = { kind: 'header', name: 'Authorization', value: 'Basic {{FULLSTORY_API_KEY}}' } as const;
const FS_LIMITS = 'no numeric limit published; rate and burst limiters answer 429 with Retry-After (seconds)';

export const FULLSTORY_ENDPOINTS: readonly EndpointSpec[] = [
  {
    kind: 'http',
    name: 'create segment export',
    method: 'POST',
    url: '{{FULLSTORY_BASE_URL}}/segments/v1/exports',
    auth: FS_AUTH,
    purpose: 'starts one export job per window: segment, TYPE_EVENT, format, timeRange [start, end) by EventStart, UTC; answers {operationId}',
    limits: `${FS_LIMITS}; Segment Export is an Enterprise / Advanced tier add-on`,
    body: {
      segmentId: 'everyone',
      type: 'TYPE_EVENT',
      format: 'FORMAT_NDJSON',
      segmentTimeRange: { start: '', end: '' },
      timeRange: { start: '2024-03-01T00:00:00Z', end: '2024-03-02T00:00:00Z' },
      timezone: 'UTC',
    },
  },
  {
    kind: 'http',
    name: 'get operation',
    method: 'GET',
    url: '{{FULLSTORY_BASE_URL}}/operations/v1/{{operationId}}',
    auth: FS_AUTH,
    purpose: 'polls the job (with backoff, 1 s doubling to 30 s) until state is COMPLETED (results.searchExportId) or FAILED (errorDetails)',
    limits: FS_LIMITS,
  },
  {
    kind: 'http',
    name: 'list operations',
    method: 'GET',
    url: '{{FULLSTORY_BASE_URL}}/operations/v1?type=SEARCH_EXPORT',
    auth: FS_AUTH,
    purpose: '`usagelab check`: the cheap authenticated call that proves the key works',
    limits: FS_LIMITS,
  },
  {
    kind: 'http',
    name: 'get export results',
    method: 'GET',
    url: '{{FULLSTORY_BASE_URL}}/search/v1/exports/{{searchExportId}}/results',
    auth: FS_AUTH,
    purpose: 'the pre-signed download link of a finished job: {location, expires}; fetched again when the link has expired',
    limits: FS_LIMITS,
  },
  {
    kind: 'http',
    name: 'download export file',
    method: 'GET',
    url: '{{location}}',
    auth: { kind: 'none' },
    purpose: 'the gzipped export file (JSON array, NDJSON or CSV); sent without the API key, the URL carries its own authorisation',
    limits: 'the link expires at `expires`; a refused link (403) is replaced by fetching the results again',
  },
];

function settingsOf(settings: ExporterSettings): FullstoryExportOptions {
  const s = settings.section;
  const format = s.format === 'json' || s.format === 'csv' ? s.format : 'ndjson';
  return {
    apiKey: settings.credentials.api_key!,
    endpoint: settings.endpoint,
    segmentId: typeof s.segment_id === 'string' ? s.segment_id : undefined,
    format,
    fields: Array.isArray(s.fields) ? s.fields.map(String) : undefined,
    windowHours: typeof s.window_hours === 'number' ? s.window_hours : undefined,
    exportDelayMs: typeof s.export_delay_hours === 'number' ? Math.round(s.export_delay_hours * HOUR_MS) : undefined,
    lookbackMs: lookbackFrom(s, FULLSTORY_DEFAULT_LOOKBACK_MS),
    origin: settings.origins.api_key ?? 'FULLSTORY_API_KEY',
  };
}

/** `GET /operations/v1?type=SEARCH_EXPORT`: authenticated, cheap, and needs no export to exist. */
async function probeFullstory(settings: ExporterSettings, options: ProbeOptions = {}): Promise<ProbeResult> {
  const o = settingsOf(settings);
  const exporter = createFullstoryExporter(o);
  const http = probeHttpClient({ source: 'FullStory', authHint: exporter.authHint, secrets: exporter.secrets, timeouts: options.timeouts, signal: options.signal });
  const base = (o.endpoint ?? FULLSTORY_BASE_URL).replace(/\/+$/, '');
  const what = 'FullStory: list export operations';
  const answer = await http.request({ method: 'GET', url: `${base}/operations/v1?type=SEARCH_EXPORT`, headers: { authorization: `Basic ${o.apiKey}` }, what }, async (res) => readJson(res.body, what));
  const operations = Array.isArray(answer.operations) ? answer.operations.length : 0;
  return { ok: true, detail: `FullStory accepted the API key (${operations} recent export operation${operations === 1 ? '' : 's'} listed)` };
}

export const fullstoryExporterDefinition: WindowExporterDefinition = {
  source: 'fullstory',
  displayName: 'FullStory',
  recordLayout: FULLSTORY_RECORD_LAYOUT,
  credentials: [{ key: 'api_key', variable: 'FULLSTORY_API_KEY', secret: true }],
  endpoints: FULLSTORY_ENDPOINTS,
  endpointVariables: {
    FULLSTORY_BASE_URL: { value: FULLSTORY_BASE_URL, description: 'one host for every data center (the API key says which)' },
    operationId: { value: 'op-id-from-create', description: 'operationId answered by "create segment export"' },
    searchExportId: { value: 'export-id-from-operation', description: 'results.searchExportId of the COMPLETED operation' },
    location: { value: 'https://storage.example.com/pre-signed', description: 'the pre-signed URL answered by "get export results"' },
  },
  probe: probeFullstory,
  create: (settings) => createFullstoryExporter(settingsOf(settings)),
};
