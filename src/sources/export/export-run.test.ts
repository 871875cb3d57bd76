import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { clockAt, FAST_BACKOFF, readManifestFile, tempExportDir, windowRecords } from '../../test-support/export-test-kit.js';
import { transientError, windowError } from './export-errors.js';
import { HOUR_MS, type ExportWindow } from './export-window.js';
import type { SourceExporter, WindowContext } from './exporter.js';
import { runExport, type ExportRunOptions } from './export-run.js';

type Step = 'ok' | 'empty' | UsageLabError | { partialThen: UsageLabError };

/** An exporter driven by a script: per window key, what each attempt does. Emits `rows` records per window. */
class ScriptedExporter implements SourceExporter {
  readonly source = 'fakesource';
  readonly displayName = 'FakeSource';
  readonly limits = { concurrency: 4, rolling: [] };
  readonly defaultConcurrency = 2;
  readonly authHint = 'check FAKE_KEY';
  readonly secrets = [];
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly windowing;

  constructor(
    private readonly script: Record<string, Step[]> = {},
    private readonly rows = 3,
    gridHours = 1,
  ) {
    this.windowing = { grid: { kind: 'hours' as const, size: gridHours }, availableUntil: (now: number) => Math.floor(now / HOUR_MS) * HOUR_MS, lookbackMs: 2 * HOUR_MS };
  }

  async exportWindow(w: ExportWindow, ctx: WindowContext) {
    this.calls.push(w.key);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 5));
      const step = this.script[w.key]?.shift() ?? 'ok';
      if (step instanceof UsageLabError) throw step;
      if (step === 'empty') return { highWaterMark: null, cursor: null, requests: 1 };
      for (let i = 0; i < this.rows; i++) {
        await ctx.emit({ id: `${w.key}#${i}`, at: new Date(w.start + i * 1000).toISOString(), email: `p${i}@example.com` });
        if (typeof step === 'object' && i === 1) throw step.partialThen;
      }
      return { highWaterMark: new Date(w.start + (this.rows - 1) * 1000).toISOString(), cursor: { last: this.rows - 1 }, requests: 1 };
    } finally {
      this.inFlight -= 1;
    }
  }
}

const KEY = (h1: number, h2: number): string => `20240310T${String(h1).padStart(2, '0')}00Z_20240310T${String(h2).padStart(2, '0')}00Z`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(exporter: SourceExporter, extra: Partial<ExportRunOptions> = {}) {
  return runExport({ exporter, dir, toolVersion: '9.9.9', clock: clockAt('2024-03-10T12:30:00Z'), backoff: FAST_BACKOFF, ...extra });
}

