import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../core/config-schema.js';
import type { FileProbe, SourceReader, StageContext } from '../../sources/source-reader.js';
import { stagedSelectList } from '../../sources/staged-select.js';
import { DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext } from './duckdb-stage-context.js';
import { IMPORT_QUARANTINE, openScratch, SCRATCH_ROWS, stageFiles, closeScratch, type PlannedFile } from './import-staging.js';

let session: DuckdbSession;
let tempDir: string;
const config = configSchema.parse({});

beforeEach(async () => {
  session = await DuckdbSession.open({ path: ':memory:', threads: 2 });
  tempDir = mkdtempSync(join(tmpdir(), 'usagelab-staging-'));
  await openScratch(session);
});
afterEach(async () => {
  await closeScratch(session);
  session.close();
  rmSync(tempDir, { recursive: true, force: true });
});

function probe(path: string, sizeBytes = 10): FileProbe {
  return {
    path,
    displayName: path,
    isDirectory: false,
    baseName: path,
    compression: 'none',
    sizeBytes,
    head: '',
    firstRecord: undefined,
    csvHeader: undefined,
    parquetColumns: undefined,
    directoryFiles: [],
    zipMembers: [],
    format: 'ndjson',
  };
}

interface Seen {
  readonly file: string;
  readonly context: StageContext;
  readonly scratchFile: string;
  /** DuckDB's threads setting while the file was staged. */
  readonly threads: number;
  /** DuckDB's checkpoint_threshold while the file was staged. */
  readonly checkpointAt: string;
}

/**
 * A reader that, like the zip and Avro readers, writes a file into ctx.tempDir named after a temp name, waits
 * (so files overlap), and reads it back; its rows are one event per file, two with a bad second line.
 */
