import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { configSchema } from '../../core/config-schema.js';
import { exactLong } from '../../core/avro-exact-long.js';
import { EXIT } from '../../core/exit-codes.js';
import { REDACTED, registerSecret } from '../../core/secret-redaction.js';
import { vendorRecordMasker } from '../../library/export-source.js';
import { FAST_BACKOFF, readManifestFile, tempExportDir } from '../../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { objectsFromFolder, s3Error, startS3Fake } from '../../test-support/s3-fake-server.js';
import { runSyncExport, type SyncExportRunOptions } from '../export/sync-export-run.js';
import { AVRO_DECODERS } from '../../core/avro-codecs.js';
import { HEAP_FIELDS, recordType, s3Url, writeAvro, writeManifest, type FieldType } from './__fixtures__/heap-sync-writer.js';
import { createHeapExporter, heapExporterDefinition } from './heap-export.js';
import { openFolderStore, openS3Store } from './heap-store.js';

const BUCKET = 'heap-rs3-test';
const KEY_ID = 'FAKE-access-key-id-0000';
const SECRET = 'FAKE-test-secret-0000';
const PII_KEY = 'FAKE-pii-key-0000000000000000000';
const USER_A = 9007199254740993n;
const USER_B = 1234567890123456789n;
const CLICK_FIELDS = { event_id: 'long', user_id: 'long', session_id: 'long', time: 'long', type: 'string', target_text: 'string', hierarchy: 'string' } as const satisfies Record<string, FieldType>;

interface TableSpec {
  name: string;
  fields: Record<string, FieldType>;
  rows: Record<string, unknown>[];
  incremental?: boolean;
}

async function writeDump(root: string, dumpId: number, tables: TableSpec[], manifest = true): Promise<void> {
  const listed = [];
  for (const t of tables) {
    const rel = `sync_${dumpId}/${t.name}/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro`;
    await writeAvro(join(root, rel), recordType(t.name, t.fields), t.rows, 'snappy');
    listed.push({ name: t.name, files: [s3Url(rel)], incremental: t.incremental ?? true, columns: Object.keys(t.fields) });
  }
  if (manifest) writeManifest(root, `sync_${dumpId}.json`, dumpId, listed);
}

const pageview = (id: bigint, user: bigint, time: bigint, path: string): Record<string, unknown> => ({ event_id: id, user_id: user, session_id: 77n, time, domain: 'www.example.com', path });

/** Dump 100 (users with e-mails, sessions with IPs, pageviews, a click table), 101 (pageviews), 102 without manifest. */
async function buildBucket(root: string): Promise<void> {
  await writeDump(root, 100, [
    {
      name: 'users',
      fields: HEAP_FIELDS.users,
      rows: [
        { user_id: USER_A, identity: 'alice@example.com', joindate: 1700000000000n, last_modified: 1710000000000n, email: 'alice@example.com', plan_tier: 'pro' },
        { user_id: USER_B, identity: 'user-77', joindate: 1700000001000n, last_modified: 1700000001000n },
      ],
    },
    { name: 'sessions', fields: HEAP_FIELDS.sessions, rows: [{ session_id: 77n, user_id: USER_A, time: 1710053000000n, ip: '203.0.113.7', referrer: 'https://news.example.com/?email=bob@example.com', browser: 'Chrome' }] },
    { name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [pageview(11n, USER_A, 1710053999000n, '/pricing'), pageview(12n, USER_A, 1710054000000n, '/docs'), pageview(13n, USER_B, 1710054100000n, '/u/carol@example.com')] },
    { name: 'click_on_anything', fields: CLICK_FIELDS, rows: [{ event_id: 21n, user_id: USER_A, session_id: 77n, time: 1710054001000n, type: 'click', target_text: 'Buy now' }] },
  ]);
  await writeDump(root, 101, [{ name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [pageview(14n, USER_B, 1710140000000n, '/home'), pageview(15n, USER_A, 1710140400000n, '/home')] }]);
  await writeDump(root, 102, [{ name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [pageview(16n, USER_A, 1710200000000n, '/late')] }], false);
}

