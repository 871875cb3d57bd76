/**
 * One place that prints: results to stdout (a table on a terminal, JSON with --json), progress and logs to
 * stderr, errors with code and hint (as JSON on stderr with --json). Commands never print directly. Everything
 * printed passes the secret redaction (core/secret-redaction.ts): `main` wraps whatever Io it is given.
 */
import { formatError, isUsageLabError } from '../core/errors.js';
import { EXIT, type ExitCode } from '../core/exit-codes.js';
import { redactSecrets } from '../core/secret-redaction.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is an interactive terminal (progress bars are shown only then). */
  isTTY: boolean;
}

const REDACTING = Symbol('redacting');

/** An Io whose every write is redacted of known secrets (idempotent: wrapping twice wraps once). */
export function redactingIo(io: Io): Io {
  if ((io as Io & { [REDACTING]?: true })[REDACTING] === true) return io;
  const wrapped: Io & { [REDACTING]: true } = {
    stdout: (t) => io.stdout(redactSecrets(t)),
    stderr: (t) => io.stderr(redactSecrets(t)),
    get isTTY() {
      return io.isTTY;
    },
    [REDACTING]: true,
  };
  return wrapped;
}

export const processIo: Io = redactingIo({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true && process.env.CI !== 'true',
});

/**
 * process.stderr for libraries that write to a stream themselves (cli-progress bars): the same stream, with every
 * write redacted.
 */
export const redactedStderr: NodeJS.WriteStream = new Proxy(process.stderr, {
  get(target, prop) {
    if (prop === 'write') {
      return (chunk: unknown, ...rest: unknown[]) =>
        (target.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? redactSecrets(chunk) : chunk, ...rest);
    }
    const value = Reflect.get(target, prop, target) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
});

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

/** The messages of an error's `cause` chain (what a driver or the OS said underneath), innermost last. */
export function causeChain(err: unknown): string[] {
  const out: string[] = [];
  // Compared as printed (redacted): a wrapper that only redacted its cause's message repeats it.
  let previous = redactSecrets(err instanceof Error ? err.message : String(err));
  let cause = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    const message = redactSecrets(cause instanceof Error ? cause.message : String(cause));
    // A wrapper often repeats its cause's message; say it once.
    if (message !== previous) out.push(message);
    previous = message;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}

/**
 * Prints an error (redacted: the Io given may be a test's raw one). Internal errors show their cause chain, since
 * they are the ones a bug report needs; a UsageLabError's message already says what its cause means.
 */
export function reportError(io: Io, err: unknown, json: boolean): ExitCode {
  const out = redactingIo(io);
  if (isUsageLabError(err)) {
    const internal = err.exitCode === EXIT.internal;
    const causes = internal ? causeChain(err) : [];
    if (json) out.stderr(`${JSON.stringify({ ...err.toJSON(), ...(causes.length === 0 ? {} : { causes }) })}\n`);
    else out.stderr(`${formatError(err)}\n${causes.map((c) => `  caused by: ${c}\n`).join('')}`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const causes = causeChain(e);
  out.stderr(
    json
      ? `${JSON.stringify({ error: e.message, code: 'internal_error', ...(causes.length === 0 ? {} : { causes }) })}\n`
      : `internal error: ${e.stack ?? e.message}\n${causes.map((c) => `  caused by: ${c}\n`).join('')}This is a bug in usagelab; please report it with the command you ran.\n`,
  );
  return EXIT.internal;
}
