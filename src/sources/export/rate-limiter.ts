/**
 * Keeps a source's documented request limits: at most N request starts in any rolling period (per second, per
 * minute, per hour), at most C requests in flight, and a pause for everyone after a 429's Retry-After.
 *
 * Rolling windows rather than token buckets: a bucket that starts full lets 60 requests out at once and then
 * refills, so "60 per hour" becomes up to 119 in the first hour; a log of start times keeps the limit exactly.
 * Starts are granted one at a time in arrival order, so the time spent waiting is wall-clock time (never
 * counted twice for concurrent waiters) and can be shown apart from transfer time.
 */
import { realClock, type ExportClock } from './export-clock.js';

export interface RollingLimit {
  readonly limit: number;
  readonly periodMs: number;
}

export interface RateLimitSpec {
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly rolling: readonly RollingLimit[];
}

/**
 * Added to every rolling period: a request reaches the vendor some milliseconds after its permit (connection
 * setup, a busy event loop), unevenly, so starts spaced exactly one period apart here can land closer there.
 */
export const DEFAULT_JITTER_MARGIN_MS = 100;

export interface Permit {
  /** Time this request waited on the rolling limits or a pause (not on the concurrency cap). */
  readonly waitedMs: number;
  release(): void;
}

export class RateLimiter {
  private readonly starts: number[] = [];
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private gate: Promise<void> = Promise.resolve();
  private pausedUntil = 0;
  private readonly longestPeriod: number;

  private readonly rolling: readonly RollingLimit[];

  constructor(
    readonly spec: RateLimitSpec,
    private readonly clock: ExportClock = realClock,
    marginMs: number = DEFAULT_JITTER_MARGIN_MS,
  ) {
    if (spec.concurrency < 1) throw new Error('concurrency must be at least 1');
    this.rolling = spec.rolling.map((r) => ({ limit: r.limit, periodMs: r.periodMs + marginMs }));
    this.longestPeriod = Math.max(0, ...this.rolling.map((r) => r.periodMs));
  }

  /** Everyone waits until `at` (a 429's Retry-After applies to the whole source, not one request). */
  pauseUntil(at: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, at);
  }

  /** Waits for a concurrency slot, then for the rolling limits; the permit must be released. */
  async acquire(signal?: AbortSignal): Promise<Permit> {
    await this.takeSlot(signal);
    let waitedMs = 0;
    const turn = this.gate.then(async () => {
      waitedMs = await this.waitForStart(signal);
    });
    // The next caller queues behind this one whether it succeeds or not.
    this.gate = turn.catch(() => undefined);
    try {
      await turn;
    } catch (err) {
      this.releaseSlot();
      throw err;
    }
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.releaseSlot();
      },
    };
  }

  /** When the next start would be allowed (now or later). */
  nextStartAt(now: number): number {
    let at = Math.max(now, this.pausedUntil);
    for (const r of this.rolling) {
      const inPeriod = this.starts.filter((t) => t > now - r.periodMs);
      if (inPeriod.length >= r.limit) at = Math.max(at, inPeriod[inPeriod.length - r.limit]! + r.periodMs);
    }
    return at;
  }

  private async waitForStart(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      const at = this.nextStartAt(now);
      if (at <= now) {
        this.starts.push(now);
        while (this.starts.length > 0 && this.starts[0]! <= now - this.longestPeriod) this.starts.shift();
        return waited;
      }
      await this.clock.sleep(at - now, signal);
      waited += this.clock.now() - now;
    }
  }

  private async takeSlot(signal?: AbortSignal): Promise<void> {
    if (this.inFlight < this.spec.concurrency) {
      this.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.slotWaiters.indexOf(grant);
        if (i >= 0) this.slotWaiters.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.slotWaiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    // The slot passes straight to the next waiter; inFlight stays the same.
    if (next !== undefined) next();
    else this.inFlight -= 1;
  }
}
