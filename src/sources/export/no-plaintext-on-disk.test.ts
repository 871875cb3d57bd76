/**
 * "PII is masked before anything touches disk": a unique e-mail address is planted in the vendor's data, and the
 * workspace and the OS temp folder are searched for it (raw, and inside gzip) while the export is half done —
 * with the download half in (the fake server holds the rest of the body back), and while the records are being
 * masked (from inside the masking step, when the whole download is on disk). The downloads are there (sealed
 * spools of the expected size), the address is not. At the end the window files hold it masked only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { amplitudeEvents, startAmplitudeFake } from '../../test-support/amplitude-fake-server.js';
import { clockAt, FAST_BACKOFF, FAST_TIMEOUTS, tempExportDir } from '../../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { fullstoryEvents, startFullstoryFake } from '../../test-support/fullstory-fake-server.js';
import { mixpanelEvents, startMixpanelFake } from '../../test-support/mixpanel-fake-server.js';
import { filesHolding, sealedFiles } from '../../test-support/plaintext-scan.js';
import { objectsFromFolder, startS3Fake } from '../../test-support/s3-fake-server.js';
import { createAmplitudeExporter } from '../amplitude/amplitude-export.js';
import { createFullstoryExporter } from '../fullstory/fullstory-export.js';
import { recordType, s3Url, writeAvro, writeManifest } from '../heap/__fixtures__/heap-sync-writer.js';
import { createHeapExporter } from '../heap/heap-export.js';
import { openS3Store } from '../heap/heap-store.js';
import { createMixpanelExporter } from '../mixpanel/mixpanel-export.js';
import { runExport } from './export-run.js';
import { DAY_MS } from './export-window.js';
import type { RecordTransform, VendorRecord } from './exporter.js';
import { CHUNK_SIZE } from './sealed-spool.js';
import { runSyncExport } from './sync-export-run.js';

const DAY1 = Date.parse('2024-03-10T00:00:00Z');
const MASK = '[email]';

let servers: FakeVendorServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function exportDir(): string {
  const dir = tempExportDir();
  dirs.push(dir);
  return dir;
}

/** Replaces the planted address wherever it sits in a record (what the PII masker does to an e-mail). */
function maskValue(value: unknown, planted: string): unknown {
  if (typeof value === 'string') return value.split(planted).join(MASK);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, planted));
  if (value !== null && typeof value === 'object' && typeof value !== 'bigint') {
    return Object.fromEntries(Object.entries(value as VendorRecord).map(([k, v]) => [k, maskValue(v, planted)]));
  }
  return value;
}

interface Probe {
  readonly transform: RecordTransform;
  /** What the disk held when the first record was masked. */
  readonly atFirstRecord: () => { hits: string[]; sealed: { path: string; size: number }[]; files: number } | undefined;
}

/** A masking transform that, at the first record, searches `roots` for `planted` and lists the spools under `dir`. */
function probeAtFirstRecord(planted: string, dir: string, since: number): Probe {
  let seen: ReturnType<Probe['atFirstRecord']>;
  return {
    transform: (record) => {
      if (seen === undefined) seen = { ...filesHolding([dir, tmpdir()], planted, since), sealed: sealedFiles(dir) };
      return maskValue(record, planted) as VendorRecord;
    },
    atFirstRecord: () => seen,
  };
}

const plantedAddress = (): string => `planted.${randomUUID()}@example.com`;

/** Pads records so a body spans several spool chunks. */
const padding = 'x'.repeat(400);

