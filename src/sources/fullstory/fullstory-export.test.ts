import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../core/exit-codes.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile, tempExportDir, windowLines } from '../../test-support/export-test-kit.js';
import { fullstoryEvents, startFullstoryFake, type FullstoryFake, type FullstoryFakeOptions } from '../../test-support/fullstory-fake-server.js';
import { runExport, type ExportRunOptions } from '../export/export-run.js';
import { HOUR_MS } from '../export/export-window.js';
import { createFullstoryExporter, fullstoryExporterDefinition, type FullstoryExportOptions } from './fullstory-export.js';

const KEY = 'FAKE-test-key-0000';
const DAY1 = Date.parse('2024-03-10T00:00:00Z');
const EVENTS = fullstoryEvents(90, DAY1, DAY1 + 48 * HOUR_MS);
const NOW = '2024-03-13T09:30:00Z';
const FAST_POLL = { firstMs: 0, maxMs: 10, timeoutMs: 2_000 };

let fake: FullstoryFake | undefined;
let dir: string;
afterEach(async () => {
  await fake?.server.close();
  fake = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(options: Partial<FullstoryFakeOptions> = {}): Promise<FullstoryFake> {
  fake = await startFullstoryFake({ apiKey: KEY, events: EVENTS, ...options });
  dir = tempExportDir();
  return fake;
}

function exportRange(extra: Partial<ExportRunOptions> = {}, client: Partial<FullstoryExportOptions> = {}) {
  const exporter = createFullstoryExporter({ apiKey: KEY, endpoint: fake!.server.url, poll: FAST_POLL, ...client });
  return runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-11', toolVersion: 'test', clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...extra });
}

const starts = (records: Record<string, unknown>[]): string[] => records.map((r) => `${String(r.EventStart)}|${String(r.evt_note_str)}`).sort();
const ALL = starts(EVENTS);
const requestsTo = (f: FullstoryFake, pattern: RegExp) => f.server.requests.filter((r) => pattern.test(r.path));

describe('FullStory Segment Export', () => {
  it('creates one job per UTC day, polls it, downloads the pre-signed file without the key, and writes every event once', async () => {
    const f = await setup();
    const result = await exportRange();
    expect(result).toMatchObject({ exit_code: 0, rows: 90, windows: { planned: 2, exported: 2, failed: 0 } });
    // One create, one poll, one results and one download per window.
    expect(result.requests).toBe(8);
    expect(f.jobs.map((j) => [j.start, j.end, j.format, j.segmentId]).sort()).toEqual([
      ['2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z', 'FORMAT_NDJSON', 'everyone'],
      ['2024-03-11T00:00:00.000Z', '2024-03-12T00:00:00.000Z', 'FORMAT_NDJSON', 'everyone'],
    ]);
    // The key as it is, not base64(user:password); the storage host never sees it.
    const create = requestsTo(f, /^\/segments\/v1\/exports$/)[0]!;
    expect(create.headers.authorization).toBe(`Basic ${KEY}`);
    expect(JSON.parse(create.body)).toMatchObject({ type: 'TYPE_EVENT', timezone: 'UTC', segmentTimeRange: { start: '', end: '' } });
    const downloads = requestsTo(f, /^\/download\//);
    expect(downloads).toHaveLength(2);
    expect(downloads.every((r) => r.headers.authorization === undefined)).toBe(true);

    expect(starts(allRecords(dir))).toEqual(ALL);
    // UserId 2^53 + 1 keeps its digits.
    expect(windowLines(join(dir, '20240310T0000Z_20240311T0000Z.jsonl.gz'))[0]).toContain('"UserId":9007199254740993,');
    const manifest = readManifestFile(dir);
    expect(manifest.windows.map((w) => [w.key, w.status, w.rows])).toEqual([
      ['20240310T0000Z_20240311T0000Z', 'complete', 45],
      ['20240311T0000Z_20240312T0000Z', 'complete', 45],
    ]);
    const newestDay1 = EVENTS.map((e) => String(e.EventStart)).filter((s) => s < '2024-03-11').sort().pop()!;
    expect(manifest.windows[0]).toMatchObject({ high_water_mark: newestDay1, cursor: { operation_id: expect.stringMatching(/^op-[12]$/), search_export_id: expect.stringMatching(/^exp-[01]$/) } });
  });

  it('reads FORMAT_JSON (one array) and FORMAT_CSV (text cells, empty ones left out) into the same events', async () => {
    await setup();
    await exportRange({ to: '2024-03-10' }, { format: 'json' });
    const fromJson = allRecords(dir);
    expect(fromJson).toHaveLength(45);
    expect(fake!.jobs[0]!.format).toBe('FORMAT_JSON');
    rmSync(dir, { recursive: true, force: true });
    dir = tempExportDir();
    await exportRange({ to: '2024-03-10' }, { format: 'csv' });
    const fromCsv = allRecords(dir);
    expect(fake!.jobs[1]).toMatchObject({ format: 'FORMAT_CSV', fields: expect.arrayContaining(['EventStart', 'UserId', 'evt_*']) });
    expect(starts(fromCsv)).toEqual(starts(fromJson));
    const click = fromCsv.find((r) => r.EventType === 'click' && r.EventModFrustrated !== undefined)!;
    expect(click).toMatchObject({ UserId: expect.stringMatching(/^900719925474099\d$/), EventModFrustrated: '1' });
    // A navigate row has no EventTargetText cell value: the field is absent, not "".
    expect(fromCsv.find((r) => r.EventType === 'navigate')).not.toHaveProperty('EventTargetText');
  });

  it('survives a failed job, 429 with Retry-After, 5xx, a slow job, a truncated gzip, a reset mid-body and an expired link with the same files', async () => {
    await setup();
    await exportRange({ to: '2024-03-10' });
    const clean = readManifestFile(dir).windows.map((w) => w.sha256);
    await fake!.server.close();
    rmSync(dir, { recursive: true, force: true });

    const f = await setup({ failJobs: 1, pendingPolls: 3, expiredLinks: 1 });
    f.server.inject({ kind: 'status', status: 429, retryAfter: '1' }, { match: (r) => r.path === '/segments/v1/exports' });
    f.server.inject({ kind: 'status', status: 503 }, { match: (r) => r.path.startsWith('/operations/') });
    f.server.inject({ kind: 'truncate-body', keep: 0.6 }, { match: (r) => r.path.startsWith('/download/') && !r.path.includes('/t1-') });
    f.server.inject({ kind: 'reset-mid-body' }, { match: (r) => r.path.startsWith('/download/') && !r.path.includes('/t1-') });
    const result = await exportRange({ to: '2024-03-10' });
    expect(result).toMatchObject({ exit_code: 0, rows: 45 });
    expect(readManifestFile(dir).windows.map((w) => w.sha256)).toEqual(clean);
    // The FAILED job was replaced by a second one; the expired link by a second results call.
    expect(f.jobs).toHaveLength(2);
    expect(requestsTo(f, /\/results$/)).toHaveLength(2);
    // Downloads: refused (expired), truncated, reset, then whole.
    expect(requestsTo(f, /^\/download\//)).toHaveLength(4);
    expect(result.rate_limit_wait_ms).toBeGreaterThanOrEqual(900);
    expect(result.retries).toBeGreaterThanOrEqual(4);
  });

  it('a job that keeps failing fails its window (named, exit 5); the other day is written', async () => {
    await setup({ failJobs: 3 });
    const result = await exportRange({ concurrency: 1 });
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, windows: { exported: 1, failed: 1 } });
    expect(result.failed[0]).toMatchObject({ window: '2024-03-10T00:00Z/2024-03-11T00:00Z', code: 'export_job_failed', message: expect.stringContaining('internal export error') });
    expect(readdirSync(dir).filter((n) => n.endsWith('.gz'))).toEqual(['20240311T0000Z_20240312T0000Z.jsonl.gz']);
  });

  it('a job still pending at its time limit fails the window with export_job_timeout', async () => {
    await setup({ pendingPolls: 1_000_000 });
    const result = await exportRange({ to: '2024-03-10' }, { poll: { firstMs: 0, maxMs: 20, timeoutMs: 150 } });
    expect(result).toMatchObject({ exit_code: EXIT.partial, failed: [{ code: 'export_job_timeout' }] });
  });

  it('a refused key stops the export (exit 3) with a hint naming the variable, and the key is never printed', async () => {
    await setup();
    const err = await exportRange({}, { apiKey: 'FAKE-wrong-key-9999', origin: 'FULLSTORY_API_KEY' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth, hint: expect.stringContaining('FULLSTORY_API_KEY') });
    expect(JSON.stringify(err)).not.toContain('FAKE-wrong-key-9999');
  });

  it('an unknown segment is a config error (exit 2) naming segment_id', async () => {
    await setup();
    const err = await exportRange({}, { segmentId: 'nope' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_request_rejected', exitCode: EXIT.usage, place: { field: 'sources.fullstory.segment_id' } });
  });

  it('windows end export_delay_hours before now (24 h by default)', async () => {
    await setup();
    const result = await exportRange({ from: '2024-03-12', to: undefined, clock: clockAt('2024-03-13T05:40:00Z') });
    expect(result).toMatchObject({ from: '2024-03-12T00:00:00.000Z', to: '2024-03-12T05:00:00.000Z' });
    const shorter = await exportRange({ from: '2024-03-12', to: undefined, clock: clockAt('2024-03-13T05:40:00Z') }, { exportDelayMs: 3 * HOUR_MS });
    expect(shorter.to).toBe('2024-03-13T02:00:00.000Z');
  });

  it('probe: lists export operations with the key; a refused key is export_auth_failed', async () => {
    const f = await setup();
    const settings = (key: string) => ({ section: {}, credentials: { api_key: key }, origins: { api_key: 'FULLSTORY_API_KEY' }, endpoint: f.server.url });
    expect(await fullstoryExporterDefinition.probe!(settings(KEY), { timeouts: FAST_TIMEOUTS })).toMatchObject({ ok: true, detail: expect.stringContaining('accepted the API key') });
    expect(f.server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/operations/v1' });
    await expect(fullstoryExporterDefinition.probe!(settings('FAKE-wrong-key-9999'))).rejects.toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth });
  });

  it('lists every endpoint it calls, each with auth, purpose and limits', () => {
    const endpoints = fullstoryExporterDefinition.endpoints!;
    expect(endpoints.map((e) => `${e.method} ${e.url}`)).toEqual([
      'POST {{FULLSTORY_BASE_URL}}/segments/v1/exports',
      'GET {{FULLSTORY_BASE_URL}}/operations/v1/{{operationId}}',
      'GET {{FULLSTORY_BASE_URL}}/operations/v1?type=SEARCH_EXPORT',
      'GET {{FULLSTORY_BASE_URL}}/search/v1/exports/{{searchExportId}}/results',
      'GET {{location}}',
    ]);
    expect(endpoints.find((e) => e.name === 'download export file')!.auth).toEqual({ kind: 'none' });
    expect(endpoints.every((e) => e.purpose !== '' && e.limits !== '')).toBe(true);
  });
});
