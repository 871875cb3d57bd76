/**
 * The analysis benchmarks of `npm run bench` (docs/performance.md "Analyses"): on a generated warehouse of
 * BENCH_ANALYSIS_EVENTS events (default 10,000,000; a comma list runs several sizes, e.g. 1000000,10000000),
 * every case runs on DuckDB and on ClickHouse (chDB in this process, loaded from the same DuckDB file by
 * `usagelab migrate --to clickhouse`; bench-clickhouse.ts) with the same definition: once cold, then three times,
 * median wall and CPU time. BENCH_ENGINES=duckdb|clickhouse|both (default both) runs one side. The two results
 * of each case must be exactly equal; a difference is printed loudly and the bench exits non-zero. Targets are
 * DuckDB's; the ClickHouse columns are informative. The figures also go to bench-data/analysis-bench-N.json.
 * The 4-step funnel is also timed as ClickHouse's own windowFunnel on the ClickHouse copy.
 */
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runOnEngine, type AnalysisKind, type EngineSession, type WarehouseEngine } from '../analyses/analysis-kind.js';
import { funnelAnalysis } from '../analyses/funnel/funnel-analysis.js';
import { pathsAnalysis } from '../analyses/paths/paths-analysis.js';
import { retentionAnalysis } from '../analyses/retention/retention-analysis.js';
import { frictionAnalysis } from '../analyses/friction/friction-analysis.js';
import { adoptionAnalysis } from '../analyses/adoption/adoption-analysis.js';
import { parseFeatureCatalog } from '../analyses/adoption/feature-catalog.js';
import { segmentAnalysis } from '../analyses/segment/segment-analysis.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { ANALYSIS_DATA_VERSION, BENCH_FUNNEL_STEPS, generateAnalysisWarehouse } from './analysis-warehouse.js';
import { ensureBenchClickhouse, openBenchClickhouse, type ClickhouseLoad } from './bench-clickhouse.js';
import { windowFunnelLevels } from './chdb-reference.js';
import { benchEngines, formatEngineTable, targetCell, type EngineRow, type EngineTiming } from './engine-table.js';
import { firstDifference, formatDifference } from './result-diff.js';

interface BenchCase {
  label: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case pairs a kind with its own definition
  kind: AnalysisKind<any, any>;
  /** Written as a saved query would be; `exclude: []` where the kind takes it, so no saved segments are needed. */
  definition: Record<string, unknown>;
  options?: Record<string, unknown>;
  /** Target in seconds per warehouse size (events). */
  target: (events: number) => number | undefined;
  summary: (result: unknown) => string;
}

const FUNNEL_WINDOW_DAYS = 14;

/** Three features of the generated product: an event, a page and an event with its button as signal place. */
const BENCH_CATALOG = parseFeatureCatalog({
  features: [
    { name: 'Export', match: ['export_report'], signals: [{ where: { page_path: '/reports/:id/export' } }] },
    { name: 'Team invites', match: ['invite_teammate', { page: '/team/invite' }] },
    { name: 'Integrations', match: [{ page: '/integrations' }] },
  ],
});


export const ANALYSIS_CASES: BenchCase[] = [
  {
    label: '4-step funnel (counts and times)',
    kind: funnelAnalysis,
    definition: { kind: 'funnel', name: 'bench', steps: BENCH_FUNNEL_STEPS, window: `${FUNNEL_WINDOW_DAYS}d`, exclude: [] },
    options: { nextEvents: false },
    target: (n) => (n <= 10_000_000 ? 0.5 : n <= 100_000_000 ? 5 : undefined),
    summary: (r) => (r as { steps: { count: number }[] }).steps.map((s) => s.count).join(' → '),
  },
  {
    label: '4-step funnel + next events of dropped people',
    kind: funnelAnalysis,
    definition: { kind: 'funnel', name: 'bench', steps: BENCH_FUNNEL_STEPS, window: `${FUNNEL_WINDOW_DAYS}d`, exclude: [] },
    target: () => undefined,
    summary: (r) => `${(r as { dropped: unknown[] }).dropped.length} drop-off lists`,
  },
  {
    label: '8-week retention (signup → any event)',
    kind: retentionAnalysis,
    definition: { kind: 'retention', name: 'bench', target: 'signup', returning: '$any', interval: 'week', intervals: 8, exclude: [] },
    target: (n) => (n <= 10_000_000 ? 1 : undefined),
    summary: (r) => `${(r as { cohorts: unknown[] }).cohorts.length} cohorts`,
  },
  {
    label: 'top paths (pages, depth 5, all sessions)',
    kind: pathsAnalysis,
    definition: { kind: 'paths', name: 'bench', exclude: [] },
    target: () => undefined,
    summary: (r) => `${(r as { sessions: { with_path: number } }).sessions.with_path} sessions with a path`,
  },
  {
    label: 'friction hotspots (30 days vs previous 30)',
    kind: frictionAnalysis,
    definition: { kind: 'friction', name: 'bench', date_range: { from: '2024-02-01', to: '2024-03-01' }, exclude: [] },
    target: () => undefined,
    summary: (r) => `${(r as { hotspots: unknown[] }).hotspots.length} hotspots`,
  },
  {
    label: 'feature adoption (3 features, weekly retention)',
    kind: adoptionAnalysis,
    definition: { kind: 'adoption', name: 'bench', exclude: [] },
    options: { catalog: BENCH_CATALOG },
    target: () => undefined,
    summary: (r) => (r as { features: { class: string }[] }).features.map((f) => f.class).join(', '),
  },
  {
    label: 'trends: events per day, 90 days',
    kind: trendsAnalysis,
    definition: { kind: 'trends', name: 'bench', date_range: { from: '2024-01-01', to: '2024-03-30' }, exclude: [] },
    target: () => undefined,
    summary: (r) => `${(r as { series: { points: unknown[] }[] }).series[0]?.points.length ?? 0} days`,
  },
  {
    label: 'trends: weekly people by device, 90 days',
    kind: trendsAnalysis,
    definition: { kind: 'trends', name: 'bench', measure: 'people', interval: 'week', breakdown: 'device_type', date_range: { from: '2024-01-01', to: '2024-03-30' }, exclude: [] },
    target: () => undefined,
    summary: (r) => `${(r as { series: unknown[] }).series.length} series`,
  },
  {
    label: 'segment: did export_report twice, not upgrade',
    kind: segmentAnalysis,
    definition: { kind: 'segment', name: 'bench', did: [{ event: 'export_report', at_least: 2 }], did_not: ['upgrade'] },
    target: () => undefined,
    summary: (r) => `${(r as { people: number }).people} people`,
  },
];

