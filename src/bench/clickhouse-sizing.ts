/**
 * The figures behind the sizing in docs/scaling.md: a generated DuckDB warehouse (analysis-warehouse.ts) is loaded
 * into ClickHouse on chDB through the product's own load (clickhouse-sync.ts), then it reports the load rate, the
 * compressed bytes per event of each column, and the time of the ported analyses on both engines (median of
 * three warm runs; CPU time of this process beside wall time, since other work on the machine distorts wall time).
 *
 *   npx tsx src/bench/clickhouse-sizing.ts [events]      (default 10,000,000; data in bench-data/)
 *
 * SIZING_REUSE=1 keeps a ClickHouse copy loaded by an earlier run (no load figures then); SIZING_CASES=a,b runs
 * only the cases whose label contains one of the words.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { AnalysisKind, EngineSession } from '../analyses/analysis-kind.js';
import { runOnEngine } from '../analyses/analysis-kind.js';
import { segmentAnalysis } from '../analyses/segment/segment-analysis.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import { ChdbExecutor } from '../warehouse/clickhouse/chdb-executor.js';
import { syncToClickhouse } from '../warehouse/clickhouse/clickhouse-sync.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { generateAnalysisWarehouse } from './analysis-warehouse.js';

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

async function median(fn: () => Promise<unknown>): Promise<Timing> {
  await fn();
  const runs = [await timed(fn), await timed(fn), await timed(fn)].sort((a, b) => a.wall - b.wall);
  return runs[1]!;
}

const CASES: { label: string; kind: AnalysisKind<unknown, unknown>; definition: Record<string, unknown> }[] = [
  { label: 'trends: events per day, 90 days', kind: trendsAnalysis as AnalysisKind<unknown, unknown>, definition: { kind: 'trends', name: 'b', date_range: { from: '2024-01-01', to: '2024-03-30' } } },
  { label: 'trends: weekly people by device', kind: trendsAnalysis as AnalysisKind<unknown, unknown>, definition: { kind: 'trends', name: 'b', measure: 'people', interval: 'week', breakdown: 'device_type', date_range: { from: '2024-01-01', to: '2024-03-30' } } },
  { label: 'trends: DAU/WAU/MAU, 30 days', kind: trendsAnalysis as AnalysisKind<unknown, unknown>, definition: { kind: 'trends', name: 'b', measure: 'active_users', date_range: { from: '2024-02-01', to: '2024-03-01' } } },
  { label: 'segment: did export_report twice, not upgrade', kind: segmentAnalysis as AnalysisKind<unknown, unknown>, definition: { kind: 'segment', name: 'b', did: [{ event: 'export_report', at_least: 2 }], did_not: ['upgrade'] } },
];

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 10_000_000);
  const root = resolve('bench-data');
  mkdirSync(root, { recursive: true });
  const warehouse = join(root, `analysis-${events}.duckdb`);
  if (!existsSync(warehouse)) await generateAnalysisWarehouse(warehouse, events);
  const chdbDir = join(root, `clickhouse-sizing-${events}`);
  const reuse = process.env.SIZING_REUSE === '1' && existsSync(chdbDir);
  if (!reuse) rmSync(chdbDir, { recursive: true, force: true });
  const only = process.env.SIZING_CASES?.split(',').filter((w) => w !== '');
  const duck = await DuckdbSession.open({ path: warehouse });
  const ch = await ChdbExecutor.open({ path: chdbDir });
  try {
    process.stdout.write(`${events.toLocaleString('en-US')} events; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    if (!reuse) {
      const load = await timed(() => syncToClickhouse(duck, ch, { tmpDir: join(root, 'clickhouse-sizing-chunks') }));
      process.stdout.write(`load into ClickHouse (Parquet chunks, REPLACE PARTITION): ${load.wall.toFixed(1)} s wall, ${(events / load.wall / 1e6).toFixed(2)} M events/s (CPU ${load.cpu.toFixed(1)} s: DuckDB and chDB both run in this process)\n`);
      await ch.command('OPTIMIZE TABLE events FINAL');
    }
    const columns = await ch.query<{ name: string; compressed: number; uncompressed: number }>(
      `SELECT name, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY compressed DESC`,
    );
    const total = columns.reduce((n, c) => n + c.compressed, 0);
    const raw = columns.reduce((n, c) => n + c.uncompressed, 0);
    process.stdout.write(`events storage: ${(total / events).toFixed(1)} compressed bytes/event (${(raw / events).toFixed(1)} uncompressed, ratio ${(raw / total).toFixed(1)})\n`);
    for (const c of columns.slice(0, 8)) process.stdout.write(`  ${c.name.padEnd(18)} ${(c.compressed / events).toFixed(2)} B/event\n`);
    const duckSession: EngineSession = duck;
    const chSession: EngineSession = { engine: 'clickhouse', clickhouse: ch };
    for (const c of CASES.filter((k) => only === undefined || only.some((w) => k.label.includes(w)))) {
      const definition = c.kind.parse(c.definition);
      const run = (s: EngineSession) => () => runOnEngine(c.kind, s, definition, { timezone: 'UTC' });
      const [a, b] = [await median(run(duckSession)), await median(run(chSession))];
      const same = JSON.stringify(await run(duckSession)()) === JSON.stringify(await run(chSession)());
      process.stdout.write(`${c.label.padEnd(48)} DuckDB ${a.wall.toFixed(2)} s (cpu ${a.cpu.toFixed(2)})  ClickHouse/chDB ${b.wall.toFixed(2)} s (cpu ${b.cpu.toFixed(2)})  ${same ? 'same result' : 'RESULTS DIFFER'}\n`);
    }
  } finally {
    await ch.close();
    duck.close();
  }
}

await main();
