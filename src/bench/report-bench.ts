/**
 * The report benchmark of `npm run bench` (BENCH_SUITE=report; docs/performance.md "Report"): the full monthly
 * report (every section, charts, HTML, insights) for February 2024 of the generated analysis warehouse
 * (analysis-warehouse.ts; BENCH_REPORT_EVENTS, default 10,000,000 events over January–March 2024). The warehouse
 * is copied once to bench-data/report-N.duckdb (the report's workspace migrates it; the analysis suite keeps its
 * own file) and a workspace with a saved funnel and a feature catalog is written beside it.
 *
 * Printed: wall and CPU time (user + sys of this process, DuckDB's threads included) and the load average, for a
 * cold run and BENCH_REPORT_WARM warm ones (default 3, median), with BENCH_REPORT_CONNECTIONS connections side by side (default: the report's, half the cores); then
 * where the time goes: each analysis run's time from the moment it had a connection (with BENCH_REPORT_CONNECTIONS=1
 * runs do not overlap and each one's CPU time is printed too), and the chart rendering.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { openWorkspace } from '../library/workspace.js';
import { writeMonthlyReport } from '../reports/monthly-report.js';
import { defaultReportConnections } from '../reports/report-data.js';
import { BENCH_FUNNEL_STEPS, generateAnalysisWarehouse } from './analysis-warehouse.js';

export const REPORT_MONTH = '2024-02';
/** The issue's target for a month of a 10M-event warehouse on 2 cores. */
const TARGET_SECONDS = 20;

const FUNNEL = `kind: funnel
name: Signup to paid
steps: [${BENCH_FUNNEL_STEPS.join(', ')}]
window: 14d
breakdown: device_type
`;
const FEATURES = `features:
  - name: Export
    match: [export_report]
    signals: [{ where: { page_path: /reports/:id/export } }]
  - name: Team invites
    match: [invite_teammate, { page: /team/invite }]
  - name: Integrations
    match: [{ page: /integrations }]
`;

/** The bench workspace: usagelab.yaml pointing at the copied warehouse, a saved funnel, a feature catalog. */
export function writeBenchWorkspace(dir: string, warehouse: string): void {
  rmSync(join(dir, 'reports'), { recursive: true, force: true });
  mkdirSync(join(dir, 'queries'), { recursive: true });
  writeFileSync(
    join(dir, 'usagelab.yaml'),
    `version: 1\nproject:\n  name: Bench product\ntimezone: UTC\nwarehouse:\n  engine: duckdb\n  path: ${JSON.stringify(warehouse)}\n  memory_limit: 2GB\n`,
  );
  writeFileSync(join(dir, 'queries', 'activation-funnel.yaml'), FUNNEL);
  writeFileSync(join(dir, 'queries', 'features.yaml'), FEATURES);
}

interface Measured {
  wall: number;
  cpu: number;
  runs: { label: string; seconds: number; cpu: number }[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function runReportBench(root: string): Promise<void> {
  const n = Number(process.env.BENCH_REPORT_EVENTS ?? 10_000_000);
  const connections = process.env.BENCH_REPORT_CONNECTIONS === undefined ? defaultReportConnections() : Number(process.env.BENCH_REPORT_CONNECTIONS);
  const warmRuns = Math.max(1, Number(process.env.BENCH_REPORT_WARM ?? 3));
  const dataDir = resolve(root, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  const source = join(dataDir, `analysis-${n}.duckdb`);
  if (!existsSync(source)) {
    const started = performance.now();
    await generateAnalysisWarehouse(source, n);
    console.log(`  generated ${source} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const warehouse = join(dataDir, `report-${n}.duckdb`);
  if (!existsSync(warehouse)) copyFileSync(source, warehouse);
  const dir = join(dataDir, `report-workspace-${n}`);
  writeBenchWorkspace(dir, warehouse);

  console.log(`\nreport benchmark: ${n.toLocaleString('en-US')} events, month ${REPORT_MONTH}, ${connections} connections (load average before: ${load()})`);
  const ws = await openWorkspace(dir, { env: {} });
  try {
    const once = async (): Promise<Measured> => {
      const runs: { label: string; seconds: number; cpu: number }[] = [];
      const cpu = process.cpuUsage();
      const started = performance.now();
      await writeMonthlyReport(ws, { month: REPORT_MONTH, html: true, collect: { connections, onRun: (label, seconds, cpu) => runs.push({ label, seconds, cpu }) } });
      const used = process.cpuUsage(cpu);
      return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6, runs };
    };
    const cold = await once();
    console.log(`  cold   ${cold.wall.toFixed(1).padStart(6)} s wall  ${cold.cpu.toFixed(1).padStart(6)} s CPU  (load ${load()})`);
    const warm: Measured[] = [];
    for (let i = 0; i < warmRuns; i++) warm.push(await once());
    const mid = warm.find((w) => w.wall === median(warm.map((x) => x.wall)))!;
    console.log(`  warm   ${mid.wall.toFixed(1).padStart(6)} s wall  ${mid.cpu.toFixed(1).padStart(6)} s CPU  (median of ${warmRuns}; target ≤ ${TARGET_SECONDS} s; load ${load()})`);
    // With one connection runs do not overlap, and each one's CPU time is its own.
    const own = connections === 1;
    console.log(`  steps of that report (${mid.runs.length}; ${own ? 'one at a time' : 'analysis runs overlap: times are shared, CPU is not per run'}):`);
    for (const r of [...mid.runs].sort((a, b) => b.seconds - a.seconds)) {
      console.log(`    ${r.label.padEnd(44)} ${r.seconds.toFixed(2).padStart(7)} s wall${own ? ` ${r.cpu.toFixed(2).padStart(7)} s CPU` : ''}`);
    }
  } finally {
    ws.close();
  }
}
