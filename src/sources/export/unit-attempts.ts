/**
 * The attempts at one unit of an export (a time window, or a Heap sync), shared by both run kinds: retryable
 * failures back off with full jitter and try again; a failure that stops the run (bad credentials, a usage error, a
 * bug) stops every unit; any other failure is recorded against the unit and the run goes on.
 */
import { EXIT } from '../../core/exit-codes.js';
import { isUsageLabError, type UsageLabError } from '../../core/errors.js';
import { fullJitterDelay, type BackoffPolicy } from './backoff.js';
import type { ExportClock } from './export-clock.js';
import type { ProgressTracker } from './export-progress.js';

/** Errors no retry or other unit can get past: the whole run stops. */
export function stopsTheRun(err: unknown): boolean {
  if (!isUsageLabError(err)) return true;
  return err.exitCode === EXIT.auth || err.exitCode === EXIT.usage || err.exitCode === EXIT.internal;
}

export interface UnitAttempts {
  readonly label: string;
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  readonly random: (() => number) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly tracker: ProgressTracker;
  readonly clock: ExportClock;
  /** Whether the run has stopped (checked before each attempt). */
  stopped(): boolean;
  /** Stops the run with this error (the first one wins). */
  stop(err: unknown): void;
  fetch(): Promise<void>;
  recordFailure(err: UsageLabError): Promise<void>;
}

export async function attemptUnit(u: UnitAttempts): Promise<void> {
  u.tracker.windowStarted(u.label);
  for (let attempt = 1; ; attempt++) {
    if (u.stopped()) return;
    try {
      await u.fetch();
      u.tracker.windowFinished(u.label, true);
      return;
    } catch (err) {
      if (stopsTheRun(err)) {
        u.stop(err);
        u.tracker.windowFinished(u.label, false);
        return;
      }
      const e = err as UsageLabError;
      if (e.retryable && attempt < u.attempts) {
        u.tracker.addRetry();
        const before = u.clock.now();
        await u.clock.sleep(fullJitterDelay(attempt, u.backoff, u.random), u.signal);
        u.tracker.addWait('backoff', u.clock.now() - before);
        continue;
      }
      await u.recordFailure(e);
      u.tracker.windowFinished(u.label, false);
      return;
    }
  }
}
