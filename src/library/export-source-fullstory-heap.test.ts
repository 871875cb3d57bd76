import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { completeWindows, runExportChild, seededRandom } from '../test-support/export-crash-harness.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile } from '../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../test-support/fake-vendor-server.js';
import { fullstoryEvents, startFullstoryFake } from '../test-support/fullstory-fake-server.js';
import { objectsFromFolder, startS3Fake } from '../test-support/s3-fake-server.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { HOUR_MS } from '../sources/export/export-window.js';
import { HEAP_FIELDS, recordType, s3Url, writeAvro, writeManifest } from '../sources/heap/__fixtures__/heap-sync-writer.js';
import { exportSource, importNewExports, type ExportSourceOptions } from './export-source.js';

const FS_KEY = 'FAKE-test-key-0000';
const PII = 'USAGELAB_PII_KEY=FAKE-pii-key-0000000000000000000\n';
const DAY1 = Date.parse('2024-03-01T00:00:00Z');
const FS_EVENTS = fullstoryEvents(100, DAY1, DAY1 + 10 * 24 * HOUR_MS);
const NOW = '2024-04-02T00:00:00Z';
const FULLSTORY_CONFIG = 'version: 1\nsources:\n  fullstory:\n    api_key: ${FULLSTORY_API_KEY}\n';
const HEAP_CONFIG = 'version: 1\nsources:\n  heap:\n    s3_bucket: heap-rs3-test\n    s3_region: eu-west-1\n';
const HEAP_ENV = `AWS_ACCESS_KEY_ID=FAKE-access-key-id-0000\nAWS_SECRET_ACCESS_KEY=FAKE-test-secret-0000\n${PII}`;

let server: FakeVendorServer | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) c();
});

function workspace(config: string, env: string): TempWorkspace {
  const w = tempWorkspace(config);
  w.write('.env', env);
  cleanups.push(() => w.cleanup());
  return w;
}

async function exportWith(tw: TempWorkspace, source: string, options: ExportSourceOptions) {
  const ws = await tw.open();
  try {
    return await exportSource(ws, source, { endpoint: server!.url, env: {}, clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...options });
  } finally {
    ws.close();
  }
}

