import { describe, expect, it } from 'vitest';
import type { ExportClock } from './export-clock.js';
import { RateLimiter } from './rate-limiter.js';

/** A clock that only moves when something sleeps: waits are exact and instant. */
function fakeClock(): ExportClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      await Promise.resolve();
      now += ms;
    },
  };
}

describe('rate limiter', () => {
  it('keeps every rolling limit exactly: 3 per second and 5 per 10 seconds', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ concurrency: 10, rolling: [{ limit: 3, periodMs: 1000 }, { limit: 5, periodMs: 10_000 }] }, clock, 0);
    const starts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const p = await limiter.acquire();
      starts.push(clock.now());
      p.release();
    }
    expect(starts).toEqual([0, 0, 0, 1000, 1000, 10_000, 10_000, 10_000]);
    // Any 10-second window holds at most 5 starts; any second at most 3.
    for (const s of starts) {
      expect(starts.filter((t) => t >= s && t < s + 10_000).length).toBeLessThanOrEqual(5);
      expect(starts.filter((t) => t >= s && t < s + 1000).length).toBeLessThanOrEqual(3);
    }
  });

  it('a bucket would allow 119 in the first hour; the rolling log allows 60', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ concurrency: 100, rolling: [{ limit: 60, periodMs: 3_600_000 }] }, clock, 0);
    const starts: number[] = [];
    for (let i = 0; i < 61; i++) {
      (await limiter.acquire()).release();
      starts.push(clock.now());
    }
    expect(starts.filter((t) => t < 3_600_000)).toHaveLength(60);
    expect(starts[60]).toBe(3_600_000);
  });

  it('reports the time a request waited, and pauses everyone after a Retry-After', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ concurrency: 2, rolling: [{ limit: 1, periodMs: 500 }] }, clock, 0);
    const a = await limiter.acquire();
    expect(a.waitedMs).toBe(0);
    a.release();
    const b = await limiter.acquire();
    expect(b.waitedMs).toBe(500);
    b.release();
    limiter.pauseUntil(clock.now() + 2000);
    const c = await limiter.acquire();
    expect(c.waitedMs).toBe(2000);
    c.release();
  });

  it('holds at most `concurrency` permits at once, handing slots over in order', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ concurrency: 2, rolling: [] }, clock, 0);
    const order: string[] = [];
    const first = await limiter.acquire();
    const second = await limiter.acquire();
    const third = limiter.acquire().then((p) => {
      order.push('third');
      return p;
    });
    const fourth = limiter.acquire().then((p) => {
      order.push('fourth');
      return p;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    first.release();
    first.release();
    const t = await third;
    expect(order).toEqual(['third']);
    second.release();
    (await fourth).release();
    t.release();
    expect(order).toEqual(['third', 'fourth']);
  });

  it('an aborted wait gives its slot back', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ concurrency: 1, rolling: [] }, clock, 0);
    const held = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    held.release();
    (await limiter.acquire()).release();
  });
});
