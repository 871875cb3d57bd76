import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { FAST_BACKOFF, readManifestFile, tempExportDir } from '../../test-support/export-test-kit.js';
import { transientError } from './export-errors.js';
import { runSyncExport, type SyncContext, type SyncExporter, type SyncOutcome, type SyncRef } from './sync-export-run.js';

type Step = 'ok' | UsageLabError | { delayMs: number; then: 'ok' | UsageLabError };

const DAY = 86_400_000;
const T0 = Date.parse('2024-03-01T06:00:00Z');
const sync = (n: number): SyncRef => ({ key: `sync_${n}`, order: n, finishedAt: T0 + (n - 1) * DAY });

/** Offers syncs 1..`count`; per sync key, what each attempt does; writes one file with `n` lines per sync. */
class ScriptedSyncs implements SyncExporter {
  readonly source = 'fakesyncs';
  readonly displayName = 'FakeSyncs';
  readonly defaultConcurrency = 2;
  readonly calls: string[] = [];
  constructor(
    private readonly count: number,
    private readonly script: Record<string, Step[]> = {},
  ) {}

  async listSyncs(): Promise<SyncRef[]> {
    return Array.from({ length: this.count }, (_, i) => sync(i + 1));
  }

  async exportSync(s: SyncRef, ctx: SyncContext): Promise<SyncOutcome> {
    this.calls.push(s.key);
    const planned = this.script[s.key]?.shift() ?? 'ok';
    let step: 'ok' | UsageLabError;
    if (planned === 'ok' || planned instanceof UsageLabError) step = planned;
    else {
      await new Promise((r) => setTimeout(r, planned.delayMs));
      step = planned.then;
    }
    if (step instanceof UsageLabError) throw step;
    const record = ctx.transformFor('t')({ id: s.key, email: 'a@example.com' });
    writeFileSync(join(ctx.folder, 'data.txt'), JSON.stringify(record));
    ctx.addRows(1);
    return { rows: 1, highWaterMark: new Date(s.finishedAt).toISOString(), cursor: { n: s.order }, requests: 1, sideFiles: [{ path: `manifests/${s.key}.json`, content: `{"dump_id":${s.order}}` }] };
  }
}

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (exporter: SyncExporter, extra: Partial<Parameters<typeof runSyncExport>[0]> = {}) => runSyncExport({ exporter, dir, toolVersion: '9.9.9', backoff: FAST_BACKOFF, ...extra });

describe('sync export run', () => {
  it('writes each sync as a folder, then its side files, then its manifest entry (file = folder, sha256 over the folder)', async () => {
    dir = tempExportDir();
    const result = await run(new ScriptedSyncs(2), { transformFor: () => (r) => ({ ...r, email: null }) });
    expect(result).toMatchObject({ status: 'complete', exit_code: 0, mode: 'incremental', rows: 2, windows: { planned: 2, exported: 2, failed: 0 } });
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'manifests', 'sync_1', 'sync_2']);
    expect(readFileSync(join(dir, 'sync_1', 'data.txt'), 'utf8')).toBe('{"id":"sync_1","email":null}');
    expect(readFileSync(join(dir, 'manifests', 'sync_2.json'), 'utf8')).toBe('{"dump_id":2}');
    expect(readManifestFile(dir).windows).toEqual([
      expect.objectContaining({ key: 'sync_1', status: 'complete', file: 'sync_1', rows: 1, bytes: 28, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), start: '2024-03-01T06:00:00.000Z', cursor: { n: 1 }, tool_version: '9.9.9' }),
      expect.objectContaining({ key: 'sync_2', file: 'sync_2' }),
    ]);
  });

  it('a run clears what a killed run left half-written, side-file folders included', async () => {
    dir = tempExportDir();
    await run(new ScriptedSyncs(2));
    // A kill while writing a side file, a manifest rewrite and a sync folder leaves temps beside their targets.
    writeFileSync(join(dir, 'manifests', '.sync_3.json.tmp-4242-7'), '{"dump_id":');
    writeFileSync(join(dir, '.manifest.json.tmp-4242-8'), '{');
    mkdirSync(join(dir, '.work.tmp-4242-sync_3'));
    const result = await run(new ScriptedSyncs(3));
    expect(result).toMatchObject({ status: 'complete', windows: { exported: 1 } });
    expect(readdirSync(join(dir, 'manifests')).sort()).toEqual(['sync_1.json', 'sync_2.json', 'sync_3.json']);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'manifests', 'sync_1', 'sync_2', 'sync_3']);
  });

  it('incremental by sync order: after a --from run, older syncs are left alone and only newer ones come', async () => {
    dir = tempExportDir();
    await run(new ScriptedSyncs(4), { from: '2024-03-03' });
    expect(readManifestFile(dir).windows.map((w) => w.key)).toEqual(['sync_3', 'sync_4']);
    const later = new ScriptedSyncs(6);
    expect(await run(later)).toMatchObject({ mode: 'incremental', windows: { planned: 2, skipped: 2 } });
    expect(later.calls.sort()).toEqual(['sync_5', 'sync_6']);
  });

  it('a sync that completed after a later one was interrupted is still exported by the next run', async () => {
    dir = tempExportDir();
    // sync_1 is slow and then the run stops (refused credentials) — after sync_2 completed beside it.
    const auth = new UsageLabError('export_auth_failed', 'refused', { exitCode: EXIT.auth });
    await expect(run(new ScriptedSyncs(2, { sync_1: [{ delayMs: 60, then: auth }] }))).rejects.toMatchObject({ code: 'export_auth_failed' });
    expect(readManifestFile(dir).windows.map((w) => [w.key, w.status])).toEqual([['sync_2', 'complete']]);
    const next = new ScriptedSyncs(2);
    expect(await run(next, { resume: true })).toMatchObject({ mode: 'resume', exit_code: 0, windows: { planned: 1, skipped: 1 } });
    expect(next.calls).toEqual(['sync_1']);
  });

  it('retries a retryable failure; a sync that keeps failing is recorded, named, exit 5, and retried by the next run', async () => {
    dir = tempExportDir();
    const cut = () => transientError('export_file_short', 'cut off');
    const first = new ScriptedSyncs(3, { sync_2: [cut(), cut(), cut()] });
    const result = await run(first);
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, windows: { exported: 2, failed: 1 }, failed: [{ key: 'sync_2', code: 'export_file_short' }], retries: 2 });
    expect(existsSync(join(dir, 'sync_2'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    const next = new ScriptedSyncs(3);
    expect(await run(next)).toMatchObject({ exit_code: 0, windows: { planned: 1 } });
    expect(next.calls).toEqual(['sync_2']);
  });

  it('a range run re-exports complete syncs in place; with --resume it skips them', async () => {
    dir = tempExportDir();
    await run(new ScriptedSyncs(2));
    const again = new ScriptedSyncs(2);
    expect(await run(again, { from: '2024-03-01', to: '2024-03-02' })).toMatchObject({ mode: 'range', windows: { planned: 2, exported: 2 } });
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'manifests', 'sync_1', 'sync_2']);
    const resumed = new ScriptedSyncs(2);
    expect(await run(resumed, { from: '2024-03-01', resume: true })).toMatchObject({ windows: { planned: 0, skipped: 2 } });
    expect(resumed.calls).toEqual([]);
  });
});
