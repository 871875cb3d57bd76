/**
 * USAGELAB_TRACE=1 logs every statement slower than USAGELAB_TRACE_MS (default 200 ms) to stderr, secrets
 * redacted: to see where an import, an analysis or a report spends its time.
 */
import { redactSecrets } from './secret-redaction.js';

const TRACE = process.env.USAGELAB_TRACE === '1';
const TRACE_MS = Number(process.env.USAGELAB_TRACE_MS ?? 200);

/** Logs `sql` when tracing is on and it ran for at least the threshold since `started` (Date.now()). */
export function traceStatement(sql: string, started: number): void {
  if (TRACE && Date.now() - started >= TRACE_MS) process.stderr.write(redactSecrets(`[trace] ${Date.now() - started} ms: ${sql.replace(/\s+/g, ' ').slice(0, 160)}\n`));
}

/** Logs that a step of a longer job (a demo's generation, one of its workers) took since `started` (Date.now()). */
export function traceStep(label: string, started: number): void {
  if (TRACE) process.stderr.write(`[trace] ${Date.now() - started} ms: ${label}\n`);
}