async function count(tw: TempWorkspace, source: string): Promise<number> {
  const ws = await tw.open();
  try {
    return Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE source = '${source}'`))[0]!.n);
  } finally {
    ws.close();
  }
}

/** `dumps` Heap dumps of `perDump` pageviews each, with manifests, as bucket objects. */
async function heapBucket(dumps: number, perDump: number, firstDump = 500): Promise<Map<string, Buffer>> {
  const root = mkdtempSync(join(tmpdir(), 'usagelab-heap-lib-'));
  try {
    for (let d = 0; d < dumps; d++) {
      const dumpId = firstDump + d;
      const rows = Array.from({ length: perDump }, (_, i) => ({
        event_id: BigInt(dumpId * 1000 + i),
        user_id: 9007199254740993n + BigInt(i % 3),
        session_id: BigInt(dumpId),
        time: BigInt(DAY1 + d * 24 * HOUR_MS + i * 60_000),
        domain: 'app.example.com',
        path: `/p/${i}`,
        title: `contact ops${i}@example.com`,
      }));
      const rel = `sync_${dumpId}/pageviews/part-00000-0000-c000.avro`;
      await writeAvro(join(root, rel), recordType('pageviews', HEAP_FIELDS.pageviews), rows, 'snappy');
      const users = `sync_${dumpId}/users/part-00000-0000-c000.avro`;
      await writeAvro(join(root, users), recordType('users', HEAP_FIELDS.users), [{ user_id: 9007199254740993n, identity: 'user-42', email: 'alice@example.com', joindate: BigInt(DAY1) }], 'snappy');
      writeManifest(root, `sync_${dumpId}.json`, dumpId, [
        { name: 'pageviews', files: [s3Url(rel)], incremental: true, columns: Object.keys(HEAP_FIELDS.pageviews) },
        { name: 'users', files: [s3Url(users)], incremental: true, columns: Object.keys(HEAP_FIELDS.users) },
      ]);
    }
    return objectsFromFolder(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('exportSource: FullStory and Heap through the library', () => {
  it('FullStory: key from .env, masked before the write, --import loads the Segment Export files once', async () => {
    server = (await startFullstoryFake({ apiKey: FS_KEY, events: FS_EVENTS })).server;
    const tw = workspace(FULLSTORY_CONFIG, `FULLSTORY_API_KEY=${FS_KEY}\n${PII}`);
    const result = await exportWith(tw, 'fullstory', { from: '2024-03-01', to: '2024-03-05', import: true });
    expect(result).toMatchObject({ exit_code: 0, rows: 50, windows: { exported: 5 }, import: { files: 5, imported: 50, duplicates: 0, rejected: 0 } });
    const dir = join(tw.dir, 'exports', 'fullstory');
    const text = readdirSync(dir).filter((f) => f.endsWith('.gz')).map((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8')).join('');
    expect(text).not.toMatch(/@example\.com/);
    expect(allRecords(dir)[0]).toMatchObject({ UserEmail: null, UserAppKey: 'user-0' });
    expect(await count(tw, 'fullstory')).toBe(50);
    const ws = await tw.open();
    try {
      expect((await importNewExports(ws)).summary).toMatchObject({ files: 0, imported: 0 });
    } finally {
      ws.close();
    }
  });

  it('Heap: AWS keys from .env, syncs exported masked, --import loads each new sync once', async () => {
    const objects = await heapBucket(2, 4);
    server = await startS3Fake({ bucket: 'heap-rs3-test', accessKeyId: 'FAKE-access-key-id-0000', objects });
    const tw = workspace(HEAP_CONFIG, HEAP_ENV);
    const first = await exportWith(tw, 'heap', { import: true });
    expect(first).toMatchObject({ exit_code: 0, rows: 10, windows: { exported: 2 }, import: { files: 2, imported: 8, rejected: 0 } });
    // The region from the config signs the requests.
    expect(String(server.requests[0]!.headers.authorization)).toContain('/eu-west-1/s3/aws4_request');
    expect(await count(tw, 'heap')).toBe(8);
    for (const [k, v] of await heapBucket(1, 3, 502)) objects.set(k, v);
    const second = await exportWith(tw, 'heap', { import: true });
    expect(second).toMatchObject({ exit_code: 0, windows: { planned: 1, exported: 1, skipped: 2 }, import: { files: 1, imported: 3 } });
    expect(await count(tw, 'heap')).toBe(11);
    const ws = await tw.open();
    try {
      const rows = await ws.sql<{ user_id: string | null; title: string }>(`SELECT user_id, properties->>'title' AS title FROM events WHERE source = 'heap' AND anonymous_id = '9007199254740993' ORDER BY occurred_at LIMIT 1`);
      // users.identity joined within the sync; the e-mail in the title was masked before the write.
      expect(rows[0]).toEqual({ user_id: 'user-42', title: 'contact [email]' });
    } finally {
      ws.close();
    }
  });

  it('Heap: local_path reads a folder copy relative to the workspace', async () => {
    const objects = await heapBucket(1, 2);
    const tw = workspace('version: 1\nsources:\n  heap:\n    local_path: heap-copy\n', PII);
    for (const [k, v] of objects) tw.write(join('heap-copy', k), v);
    server = await startS3Fake({ bucket: 'unused', accessKeyId: 'unused', objects: new Map() });
    const result = await exportWith(tw, 'heap', {});
    expect(result).toMatchObject({ exit_code: 0, rows: 3, exported: [{ key: 'sync_500', file: 'sync_500' }] });
    expect(server.requests).toEqual([]);
  });
});

describe('export crash safety: FullStory and Heap', () => {
  it('FullStory: SIGKILL at random points, then --resume, gives exactly the files of an uninterrupted run', async () => {
    const fake = await startFullstoryFake({ apiKey: FS_KEY, events: FS_EVENTS });
    server = fake.server;
    server.inject({ kind: 'slow', delayMs: 15 }, { times: 100_000 });
    const env = `FULLSTORY_API_KEY=${FS_KEY}\n${PII}`;
    const reference = workspace(FULLSTORY_CONFIG, env);
    expect(await exportWith(reference, 'fullstory', { from: '2024-03-01', to: '2024-03-10' })).toMatchObject({ exit_code: 0, rows: 100 });

    const crashed = workspace(FULLSTORY_CONFIG, env);
    const crashDir = join(crashed.dir, 'exports', 'fullstory');
    const random = seededRandom(20240301);
    const outcomes: string[] = [];
    for (const atComplete of [0, 2, 5, 7]) {
      outcomes.push(await runExportChild([crashed.dir, 'fullstory', server.url, NOW, '--from', '2024-03-01', '--to', '2024-03-10', '--resume'], { dir: crashDir, atComplete, extraMs: Math.floor(random() * 60) }));
    }
    expect(outcomes.filter((o) => o === 'killed').length).toBeGreaterThanOrEqual(3);
    expect(await runExportChild([crashed.dir, 'fullstory', server.url, NOW, '--from', '2024-03-01', '--to', '2024-03-10', '--resume'], null)).toBe('done');

    const refDir = join(reference.dir, 'exports', 'fullstory');
    expect(readManifestFile(crashDir).windows.map((w) => [w.key, w.rows, w.sha256])).toEqual(readManifestFile(refDir).windows.map((w) => [w.key, w.rows, w.sha256]));
    const ids = (d: string) => allRecords(d).map((r) => `${String(r.EventStart)}|${String(r.evt_note_str)}`).sort();
    expect(ids(crashDir)).toHaveLength(100);
    expect(new Set(ids(crashDir)).size).toBe(100);
    expect(ids(crashDir)).toEqual(ids(refDir));
    expect(readdirSync(crashDir).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 240_000);

  it('Heap: SIGKILL at random points, then --resume, gives exactly the syncs of an uninterrupted run', async () => {
    server = await startS3Fake({ bucket: 'heap-rs3-test', accessKeyId: 'FAKE-access-key-id-0000', objects: await heapBucket(8, 5) });
    server.inject({ kind: 'slow', delayMs: 20 }, { times: 100_000 });
    const reference = workspace(HEAP_CONFIG, HEAP_ENV);
    expect(await exportWith(reference, 'heap', {})).toMatchObject({ exit_code: 0, rows: 48 });

    const crashed = workspace(HEAP_CONFIG, HEAP_ENV);
    const crashDir = join(crashed.dir, 'exports', 'heap');
    const random = seededRandom(500);
    const outcomes: string[] = [];
    const after: number[] = [];
    for (const atComplete of [0, 2, 4, 6]) {
      outcomes.push(await runExportChild([crashed.dir, 'heap', server.url, NOW, '--resume'], { dir: crashDir, atComplete, extraMs: Math.floor(random() * 80) }));
      after.push(completeWindows(crashDir));
    }
    expect(outcomes.filter((o) => o === 'killed').length).toBeGreaterThanOrEqual(3);
    expect(after.filter((n) => n > 0 && n < 8).length).toBeGreaterThanOrEqual(2);
    expect(await runExportChild([crashed.dir, 'heap', server.url, NOW, '--resume'], null)).toBe('done');

    const refDir = join(reference.dir, 'exports', 'heap');
    const entries = (d: string) => readManifestFile(d).windows.map((w) => [w.key, w.status, w.rows, w.sha256]);
    expect(entries(crashDir)).toEqual(entries(refDir));
    expect(readdirSync(join(crashDir, 'manifests')).sort()).toEqual(readdirSync(join(refDir, 'manifests')).sort());
    expect(readdirSync(crashDir).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 240_000);
});
