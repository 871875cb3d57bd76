import { describe, expect, it } from 'vitest';
import {
  Z_95,
  benjaminiHochberg,
  cohensH,
  newcombeDifferenceInterval,
  oneProportionZTest,
  poissonRateTest,
  twoProportionZTest,
  twoSidedP,
  wilsonInterval,
} from './insight-stats.js';

describe('normal tail', () => {
  it('gives the textbook two-sided p-values', () => {
    expect(twoSidedP(1.959963984540054)).toBeCloseTo(0.05, 6);
    expect(twoSidedP(-2.575829303549)).toBeCloseTo(0.01, 6);
    expect(twoSidedP(0)).toBeCloseTo(1, 6);
    // Far tails stay accurate in relative terms (P(|Z| > 6) = 1.973175e-9).
    expect(twoSidedP(6) / 1.973175e-9).toBeCloseTo(1, 4);
    expect(twoSidedP(Number.POSITIVE_INFINITY)).toBe(0);
    expect(Z_95).toBeCloseTo(1.96, 2);
  });
});

describe('two-proportion z-test', () => {
  it('matches R prop.test(c(45, 30), c(100, 100), correct = FALSE): X² = 4.8, p = 0.02846', () => {
    const t = twoProportionZTest(45, 100, 30, 100);
    expect(t.statistic ** 2).toBeCloseTo(4.8, 10);
    expect(t.statistic).toBeGreaterThan(0);
    expect(t.p_value).toBeCloseTo(0.02846, 5);
  });
  it('is signed by the first group and symmetric', () => {
    const a = twoProportionZTest(30, 100, 45, 100);
    expect(a.statistic).toBeCloseTo(-Math.sqrt(4.8), 10);
    expect(a.p_value).toBeCloseTo(0.02846, 5);
  });
  it('has nothing to test when everyone (or no one) converts', () => {
    expect(twoProportionZTest(10, 10, 20, 20)).toMatchObject({ statistic: 0, p_value: 1 });
    expect(twoProportionZTest(0, 10, 0, 20)).toMatchObject({ statistic: 0, p_value: 1 });
  });
  it('rejects impossible counts', () => {
    expect(() => twoProportionZTest(11, 10, 1, 2)).toThrow(RangeError);
    expect(() => twoProportionZTest(1, 0, 1, 2)).toThrow(RangeError);
    expect(() => twoProportionZTest(1.5, 10, 1, 2)).toThrow(RangeError);
  });
});

describe('one-proportion z-test', () => {
  it('60 of 100 against 0.5: z = 2, p = 0.0455', () => {
    const t = oneProportionZTest(60, 100, 0.5);
    expect(t.statistic).toBeCloseTo(2, 10);
    expect(t.p_value).toBeCloseTo(0.0455, 4);
  });
  it('rejects a null share outside (0, 1)', () => {
    expect(() => oneProportionZTest(1, 2, 0)).toThrow(RangeError);
  });
});

describe('Poisson rate test', () => {
  it('30 events over 1000 against 15 over 1000: z = 7.5/√11.25 = 2.236, p = 0.0253', () => {
    const t = poissonRateTest(30, 1000, 15, 1000);
    expect(t.statistic).toBeCloseTo(7.5 / Math.sqrt(11.25), 10);
    expect(t.p_value).toBeCloseTo(0.02535, 4);
  });
  it('weights by exposure: 20 over 1000 against 20 over 2000 (p0 = 1/3)', () => {
    const t = poissonRateTest(20, 1000, 20, 2000);
    expect(t.statistic).toBeCloseTo((20 - 40 / 3) / Math.sqrt((40 * 2) / 9), 10);
  });
  it('no events: nothing to test', () => {
    expect(poissonRateTest(0, 5, 0, 5)).toMatchObject({ statistic: 0, p_value: 1 });
  });
});

describe('Wilson interval (Newcombe 1998, Table I)', () => {
  it('81/263 → 0.2553 … 0.3662', () => {
    const i = wilsonInterval(81, 263);
    expect(i.low).toBeCloseTo(0.2553, 4);
    expect(i.high).toBeCloseTo(0.3662, 4);
  });
  it('15/148 → 0.0624 … 0.1605', () => {
    const i = wilsonInterval(15, 148);
    expect(i.low).toBeCloseTo(0.0624, 4);
    expect(i.high).toBeCloseTo(0.1605, 4);
  });
  it('0/20 → 0 … 0.1611 and 1/29 → 0.0061 … 0.1718', () => {
    expect(wilsonInterval(0, 20).low).toBe(0);
    expect(wilsonInterval(0, 20).high).toBeCloseTo(0.1611, 4);
    expect(wilsonInterval(1, 29).low).toBeCloseTo(0.0061, 4);
    expect(wilsonInterval(1, 29).high).toBeCloseTo(0.1718, 4);
  });
});

describe('Newcombe difference interval (1998, method 10)', () => {
  it('56/70 − 48/80 → 0.0524 … 0.3339', () => {
    const i = newcombeDifferenceInterval(56, 70, 48, 80);
    expect(i.low).toBeCloseTo(0.0524, 4);
    expect(i.high).toBeCloseTo(0.3339, 4);
  });
  it('9/10 − 3/10 → 0.1705 … 0.8090', () => {
    const i = newcombeDifferenceInterval(9, 10, 3, 10);
    expect(i.low).toBeCloseTo(0.1705, 4);
    expect(i.high).toBeCloseTo(0.809, 3);
  });
});

describe("Cohen's h", () => {
  it('is 0 for equal shares and π for 1 against 0', () => {
    expect(cohensH(0.3, 0.3)).toBe(0);
    expect(cohensH(1, 0)).toBeCloseTo(Math.PI, 12);
    expect(cohensH(0.55, 0.15)).toBeCloseTo(2 * Math.asin(Math.sqrt(0.55)) - 2 * Math.asin(Math.sqrt(0.15)), 12);
  });
});

describe('Benjamini-Hochberg', () => {
  it('matches R p.adjust(c(.01,.02,.03,.04,.05), "BH") = all 0.05', () => {
    for (const q of benjaminiHochberg([0.01, 0.02, 0.03, 0.04, 0.05])) expect(q).toBeCloseTo(0.05, 12);
  });
  it('McDonald (Handbook of Biological Statistics) 25 p-values: the first five adjusted values', () => {
    const p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.222, 0.251, 0.269, 0.275, 0.34, 0.341, 0.384, 0.569, 0.594, 0.696, 0.762, 0.94, 0.942, 0.975, 0.986];
    const q = benjaminiHochberg(p);
    expect(q.slice(0, 5).map((x) => Number(x.toFixed(5)))).toEqual([0.025, 0.1, 0.21, 0.21, 0.21]);
    // p(6) = 0.06 sits exactly on its critical value 6/25 · 0.25: q = 0.25; McDonald's strict rule keeps five.
    expect(q[5]).toBeCloseTo(0.25, 12);
    expect(q.filter((x) => x < 0.25 - 1e-12)).toHaveLength(5);
    expect(q[24]).toBeCloseTo(0.986, 12);
  });
  it('keeps the input order and caps at 1', () => {
    expect(benjaminiHochberg([0.9, 0.01, 0.5])).toEqual([0.9, 0.03, 0.75]);
    expect(benjaminiHochberg([1, 1])).toEqual([1, 1]);
    expect(benjaminiHochberg([])).toEqual([]);
  });
});
