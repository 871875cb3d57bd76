/**
 * Turns unit outcomes into step rows: counts, rates and conversion times. Rates never divide by zero: a rate
 * whose denominator is 0 is null (docs/analyses.md#funnel).
 */
import type { FunnelStepResult } from './funnel-result.js';
import type { UnitOutcome } from './funnel-attempts.js';

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class FunnelTally {
  private readonly counts: number[];
  /** Seconds from the previous step, per step (index 0 unused). */
  private readonly durations: number[][];

  constructor(private readonly stepNames: readonly string[]) {
    this.counts = stepNames.map(() => 0);
    this.durations = stepNames.map(() => []);
  }

  add(outcome: UnitOutcome): void {
    for (let k = 0; k < outcome.reached; k++) {
      this.counts[k]!++;
      // Microsecond differences are exact integers; one division keeps the seconds as exact as a double can.
      if (k > 0) this.durations[k]!.push((outcome.times[k]! - outcome.times[k - 1]!) / 1_000_000);
    }
  }

  get first(): number {
    return this.counts[0]!;
  }

  steps(): FunnelStepResult[] {
    const first = this.counts[0]!;
    return this.stepNames.map((name, k) => {
      const count = this.counts[k]!;
      const previous = k === 0 ? count : this.counts[k - 1]!;
      const times = [...this.durations[k]!].sort((a, b) => a - b);
      return {
        name,
        count,
        conversion_from_previous: previous === 0 ? null : count / previous,
        conversion_from_first: first === 0 ? null : count / first,
        drop_off: previous - count,
        median_seconds_from_previous: k === 0 ? null : median(times),
        mean_seconds_from_previous: k === 0 || times.length === 0 ? null : times.reduce((a, b) => a + b, 0) / times.length,
      };
    });
  }
}