const loadAverage = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));
const showLoad = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(', ');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Wall time and the process's CPU time (user + system, all threads: DuckDB's and chDB's workers run in this
 * process). CPU time is what to compare when other work loads the machine and stretches wall time.
 */
async function timed<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; cpu: number; value: T }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6, value };
}

/** Once cold, then three warm runs: medians of the warm ones, and the first warm run's result. */
async function measure<T>(run: () => Promise<T>): Promise<{ timing: EngineTiming; value: T }> {
  const cold = await timed(run);
  const runs = [await timed(run), await timed(run), await timed(run)];
  return {
    timing: { wall: median(runs.map((r) => r.seconds)), cpu: median(runs.map((r) => r.cpu)), cold: cold.seconds },
    value: runs[0]!.value,
  };
}

/** "faster" or "SLOWER" with the ratio, never rounding a loss into a win. */
const versus = (ours: number, theirs: number): string => `${(theirs / ours).toFixed(2)}× ${ours < theirs ? 'faster' : 'SLOWER'}`;

interface CaseOutcome {
  timing: EngineTiming;
  value: unknown;
}

/** Runs every case on one engine's session, printing each as it finishes (a 10M run takes minutes). */
async function runCases(engine: WarehouseEngine, session: EngineSession): Promise<CaseOutcome[]> {
  const out: CaseOutcome[] = [];
  for (const c of ANALYSIS_CASES) {
    const definition = c.kind.parse(c.definition);
    const m = await measure(() => runOnEngine(c.kind, session, definition, { timezone: 'UTC', ...(c.options ?? {}) }));
    console.log(`  ${engine.padEnd(10)} ${c.label.padEnd(48)} ${m.timing.wall.toFixed(3).padStart(8)} s  cpu ${m.timing.cpu.toFixed(3)} s  cold ${m.timing.cold.toFixed(2)} s  ${c.summary(m.value)}`);
    out.push(m);
  }
  return out;
}

interface WindowFunnelReference {
  wall: number;
  cpu: number;
  levels: number[];
}

/** What bench-data/analysis-bench-N.json holds (one file per size, overwritten by the next run). */
export interface AnalysisBenchReport {
  suite: 'analysis';
  events: number;
  generator_version: number;
  finished_at: string;
  cpus: number;
  load_average: { start: number[]; end: number[] };
  engines: WarehouseEngine[];
  /** How the ClickHouse copy was loaded (recorded when it was made; `loaded_now` false = an earlier run's copy). */
  clickhouse_load: (ClickhouseLoad & { loaded_now: boolean }) | null;
  cases: {
    label: string;
    target_s: number | null;
    target: string;
    duckdb: EngineTiming | null;
    clickhouse: EngineTiming | null;
    results_equal: boolean | null;
    difference: string | null;
    summary: { duckdb: string | null; clickhouse: string | null };
  }[];
  window_funnel: WindowFunnelReference | null;
}

