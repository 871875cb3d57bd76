import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { EXIT } from '../../core/exit-codes.js';
import { amplitudeEvents, startAmplitudeFake } from '../../test-support/amplitude-fake-server.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile, tempExportDir, windowLines } from '../../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { runExport, type ExportRunOptions } from '../export/export-run.js';
import { HOUR_MS } from '../export/export-window.js';
import { createAmplitudeExporter, type AmplitudeExportOptions } from './amplitude-export.js';

const DAY1 = Date.parse('2024-03-10T00:00:00Z');
const EVENTS = amplitudeEvents(240, DAY1, DAY1 + 48 * HOUR_MS);
const NOW = '2024-03-12T09:30:00Z';

let server: FakeVendorServer | undefined;
let dir: string;
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(fake: Partial<Parameters<typeof startAmplitudeFake>[0]> = {}): Promise<FakeVendorServer> {
  server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'amp-secret', events: EVENTS, ...fake });
  dir = tempExportDir();
  return server;
}

function exportRange(extra: Partial<ExportRunOptions> = {}, client: Partial<AmplitudeExportOptions> = {}) {
  const exporter = createAmplitudeExporter({ apiKey: 'amp-key', secretKey: 'amp-secret', region: 'us', endpoint: server!.url, ...client });
  return runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-11', toolVersion: 'test', clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...extra });
}

const uuids = (records: Record<string, unknown>[]): string[] => records.map((r) => String(r.uuid)).sort();
const ALL = uuids(EVENTS);

