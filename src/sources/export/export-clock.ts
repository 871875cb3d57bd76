/**
 * Time as the export machinery sees it: injectable, so tests run retries, backoff and rate limits in
 * milliseconds (or on a fake clock) instead of the documented minutes and hours.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface ExportClock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: ExportClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (ms <= 0) return;
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  },
};
