/**
 * Prints an analysis result in the format asked for: the documented JSON (--json), CSV (--csv) or a readable
 * table. Each kind supplies its table and CSV rows; the choice and the writing live here.
 */
import { formatCsv } from './csv-output.js';
import { printJson, type Io } from './output.js';

export interface ResultRenderer<R> {
  /** The terminal view. */
  table(result: R): string;
  /** One flat row per line of the main table (breakdown values and steps as columns). */
  csvRows(result: R): Record<string, unknown>[];
}

export interface FormatFlags {
  json?: boolean;
  csv?: boolean;
}

export function printResult<R>(io: Io, result: R, renderer: ResultRenderer<R>, flags: FormatFlags): void {
  if (flags.json === true) printJson(io, result);
  else if (flags.csv === true) io.stdout(formatCsv(renderer.csvRows(result)));
  else io.stdout(renderer.table(result));
}

/** 0.1234 → "12.3%"; null → "". */
export const percent = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? '' : `${(v * 100).toFixed(digits)}%`);

/** Seconds as a short duration: 45 s, 12.5 min, 3.2 h, 2.1 d. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}
