/**
 * The statistics behind insights (docs/insights.md#statistics): tests on counts, intervals, the
 * Benjamini-Hochberg adjustment and Cohen's h. Normal approximations throughout; callers enforce the minimum
 * samples that make them valid (insight-candidates.ts).
 */
import { errorFunction } from 'simple-statistics';

/** z for a two-sided 95% interval. simple-statistics' probit(0.975) is 1.957 (a coarse approximation), so the constant. */
export const Z_95 = 1.959963984540054;

export interface TestResult {
  /** The test's name as shown in reports. */
  name: string;
  /** The z statistic (signed: positive when the first group is higher). */
  statistic: number;
  /** Two-sided p-value. */
  p_value: number;
}

export interface Interval {
  low: number;
  high: number;
  /** 0.95 */
  level: number;
}

/**
 * Two-sided p-value of a standard normal statistic: erfc(|z|/√2). simple-statistics' errorFunction is the
 * Numerical Recipes erfc approximation (relative error < 1.2e-7), so 1 − erf keeps small p-values accurate.
 */
export function twoSidedP(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 1 : 0;
  return Math.min(1, Math.max(0, 1 - errorFunction(Math.abs(z) / Math.SQRT2)));
}

/**
 * Two-proportion z-test with the pooled standard error (the same as R's prop.test(correct = FALSE)): x1 of n1
 * against x2 of n2. A statistic of 0 and p = 1 when the pooled share is 0 or 1 (no variation to test).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): TestResult {
  assertCounts(x1, n1);
  assertCounts(x2, n2);
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (x1 / n1 - x2 / n2) / se;
  return { name: 'two-proportion z-test', statistic: z, p_value: se === 0 ? 1 : twoSidedP(z) };
}

/** One-sample proportion z-test of x of n against the share p0 (the standard error under the null). */
export function oneProportionZTest(x: number, n: number, p0: number): TestResult {
  assertCounts(x, n);
  if (!(p0 > 0 && p0 < 1)) throw new RangeError(`p0 must be between 0 and 1 (exclusive), got ${p0}`);
  const z = (x / n - p0) / Math.sqrt((p0 * (1 - p0)) / n);
  return { name: 'one-proportion z-test', statistic: z, p_value: twoSidedP(z) };
}

/**
 * Comparison of two Poisson rates, x1 events over exposure t1 against x2 over t2: the conditional test (given
 * x1 + x2, x1 is binomial with p0 = t1 / (t1 + t2) under equal rates) with its normal approximation.
 */
export function poissonRateTest(x1: number, t1: number, x2: number, t2: number): TestResult {
  if (![x1, x2].every((x) => Number.isInteger(x) && x >= 0)) throw new RangeError('event counts must be whole numbers ≥ 0');
  if (!(t1 > 0 && t2 > 0)) throw new RangeError('exposures must be > 0');
  const n = x1 + x2;
  const p0 = t1 / (t1 + t2);
  if (n === 0) return { name: 'Poisson rate test', statistic: 0, p_value: 1 };
  const z = (x1 - n * p0) / Math.sqrt(n * p0 * (1 - p0));
  return { name: 'Poisson rate test', statistic: z, p_value: twoSidedP(z) };
}

/** Wilson score interval for x of n (Newcombe 1998, method 3). */
export function wilsonInterval(x: number, n: number, z = Z_95): Interval {
  assertCounts(x, n);
  const p = x / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half), level: 0.95 };
}

/**
 * Interval for the difference of two independent proportions x1/n1 − x2/n2 from the two Wilson intervals
 * (Newcombe 1998, method 10, the "hybrid score" interval).
 */
export function newcombeDifferenceInterval(x1: number, n1: number, x2: number, n2: number, z = Z_95): Interval {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const a = wilsonInterval(x1, n1, z);
  const b = wilsonInterval(x2, n2, z);
  const d = p1 - p2;
  return {
    low: d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
    level: 0.95,
  };
}

/** Cohen's h, the effect size of two proportions: 2·asin√p1 − 2·asin√p2 (0.2 small, 0.5 medium, 0.8 large). */
export function cohensH(p1: number, p2: number): number {
  return 2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2));
}

/**
 * Benjamini-Hochberg adjusted p-values (q-values), in the input order: q(i) = min over j ≥ rank(i) of
 * p(j)·m/j, capped at 1 — the same as R's p.adjust(p, "BH").
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const q = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const { p, i } = order[k]!;
    running = Math.min(running, (p * m) / (k + 1));
    q[i] = running;
  }
  return q;
}

function assertCounts(x: number, n: number): void {
  if (!(Number.isInteger(x) && Number.isInteger(n) && n > 0 && x >= 0 && x <= n)) {
    throw new RangeError(`need whole numbers 0 ≤ x ≤ n and n > 0, got x=${x}, n=${n}`);
  }
}