function fakeReader(seen: Seen[], running: { now: number; most: number }): SourceReader {
  return {
    id: 'generic',
    detect: () => undefined,
    async stage(p, _d, ctx) {
      running.now++;
      running.most = Math.max(running.most, running.now);
      const name = ctx.tempName('extracted');
      const scratchFile = join(ctx.tempDir, `${name}.txt`);
      writeFileSync(scratchFile, p.path);
      const [setting] = await ctx.all<{ n: number; t: string }>(`SELECT current_setting('threads') AS n, current_setting('checkpoint_threshold') AS t`);
      seen.push({ file: p.path, context: ctx, scratchFile, threads: Number(setting!.n), checkpointAt: setting!.t });
      await new Promise((r) => setTimeout(r, 60));
      const back = readFileSync(scratchFile, 'utf8');
      running.now--;
      const rows = ctx.tempName('rows');
      const row = (line: number, event: string): string =>
        `SELECT ${stagedSelectList({
          source: `'generic'`,
          source_event_id: ctx.literal(`${back}#${line}`),
          event_name: event,
          event_kind: `'custom'`,
          occurred_at: `TIMESTAMPTZ '2024-01-01 00:00:00+00'`,
          anonymous_id: `'device'`,
          _line: String(line),
          _reject: line === 2 ? `'event: missing'` : 'NULL',
        })}`;
      await ctx.run(`CREATE TEMP TABLE ${rows} AS ${row(1, "'opened'")} UNION ALL ${row(2, 'NULL')}`);
      return { relation: rows, nativeRageClicks: true };
    },
  };
}

async function threadsNow(): Promise<number> {
  const [row] = await session.all<{ n: number }>(`SELECT current_setting('threads') AS n`);
  return Number(row!.n);
}

async function checkpointAtNow(): Promise<string> {
  const [row] = await session.all<{ t: string }>(`SELECT current_setting('checkpoint_threshold') AS t`);
  return row!.t;
}

/** A fake reader recording what it saw, and a stage context on the import's own connection. */
async function staging(): Promise<{ seen: Seen[]; running: { now: number; most: number }; reader: SourceReader; ctx: DuckdbStageContext }> {
  const seen: Seen[] = [];
  const running = { now: 0, most: 0 };
  const reader = fakeReader(seen, running);
  const ctx = await DuckdbStageContext.create(session, config, { columnMap: {} }, tempDir);
  return { seen, running, reader, ctx };
}

const plan = (reader: SourceReader, path: string, size = 10): PlannedFile => ({
  probe: probe(path, size),
  reader,
  detection: { format: 'ndjson', confidence: 1, layout: 'fake' },
  fingerprint: path,
  size,
});

/** Staging options (tempDir is made per test). */
const options = () => ({ importId: 7, config, strict: false, columnMap: {}, tempDir, threads: 3 });

describe('staging several files side by side', () => {
  it('stages each file on one of several connections, each reader with a folder of its own, rows tagged with the file', async () => {
    const { seen, running, reader, ctx } = await staging();
    const files = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    const staged = await stageFiles(session, ctx, files.map((f) => plan(reader, f)), options());
    expect(staged.map((s) => [s.plan.probe.path, s.read, s.good, s.rejected])).toEqual(files.map((f) => [f, 2, 1, 1]));
    expect(running.most).toBe(3);
    expect(new Set(seen.map((s) => s.context)).size).toBe(3);
    // Each reader read back what it wrote: no two files shared an extraction path.
    expect(new Set(seen.map((s) => s.scratchFile)).size).toBe(files.length);
    const rows = await session.all<{ f: number; id: string }>(`SELECT _file AS f, source_event_id AS id FROM ${SCRATCH_ROWS} ORDER BY _file`);
    expect(rows).toEqual(files.map((f, i) => ({ f: i, id: `${f}#1` })));
    const quarantined = await session.all<{ file: string; line: string }>(`SELECT file, line FROM ${IMPORT_QUARANTINE} ORDER BY file`);
    expect(quarantined).toEqual(files.map((f) => ({ file: f, line: '2' })));
    // The other connections are closed; on the import's own, nothing of the files is left.
    const left = await session.all(`SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_stage_')`);
    expect(left).toEqual([]);
  });

  it('runs each statement on its own connection’s thread while files share the cores, and gives a large file every thread', async () => {
    const { seen, reader, ctx } = await staging();
    const big = 64 << 20;
    const files = [plan(reader, 's0'), plan(reader, 's1'), plan(reader, 'big', big), plan(reader, 's2'), plan(reader, 's3')];
    await stageFiles(session, ctx, files, options());
    expect(Object.fromEntries(seen.map((s) => [s.file, s.threads]))).toEqual({ s0: 1, s1: 1, big: 2, s2: 1, s3: 1 });
    expect(await threadsNow()).toBe(2);
  });

  it('keeps the scratch database from checkpointing while files are appended, and restores the threshold after', async () => {
    const { seen, reader, ctx } = await staging();
    await session.run(`SET checkpoint_threshold = '32MB'`);
    const before = await checkpointAtNow();
    await stageFiles(session, ctx, ['a', 'b', 'c'].map((f) => plan(reader, f)), options());
    expect(new Set(seen.map((s) => s.checkpointAt))).toEqual(new Set(['931.3 GiB']));
    expect(before).toBe('30.5 MiB');
    expect(await checkpointAtNow()).toBe(before);
  });

  it('restores the threads and checkpoint settings when a file fails', async () => {
    const { seen, reader, ctx } = await staging();
    const failing: SourceReader = { ...reader, stage: () => Promise.reject(new Error('unreadable')) };
    const before = await checkpointAtNow();
    await expect(stageFiles(session, ctx, [plan(reader, 'a'), plan(failing, 'b'), plan(reader, 'c')], options())).rejects.toThrow('unreadable');
    expect(seen.length).toBeGreaterThan(0);
    expect(await threadsNow()).toBe(2);
    expect(await checkpointAtNow()).toBe(before);
  });

  it('stages a large file with no other in flight', async () => {
    const { running, reader, ctx } = await staging();
    const big = 64 << 20;
    await stageFiles(session, ctx, [plan(reader, 'big-a', big), plan(reader, 'big-b', big), plan(reader, 'big-c', big)], options());
    expect(running.most).toBe(1);
  });

  it('with one thread configured, stages one file at a time on the import’s own connection', async () => {
    const { seen, running, reader, ctx } = await staging();
    await stageFiles(session, ctx, ['a', 'b', 'c'].map((f) => plan(reader, f)), { ...options(), threads: 1 });
    expect(running.most).toBe(1);
    expect(new Set(seen.map((s) => s.context))).toEqual(new Set([ctx]));
  });
});
