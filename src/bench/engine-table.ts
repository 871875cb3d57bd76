/**
 * The analysis bench's side-by-side output: which engines to run (BENCH_ENGINES) and the one table of every
 * benchmark on both engines, as a Markdown table so a run can be pasted into docs/performance.md as printed.
 */
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { WarehouseEngine } from '../analyses/analysis-kind.js';
import { formatDifference, type ResultDifference } from './result-diff.js';

/** BENCH_ENGINES: duckdb, clickhouse or both (default both). */
export function benchEngines(value: string | undefined): WarehouseEngine[] {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'both') return ['duckdb', 'clickhouse'];
  if (v === 'duckdb' || v === 'clickhouse') return [v];
  throw new UsageLabError('bench_engines_invalid', `BENCH_ENGINES=${value} is not an engine choice`, {
    hint: 'set BENCH_ENGINES to duckdb, clickhouse or both (the default)',
    exitCode: EXIT.usage,
  });
}

/** Median wall and CPU seconds of the warm runs, and the cold (first) run's wall time. */
export interface EngineTiming {
  wall: number;
  cpu: number;
  cold: number;
}

export interface EngineRow {
  label: string;
  /** The DuckDB target in seconds of wall time at this size, if the case has one. */
  target?: number;
  duckdb?: EngineTiming;
  clickhouse?: EngineTiming;
  /** Only when both engines ran: undefined = equal results. */
  difference?: ResultDifference;
}

const seconds = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(3));

/** "≤ 0.5 s", with MISSED when the DuckDB median is over it; the target is DuckDB's, so chDB never misses it. */
export function targetCell(row: EngineRow): string {
  if (row.target === undefined) return '—';
  const missed = row.duckdb !== undefined && row.duckdb.wall > row.target;
  return `≤ ${row.target} s${missed ? ' MISSED' : ''}`;
}

export function equalCell(row: EngineRow): string {
  if (row.duckdb === undefined || row.clickhouse === undefined) return 'not compared';
  return row.difference === undefined ? 'yes' : `**NO**: ${formatDifference(row.difference)}`;
}

export const HEADER = ['benchmark', 'DuckDB s', 'DuckDB CPU s', 'chDB s', 'chDB CPU s', 'target (DuckDB)', 'results equal'];

/** The table, columns padded; numeric columns aligned right. */
export function formatEngineTable(rows: readonly EngineRow[]): string {
  const cells = rows.map((r) => [
    r.label,
    seconds(r.duckdb?.wall),
    seconds(r.duckdb?.cpu),
    seconds(r.clickhouse?.wall),
    seconds(r.clickhouse?.cpu),
    targetCell(r),
    equalCell(r),
  ]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numeric = (i: number): boolean => i >= 1 && i <= 4;
  const line = (c: readonly string[]): string => `| ${c.map((x, i) => (numeric(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(HEADER), rule, ...cells.map(line)].join('\n');
}
