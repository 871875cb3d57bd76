/**
 * The per-unit funnel state machine: given one unit's relevant events in (time, event_id) order, find its best
 * attempt. Exact semantics (docs/analyses.md#funnel):
 *
 * - An attempt starts at a step-1 event inside the date range; the window (inclusive) is measured from it.
 * - ordered: step k is the earliest event matching step k at or after step k-1's instant (same instant
 *   converts), other events allowed between; each step consumes its own event.
 * - strict: as ordered, and no other event of the unit lies strictly between two consecutive steps' instants.
 * - unordered: an attempt starts at any step event in the range; it reaches k when k distinct steps are matched
 *   by k distinct events within the window (a maximum matching, earliest events preferred).
 * - An exclusion between steps i and j drops the attempt when a matching event lies strictly after step i's
 *   instant and strictly before step j's (or, when step j was not reached, up to the window's end inclusive).
 * - The best attempt reaches the furthest step; among equals, the earliest wins. With attempts: first, only the
 *   unit's first attempt that starts in range counts (an excluded first attempt leaves the unit out).
 *
 * Runs use faster ports of these rules over typed arrays (funnel-unit-machine.ts, funnel-chain.ts); this plain
 * version is the reference the differential test (funnel-engines.test.ts) holds them to, and engine:
 * 'state-machine' runs it. A change of semantics goes here first, then into the ports.
 */

export type AttemptOrder = 'ordered' | 'strict' | 'unordered';

export interface UnitEvent {
  /** Epoch microseconds (exact: < 2^53 until year 2255). */
  readonly t: number;
  /** Bit k-1 set ⇔ matches step k. */
  readonly steps: number;
  /** Bit x set ⇔ matches exclusion x (0-based). */
  readonly exclusions: number;
  /** May start an attempt (inside the date range). */
  readonly inRange: boolean;
  readonly breakdown: string | null;
}

export interface AttemptExclusion {
  /** 1-based steps: the excluded event must fall between step `from` and step `to`. */
  readonly from: number;
  readonly to: number;
}

export interface AttemptRules {
  readonly stepCount: number;
  readonly windowUs: number;
  readonly order: AttemptOrder;
  /** Index x here is bit x of UnitEvent.exclusions. */
  readonly exclusions: readonly AttemptExclusion[];
  /** best: the furthest attempt counts; first: only the unit's first attempt starting in range (Mixpanel uniques). */
  readonly attempts: 'best' | 'first';
}

export interface UnitOutcome {
  /** Number of steps reached (≥ 1). */
  readonly reached: number;
  /** Instant (epoch µs) of each reached step, in step order (unordered: in time order); `reached` entries are read. */
  readonly times: ArrayLike<number>;
  /** Breakdown value of the attempt's first event. */
  readonly breakdown: string | null;
}

/** The index of the first event at the same instant as each event (events are time-sorted). */
function firstOfInstant(events: readonly UnitEvent[]): Int32Array {
  const first = new Int32Array(events.length);
  for (let i = 0; i < events.length; i++) first[i] = i > 0 && events[i - 1]!.t === events[i]!.t ? first[i - 1]! : i;
  return first;
}

interface Attempt {
  indices: number[];
  times: number[];
}

