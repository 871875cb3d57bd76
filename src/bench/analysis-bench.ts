/**
 * The analysis benchmarks of `npm run bench` (docs/performance.md): on a generated warehouse of
 * BENCH_ANALYSIS_EVENTS events (default 10,000,000; a comma list runs several sizes, e.g. 10000000,100000000),
 * each analysis is run once to warm up and then three times; the median is reported against its target.
 * The 4-step funnel is also run as ClickHouse windowFunnel on chDB over the same events.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { AnalysisKind } from '../analyses/analysis-kind.js';
import { funnelAnalysis } from '../analyses/funnel/funnel-analysis.js';
import { pathsAnalysis } from '../analyses/paths/paths-analysis.js';
import { retentionAnalysis } from '../analyses/retention/retention-analysis.js';
import { frictionAnalysis } from '../analyses/friction/friction-analysis.js';
import { adoptionAnalysis } from '../analyses/adoption/adoption-analysis.js';
import { parseFeatureCatalog } from '../analyses/adoption/feature-catalog.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { BENCH_FUNNEL_STEPS, generateAnalysisWarehouse } from './analysis-warehouse.js';
import { ChdbReference, exportForChdb, type ChdbFunnelReference } from './chdb-reference.js';

interface BenchCase {
  label: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each case pairs a kind with its own definition
  kind: AnalysisKind<any, any>;
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
    definition: { kind: 'funnel', name: 'bench', steps: BENCH_FUNNEL_STEPS, window: `${FUNNEL_WINDOW_DAYS}d` },
    options: { nextEvents: false },
    target: (n) => (n <= 10_000_000 ? 0.5 : n <= 100_000_000 ? 5 : undefined),
    summary: (r) => (r as { steps: { count: number }[] }).steps.map((s) => s.count).join(' → '),
  },
  {
    label: '4-step funnel + next events of dropped people',
    kind: funnelAnalysis,
    definition: { kind: 'funnel', name: 'bench', steps: BENCH_FUNNEL_STEPS, window: `${FUNNEL_WINDOW_DAYS}d` },
    target: () => undefined,
    summary: (r) => `${(r as { dropped: unknown[] }).dropped.length} drop-off lists`,
  },
  {
    label: '8-week retention (signup → any event)',
    kind: retentionAnalysis,
    definition: { kind: 'retention', name: 'bench', target: 'signup', returning: '$any', interval: 'week', intervals: 8 },
    target: (n) => (n <= 10_000_000 ? 1 : undefined),
    summary: (r) => `${(r as { cohorts: unknown[] }).cohorts.length} cohorts`,
  },
  {
    label: 'top paths (pages, depth 5, all sessions)',
    kind: pathsAnalysis,
    definition: { kind: 'paths', name: 'bench' },
    target: () => undefined,
    summary: (r) => `${(r as { sessions: { with_path: number } }).sessions.with_path} sessions with a path`,
  },
  {
    label: 'friction hotspots (30 days vs previous 30)',
    kind: frictionAnalysis,
    definition: { kind: 'friction', name: 'bench', date_range: { from: '2024-02-01', to: '2024-03-01' } },
    target: () => undefined,
    summary: (r) => `${(r as { hotspots: unknown[] }).hotspots.length} hotspots`,
  },
  {
    label: 'feature adoption (3 features, weekly retention)',
    kind: adoptionAnalysis,
    definition: { kind: 'adoption', name: 'bench' },
    options: { catalog: BENCH_CATALOG },
    target: () => undefined,
    summary: (r) => (r as { features: { class: string }[] }).features.map((f) => f.class).join(', '),
  },
];

const loadAverage = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');

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

/** "faster" or "SLOWER" with the ratio, never rounding a loss into a win. */
const versus = (ours: number, theirs: number): string => `${(theirs / ours).toFixed(2)}× ${ours < theirs ? 'faster' : 'SLOWER'}`;

export async function runAnalysisBench(root: string): Promise<void> {
  const sizes = (process.env.BENCH_ANALYSIS_EVENTS ?? '10000000').split(',').map(Number);
  const dataDir = resolve(root, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  for (const n of sizes) {
    const file = join(dataDir, `analysis-${n}.duckdb`);
    if (!existsSync(file)) {
      const g = await timed(() => generateAnalysisWarehouse(file, n));
      console.log(`  generated ${file} in ${g.seconds.toFixed(1)} s`);
    }
    console.log(`\nanalysis benchmark: ${n.toLocaleString('en-US')} events (warm; median of 3 runs; wall and CPU time; load ${loadAverage()})`);
    const session = await DuckdbSession.open({ path: file });
    let funnel: { seconds: number; cpu: number } | undefined;
    try {
      for (const c of ANALYSIS_CASES) {
        const definition = c.kind.parse({ ...c.definition, exclude: [] });
        const run = (): Promise<unknown> => c.kind.run(session, definition, { timezone: 'UTC', ...(c.options ?? {}) });
        const warm = await timed(run);
        const runs = [await timed(run), await timed(run), await timed(run)];
        const seconds = median(runs.map((r) => r.seconds));
        const cpu = median(runs.map((r) => r.cpu));
        if (c === ANALYSIS_CASES[0]) funnel = { seconds, cpu };
        const target = c.target(n);
        console.log(
          `  ${c.label.padEnd(48)} ${seconds.toFixed(3).padStart(7)} s${target === undefined ? '' : ` (target ≤ ${target} s${seconds > target ? ', MISSED' : ''})`}` +
            `  cpu ${cpu.toFixed(3)} s  cold ${warm.seconds.toFixed(2)} s  ${c.summary(runs[0]!.value)}`,
        );
      }
    } finally {
      session.close();
    }

    const parquet = join(dataDir, `analysis-${n}-funnel-events.parquet`);
    await exportForChdb(file, parquet);
    const chDir = join(dataDir, `chdb-${n}`);
    ChdbReference.reset(chDir);
    const ch = new ChdbReference(chDir);
    try {
      const load = await timed(() => ch.load(parquet));
      const run = (): Promise<{ seconds: number; cpu: number; value: ChdbFunnelReference }> => timed(() => ch.funnel(BENCH_FUNNEL_STEPS, FUNNEL_WINDOW_DAYS * 86_400));
      await run();
      const runs = [await run(), await run(), await run()];
      const seconds = median(runs.map((r) => r.seconds));
      const cpu = median(runs.map((r) => r.cpu));
      console.log(
        `  ${'same funnel, ClickHouse windowFunnel on chDB'.padEnd(48)} ${seconds.toFixed(3).padStart(7)} s  cpu ${cpu.toFixed(3)} s  (load ${load.seconds.toFixed(1)} s)  ${runs[0]!.value.levels.join(' → ')}` +
          (funnel === undefined ? '' : `\n  → usagelab is ${versus(funnel.seconds, seconds)} in wall time, ${versus(funnel.cpu, cpu)} in CPU time`),
      );
    } finally {
      ch.close();
    }
  }
}
