/**
 * A workspace switched to ClickHouse, end to end: `usagelab migrate --to clickhouse` copies the embedded
 * warehouse, analyses then run on ClickHouse with the same results, imports load it, `usagelab check` reports it.
 * ClickHouse here is chDB in this process (`url: chdb:///DIR`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempWorkspace } from '../test-support/temp-workspace.js';
import { main } from '../cli/main.js';
import type { Io } from '../cli/output.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import type { AnalysisKind } from '../analyses/analysis-kind.js';
import { UsageLabError } from '../core/errors.js';

function captureIo(): Io & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const tw = tempWorkspace('version: 1\ntimezone: Europe/Amsterdam\n');
afterAll(() => tw.cleanup());
const fixture = readFileSync(resolve('src/sources/amplitude/__fixtures__/export-events.jsonl'), 'utf8');
/** A kind that never declared ClickHouse (no `engines`). */
const duckdbOnly: AnalysisKind<object, never> = {
  kind: 'duckdb_only',
  parse: (input) => input as object,
  run: () => Promise.reject(new Error('must not run')),
};
const trends = { kind: 'trends', name: 't', measure: 'people', interval: 'week', breakdown: 'country', exclude: [] };

describe('a workspace on ClickHouse', () => {
  it('migrates, answers like DuckDB, loads new imports and shows in check', async () => {
    const file = tw.write('exports/amplitude/a.jsonl', fixture);
    const embedded = await tw.open();
    await embedded.import({ files: [file] });
    const expected = await embedded.runAnalysis(trendsAnalysis, trends);
    const [count] = await embedded.sql<{ n: string }>('SELECT count(*) AS n FROM events');
    embedded.close();
    expect(expected.series.length).toBeGreaterThan(0);

    writeFileSync(join(tw.dir, 'usagelab.yaml'), `version: 1\ntimezone: Europe/Amsterdam\nwarehouse:\n  engine: clickhouse\n  url: chdb://${join(tw.dir, '.usagelab', 'chdb')}\n`);
    const io = captureIo();
    expect(await main(['migrate', '--to', 'clickhouse', '--json', '-w', tw.dir], io), io.err).toBe(0);
    const migrated = JSON.parse(io.out) as { tables: { table: string; rows: number; sent: number }[]; rows_sent: number };
    expect(migrated.tables.find((t) => t.table === 'events')).toMatchObject({ rows: Number(count!.n) });
    expect(migrated.rows_sent).toBeGreaterThan(Number(count!.n));
    // Again: nothing to send.
    const again = captureIo();
    expect(await main(['migrate', '--to', 'clickhouse', '--json', '-w', tw.dir], again)).toBe(0);
    expect((JSON.parse(again.out) as { rows_sent: number }).rows_sent).toBe(0);

    const ws = await tw.open();
    try {
      expect(ws.analysisSession.engine).toBe('clickhouse');
      expect(await ws.runAnalysis(trendsAnalysis, trends)).toEqual(expected);
      // Kinds not yet compiled to ClickHouse are refused, not run as DuckDB SQL.
      await expect(ws.runAnalysis(duckdbOnly, {})).rejects.toSatisfy((e: unknown) => e instanceof UsageLabError && e.code === 'analysis_engine_unsupported');
      // A new import is loaded too; the same records again add no event and resend no month (only the small
      // imports / import_files tables, which gained the import's own rows).
      const second = await ws.import({ files: [tw.write('exports/amplitude/b.jsonl', fixture)] });
      expect(second.clickhouse?.tables.find((t) => t.table === 'events')).toMatchObject({ sent: 0, rows: Number(count!.n) });
      expect(second.clickhouse?.tables.find((t) => t.table === 'imports')).toMatchObject({ sent: 1, rows: 2 });
      expect(await ws.clickhouse!.query('SELECT count() AS n FROM events')).toEqual([{ n: Number(count!.n) }]);
    } finally {
      ws.close();
    }

    const check = captureIo();
    expect(await main(['check', '--json', '--offline', '-w', tw.dir], check), check.err).toBe(0);
    expect(JSON.parse(check.out).warehouse).toMatchObject({ engine: 'clickhouse', status: 'ok', database: 'usagelab', transport: 'chdb', events: Number(count!.n), cluster: null });
  });
});