function orderedAttempt(events: readonly UnitEvent[], first: Int32Array, start: number, rules: AttemptRules): Attempt {
  const indices = [start];
  const times = [events[start]!.t];
  const limit = events[start]!.t + rules.windowUs;
  const all = 2 ** rules.stepCount - 1;
  for (let k = 2; k <= rules.stepCount; k++) {
    const bit = 2 ** (k - 1);
    const later = all - (2 ** k - 1);
    const prev = indices[indices.length - 1]!;
    const prevT = events[prev]!.t;
    let cand = -1;
    for (let j = first[prev]!; j < events.length && events[j]!.t <= limit; j++) {
      const ev = events[j]!;
      if (cand >= 0 && ev.t > events[cand]!.t) break;
      if ((ev.steps & bit) === 0 || indices.includes(j)) continue;
      // Among simultaneous candidates, keep one that no later step needs.
      if (cand < 0 || ((events[cand]!.steps & later) !== 0 && (ev.steps & later) === 0)) cand = j;
    }
    if (cand < 0) break;
    const candT = events[cand]!.t;
    if (rules.order === 'strict' && candT > prevT) {
      let interrupted = false;
      for (let j = first[prev]!; j < events.length && events[j]!.t < candT; j++) {
        if (events[j]!.t > prevT) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
    }
    indices.push(cand);
    times.push(candT);
  }
  return { indices, times };
}

function excluded(events: readonly UnitEvent[], exclusionIdx: readonly number[], attempt: Attempt, rules: AttemptRules): boolean {
  const reached = attempt.times.length;
  const limit = attempt.times[0]! + rules.windowUs;
  for (let x = 0; x < rules.exclusions.length; x++) {
    const { from, to } = rules.exclusions[x]!;
    if (reached < from) continue;
    const lo = attempt.times[from - 1]!;
    const reachedTo = reached >= to;
    const hi = reachedTo ? attempt.times[to - 1]! : limit;
    const bit = 2 ** x;
    for (const j of exclusionIdx) {
      const ev = events[j]!;
      if ((ev.exclusions & bit) === 0 || ev.t <= lo) continue;
      if (reachedTo ? ev.t < hi : ev.t <= hi) return true;
    }
  }
  return false;
}

/** Kuhn's augmenting path: can event j take a step, possibly moving other events to other steps? */
function augment(events: readonly UnitEvent[], j: number, owner: Int32Array, seen: Uint8Array, stepCount: number): boolean {
  const mask = events[j]!.steps;
  for (let s = 0; s < stepCount; s++) {
    if ((mask & (2 ** s)) === 0 || seen[s] === 1) continue;
    seen[s] = 1;
    if (owner[s] === -1 || augment(events, owner[s]!, owner, seen, stepCount)) {
      owner[s] = j;
      return true;
    }
  }
  return false;
}

/** Scratch buffers for the matching, reused across a unit's attempts. */
interface Matching {
  owner: Int32Array;
  seen: Uint8Array;
}

function unorderedAttempt(events: readonly UnitEvent[], first: Int32Array, start: number, rules: AttemptRules, m: Matching): Attempt {
  const n = rules.stepCount;
  for (let s = 0; s < n; s++) m.owner[s] = -1;
  const limit = events[start]!.t + rules.windowUs;
  let matched = 0;
  // The anchor first, then the rest in time order: a greedy basis of the transversal matroid, so the anchor is
  // always matched and the matched events are the earliest possible.
  for (let j = start, next = first[start]!; matched < n; ) {
    if (events[j]!.steps !== 0) {
      for (let s = 0; s < n; s++) m.seen[s] = 0;
      if (augment(events, j, m.owner, m.seen, n)) matched++;
    }
    if (next === start) next++;
    if (next >= events.length || events[next]!.t > limit) break;
    j = next++;
  }
  const indices: number[] = [];
  for (let s = 0; s < n; s++) if (m.owner[s]! >= 0) indices.push(m.owner[s]!);
  indices.sort((a, b) => events[a]!.t - events[b]!.t || a - b);
  return { indices, times: indices.map((j) => events[j]!.t) };
}

/** The unit's best attempt, or undefined when no attempt starts in range (or every attempt was excluded). */
export function bestAttempt(events: readonly UnitEvent[], rules: AttemptRules): UnitOutcome | undefined {
  const first = firstOfInstant(events);
  const exclusionIdx: number[] = [];
  if (rules.exclusions.length > 0) events.forEach((ev, j) => ev.exclusions !== 0 && exclusionIdx.push(j));
  const matching: Matching = { owner: new Int32Array(rules.stepCount), seen: new Uint8Array(rules.stepCount) };
  let best: { attempt: Attempt; start: number } | undefined;
  for (let start = 0; start < events.length; start++) {
    const ev = events[start]!;
    if (!ev.inRange) continue;
    let attempt: Attempt;
    if (rules.order === 'unordered') {
      if (ev.steps === 0) continue;
      attempt = unorderedAttempt(events, first, start, rules, matching);
    } else {
      if ((ev.steps & 1) === 0) continue;
      attempt = orderedAttempt(events, first, start, rules);
      if (exclusionIdx.length > 0 && excluded(events, exclusionIdx, attempt, rules)) {
        if (rules.attempts === 'first') return undefined;
        continue;
      }
    }
    if (rules.attempts === 'first') return { reached: attempt.times.length, times: attempt.times, breakdown: ev.breakdown };
    // Attempts come in time order, so only a strictly further one replaces the best (earliest among equals).
    if (best === undefined || attempt.times.length > best.attempt.times.length) best = { attempt, start };
    if (best.attempt.times.length === rules.stepCount) break;
  }
  if (best === undefined) return undefined;
  return { reached: best.attempt.times.length, times: best.attempt.times, breakdown: events[best.start]!.breakdown };
}