describe('Amplitude export', () => {
  it('exports each UTC day with one request (start/end hours both included), every event exactly once, ids exact', async () => {
    await setup();
    const result = await exportRange();
    expect(result).toMatchObject({ exit_code: 0, rows: 240, windows: { planned: 2, exported: 2 }, requests: 2 });
    expect(server!.requests.map((r) => `${r.query.get('start')}..${r.query.get('end')}`)).toEqual(expect.arrayContaining(['20240310T00..20240310T23', '20240311T00..20240311T23']));
    expect(server!.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('amp-key:amp-secret').toString('base64')}`);
    const records = allRecords(dir);
    expect(uuids(records)).toEqual(ALL);
    // amplitude_id is 2^53 + 1 + i: JSON.parse would round it; the file keeps the digits.
    const first = windowLines(join(dir, '20240310T0000Z_20240311T0000Z.jsonl.gz'))[0]!;
    expect(first).toContain('"amplitude_id":9007199254740993,');
    const manifest = readManifestFile(dir);
    expect(manifest.windows.map((w) => [w.label, w.rows])).toEqual([
      ['2024-03-10T00:00Z/2024-03-11T00:00Z', 120],
      ['2024-03-11T00:00Z/2024-03-12T00:00Z', 120],
    ]);
    // The high-water mark is the newest server_upload_time of the window.
    const newestDay1 = EVENTS.filter((e) => String(e.server_upload_time) < '2024-03-11').map((e) => String(e.server_upload_time)).sort().pop()!;
    expect(manifest.windows[0]!.high_water_mark).toBe(`${newestDay1.replace(' ', 'T')}Z`);
  });

  it('a 404 is an empty window: complete, no file', async () => {
    await setup({ events: EVENTS.filter((e) => String(e.server_upload_time) >= '2024-03-11') });
    const result = await exportRange();
    expect(result).toMatchObject({ exit_code: 0, rows: 120, windows: { exported: 1, empty: 1 } });
    expect(readManifestFile(dir).windows[0]).toMatchObject({ status: 'complete', rows: 0, file: null });
    expect(readdirSync(dir).filter((f) => f.endsWith('.gz'))).toEqual(['20240311T0000Z_20240312T0000Z.jsonl.gz']);
  });

  it('halves a too-large range down to hours, and exports everything once', async () => {
    await setup({ tooLarge: (s, e) => e - s > 5 * HOUR_MS });
    const result = await exportRange({ to: '2024-03-10' });
    expect(result).toMatchObject({ exit_code: 0, rows: 120 });
    const ranges = server!.requests.map((r) => `${r.query.get('start')}-${r.query.get('end')}`);
    // 24 h → 12 + 12 → 6 + 6 → 3 + 3: the first request is refused, every range of ≤ 5 h is served.
    expect(ranges[0]).toBe('20240310T00-20240310T23');
    expect(ranges).toContain('20240310T00-20240310T02');
    expect(uuids(allRecords(dir))).toEqual(ALL.filter((u) => EVENTS.find((e) => e.uuid === u)!.server_upload_time! < '2024-03-11'));
    expect(readManifestFile(dir).windows[0]!.requests).toBe(ranges.length);
  });

  it('one hour still too large fails that window with a clear error; the other day is exported (exit 5)', async () => {
    await setup({ tooLarge: (s, e) => s <= DAY1 + 5 * HOUR_MS && e > DAY1 + 5 * HOUR_MS });
    const result = await exportRange();
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, windows: { exported: 1, failed: 1 } });
    expect(result.failed[0]).toMatchObject({
      window: '2024-03-10T00:00Z/2024-03-11T00:00Z',
      code: 'export_window_too_large',
      message: 'Amplitude export of the hour 2024-03-10T05:00Z/2024-03-10T06:00Z is too large even on its own',
      hint: expect.stringContaining('S3 export'),
    });
    expect(readdirSync(dir).filter((f) => f.endsWith('.gz'))).toEqual(['20240311T0000Z_20240312T0000Z.jsonl.gz']);
  });

  it('survives 429 (Retry-After), 5xx, a reset mid-body, a truncated zip and a slow answer with the same files as a clean run', async () => {
    await setup();
    await exportRange({ to: '2024-03-10' });
    const clean = readManifestFile(dir).windows.map((w) => w.sha256);
    rmSync(dir, { recursive: true, force: true });
    dir = tempExportDir();
    server!.inject({ kind: 'status', status: 429, retryAfter: '1' });
    server!.inject({ kind: 'status', status: 502 });
    server!.inject({ kind: 'status', status: 503 });
    const result = await exportRange({ to: '2024-03-10' });
    server!.inject({ kind: 'reset-mid-body' });
    server!.inject({ kind: 'truncate-body', keep: 0.7 });
    server!.inject({ kind: 'slow', delayMs: 1_800 });
    const second = await exportRange({ to: '2024-03-10' });
    expect(result).toMatchObject({ exit_code: 0 });
    expect(result.retries).toBeGreaterThanOrEqual(3);
    expect(result.rate_limit_wait_ms).toBeGreaterThanOrEqual(900);
    expect(second).toMatchObject({ exit_code: 0, rows: 120 });
    expect(second.retries).toBeGreaterThanOrEqual(3);
    expect(readManifestFile(dir).windows.map((w) => w.sha256)).toEqual(clean);
  });

  it('a zip whose gzip member is cut off is fetched again, never written', async () => {
    await setup();
    let served = 0;
    server!.inject(
      {
        kind: 'rewrite-body',
        rewrite: () => {
          served += 1;
          const member = Buffer.from('H4sIAAAAAAAAA6tWyk', 'base64');
          return Buffer.from(zipSync({ '187520/187520_2024-03-10_0#0.json.gz': member }, { level: 0 }));
        },
      },
      { times: 1 },
    );
    const result = await exportRange({ to: '2024-03-10' });
    expect(served).toBe(1);
    expect(result).toMatchObject({ exit_code: 0, rows: 120 });
    expect(result.retries).toBeGreaterThanOrEqual(1);
  });

  it('refused credentials stop the export with exit 3 and a hint naming the variables and the region', async () => {
    await setup();
    const err = await exportRange({}, { secretKey: 'wrong', origins: { apiKey: 'AMPLITUDE_API_KEY', secretKey: 'AMPLITUDE_SECRET_KEY' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth });
    expect((err as { hint: string }).hint).toMatch(/AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY.*sources\.amplitude\.region: eu/);
    expect(JSON.stringify(err)).not.toContain('wrong');
  });

  it('stops two hours before now: the last windows end at the availability limit', async () => {
    await setup();
    const result = await exportRange({ from: '2024-03-12', to: undefined, clock: clockAt('2024-03-12T05:40:00Z') });
    expect(result).toMatchObject({ from: '2024-03-12T00:00:00.000Z', to: '2024-03-12T03:00:00.000Z', cut: null });
    expect(server!.requests.map((r) => `${r.query.get('start')}..${r.query.get('end')}`)).toEqual(['20240312T00..20240312T02']);
    const cut = await exportRange({ from: '2024-03-12', to: '2024-03-12', clock: clockAt('2024-03-12T05:40:00Z') });
    expect(cut.cut).toEqual({ requested_to: '2024-03-13T00:00:00.000Z', available_until: '2024-03-12T03:00:00.000Z' });
  });

  it('uses the EU host for region eu', () => {
    const exporter = createAmplitudeExporter({ apiKey: 'k', secretKey: 's', region: 'eu' });
    expect(exporter.authHint).toMatch(/region: us/);
    expect(exporter.windowing.grid).toEqual({ kind: 'hours', size: 24 });
  });
});