describe('export run', () => {
  it('writes one gzipped file per window and a manifest entry with rows, bytes, sha256, high-water mark and version', async () => {
    dir = tempExportDir();
    const exporter = new ScriptedExporter({ [KEY(1, 2)]: ['empty'] });
    const result = await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T02' });
    expect(result).toMatchObject({ status: 'complete', exit_code: 0, mode: 'range', rows: 6, windows: { planned: 3, exported: 2, empty: 1, skipped: 0, failed: 0 } });
    expect(readdirSync(dir).sort()).toEqual([`${KEY(0, 1)}.jsonl.gz`, `${KEY(2, 3)}.jsonl.gz`, 'manifest.json']);
    const manifest = readManifestFile(dir);
    expect(manifest.windows.map((w) => [w.key, w.status, w.rows, w.file])).toEqual([
      [KEY(0, 1), 'complete', 3, `${KEY(0, 1)}.jsonl.gz`],
      [KEY(1, 2), 'complete', 0, null],
      [KEY(2, 3), 'complete', 3, `${KEY(2, 3)}.jsonl.gz`],
    ]);
    const first = manifest.windows[0]!;
    const bytes = readFileSync(join(dir, first.file!));
    expect(first.bytes).toBe(bytes.length);
    expect(first.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(first).toMatchObject({ high_water_mark: '2024-03-10T00:00:02.000Z', cursor: { last: 2 }, tool_version: '9.9.9', error: null, imported: null, start: '2024-03-10T00:00:00.000Z' });
    expect(windowRecords(join(dir, first.file!)).map((r) => r.id)).toEqual([`${KEY(0, 1)}#0`, `${KEY(0, 1)}#1`, `${KEY(0, 1)}#2`]);
    expect(manifest.last_run).toMatchObject({ from: '2024-03-10T00:00:00.000Z', to: '2024-03-10T03:00:00.000Z', resumed: 0 });
  });

  it('applies the transform to every record before it is written', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T00', transform: (r) => ({ ...r, email: '[email]' }) });
    const text = readFileSync(join(dir, `${KEY(0, 1)}.jsonl.gz`));
    expect(windowRecords(join(dir, `${KEY(0, 1)}.jsonl.gz`)).map((r) => r.email)).toEqual(['[email]', '[email]', '[email]']);
    expect(text.includes(Buffer.from('example.com'))).toBe(false);
  });

  it('retries a window after a retryable failure without keeping the failed attempt rows', async () => {
    dir = tempExportDir();
    const exporter = new ScriptedExporter({ [KEY(0, 1)]: [{ partialThen: transientError('export_body_truncated', 'cut off') }, 'ok'] });
    const result = await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T00' });
    expect(result).toMatchObject({ exit_code: 0, rows: 3, retries: 1 });
    expect(windowRecords(join(dir, `${KEY(0, 1)}.jsonl.gz`))).toHaveLength(3);
    expect(exporter.calls).toEqual([KEY(0, 1), KEY(0, 1)]);
  });

  it('a window that keeps failing is named, recorded as failed and makes the run exit 5; --resume redoes only it', async () => {
    dir = tempExportDir();
    const bad = windowError('export_window_too_large', 'too large even on its own');
    const exporter = new ScriptedExporter({ [KEY(1, 2)]: [bad] });
    const result = await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T02' });
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, windows: { exported: 2, failed: 1 } });
    expect(result.failed).toEqual([{ window: '2024-03-10T01:00Z/2024-03-10T02:00Z', key: KEY(1, 2), code: 'export_window_too_large', message: 'too large even on its own', hint: null }]);
    expect(readManifestFile(dir).windows.find((w) => w.key === KEY(1, 2))).toMatchObject({ status: 'failed', file: null, error: { code: 'export_window_too_large' } });

    const again = new ScriptedExporter();
    const resumed = await run(again, { resume: true });
    expect(resumed).toMatchObject({ mode: 'resume', exit_code: 0, windows: { planned: 1, exported: 1, skipped: 2 } });
    expect(again.calls).toEqual([KEY(1, 2)]);
    expect(readManifestFile(dir).last_run).toMatchObject({ resumed: 1 });
    expect(readManifestFile(dir).windows.every((w) => w.status === 'complete')).toBe(true);
  });

  it('exits 4 when nothing could be fetched because the source stayed unavailable', async () => {
    dir = tempExportDir();
    const down = (): UsageLabError => new UsageLabError('export_remote_unavailable', 'gave up', { exitCode: EXIT.unavailable });
    const exporter = new ScriptedExporter({ [KEY(0, 1)]: [down()], [KEY(1, 2)]: [down()] });
    const result = await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T01' });
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.unavailable });
  });

  it('refused credentials stop the run (exit 3) instead of failing every window', async () => {
    dir = tempExportDir();
    const auth = new UsageLabError('export_auth_failed', 'refused', { exitCode: EXIT.auth, hint: 'check FAKE_KEY' });
    const exporter = new ScriptedExporter({ [KEY(0, 1)]: [auth], [KEY(1, 2)]: [auth] });
    await expect(run(exporter, { from: '2024-03-10T00', to: '2024-03-10T05', concurrency: 1 })).rejects.toMatchObject({ code: 'export_auth_failed', exitCode: 3 });
    expect(exporter.calls).toEqual([KEY(0, 1)]);
    expect(existsSync(join(dir, '.export.lock'))).toBe(false);
  });

  it('an incremental run starts at the newest exported instant minus the lookback and retries failed windows', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter({ [KEY(0, 1)]: [windowError('export_record_invalid', 'bad')] }), { from: '2024-03-10T00', to: '2024-03-10T05' });
    const later = new ScriptedExporter();
    const result = await run(later, { clock: clockAt('2024-03-10T08:10:00Z') });
    // Newest exported instant 06:00, lookback 2 h → from 04:00; available until 08:00; plus the failed 00-01.
    expect(result).toMatchObject({ mode: 'incremental', from: '2024-03-10T04:00:00.000Z', to: '2024-03-10T08:00:00.000Z', exit_code: 0 });
    expect(later.calls.sort()).toEqual([KEY(0, 1), KEY(4, 5), KEY(5, 6), KEY(6, 7), KEY(7, 8)]);
  });

  it('--resume with a range skips complete windows; a plain range re-exports them', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T01' });
    const resumed = new ScriptedExporter();
    expect(await run(resumed, { from: '2024-03-10T00', to: '2024-03-10T02', resume: true })).toMatchObject({ windows: { planned: 1, skipped: 2 } });
    expect(resumed.calls).toEqual([KEY(2, 3)]);
    const plain = new ScriptedExporter();
    await run(plain, { from: '2024-03-10T00', to: '2024-03-10T02' });
    expect(plain.calls.sort()).toEqual([KEY(0, 1), KEY(1, 2), KEY(2, 3)]);
  });

  it('without --from the first export is refused, and --resume needs an earlier run', async () => {
    dir = tempExportDir();
    await expect(run(new ScriptedExporter())).rejects.toMatchObject({ code: 'export_from_required', exitCode: 2 });
    await expect(run(new ScriptedExporter(), { resume: true })).rejects.toMatchObject({ code: 'export_nothing_to_resume' });
  });

  it('cuts the range where the source has no complete data yet and says so', async () => {
    dir = tempExportDir();
    const result = await run(new ScriptedExporter(), { from: '2024-03-10T10', to: '2024-03-10T20' });
    expect(result).toMatchObject({ to: '2024-03-10T12:00:00.000Z', cut: { requested_to: '2024-03-10T21:00:00.000Z', available_until: '2024-03-10T12:00:00.000Z' } });
    expect(result.windows.planned).toBe(2);
  });

  it('a longer window supersedes the shorter one an earlier run wrote at the edge', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter({}, 3, 24), { from: '2024-03-10', clock: clockAt('2024-03-10T03:20:00Z') });
    expect(readdirSync(dir)).toContain('20240310T0000Z_20240310T0300Z.jsonl.gz');
    await run(new ScriptedExporter({}, 3, 24), { from: '2024-03-10', clock: clockAt('2024-03-10T06:20:00Z') });
    expect(readdirSync(dir).filter((f) => f.endsWith('.gz'))).toEqual(['20240310T0000Z_20240310T0600Z.jsonl.gz']);
    expect(readManifestFile(dir).windows.map((w) => w.key)).toEqual(['20240310T0000Z_20240310T0600Z']);
  });

  it('a failed re-export keeps the older complete file and notes the error on it', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T00' });
    const before = readFileSync(join(dir, `${KEY(0, 1)}.jsonl.gz`));
    const result = await run(new ScriptedExporter({ [KEY(0, 1)]: [windowError('export_record_invalid', 'bad line')] }), { from: '2024-03-10T00', to: '2024-03-10T00' });
    expect(result.exit_code).toBe(EXIT.partial);
    expect(readFileSync(join(dir, `${KEY(0, 1)}.jsonl.gz`))).toEqual(before);
    expect(readManifestFile(dir).windows[0]).toMatchObject({ status: 'complete', rows: 3, error: { code: 'export_record_invalid', message: 'bad line' } });
  });

  it('keeps at most --concurrency windows in flight', async () => {
    dir = tempExportDir();
    const exporter = new ScriptedExporter();
    await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T09', concurrency: 3 });
    expect(exporter.maxInFlight).toBe(3);
    const capped = new ScriptedExporter();
    await run(capped, { from: '2024-03-10T00', to: '2024-03-10T09', concurrency: 50 });
    expect(capped.maxInFlight).toBe(4);
  });

  it('--dry-run plans without fetching, writing or locking', async () => {
    dir = join(tempExportDir(), 'not-yet');
    const exporter = new ScriptedExporter();
    const result = await run(exporter, { from: '2024-03-10T00', to: '2024-03-10T01', dryRun: true });
    expect(result).toMatchObject({ status: 'dry_run', exit_code: 0, plan: { export: ['2024-03-10T00:00Z/2024-03-10T01:00Z', '2024-03-10T01:00Z/2024-03-10T02:00Z'], skip: [] } });
    expect(exporter.calls).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to run beside a live export, takes over a dead one, and clears its temp files', async () => {
    dir = tempExportDir();
    writeFileSync(join(dir, '.export.lock'), `${process.pid}\n`);
    await expect(run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T00' })).rejects.toMatchObject({ code: 'export_locked' });
    // A pid that existed and is gone: a finished child process.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, '.export.lock'), `${dead}\n`);
    writeFileSync(join(dir, `.${KEY(0, 1)}.jsonl.gz.tmp-${dead}-1`), 'half a file');
    mkdirSync(join(dir, `.work.tmp-${dead}`));
    expect(await run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T00' })).toMatchObject({ exit_code: 0 });
    expect(readdirSync(dir).sort()).toEqual([`${KEY(0, 1)}.jsonl.gz`, 'manifest.json']);
  });

  it('the manifest on disk is always whole JSON', async () => {
    dir = tempExportDir();
    await run(new ScriptedExporter(), { from: '2024-03-10T00', to: '2024-03-10T05', concurrency: 4 });
    const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(readManifestFile(dir).windows).toHaveLength(6);
    expect(statSync(join(dir, 'manifest.json')).size).toBe(Buffer.byteLength(text));
  });
});