/** Runs the analysis suite at each size; `equal` is false when an engine pair of results differed. */
export async function runAnalysisBench(root: string): Promise<{ equal: boolean }> {
  const engines = benchEngines(process.env.BENCH_ENGINES);
  const sizes = (process.env.BENCH_ANALYSIS_EVENTS ?? '10000000').split(',').map(Number);
  const dataDir = resolve(root, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  let equal = true;
  for (const n of sizes) {
    const start = loadAverage();
    const file = join(dataDir, `analysis-${n}.duckdb`);
    if (!existsSync(file)) {
      const g = await timed(() => generateAnalysisWarehouse(file, n));
      console.log(`  generated ${file} in ${g.seconds.toFixed(1)} s (cpu ${g.cpu.toFixed(1)} s)`);
    }
    let copy: Awaited<ReturnType<typeof ensureBenchClickhouse>> | undefined;
    if (engines.includes('clickhouse')) {
      copy = await ensureBenchClickhouse(dataDir, file, n, loadAverage);
      const l = copy.load;
      console.log(
        `  ClickHouse copy ${copy.workspace}: ${copy.loadedNow ? 'loaded now' : `loaded ${l.loaded_at}`} by usagelab migrate --to clickhouse, ` +
          `${l.wall_s.toFixed(1)} s wall, cpu ${l.cpu_s.toFixed(1)} s, ${l.rows_sent.toLocaleString('en-US')} rows sent (load ${showLoad(l.load_average)})`,
      );
    }
    console.log(`\nanalysis benchmark: ${n.toLocaleString('en-US')} events on ${engines.join(' and ')} (cold run, then median of 3 warm runs; wall and CPU time; ${cpus().length} cores, load ${showLoad(start)})`);

    let duck: CaseOutcome[] | undefined;
    let house: CaseOutcome[] | undefined;
    let reference: WindowFunnelReference | undefined;
    if (engines.includes('duckdb')) {
      const session = await DuckdbSession.open({ path: file });
      try {
        duck = await runCases('duckdb', session);
      } finally {
        session.close();
      }
    }
    if (copy !== undefined) {
      const ch = await openBenchClickhouse(copy.workspace);
      try {
        house = await runCases('clickhouse', { engine: 'clickhouse', clickhouse: ch });
        const m = await measure(() => windowFunnelLevels(ch, BENCH_FUNNEL_STEPS, FUNNEL_WINDOW_DAYS * 86_400));
        reference = { wall: m.timing.wall, cpu: m.timing.cpu, levels: m.value };
      } finally {
        await ch.close();
      }
      // chDB binds one data directory per process: the next size's copy may only open once this one is released.
      const { drainPending } = await import('chdb');
      await drainPending();
    }

    const rows: EngineRow[] = ANALYSIS_CASES.map((c, i) => {
      const row: EngineRow = { label: c.label };
      const target = c.target(n);
      if (target !== undefined) row.target = target;
      if (duck !== undefined) row.duckdb = duck[i]!.timing;
      if (house !== undefined) row.clickhouse = house[i]!.timing;
      if (duck !== undefined && house !== undefined) {
        const d = firstDifference(duck[i]!.value, house[i]!.value);
        if (d !== undefined) row.difference = d;
      }
      return row;
    });
    const end = loadAverage();
    console.log(`\n${formatEngineTable(rows)}\n`);
    console.log(`  (targets are DuckDB's, for a quiet machine; the chDB columns are informative. load average at the end ${showLoad(end)})`);
    if (reference !== undefined) {
      const funnel = duck?.[0];
      console.log(
        `  same funnel as ClickHouse windowFunnel on chDB: ${reference.wall.toFixed(3)} s, cpu ${reference.cpu.toFixed(3)} s, levels ${reference.levels.join(' → ')}` +
          (funnel === undefined ? '' : `\n  → usagelab's funnel on DuckDB is ${versus(funnel.timing.wall, reference.wall)} in wall time, ${versus(funnel.timing.cpu, reference.cpu)} in CPU time`),
      );
    }
    const differing = rows.filter((r) => r.difference !== undefined);
    if (differing.length > 0) {
      equal = false;
      console.error(`\n!!! RESULTS DIFFER between DuckDB and ClickHouse in ${differing.length} of ${rows.length} benchmarks (the bench exits non-zero):`);
      for (const r of differing) console.error(`!!!   ${r.label}: ${formatDifference(r.difference!)}`);
    }

    const report: AnalysisBenchReport = {
      suite: 'analysis',
      events: n,
      generator_version: ANALYSIS_DATA_VERSION,
      finished_at: new Date().toISOString(),
      cpus: cpus().length,
      load_average: { start, end },
      engines,
      clickhouse_load: copy === undefined ? null : { ...copy.load, loaded_now: copy.loadedNow },
      cases: ANALYSIS_CASES.map((c, i) => {
        const row = rows[i]!;
        return {
          label: c.label,
          target_s: row.target ?? null,
          target: targetCell(row),
          duckdb: row.duckdb ?? null,
          clickhouse: row.clickhouse ?? null,
          results_equal: duck === undefined || house === undefined ? null : row.difference === undefined,
          difference: row.difference === undefined ? null : formatDifference(row.difference),
          summary: { duckdb: duck === undefined ? null : c.summary(duck[i]!.value), clickhouse: house === undefined ? null : c.summary(house[i]!.value) },
        };
      }),
      window_funnel: reference ?? null,
    };
    const json = join(dataDir, `analysis-bench-${n}.json`);
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`  figures written to ${json}`);
  }
  return { equal };
}
