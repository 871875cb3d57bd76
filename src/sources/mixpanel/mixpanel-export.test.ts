import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EXIT } from '../../core/exit-codes.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile, tempExportDir } from '../../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { mixpanelEvents, startMixpanelFake } from '../../test-support/mixpanel-fake-server.js';
import { runExport, type ExportRunOptions } from '../export/export-run.js';
import { DAY_MS } from '../export/export-window.js';
import { createMixpanelExporter, MIXPANEL_LIMITS, type MixpanelExportOptions } from './mixpanel-export.js';

const DAY1 = Date.parse('2024-03-09T00:00:00Z');
const EVENTS = mixpanelEvents(300, DAY1, DAY1 + 3 * DAY_MS);
const NOW = '2024-03-13T09:00:00Z';

let server: FakeVendorServer | undefined;
let dir: string;
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(fake: Partial<Parameters<typeof startMixpanelFake>[0]> = {}): Promise<FakeVendorServer> {
  server = await startMixpanelFake({ user: 'sa.user', secret: 'sa-secret', projectId: '31337', events: EVENTS, ...fake });
  dir = tempExportDir();
  return server;
}

/** Test limits: the documented shape (per second, per hour, concurrency) at sizes a test can wait for. */
const TEST_LIMITS = { concurrency: 100, rolling: [{ limit: 3, periodMs: 300 }, { limit: 60, periodMs: 3_600_000 }] };

function exportRange(extra: Partial<ExportRunOptions> = {}, client: Partial<MixpanelExportOptions> = {}) {
  const exporter = createMixpanelExporter({ user: 'sa.user', secret: 'sa-secret', projectId: '31337', region: 'us', endpoint: server!.url, limits: TEST_LIMITS, ...client });
  return runExport({ exporter, dir, from: '2024-03-09', to: '2024-03-11', toolVersion: 'test', clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...extra });
}

/** Rewrites the text of a body the fake may have gzipped. */
const onText = (fn: (text: string) => string) => (body: Buffer): Buffer =>
  body[0] === 0x1f && body[1] === 0x8b ? gzipSync(fn(gunzipSync(body).toString('utf8'))) : Buffer.from(fn(body.toString('utf8')));

const ids = (records: Record<string, unknown>[]): string[] => records.map((r) => String((r.properties as Record<string, unknown>).$insert_id)).sort();