describe('no unmasked vendor bytes on disk during an export', () => {
  it('Mixpanel: half a body in, and while masking, the planted address is nowhere on disk', async () => {
    const planted = plantedAddress();
    const events = mixpanelEvents(2_000, DAY1, DAY1 + DAY_MS).map((e, i) => ({ ...e, properties: { ...e.properties, pad: padding, ...(i < 5 ? { $email: planted } : {}) } }));
    const server = await startMixpanelFake({ user: 'sa.user', secret: 'FAKE-test-secret-0000', projectId: '31337', events });
    servers.push(server);
    let reached!: () => void;
    const atHold = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    server.inject({ kind: 'hold-body', fraction: 0.6, reached, release: new Promise<void>((r) => (release = r)) });
    const dir = exportDir();
    // What a SIGKILLed run leaves: its work folder with a spool in it. The next run deletes it.
    mkdirSync(join(dir, '.work.tmp-99999999', 'day-x'), { recursive: true });
    writeFileSync(join(dir, '.work.tmp-99999999', 'day-x', 'export.ndjson.99999999-1.sealed'), randomBytes(1000));
    const since = Date.now() - 1_000;
    const probe = probeAtFirstRecord(planted, dir, since);
    const exporter = createMixpanelExporter({ user: 'sa.user', secret: 'FAKE-test-secret-0000', projectId: '31337', region: 'us', endpoint: server.url });
    const running = runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-10', toolVersion: 'test', clock: clockAt('2024-03-13T09:00:00Z'), backoff: FAST_BACKOFF, timeouts: { ...FAST_TIMEOUTS, idleMs: 30_000 }, transform: probe.transform });

    await atHold;
    // Wait until the client has put what it received on disk: whole chunks are sealed as they fill.
    for (let i = 0; i < 200 && sealedFiles(dir).reduce((n, f) => n + f.size, 0) < 2 * (CHUNK_SIZE + 28); i++) await new Promise((r) => setTimeout(r, 10));
    const midBody = filesHolding([dir, tmpdir()], planted, since);
    const spools = sealedFiles(dir);
    release();
    const result = await running;

    expect(existsSync(join(dir, '.work.tmp-99999999'))).toBe(false);
    expect(spools).toHaveLength(1);
    expect(spools[0]!.size).toBeGreaterThanOrEqual(2 * (CHUNK_SIZE + 28));
    expect(midBody.hits).toEqual([]);
    expect(probe.atFirstRecord()?.sealed.length).toBe(1);
    expect(probe.atFirstRecord()?.hits).toEqual([]);
    expect(result).toMatchObject({ exit_code: 0, rows: 2_000 });
    // The finished window holds the mask, not the address; the spool is gone.
    expect(filesHolding([dir], planted, since).hits).toEqual([]);
    expect(filesHolding([dir], MASK, since).hits.map((p) => p.slice(dir.length + 1))).toEqual(['20240310T0000Z_20240311T0000Z.jsonl.gz']);
    expect(sealedFiles(dir)).toEqual([]);
    // The search itself finds the address in a cut-off gzip file (what an unsealed download would have been).
    const gz = gzipSync(`${'{"pad":"x"}\n'.repeat(100)}{"$email":"${planted}"}\n${'{"pad":"y"}\n'.repeat(1000)}`);
    writeFileSync(join(dir, 'control.gz'), gz.subarray(0, gz.length - 20));
    expect(filesHolding([dir], planted, since).hits).toEqual([join(dir, 'control.gz')]);
  });

  it('Amplitude: while the zip is read, neither it nor its members lie on disk in clear', async () => {
    const planted = plantedAddress();
    const events = amplitudeEvents(600, DAY1, DAY1 + DAY_MS).map((e, i) => ({ ...e, event_properties: { ...(e.event_properties as object), pad: padding, ...(i % 100 === 0 ? { contact: planted } : {}) } }));
    const server = await startAmplitudeFake({ apiKey: 'FAKE-test-key-0000', secretKey: 'FAKE-test-secret-0000', events, memberSize: 200 });
    servers.push(server);
    const dir = exportDir();
    const since = Date.now() - 1_000;
    const probe = probeAtFirstRecord(planted, dir, since);
    const exporter = createAmplitudeExporter({ apiKey: 'FAKE-test-key-0000', secretKey: 'FAKE-test-secret-0000', region: 'us', endpoint: server.url });
    const result = await runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-10', toolVersion: 'test', clock: clockAt('2024-03-13T09:00:00Z'), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, transform: probe.transform });
    expect(result).toMatchObject({ exit_code: 0, rows: 600 });
    const seen = probe.atFirstRecord()!;
    expect(seen.sealed).toHaveLength(1);
    // The whole zip (gzipped members) was on disk, sealed.
    expect(seen.sealed[0]!.size).toBeGreaterThan(20_000);
    expect(seen.hits).toEqual([]);
    expect(filesHolding([dir], planted, since).hits).toEqual([]);
  });

  it('FullStory: while the Segment Export file is read, it does not lie on disk in clear', async () => {
    const planted = plantedAddress();
    const events = fullstoryEvents(400, DAY1, DAY1 + DAY_MS).map((e, i) => ({ ...e, evt_pad_str: padding, ...(i % 50 === 0 ? { UserEmail: planted } : {}) }));
    const fake = await startFullstoryFake({ apiKey: 'FAKE-test-key-0000', events });
    servers.push(fake.server);
    const dir = exportDir();
    const since = Date.now() - 1_000;
    const probe = probeAtFirstRecord(planted, dir, since);
    const exporter = createFullstoryExporter({ apiKey: 'FAKE-test-key-0000', endpoint: fake.server.url, poll: { firstMs: 0, maxMs: 10, timeoutMs: 2_000 } });
    const result = await runExport({ exporter, dir, from: '2024-03-10', to: '2024-03-10', toolVersion: 'test', clock: clockAt('2024-03-13T09:30:00Z'), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, transform: probe.transform });
    expect(result).toMatchObject({ exit_code: 0, rows: 400 });
    const seen = probe.atFirstRecord()!;
    expect(seen.sealed).toHaveLength(1);
    expect(seen.hits).toEqual([]);
    expect(filesHolding([dir], planted, since).hits).toEqual([]);
  });

  it('Heap: while an Avro file is masked, neither the download nor the scratch records lie on disk in clear', async () => {
    const planted = plantedAddress();
    const bucket = mkdtempSync(join(tmpdir(), 'usagelab-heap-planted-'));
    dirs.push(bucket);
    const fields = { user_id: 'long', identity: 'string', email: 'string', pad: 'string' } as const;
    const rows = Array.from({ length: 300 }, (_, i) => ({ user_id: BigInt(1000 + i), identity: `user-${i}`, email: i % 60 === 0 ? planted : `person${i}@example.com`, pad: padding }));
    const rel = 'sync_100/users/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro';
    // Uncompressed blocks: the address sits in the file as plain bytes.
    await writeAvro(join(bucket, rel), recordType('users', fields), rows, 'null');
    writeManifest(bucket, 'sync_100.json', 100, [{ name: 'users', files: [s3Url(rel)], incremental: true, columns: Object.keys(fields) }]);
    const objects = objectsFromFolder(bucket);
    // The bucket copy on disk is the test's own input: searched are the export folder and files made from now on.
    const since = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 5));
    const server = await startS3Fake({ bucket: 'heap-rs3-test', accessKeyId: 'FAKE-access-key-id-0000', objects });
    servers.push(server);
    const dir = exportDir();
    const probe = probeAtFirstRecord(planted, dir, since);
    const exporter = createHeapExporter({
      open: () => openS3Store({ bucket: 'heap-rs3-test', prefix: '', region: 'us-east-1', endpoint: server.url, forcePathStyle: true, credentials: { accessKeyId: 'FAKE-access-key-id-0000', secretAccessKey: 'FAKE-test-secret-0000' }, origins: 'test', timeoutMs: 1_500 }),
    });
    const result = await runSyncExport({ exporter, dir, toolVersion: 'test', backoff: FAST_BACKOFF, transformFor: () => probe.transform });
    expect(result).toMatchObject({ exit_code: 0, rows: 300 });
    const seen = probe.atFirstRecord()!;
    // The download's spool (the scratch spool of the masked records is made after the first record).
    expect(seen.sealed.length).toBeGreaterThanOrEqual(1);
    expect(seen.hits).toEqual([]);
    expect(filesHolding([dir], planted, since).hits).toEqual([]);
    expect(sealedFiles(dir)).toEqual([]);
  });
});
