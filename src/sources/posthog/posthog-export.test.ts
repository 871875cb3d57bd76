import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { EXIT } from '../../core/exit-codes.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile, tempExportDir } from '../../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { posthogEvents, startPosthogFake, type PosthogFakeOptions } from '../../test-support/posthog-fake-server.js';
import { runExport, type ExportRunOptions } from '../export/export-run.js';
import { HOUR_MS } from '../export/export-window.js';
import { createPosthogExporter, instantMicros, POSTHOG_LIMITS, utcMicrosText, type PosthogExportOptions } from './posthog-export.js';

const DAY1 = Date.parse('2024-03-10T00:00:00Z');
const EVENTS = posthogEvents(203, DAY1, DAY1 + 48 * HOUR_MS);
const NOW = '2024-03-12T09:00:00Z';
const DAY1_COUNT = EVENTS.filter((e) => e.timestamp < (DAY1 + 24 * HOUR_MS) * 1000).length;

let server: FakeVendorServer | undefined;
let fake: PosthogFakeOptions;
let dir: string;
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(extra: Partial<PosthogFakeOptions> = {}): Promise<FakeVendorServer> {
  fake = { apiKey: 'phx_testkey', projectId: '4242', events: EVENTS, ...extra };
  server = await startPosthogFake(fake);
  dir = tempExportDir();
  return server;
}

function exportRange(extra: Partial<ExportRunOptions> = {}, client: Partial<PosthogExportOptions> = {}) {
  const exporter = createPosthogExporter({ host: server!.url, projectId: '4242', apiKey: 'phx_testkey', pageSize: 10, ...client });
  return runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-11', toolVersion: 'test', clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...extra });
}

const uuids = (records: readonly { uuid?: unknown }[]): string[] => records.map((r) => String(r.uuid)).sort();