/** The records of an Avro file, longs as bigint. */
async function readAvroFile(path: string): Promise<{ schema: { fields: { name: string; type: unknown }[] }; records: Record<string, unknown>[] }> {
  const records: Record<string, unknown>[] = [];
  let schema: unknown;
  const decoder = avro.createFileDecoder(path, { codecs: AVRO_DECODERS, parseHook: (s: unknown) => ((schema = s), avro.Type.forSchema(s as never, { registry: { long: exactLong } } as never)) } as never);
  for await (const r of decoder as AsyncIterable<Record<string, unknown>>) records.push({ ...r });
  return { schema: schema as { fields: { name: string; type: unknown }[] }, records };
}

let bucketDir: string;
let server: FakeVendorServer | undefined;
let dir: string;

beforeAll(async () => {
  bucketDir = mkdtempSync(join(tmpdir(), 'usagelab-heap-bucket-'));
  await buildBucket(bucketDir);
  return () => rmSync(bucketDir, { recursive: true, force: true });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const masker = (pii: Record<string, unknown> = {}) => {
  const policy = configSchema.parse({ pii }).pii;
  return (table: string) => vendorRecordMasker(policy, heapExporterDefinition.recordLayoutFor(table), { USAGELAB_PII_KEY: PII_KEY });
};

async function startBucket(objects = objectsFromFolder(bucketDir)): Promise<{ server: FakeVendorServer; objects: Map<string, Buffer> }> {
  server = await startS3Fake({ bucket: BUCKET, accessKeyId: KEY_ID, objects, pageSize: 3 });
  dir = tempExportDir();
  return { server, objects };
}

function s3Exporter(keyId = KEY_ID) {
  return createHeapExporter({
    open: () => openS3Store({ bucket: BUCKET, prefix: '', region: 'us-east-1', endpoint: server!.url, forcePathStyle: true, credentials: { accessKeyId: keyId, secretAccessKey: SECRET }, origins: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', timeoutMs: 1_500 }),
  });
}

function run(extra: Partial<SyncExportRunOptions> = {}) {
  return runSyncExport({ exporter: s3Exporter(), dir, toolVersion: 'test', backoff: FAST_BACKOFF, transformFor: masker(), ...extra });
}

const digests = (d: string) => readManifestFile(d).windows.map((w) => [w.key, w.status, w.rows, w.sha256]);

describe('Heap Connect export from S3', () => {
  it('reads manifests first, exports only finished syncs, masked and re-encoded, in the layout the reader imports', async () => {
    const { server: s3 } = await startBucket();
    const result = await run();
    expect(result).toMatchObject({ status: 'complete', exit_code: 0, mode: 'incremental', rows: 9, windows: { planned: 2, exported: 2, failed: 0 } });
    // sync_102 has no manifest: Heap is still writing it.
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'manifests', 'sync_100', 'sync_101']);
    expect(readdirSync(join(dir, 'sync_100')).sort()).toEqual(['click_on_anything', 'pageviews', 'sessions', 'users']);
    expect(readdirSync(join(dir, 'manifests')).sort()).toEqual(['sync_100.json', 'sync_101.json']);
    // Path-style, SigV4-signed with the configured key; no request touched sync_102.
    expect(s3.requests.every((r) => r.path.startsWith(`/${BUCKET}`) && String(r.headers.authorization).includes(`Credential=${KEY_ID}/`))).toBe(true);
    expect(s3.requests.some((r) => r.path.includes('sync_102') || r.query.get('prefix') === 'sync_102/')).toBe(false);

    const manifest = readManifestFile(dir);
    expect(manifest.windows.map((w) => [w.key, w.status, w.file, w.rows])).toEqual([
      ['sync_100', 'complete', 'sync_100', 7],
      ['sync_101', 'complete', 'sync_101', 2],
    ]);
    expect(manifest.windows[0]).toMatchObject({ high_water_mark: '2024-03-10T07:01:40.000Z', cursor: { dump_id: 100, manifests: ['manifests/sync_100.json'], files: 4 }, start: '2024-03-10T04:00:00.000Z' });

    // Masked: e-mail members dropped, IPs truncated, an identity holding an e-mail hashed, URLs scanned; ids exact.
    const users = await readAvroFile(join(dir, 'sync_100/users/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro'));
    expect(users.records[0]).toMatchObject({ user_id: USER_A, identity: expect.stringMatching(/^h:[0-9a-f]{32}$/), email: null, plan_tier: 'pro' });
    expect(users.records[1]).toMatchObject({ user_id: USER_B, identity: 'user-77' });
    const sessions = await readAvroFile(join(dir, 'sync_100/sessions/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro'));
    expect(sessions.records[0]).toMatchObject({ ip: '203.0.113.0', referrer: 'https://news.example.com/?email=[email]', session_id: 77n });
    const pageviews = await readAvroFile(join(dir, 'sync_100/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro'));
    expect(pageviews.records.map((r) => r.path)).toEqual(['/pricing', '/docs', '/u/[email]']);
    // The schema is Heap's where masking kept the type.
    expect(pageviews.schema.fields.find((f) => f.name === 'user_id')!.type).toEqual(['null', 'long']);
    const everything = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.avro')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    expect(everything).not.toMatch(/@example\.com|203\.0\.113\.7/);

    // The manifest copy lists exactly the files written, under Heap's own URLs.
    const copy = JSON.parse(readFileSync(join(dir, 'manifests/sync_100.json'), 'utf8')) as { dump_id: number; tables: { name: string; files: string[] }[]; property_definitions: string };
    expect(copy).toMatchObject({ dump_id: 100, property_definitions: 's3://heap-rs3-test/property_definitions.json' });
    expect(copy.tables.map((t) => t.name).sort()).toEqual(['click_on_anything', 'pageviews', 'sessions', 'users']);
  });

  it('is incremental by dump id: a later run exports only the new sync, then finds nothing to do', async () => {
    const { server: s3, objects } = await startBucket();
    await run();
    const extra = mkdtempSync(join(tmpdir(), 'usagelab-heap-more-'));
    try {
      await writeDump(extra, 103, [{ name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [pageview(31n, USER_B, 1710300000000n, '/new')] }]);
      for (const [k, v] of objectsFromFolder(extra)) objects.set(k, v);
    } finally {
      rmSync(extra, { recursive: true, force: true });
    }
    s3.requests.length = 0;
    const second = await run();
    expect(second).toMatchObject({ exit_code: 0, rows: 1, windows: { planned: 1, exported: 1, skipped: 2 }, exported: [{ key: 'sync_103', rows: 1 }] });
    const downloads = s3.requests.filter((r) => r.path.endsWith('.avro'));
    expect(downloads.map((r) => r.path)).toEqual([`/${BUCKET}/sync_103/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro`]);
    expect(await run()).toMatchObject({ status: 'nothing_to_do', exit_code: 0, windows: { planned: 0, skipped: 3 } });
  });

  it('a file the manifest lists but the bucket lacks fails that sync (exit 5, named); the other is exported', async () => {
    const objects = objectsFromFolder(bucketDir);
    objects.delete('sync_100/sessions/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro');
    await startBucket(objects);
    const result = await run();
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, windows: { exported: 1, failed: 1 } });
    expect(result.failed[0]).toMatchObject({ key: 'sync_100', code: 'export_file_missing', message: expect.stringContaining('sync_100/sessions/part-00000') });
    expect(existsSync(join(dir, 'sync_100'))).toBe(false);
    expect(existsSync(join(dir, 'manifests', 'sync_100.json'))).toBe(false);
    expect(readManifestFile(dir).windows.find((w) => w.key === 'sync_100')).toMatchObject({ status: 'failed', error: { code: 'export_file_missing' } });
  });

  it('survives 500, 503 SlowDown, a reset mid-body and a short body with the same files as a clean run', async () => {
    await startBucket();
    await run();
    const clean = digests(dir);
    rmSync(dir, { recursive: true, force: true });
    await server!.close();
    const { server: s3 } = await startBucket();
    const avroFile = (r: { path: string }) => r.path.endsWith('.avro');
    s3.inject({ kind: 'status', status: 500, body: s3Error('InternalError', 'We encountered an internal error.') }, { match: (r) => r.query.get('list-type') === '2' });
    s3.inject({ kind: 'status', status: 503, body: s3Error('SlowDown', 'Please reduce your request rate.') }, { match: avroFile });
    s3.inject({ kind: 'reset-mid-body' }, { match: avroFile });
    s3.inject({ kind: 'truncate-body', keep: 0.5 }, { match: avroFile });
    s3.inject({ kind: 'rewrite-body', rewrite: (b) => Buffer.concat([b.subarray(0, b.length - 20), Buffer.alloc(20)]) }, { match: avroFile });
    const result = await run();
    expect(result).toMatchObject({ exit_code: 0, rows: 9 });
    expect(result.retries).toBeGreaterThanOrEqual(5);
    expect(digests(dir)).toEqual(clean);
  });

  it('a file that keeps arriving short fails its sync after the retries', async () => {
    const { server: s3 } = await startBucket();
    s3.inject({ kind: 'truncate-body', keep: 0.5 }, { match: (r) => r.path.includes('sync_101/'), times: 100 });
    const result = await run({ syncAttempts: 2 });
    expect(result).toMatchObject({ exit_code: EXIT.partial, failed: [{ key: 'sync_101', code: 'export_file_short' }] });
  });

  it('skips tables that a later full dump replaces, and lists only what it wrote in the manifest copy', async () => {
    const root = mkdtempSync(join(tmpdir(), 'usagelab-heap-full-'));
    try {
      const users = (id: bigint) => ({ name: 'users', fields: HEAP_FIELDS.users, rows: [{ user_id: id, joindate: 1700000000000n }] });
      await writeDump(root, 200, [users(1n), { name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [pageview(1n, 1n, 1710053999000n, '/a')] }]);
      await writeDump(root, 201, [{ ...users(2n), incremental: false }]);
      await startBucket(objectsFromFolder(root));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    const result = await run();
    expect(result).toMatchObject({ exit_code: 0, rows: 2 });
    expect(server!.requests.some((r) => r.path.includes('sync_200/users'))).toBe(false);
    expect(readdirSync(join(dir, 'sync_200'))).toEqual(['pageviews']);
    const copy = JSON.parse(readFileSync(join(dir, 'manifests/sync_200.json'), 'utf8')) as { tables: { name: string }[] };
    expect(copy.tables.map((t) => t.name)).toEqual(['pageviews']);
    expect(readManifestFile(dir).windows[0]!.cursor).toMatchObject({ superseded_tables: ['users'] });
  });

  it('widens a column to string where masking turns its longs into text (pii rule anonymous_id: hash)', async () => {
    await startBucket();
    await run({ transformFor: masker({ fields: { anonymous_id: 'hash' }, hash_key: PII_KEY }) });
    const pv = await readAvroFile(join(dir, 'sync_101/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro'));
    expect(pv.schema.fields.find((f) => f.name === 'user_id')!.type).toEqual(['null', 'long', 'string']);
    expect(pv.records.every((r) => typeof r.user_id === 'string' && String(r.user_id).startsWith('h:'))).toBe(true);
    expect(pv.records[0]!.event_id).toBe(14n);
    expect(readManifestFile(dir).windows[1]!.cursor).toMatchObject({ widened_columns: { 'sync_101/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro': ['user_id'] } });
  });

  it('refused credentials stop the export with exit 3 and a hint naming the variables', async () => {
    await startBucket();
    const err = await run({ exporter: s3Exporter('FAKE-wrong-key-id-0000') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth, hint: expect.stringContaining('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY') });
  });

  it('--dry-run lists the syncs it would export without writing; --from selects syncs by the day Heap finished them', async () => {
    await startBucket();
    expect(await run({ dryRun: true })).toMatchObject({ status: 'dry_run', plan: { export: ['sync_100', 'sync_101'], skip: [] } });
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
    expect(await run({ from: '2024-03-11' })).toMatchObject({ mode: 'range', windows: { planned: 0 } });
    expect(await run({ from: '2024-03-10', to: '2024-03-10' })).toMatchObject({ mode: 'range', windows: { planned: 2, exported: 2 } });
  });

  it('a local folder copy exports the same files as the bucket', async () => {
    await startBucket();
    await run();
    const fromS3 = digests(dir);
    rmSync(dir, { recursive: true, force: true });
    dir = tempExportDir();
    const result = await runSyncExport({ exporter: createHeapExporter({ open: async () => openFolderStore(bucketDir) }), dir, toolVersion: 'test', backoff: FAST_BACKOFF, transformFor: masker() });
    expect(result).toMatchObject({ exit_code: 0, rows: 9 });
    // Same content; the finish times differ (file mtimes vs S3 LastModified), so compare without them.
    expect(digests(dir)).toEqual(fromS3);
  });

  it('a known secret in a Heap record is redacted before the file is encoded again, like every other export file', async () => {
    const canary = 'FAKE-canary-secret-7f3c9a21';
    registerSecret(canary);
    const bucket = mkdtempSync(join(tmpdir(), 'usagelab-heap-canary-'));
    try {
      await writeDump(bucket, 200, [
        {
          name: 'users',
          fields: HEAP_FIELDS.users,
          rows: [
            { user_id: 42n, identity: 'user-42', joindate: 1700000000000n, last_modified: 1700000000000n, plan_tier: `note ${canary} end` },
            { user_id: 43n, identity: 'user-43', joindate: 1700000000000n, last_modified: 1700000000000n, plan_tier: 'pro' },
          ],
        },
      ]);
      dir = tempExportDir();
      const result = await runSyncExport({ exporter: createHeapExporter({ open: async () => openFolderStore(bucket) }), dir, toolVersion: 'test', backoff: FAST_BACKOFF, transformFor: masker() });
      expect(result).toMatchObject({ exit_code: 0, rows: 2 });
      const users = await readAvroFile(join(dir, 'sync_200/users/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro'));
      expect(users.records.map((r) => r.plan_tier)).toEqual([`note ${REDACTED} end`, 'pro']);
      const written = readdirSync(dir, { recursive: true }).map(String).filter((f) => !statSync(join(dir, f)).isDirectory());
      for (const f of written) expect(readFileSync(join(dir, f)).includes(canary)).toBe(false);
    } finally {
      rmSync(bucket, { recursive: true, force: true });
    }
  });

  it('probe: one ListObjectsV2 of manifests/ with max-keys 1; a wrong bucket is a config error', async () => {
    const { server: s3 } = await startBucket();
    const settings = (bucket: string) => ({
      section: { s3_bucket: bucket },
      credentials: { aws_access_key_id: KEY_ID, aws_secret_access_key: SECRET },
      origins: {},
      endpoint: s3.url,
    });
    expect(await heapExporterDefinition.probe!(settings(BUCKET))).toMatchObject({ ok: true, detail: expect.stringContaining(`s3://${BUCKET}/`) });
    expect(s3.requests.map((r) => [r.query.get('prefix'), r.query.get('max-keys')])).toEqual([['manifests/', '1']]);
    await expect(heapExporterDefinition.probe!(settings('heap-rs3-nope'))).rejects.toMatchObject({ code: 'export_request_rejected', exitCode: EXIT.usage, place: { field: 'sources.heap.s3_bucket' } });
  });
});
