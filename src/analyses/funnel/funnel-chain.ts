/**
 * The common funnel — ordered steps with distinct event names and no exclusions — in one backward pass over a
 * unit's events, instead of one forward scan per attempt (which is quadratic for a unit with many step-1 events).
 *
 * There an event matches at most one step (its name decides), so consumption and the choice among simultaneous
 * candidates never come into play, and the state machine's attempt from a step-1 event at instant T is the greedy
 * chain: step k is the earliest step-k event at or after step k-1's instant, cut where a step falls beyond
 * T + window. Going backwards through the unit's instants, chain[k] holds the greedy chain from the earliest
 * step-k event seen so far — the earliest at or after the current instant. A step-k event at instant T starts
 * the chain [T, chain[k+1]...]; steps at the same instant are taken from the last step down, since a step at the
 * same instant as the previous one converts. The chain is not cut by the window while it is built: its times
 * never decrease, so an attempt reaches exactly the leading steps within T + window.
 *
 * A differential test (funnel-engines.test.ts) checks this against the state machine on random data.
 */
import type { FunnelDefinition } from './funnel-definition.js';
import type { AttemptRules } from './funnel-attempts.js';
import type { FoundAttempt, UnitEvents } from './funnel-unit-events.js';

/** True when the backward chain gives exactly the state machine's answer for this definition. */
export function chainApplies(def: FunnelDefinition): boolean {
  const names = def.steps.map((s) => s.event);
  return def.order === 'ordered' && def.exclusions.length === 0 && new Set(names).size === names.length;
}

/** Reusable scratch for one funnel's units. */
export class ChainScratch {
  /** chain[k * n + j]: instant of step j in the chain from step k (NaN: none). */
  readonly chain: Float64Array;
  readonly best: Float64Array;

  constructor(readonly stepCount: number) {
    this.chain = new Float64Array(stepCount * stepCount);
    this.best = new Float64Array(stepCount);
  }
}

/**
 * The unit's best attempt (attempts: best — furthest, then earliest; attempts: first — the first in-range
 * step-1 event), or undefined when no step-1 event lies in the range. `events` are in (time, event id) order
 * and each matches at most one step.
 */
export function chainAttempt(events: UnitEvents, rules: Pick<AttemptRules, 'stepCount' | 'windowUs' | 'attempts'>, scratch: ChainScratch): FoundAttempt | undefined {
  const n = rules.stepCount;
  const { chain, best } = scratch;
  const { t, steps, inRange } = events;
  const { windowUs } = rules;
  const first = rules.attempts === 'first';
  chain.fill(NaN);
  let bestStart = -1;
  let bestReached = 0;
  for (let end = events.n; end > 0; ) {
    const instant = t[end - 1]!;
    let start = end - 1;
    let present = steps[start]!;
    while (start > 0 && t[start - 1] === instant) present |= steps[--start]!;
    // The steps present at this instant, from the last down.
    for (let bits = present; bits !== 0; ) {
      const k = 31 - Math.clz32(bits);
      bits ^= 1 << k;
      const row = k * n;
      chain[row + k] = instant;
      // From the next step's chain as it stands, this instant included (at or after).
      for (let j = k + 1; j < n; j++) chain[row + j] = chain[row + n + j]!;
    }
    if ((present & 1) !== 0) {
      // The first in-range step-1 event of the instant stands for all of them: they share one chain, and the
      // first (by event id) is the one whose breakdown counts.
      let starter = -1;
      for (let i = start; i < end && starter < 0; i++) if ((steps[i]! & 1) !== 0 && inRange[i] === 1) starter = i;
      if (starter >= 0) {
        const limit = instant + windowUs;
        let reached = 1;
        // NaN (no such step) compares false.
        while (reached < n && chain[reached]! <= limit) reached++;
        // Going backwards, `>=` keeps the earliest among equally far attempts; with attempts: first the last
        // one seen is the first attempt.
        if (first || reached >= bestReached) {
          bestStart = starter;
          bestReached = reached;
          for (let j = 0; j < reached; j++) best[j] = chain[j]!;
        }
      }
    }
    end = start;
  }
  return bestStart < 0 ? undefined : { start: bestStart, reached: bestReached, times: best };
}