describe('PostHog export', () => {
  it('pages on (timestamp, uuid) across runs of equal timestamps: every event exactly once, in key order', async () => {
    await setup();
    const result = await exportRange();
    expect(result).toMatchObject({ exit_code: 0, rows: 203, windows: { exported: 2 } });
    const records = allRecords(dir);
    expect(uuids(records)).toEqual(uuids(EVENTS));
    expect(new Set(uuids(records)).size).toBe(203);
    // Groups of 7 share a timestamp and pages hold 10: boundaries fall inside the groups.
    const pages = server!.requests.filter((r) => r.body.includes('ORDER BY') && r.body.includes('"window_start":"2024-03-10 00:00:00.000000"'));
    expect(pages.length).toBe(Math.floor(DAY1_COUNT / 10) + 1);
    const body = JSON.parse(pages[1]!.body) as { query: { query: string; values: Record<string, string> } };
    expect(body.query.values).toMatchObject({ window_start: '2024-03-10 00:00:00.000000', window_end: '2024-03-11 00:00:00.000000' });
    expect(body.query.values.after_uuid).toMatch(/^[0-9a-f-]{36}$/);
    // Values travel as placeholders, never inside the query text.
    expect(body.query.query).not.toContain('2024-03-10');
    expect(server!.requests[0]!.headers.authorization).toBe('Bearer phx_testkey');
    const manifest = readManifestFile(dir);
    expect(manifest.windows[0]).toMatchObject({ rows: DAY1_COUNT, cursor: { uuid: expect.any(String), timestamp: expect.stringMatching(/\+02:00$/) } });
    // The high-water mark is the last event's timestamp in UTC, to the microsecond.
    const lastDay1 = EVENTS.filter((e) => e.timestamp < (DAY1 + 24 * HOUR_MS) * 1000).map((e) => e.timestamp).sort((a, b) => a - b).pop()!;
    expect(manifest.windows[0]!.high_water_mark).toBe(`${utcMicrosText(BigInt(lastDay1)).replace(' ', 'T')}Z`);
  });

  it('writes batch-export shaped records: properties as an object, timestamps as PostHog rendered them', async () => {
    await setup({ events: EVENTS.slice(0, 1) });
    await exportRange({ to: '2024-03-10' });
    const [record] = allRecords(dir);
    expect(Object.keys(record!)).toEqual(['uuid', 'event', 'distinct_id', 'person_id', 'properties', 'timestamp', 'created_at', 'elements_chain']);
    expect(record!.properties).toEqual(EVENTS[0]!.properties);
    expect(record!.timestamp).toBe('2024-03-10T02:00:00.000123+02:00');
  });

  it('an honestly capped page (hasMore) is followed; a silently capped one fails the count check and the window', async () => {
    await setup({ pageCap: 4, honestCap: true });
    const honest = await exportRange({ to: '2024-03-10' });
    expect(honest).toMatchObject({ exit_code: 0, rows: DAY1_COUNT });
    expect(DAY1_COUNT).toBe(105);

    fake.honestCap = false;
    rmSync(dir, { recursive: true, force: true });
    dir = tempExportDir();
    const silent = await exportRange({ to: '2024-03-10' });
    expect(silent).toMatchObject({ status: 'partial', exit_code: EXIT.partial, rows: 0 });
    expect(silent.failed[0]).toMatchObject({ code: 'export_incomplete', message: expect.stringMatching(/PostHog counts 105 events but 4 were received/) });
    expect(allRecords(dir)).toEqual([]);
  });

  it('retries 429, 5xx, resets, truncated gzip and slow answers per page, without repeating or losing events', async () => {
    await setup();
    server!.inject({ kind: 'status', status: 429, retryAfter: '1' });
    server!.inject({ kind: 'status', status: 502 });
    server!.inject({ kind: 'reset-mid-body' }, { match: (r) => r.body.includes('after_timestamp') });
    server!.inject({ kind: 'truncate-body', keep: 0.5 }, { match: (r) => r.body.includes('after_timestamp') });
    server!.inject({ kind: 'slow', delayMs: 1_800 }, { match: (r) => r.body.includes('count()') });
    const result = await exportRange({ concurrency: 1 });
    expect(result).toMatchObject({ exit_code: 0, rows: 203 });
    expect(result.retries).toBeGreaterThanOrEqual(5);
    expect(result.rate_limit_wait_ms).toBeGreaterThanOrEqual(900);
    expect(uuids(allRecords(dir))).toEqual(uuids(EVENTS));
  });

  it('an empty window is complete and writes no file', async () => {
    await setup({ events: [] });
    const result = await exportRange({ to: '2024-03-10' });
    expect(result).toMatchObject({ exit_code: 0, windows: { empty: 1 } });
    expect(server!.requests).toHaveLength(2);
  });

  it('refused credentials point at the key, the project and the other cloud', async () => {
    await setup();
    const err = await exportRange({}, { apiKey: 'phx_wrong', origins: { apiKey: 'POSTHOG_PERSONAL_API_KEY' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth });
    expect((err as { hint: string }).hint).toMatch(/POSTHOG_PERSONAL_API_KEY.*query:read.*sources\.posthog\.host/);
    expect(createPosthogExporter({ host: 'https://us.posthog.com', projectId: '1', apiKey: 'k' }).authHint).toMatch(/sources\.posthog\.host: https:\/\/eu\.posthog\.com/);
  });

  it('an unknown project stops the run with a usage error', async () => {
    await setup();
    const err = await exportRange({}, { projectId: '999' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_request_rejected', exitCode: EXIT.usage, hint: expect.stringContaining('project_id') });
  });

  it('keeps the documented limits and page cap', () => {
    expect(POSTHOG_LIMITS).toEqual({ concurrency: 3, rolling: [{ limit: 240, periodMs: 60_000 }, { limit: 2_400, periodMs: 3_600_000 }] });
    expect(() => createPosthogExporter({ host: 'https://us.posthog.com', projectId: '1', apiKey: 'k', pageSize: 50_001 })).toThrow(/outside 1\.\.50000/);
  });

  it('reads timestamps with offsets to the microsecond', () => {
    expect(instantMicros('2024-03-10T02:00:00.000123+02:00')).toBe(BigInt(Date.parse('2024-03-10T00:00:00Z')) * 1000n + 123n);
    expect(instantMicros('2024-03-10 00:00:00.5')).toBe(BigInt(Date.parse('2024-03-10T00:00:00Z')) * 1000n + 500_000n);
    expect(instantMicros('2024-03-09T19:00:00-05:00')).toBe(BigInt(Date.parse('2024-03-10T00:00:00Z')) * 1000n);
    expect(utcMicrosText(BigInt(Date.parse('2024-03-10T00:00:00Z')) * 1000n + 7n)).toBe('2024-03-10 00:00:00.000007');
    expect(instantMicros('yesterday')).toBeUndefined();
  });
});