describe('Mixpanel export', () => {
  it('exports one day per request with the service account and project id; every event once', async () => {
    await setup();
    const result = await exportRange();
    expect(result).toMatchObject({ exit_code: 0, rows: 300, windows: { planned: 3, exported: 3 } });
    const days = server!.requests.map((r) => `${r.query.get('from_date')}..${r.query.get('to_date')}`).sort();
    expect(days).toEqual(['2024-03-09..2024-03-09', '2024-03-10..2024-03-10', '2024-03-11..2024-03-11']);
    expect(server!.requests.every((r) => r.query.get('project_id') === '31337')).toBe(true);
    expect(server!.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('sa.user:sa-secret').toString('base64')}`);
    expect(server!.requests[0]!.headers['accept-encoding']).toBe('gzip');
    expect(ids(allRecords(dir))).toEqual(ids(EVENTS));
    const manifest = readManifestFile(dir);
    expect(manifest.windows.map((w) => [w.label, w.rows])).toEqual([
      ['2024-03-09', 100],
      ['2024-03-10', 100],
      ['2024-03-11', 100],
    ]);
    // The high-water mark is the newest ingestion time (mp_processing_time_ms) of the day.
    const newest = Math.max(...EVENTS.filter((e) => (e.properties.time as number) * 1000 < DAY1 + DAY_MS).map((e) => e.properties.mp_processing_time_ms as number));
    expect(manifest.windows[0]!.high_water_mark).toBe(new Date(newest).toISOString());
  });

  it('keeps the per-second limit as the server sees it (test-sized: 3 per 300 ms)', async () => {
    await setup({ events: mixpanelEvents(70, DAY1, DAY1 + 7 * DAY_MS) });
    const result = await exportRange({ from: '2024-03-09', to: '2024-03-15', concurrency: 7, clock: clockAt('2024-03-20T00:00:00Z') });
    expect(result).toMatchObject({ exit_code: 0, rows: 70, windows: { exported: 7 } });
    const starts = server!.requests.map((r) => r.at).sort((a, b) => a - b);
    // 7 requests at 3 per period need two full periods, and the limiter must have made the run wait. Arrival
    // spacing is not checked here: on a loaded machine a delayed request can arrive next to a later one, which
    // says nothing about the limiter. rate-limiter.test.ts checks exact spacing on a fake clock.
    expect(starts[6]! - starts[0]!).toBeGreaterThanOrEqual(2 * 300);
    expect(result.rate_limit_wait_ms).toBeGreaterThan(200);
  });

  it('the production limits are the documented ones: 60 per hour, 3 per second, 100 at once', () => {
    expect(MIXPANEL_LIMITS).toEqual({ concurrency: 100, rolling: [{ limit: 3, periodMs: 1000 }, { limit: 60, periodMs: 3_600_000 }] });
  });

  it('a body ending in "terminated early" is partial: fetched again, and a day that keeps ending so fails (exit 5)', async () => {
    await setup();
    const terminate = onText((text) => `${text.split('\n').slice(0, 10).join('\n')}\nterminated early\n`);
    server!.inject({ kind: 'rewrite-body', rewrite: terminate }, { match: (r) => r.query.get('from_date') === '2024-03-10', times: 1 });
    const retried = await exportRange({ to: '2024-03-10' }, { endpoint: server!.url });
    expect(retried).toMatchObject({ exit_code: 0, rows: 200 });
    expect(ids(allRecords(dir))).toHaveLength(200);

    server!.inject({ kind: 'rewrite-body', rewrite: terminate }, { match: (r) => r.query.get('from_date') === '2024-03-11', times: 50 });
    const failed = await exportRange({ from: '2024-03-11', to: '2024-03-11' });
    expect(failed).toMatchObject({ status: 'partial', exit_code: EXIT.partial });
    expect(failed.failed[0]).toMatchObject({ window: '2024-03-11', code: 'export_body_terminated', message: expect.stringContaining('terminated early') });
    expect(readdirSync(dir).some((f) => f.startsWith('20240311'))).toBe(false);
  });

  it('a truncated gzip body and a reset connection are retried, not written short', async () => {
    await setup();
    server!.inject({ kind: 'truncate-body', keep: 0.5 });
    server!.inject({ kind: 'reset-mid-body' });
    server!.inject({ kind: 'status', status: 500 });
    const result = await exportRange({ concurrency: 1 });
    expect(result).toMatchObject({ exit_code: 0, rows: 300 });
    expect(result.retries).toBeGreaterThanOrEqual(3);
    expect(ids(allRecords(dir))).toEqual(ids(EVENTS));
  });

  it('joins a record split over two lines', async () => {
    await setup({ events: EVENTS.slice(0, 3) });
    server!.inject({ kind: 'rewrite-body', rewrite: onText((t) => t.replace('"properties":', '"properties":\n')) });
    const result = await exportRange({ to: '2024-03-09' });
    expect(result).toMatchObject({ exit_code: 0, rows: 3 });
  });

  it('a pre-2023 project exports the days of its own time zone', async () => {
    // Stored `time` is local wall-clock time encoded as UTC: 2024-03-10 23:30 in Los Angeles is stored as 23:30 "UTC".
    const local = [{ event: 'late evening', properties: { time: Date.parse('2024-03-10T23:30:00Z') / 1000, distinct_id: 'a', $insert_id: 'x1', mp_lib: 'web' } }];
    await setup({ events: local });
    const result = await exportRange({ from: '2024-03-10', to: '2024-03-10' }, { projectTimezone: 'America/Los_Angeles' });
    expect(result).toMatchObject({ exit_code: 0, rows: 1, from: '2024-03-10T08:00:00.000Z', to: '2024-03-11T07:00:00.000Z' });
    expect(server!.requests[0]!.query.get('from_date')).toBe('2024-03-10');
    expect(readManifestFile(dir).windows[0]!.label).toBe('2024-03-10');
  });

  it('exports only whole past days of the project calendar', async () => {
    await setup();
    const result = await exportRange({ from: '2024-03-11', to: undefined, clock: clockAt('2024-03-12T10:00:00Z') });
    expect(result).toMatchObject({ to: '2024-03-12T00:00:00.000Z', windows: { planned: 1 } });
  });

  it('a date Mixpanel refuses (project time zone) stops the run with a hint', async () => {
    await setup({ today: '2024-03-10' });
    const err = await exportRange({ from: '2024-03-09', to: '2024-03-11', concurrency: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_range_rejected', exitCode: EXIT.usage, hint: expect.stringContaining('project_timezone') });
  });

  it('refused credentials name the variables and the other regions', async () => {
    await setup();
    const err = await exportRange({}, { secret: 'nope', origins: { user: 'MIXPANEL_SERVICE_ACCOUNT_USER', secret: 'MIXPANEL_SERVICE_ACCOUNT_SECRET' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth });
    expect((err as { hint: string }).hint).toMatch(/MIXPANEL_SERVICE_ACCOUNT_USER and MIXPANEL_SERVICE_ACCOUNT_SECRET.*region: eu or in/);
  });
});
