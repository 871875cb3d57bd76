/**
 * The funnel state machine of funnel-attempts.ts over typed arrays (funnel-unit-events.ts): the same rules,
 * statement for statement, with the per-attempt arrays and objects replaced by reusable scratch buffers. This is
 * the engine for everything the backward chain (funnel-chain.ts) does not cover — strict and unordered steps,
 * exclusions, steps sharing an event name. funnel-attempts.ts stays as the plain reference that the
 * differential test (funnel-engines.test.ts) holds this one to.
 */
import type { AttemptRules } from './funnel-attempts.js';
import type { FoundAttempt, UnitEvents } from './funnel-unit-events.js';

/** Reusable buffers for one funnel's units. */
export class MachineScratch {
  /** Index of the first event at the same instant as each event. */
  first = new Int32Array(64);
  /** Events with an exclusion bit. */
  exclusionIdx = new Int32Array(64);
  /** The current attempt's event per step, in step order (unordered: sorted by time at the end). */
  readonly idx: Int32Array;
  readonly bestTimes: Float64Array;
  /** Unordered matching: owner[s] = event filling step s (-1: none); seen[s] during one augmenting search. */
  readonly owner: Int32Array;
  readonly seen: Uint8Array;

  constructor(readonly stepCount: number) {
    this.idx = new Int32Array(stepCount);
    this.bestTimes = new Float64Array(stepCount);
    this.owner = new Int32Array(stepCount);
    this.seen = new Uint8Array(stepCount);
  }

  grow(n: number): void {
    if (n <= this.first.length) return;
    const size = Math.max(n, this.first.length * 2);
    this.first = new Int32Array(size);
    this.exclusionIdx = new Int32Array(size);
  }
}

