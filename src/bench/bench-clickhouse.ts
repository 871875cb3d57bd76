/**
 * The ClickHouse side of the analysis bench: the generated DuckDB warehouse copied into ClickHouse on chDB by
 * `usagelab migrate --to clickhouse` (migrateToClickhouse), so the load timed is the load users run. The copy is
 * a bench workspace in bench-data/analysis-N-vV-clickhouse/ (usagelab.yaml with url chdb:///…/chdb), keyed by
 * size and generator version. `loaded.json` is written once the migration has finished; without it the
 * migration runs (it is resumable: a half-done copy gets only what is missing).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../core/config-load.js';
import { migrateToClickhouse } from '../library/migrate-warehouse.js';
import type { ClickhouseExecutor } from '../warehouse/clickhouse/clickhouse-executor.js';
import { openClickhouse } from '../warehouse/clickhouse/clickhouse-warehouse.js';
import { ANALYSIS_DATA_VERSION } from './analysis-warehouse.js';

/** What loading took, as recorded when the copy was made (cached runs report the recorded figures). */
export interface ClickhouseLoad {
  events: number;
  generator_version: number;
  rows_sent: number;
  wall_s: number;
  cpu_s: number;
  load_average: number[];
  loaded_at: string;
}

export interface BenchClickhouse {
  workspace: string;
  load: ClickhouseLoad;
  /** False when an earlier run's copy was used. */
  loadedNow: boolean;
}

export function benchClickhouseDir(dataDir: string, events: number): string {
  return join(dataDir, `analysis-${events}-v${ANALYSIS_DATA_VERSION}-clickhouse`);
}

function readLoad(file: string): ClickhouseLoad | undefined {
  if (!existsSync(file)) return undefined;
  const load = JSON.parse(readFileSync(file, 'utf8')) as ClickhouseLoad;
  return load.generator_version === ANALYSIS_DATA_VERSION ? load : undefined;
}

/** The chDB copy of `duckdbFile` (N events), migrated now unless an earlier run finished it. */
export async function ensureBenchClickhouse(dataDir: string, duckdbFile: string, events: number, loadAverage: () => number[]): Promise<BenchClickhouse> {
  const workspace = benchClickhouseDir(dataDir, events);
  const data = join(workspace, 'chdb');
  const marker = join(workspace, 'loaded.json');
  mkdirSync(workspace, { recursive: true });
  // Written on every run: the url is absolute, and the checkout may have moved since the copy was made.
  const url = pathToFileURL(data).href.replace(/^file:/, 'chdb:');
  writeFileSync(join(workspace, 'usagelab.yaml'), `version: 1\nproject:\n  name: Bench product\ntimezone: UTC\nwarehouse:\n  engine: clickhouse\n  url: ${JSON.stringify(url)}\n  database: usagelab\n`);
  const cached = existsSync(data) ? readLoad(marker) : undefined;
  if (cached !== undefined && cached.events === events) return { workspace, load: cached, loadedNow: false };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await migrateToClickhouse(workspace, { from: duckdbFile, env: {} });
  const used = process.cpuUsage(cpu);
  const load: ClickhouseLoad = {
    events,
    generator_version: ANALYSIS_DATA_VERSION,
    rows_sent: result.rows_sent,
    wall_s: (performance.now() - started) / 1000,
    cpu_s: (used.user + used.system) / 1e6,
    load_average: loadAverage(),
    loaded_at: new Date().toISOString(),
  };
  writeFileSync(marker, `${JSON.stringify(load, null, 2)}\n`);
  return { workspace, load, loadedNow: true };
}

/** The copy's ClickHouse, opened as a workspace with warehouse.engine clickhouse opens it. */
export function openBenchClickhouse(workspace: string): Promise<ClickhouseExecutor> {
  return openClickhouse(loadConfig(workspace, {}).config);
}
