/**
 * One place that prints: results to stdout (a table on a terminal, JSON with --json), progress and logs to
 * stderr, errors with code and hint (as JSON on stderr with --json). Commands never print directly.
 */
import { formatError, isUsageLabError } from '../core/errors.js';
import { EXIT, type ExitCode } from '../core/exit-codes.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is an interactive terminal (progress bars are shown only then). */
  isTTY: boolean;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true && process.env.CI !== 'true',
};

export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain-text table: right-aligned numbers, left-aligned text. */
export function formatTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const numeric = cols.map((_c, i) => rows.every((r) => typeof r[cols[i]!] === 'number' || /^-?[\d.,]+%?$/.test(formatCell(r[cols[i]!]))));
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function reportError(io: Io, err: unknown, json: boolean): ExitCode {
  if (isUsageLabError(err)) {
    io.stderr(json ? `${JSON.stringify(err.toJSON())}\n` : `${formatError(err)}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.stderr(json ? `${JSON.stringify({ error: e.message, code: 'internal_error' })}\n` : `internal error: ${e.stack ?? e.message}\nThis is a bug in usagelab; please report it with the command you ran.\n`);
  return EXIT.internal;
}
