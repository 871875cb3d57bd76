/**
 * Adds up the (cohort, breakdown value, pattern, count) rows of the query into retention matrices: one cohort per
 * calendar interval of the range (empty ones included, so a chart has no gaps), one cell per k, and the weighted
 * average over the cohorts whose interval k is complete.
 */
import type { PatternRow } from './retention-query.js';
import type { RetentionAverageCell, RetentionCohort, RetentionGroup } from './retention-result.js';

export interface TallyLayout {
  firstBucket: number;
  lastBucket: number;
  intervals: number;
  cumulative: boolean;
  /** Local date starting interval number b. */
  startDate(b: number): string;
  /** Whether interval k of cohort b has ended for every entry (given the latest entry base of the cohort, if any). */
  complete(b: number, k: number, maxBase: number | null): boolean;
}

class CohortCounts {
  size = 0;
  readonly retained: number[];
  constructor(intervals: number) {
    this.retained = new Array<number>(intervals + 1).fill(0);
  }

  add(pattern: string, n: number, cumulative: boolean): void {
    this.size += n;
    // Cumulative ("on or after"): retained in k when retained in any interval j ≥ k shown.
    const last = pattern.lastIndexOf('1');
    for (let k = 0; k < this.retained.length; k++) {
      if (cumulative ? k <= last : pattern[k] === '1') this.retained[k]! += n;
    }
  }
}

type Matrix = Map<number, CohortCounts>;

function cohortsOf(matrix: Matrix, layout: TallyLayout, maxBase: ReadonlyMap<number, number>): RetentionCohort[] {
  const out: RetentionCohort[] = [];
  for (let b = layout.firstBucket; b <= layout.lastBucket; b++) {
    const counts = matrix.get(b);
    const size = counts?.size ?? 0;
    const intervals = [];
    for (let k = 0; k <= layout.intervals; k++) {
      const complete = layout.complete(b, k, maxBase.get(b) ?? null);
      const count = complete ? (counts?.retained[k] ?? 0) : null;
      intervals.push({ k, count, rate: count === null || size === 0 ? null : count / size, complete });
    }
    out.push({ start: layout.startDate(b), size, intervals });
  }
  return out;
}

/** Σ retained ÷ Σ size over the cohorts whose interval k is complete (empty cohorts add nothing). */
export function averageOf(cohorts: readonly RetentionCohort[], intervals: number): RetentionAverageCell[] {
  const out: RetentionAverageCell[] = [];
  for (let k = 0; k <= intervals; k++) {
    let count = 0;
    let size = 0;
    let n = 0;
    for (const c of cohorts) {
      const cell = c.intervals[k]!;
      if (!cell.complete || c.size === 0) continue;
      count += cell.count!;
      size += c.size;
      n++;
    }
    out.push({ k, count, size, rate: size === 0 ? null : count / size, cohorts: n });
  }
  return out;
}

export interface Tally {
  cohorts: RetentionCohort[];
  groups: RetentionGroup[];
}

export function tallyPatterns(rows: readonly PatternRow[], layout: TallyLayout): Tally {
  const total: Matrix = new Map();
  const groups = new Map<string | null, Matrix>();
  // Completeness is a property of the cohort, not of a breakdown group: the latest entry over all groups.
  const maxBase = new Map<number, number>();
  const counts = (m: Matrix, b: number): CohortCounts => {
    let c = m.get(b);
    if (c === undefined) m.set(b, (c = new CohortCounts(layout.intervals)));
    return c;
  };
  for (const row of rows) {
    const b = Number(row.b);
    counts(total, b).add(row.pattern, Number(row.n), layout.cumulative);
    let group = groups.get(row.bd);
    if (group === undefined) groups.set(row.bd, (group = new Map()));
    counts(group, b).add(row.pattern, Number(row.n), layout.cumulative);
    maxBase.set(b, Math.max(maxBase.get(b) ?? Number.NEGATIVE_INFINITY, Number(row.max_base)));
  }
  const grouped: RetentionGroup[] = [...groups].map(([value, matrix]) => {
    const cohorts = cohortsOf(matrix, layout, maxBase);
    return { value, size: cohorts.reduce((s, c) => s + c.size, 0), cohorts, average: averageOf(cohorts, layout.intervals) };
  });
  // Largest group first, then by value (null last), as funnel breakdowns are sorted.
  grouped.sort((a, b) => b.size - a.size || (a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return { cohorts: cohortsOf(total, layout, maxBase), groups: grouped };
}