/** Fills m.idx with the ordered (or strict) attempt from `start`; returns the number of steps reached. */
function orderedAttempt(ev: UnitEvents, start: number, rules: AttemptRules, m: MachineScratch): number {
  const { t, steps } = ev;
  const { first, idx } = m;
  const n = ev.n;
  idx[0] = start;
  let reached = 1;
  const limit = t[start]! + rules.windowUs;
  const all = 2 ** rules.stepCount - 1;
  for (let k = 2; k <= rules.stepCount; k++) {
    const bit = 2 ** (k - 1);
    const later = all - (2 ** k - 1);
    const prev = idx[reached - 1]!;
    const prevT = t[prev]!;
    let cand = -1;
    for (let j = first[prev]!; j < n && t[j]! <= limit; j++) {
      if (cand >= 0 && t[j]! > t[cand]!) break;
      if ((steps[j]! & bit) === 0 || taken(idx, reached, j)) continue;
      // Among simultaneous candidates, keep one that no later step needs.
      if (cand < 0 || ((steps[cand]! & later) !== 0 && (steps[j]! & later) === 0)) cand = j;
    }
    if (cand < 0) break;
    const candT = t[cand]!;
    if (rules.order === 'strict' && candT > prevT) {
      let interrupted = false;
      for (let j = first[prev]!; j < n && t[j]! < candT; j++) {
        if (t[j]! > prevT) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
    }
    idx[reached++] = cand;
  }
  return reached;
}

function taken(idx: Int32Array, count: number, j: number): boolean {
  for (let i = 0; i < count; i++) if (idx[i] === j) return true;
  return false;
}

function excluded(ev: UnitEvents, exclusionCount: number, reached: number, rules: AttemptRules, m: MachineScratch): boolean {
  const { t, exclusions } = ev;
  const { idx, exclusionIdx } = m;
  const limit = t[idx[0]!]! + rules.windowUs;
  for (let x = 0; x < rules.exclusions.length; x++) {
    const { from, to } = rules.exclusions[x]!;
    if (reached < from) continue;
    const lo = t[idx[from - 1]!]!;
    const reachedTo = reached >= to;
    const hi = reachedTo ? t[idx[to - 1]!]! : limit;
    const bit = 2 ** x;
    for (let e = 0; e < exclusionCount; e++) {
      const j = exclusionIdx[e]!;
      if ((exclusions[j]! & bit) === 0 || t[j]! <= lo) continue;
      if (reachedTo ? t[j]! < hi : t[j]! <= hi) return true;
    }
  }
  return false;
}

/** Kuhn's augmenting path: can event j take a step, possibly moving other events to other steps? */
function augment(steps: Int32Array, j: number, owner: Int32Array, seen: Uint8Array, stepCount: number): boolean {
  const mask = steps[j]!;
  for (let s = 0; s < stepCount; s++) {
    if ((mask & (2 ** s)) === 0 || seen[s] === 1) continue;
    seen[s] = 1;
    if (owner[s] === -1 || augment(steps, owner[s]!, owner, seen, stepCount)) {
      owner[s] = j;
      return true;
    }
  }
  return false;
}

/** Fills m.idx with the unordered attempt's events in time order; returns how many steps are matched. */
function unorderedAttempt(ev: UnitEvents, start: number, rules: AttemptRules, m: MachineScratch): number {
  const { t, steps } = ev;
  const { first, owner, seen, idx } = m;
  const n = rules.stepCount;
  owner.fill(-1);
  const limit = t[start]! + rules.windowUs;
  let matched = 0;
  // The anchor first, then the rest in time order: a greedy basis of the transversal matroid, so the anchor is
  // always matched and the matched events are the earliest possible.
  for (let j = start, next = first[start]!; matched < n; ) {
    if (steps[j]! !== 0) {
      seen.fill(0);
      if (augment(steps, j, owner, seen, n)) matched++;
    }
    if (next === start) next++;
    if (next >= ev.n || t[next]! > limit) break;
    j = next++;
  }
  let count = 0;
  for (let s = 0; s < n; s++) if (owner[s]! >= 0) idx[count++] = owner[s]!;
  // Insertion sort by (time, index): at most 20 entries.
  for (let i = 1; i < count; i++) {
    const x = idx[i]!;
    let j = i;
    while (j > 0 && (t[idx[j - 1]!]! > t[x]! || (t[idx[j - 1]!]! === t[x]! && idx[j - 1]! > x))) {
      idx[j] = idx[j - 1]!;
      j--;
    }
    idx[j] = x;
  }
  return count;
}

/** The unit's best attempt, or undefined when no attempt starts in range (or every attempt was excluded). */
export function machineAttempt(ev: UnitEvents, rules: AttemptRules, m: MachineScratch): FoundAttempt | undefined {
  const n = ev.n;
  const { t, steps, inRange, exclusions } = ev;
  m.grow(n);
  const { first, exclusionIdx, idx, bestTimes } = m;
  for (let i = 0; i < n; i++) first[i] = i > 0 && t[i - 1] === t[i] ? first[i - 1]! : i;
  let exclusionCount = 0;
  if (rules.exclusions.length > 0) for (let j = 0; j < n; j++) if (exclusions[j] !== 0) exclusionIdx[exclusionCount++] = j;
  let bestStart = -1;
  let bestReached = 0;
  for (let start = 0; start < n; start++) {
    if (inRange[start] !== 1) continue;
    let reached: number;
    if (rules.order === 'unordered') {
      if (steps[start] === 0) continue;
      reached = unorderedAttempt(ev, start, rules, m);
    } else {
      if ((steps[start]! & 1) === 0) continue;
      reached = orderedAttempt(ev, start, rules, m);
      if (exclusionCount > 0 && excluded(ev, exclusionCount, reached, rules, m)) {
        if (rules.attempts === 'first') return undefined;
        continue;
      }
    }
    // Attempts come in time order, so only a strictly further one replaces the best (earliest among equals);
    // with attempts: first the first one is the answer.
    if (bestStart < 0 || reached > bestReached) {
      bestStart = start;
      bestReached = reached;
      for (let k = 0; k < reached; k++) bestTimes[k] = t[idx[k]!]!;
    }
    if (rules.attempts === 'first' || bestReached === rules.stepCount) break;
  }
  return bestStart < 0 ? undefined : { start: bestStart, reached: bestReached, times: bestTimes };
}
