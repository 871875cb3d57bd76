import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAST_BACKOFF, readManifestFile } from '../../test-support/export-test-kit.js';
import { HEAP_FIELDS, recordType, s3Url, writeAvro, writeManifest } from '../heap/__fixtures__/heap-sync-writer.js';
import { createHeapExporter } from '../heap/heap-export.js';
import { openFolderStore } from '../heap/heap-store.js';
import { applyExportRetention, exportRetentionPlan } from './export-retention.js';
import { runSyncExport } from './sync-export-run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const at = (iso: string): Date => new Date(iso);

/** A bucket copy with dumps 100 (finished 2024-01-10) and 101 (finished 2024-03-10), exported to exports/heap. */
async function exportedHeap(): Promise<{ exportsDir: string; heap: string }> {
  const bucket = temp('usagelab-ret-bucket-');
  for (const [dump, finished] of [
    [100, '2024-01-10T04:00:00Z'],
    [101, '2024-03-10T04:00:00Z'],
  ] as const) {
    const rel = `sync_${dump}/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro`;
    await writeAvro(join(bucket, rel), recordType('pageviews', HEAP_FIELDS.pageviews), [{ event_id: BigInt(dump), user_id: 7n, session_id: 1n, time: 1704859200000n, path: '/p' }], 'snappy');
    writeManifest(bucket, `sync_${dump}.json`, dump, [{ name: 'pageviews', files: [s3Url(rel)], incremental: true, columns: Object.keys(HEAP_FIELDS.pageviews) }]);
    // The folder store dates a dump by its manifest's modification time.
    utimesSync(join(bucket, 'manifests', `sync_${dump}.json`), at(finished), at(finished));
  }
  const exportsDir = temp('usagelab-ret-exports-');
  const heap = join(exportsDir, 'heap');
  const result = await runSyncExport({ exporter: createHeapExporter({ open: async () => openFolderStore(bucket) }), dir: heap, toolVersion: 'test', backoff: FAST_BACKOFF });
  expect(result).toMatchObject({ exit_code: 0, windows: { exported: 2 } });
  // Both manifest copies look old on disk (a checkout, a copy): age alone must not decide for them.
  for (const name of ['sync_100.json', 'sync_101.json']) utimesSync(join(heap, 'manifests', name), at('2023-06-01T00:00:00Z'), at('2023-06-01T00:00:00Z'));
  return { exportsDir, heap };
}

describe('export retention', () => {
  it("deletes a Heap dump together with its manifest copy, and keeps a newer dump's copy however old the file looks", async () => {
    const { exportsDir, heap } = await exportedHeap();
    expect(readManifestFile(heap).windows.map((w) => [w.key, (w.cursor as { manifests: string[] }).manifests])).toEqual([
      ['sync_100', ['manifests/sync_100.json']],
      ['sync_101', ['manifests/sync_101.json']],
    ]);
    const before = Date.parse('2024-02-01T00:00:00Z');

    const plan = exportRetentionPlan(exportsDir, before);
    expect(plan.files.map((f) => [f.file, f.window?.end ?? null])).toEqual([
      [join('heap', 'manifests', 'sync_100.json'), '2024-01-10T04:00:00.000Z'],
      [join('heap', 'sync_100'), '2024-01-10T04:00:00.000Z'],
    ]);
    expect(existsSync(join(heap, 'sync_100'))).toBe(true);

    const heard: (string | null)[] = [];
    const applied = await applyExportRetention(exportsDir, before, (d) => heard.push(d.file));
    expect(heard).toEqual([join('heap', 'manifests', 'sync_100.json'), join('heap', 'sync_100')]);
    expect(applied.files).toHaveLength(2);
    expect(applied.bytes).toBe(plan.bytes);
    expect(readdirSync(heap).sort()).toEqual(['manifest.json', 'manifests', 'sync_101']);
    expect(readdirSync(join(heap, 'manifests'))).toEqual(['sync_101.json']);
    expect(readManifestFile(heap).windows.map((w) => w.key)).toEqual(['sync_101']);
    // Every manifest copy left points at files that are there (what `usagelab import exports/heap` reads).
    const copy = JSON.parse(readFileSync(join(heap, 'manifests', 'sync_101.json'), 'utf8')) as { tables: { files: string[] }[] };
    for (const url of copy.tables.flatMap((t) => t.files)) expect(existsSync(join(heap, url.replace('s3://heap-rs3-test/', '')))).toBe(true);

    // A second run has nothing left to do.
    expect((await applyExportRetention(exportsDir, before)).files).toEqual([]);
  });

  it('a run killed between the manifest copy and the folder is finished by the next run', async () => {
    const { exportsDir, heap } = await exportedHeap();
    const before = Date.parse('2024-02-01T00:00:00Z');
    // The state a crash after the first deletion leaves: the copy gone, the folder and the entry still there.
    rmSync(join(heap, 'manifests', 'sync_100.json'));
    const applied = await applyExportRetention(exportsDir, before);
    expect(applied.files.map((f) => f.file)).toEqual([join('heap', 'sync_100')]);
    expect(readdirSync(heap).sort()).toEqual(['manifest.json', 'manifests', 'sync_101']);
    expect(readManifestFile(heap).windows.map((w) => w.key)).toEqual(['sync_101']);
  });
});
