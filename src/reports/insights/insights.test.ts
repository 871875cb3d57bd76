import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import { ev, seedWorkspace, type TestEvent } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { computeInsights } from './insights.js';
import { insightsMarkdown } from './insights-markdown.js';
import { monthRange, previousMonth, usableRange } from './insight-months.js';
import { cohensH, twoProportionZTest } from './insight-stats.js';

/**
 * America/New_York. February: 40 desktop people start, 10 finish. March: 40 desktop start, 36 finish; 40 mobile
 * start, 4 finish. `feb-edge` starts at 2024-03-01T04:59:59Z = Feb 29, 23:59:59 local (a February cohort);
 * `staff` (tagged internal) converts in March and is left out. One event on 2024-04-03 makes March's 1-day
 * windows complete.
 */
function events(): TestEvent[] {
  const out: TestEvent[] = [];
  const person = (id: string, startIso: string, finish: boolean, device: string): void => {
    const finishIso = new Date(Date.parse(startIso) + 3_600_000).toISOString();
    out.push(ev(id, startIso, 'start', { session_id: `${id}-s`, device_type: device }));
    if (finish) out.push(ev(id, finishIso, 'finish', { session_id: `${id}-s`, device_type: device }));
  };
  for (let i = 0; i < 39; i++) person(`f${i}`, `2024-02-${String(10 + (i % 15)).padStart(2, '0')}T15:00:00Z`, i < 10, 'desktop');
  person('feb-edge', '2024-03-01T04:59:59Z', false, 'desktop');
  for (let i = 0; i < 40; i++) person(`d${i}`, `2024-03-${String(5 + (i % 20)).padStart(2, '0')}T15:00:00Z`, i < 36, 'desktop');
  for (let i = 0; i < 40; i++) person(`m${i}`, `2024-03-${String(5 + (i % 20)).padStart(2, '0')}T16:00:00Z`, i < 4, 'mobile');
  person('staff', '2024-03-12T15:00:00Z', true, 'mobile');
  out.push(ev('late', '2024-04-03T12:00:00Z', 'page_view', { session_id: 'late-s', event_kind: 'page_view', page_path: '/' }));
  return out;
}

const FUNNEL = `kind: funnel
name: Checkout
steps:
  - event: start
  - event: finish
window: 1d
breakdown: device_type
`;

const HOSTILE = `kind: funnel
name: Hostile
steps:
  - event: "x'); DROP TABLE events; --"
  - event: finish
window: 1d
`;

let ws: TempWorkspace;
beforeEach(async () => {
  ws = tempWorkspace('version: 1\ntimezone: America/New_York\n');
  ws.write('queries/checkout.yaml', FUNNEL);
  ws.write('queries/hostile.yaml', HOSTILE);
  await seedWorkspace(ws, events(), ['staff']);
});
afterEach(() => ws.cleanup());

describe('months', () => {
  it('works on calendar text, whatever the process TZ', () => {
    expect(monthRange('2024-02')).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(previousMonth('2024-01')).toBe('2023-12');
    expect(usableRange({ from: '2024-03-01', to: '2024-03-31' }, { from: '2024-03-05', through: '2024-04-03' }, 14)).toEqual({ from: '2024-03-05', to: '2024-03-20' });
    expect(usableRange({ from: '2024-03-01', to: '2024-03-31' }, { from: '2024-01-01', through: '2024-03-10' }, 14)).toBeNull();
  });
});

describe('computeInsights', () => {
  it('finds the month-over-month rise and the mobile gap with exact numbers', async () => {
    const w = await ws.open();
    try {
      const r = await computeInsights(w, { month: '2024-03' });
      expect(r).toMatchObject({ kind: 'insights', version: 1, month: '2024-03', previous_month: '2024-02', data_from: '2024-02-10', data_through: '2024-04-03', timezone: 'America/New_York' });
      // checkout: one month-over-month pair and one segment pair (two groups of 40 starters: the first by value).
      expect(r.tested).toBe(2);
      expect(r.insights.map((i) => i.id)).toEqual(['conversion:segment:checkout:device_type=desktop:start>finish', 'conversion:mom:checkout:start>finish']);

      const [seg, mom] = r.insights;
      expect(seg!.current).toEqual({ label: 'device_type = desktop', x: 36, n: 40, value: 0.9 });
      expect(seg!.baseline).toEqual({ label: 'everyone else', x: 4, n: 40, value: 0.1 });
      expect(seg!.effect.absolute).toBeCloseTo(0.8, 12);
      expect(seg!.effect.cohens_h).toBeCloseTo(cohensH(0.9, 0.1), 12);
      expect(seg!.test.p_value).toBeCloseTo(twoProportionZTest(36, 40, 4, 40).p_value, 15);
      expect(seg!.query).toBe('usagelab funnel --steps start,finish --window 1d --from 2024-03-01 --to 2024-03-31 --breakdown device_type');

      // March: 80 of the 80 starters (staff excluded); February: 10 of 40 (feb-edge included by local day).
      expect(mom!.current).toEqual({ label: '2024-03', x: 40, n: 80, value: 0.5 });
      expect(mom!.baseline).toEqual({ label: '2024-02', x: 10, n: 40, value: 0.25 });
      const pooled = 50 / 120;
      const z = 0.25 / Math.sqrt(pooled * (1 - pooled) * (1 / 80 + 1 / 40));
      expect(mom!.test.statistic).toBeCloseTo(z, 10);
      expect(mom!.direction).toBe('up');
      // BH over the two p-values: the larger keeps its value, the smaller is doubled (capped by the larger).
      expect(mom!.test.q_value).toBeCloseTo(mom!.test.p_value, 15);
      expect(seg!.test.q_value).toBeCloseTo(Math.min(seg!.test.p_value * 2, mom!.test.p_value), 15);
      expect(mom!.interval.low).toBeGreaterThan(0);
      expect(r.skipped.map((s) => s.what)).toEqual(['adoption']);
      expect(r.skipped[0]!.reason).toMatch(/^features_file_missing/);

      const md = insightsMarkdown(r);
      expect(md).toContain('# Insights for 2024-03');
      expect(md).toContain('## 2. start → finish conversion went up in 2024-03');
      expect(md).toContain('- **Numbers:** 2024-03: 40 of 80 (50.0%) against 2024-02: 10 of 40 (25.0%)');
      expect(md).toContain('two-proportion z-test');
      // The hostile event name was a value: it matched nothing and the table is still there.
      expect((await w.warehouse.all<{ n: number }>('SELECT count(*)::INT AS n FROM events'))[0]!.n).toBe(events().length);
    } finally {
      w.close();
    }
  });

  it('leaves comparisons under min_sample untested', async () => {
    const w = await ws.open();
    try {
      const r = await computeInsights(w, { month: '2024-03', settings: { min_sample: 41 } });
      expect(r.tested).toBe(0);
      // checkout: month over month and mobile against the rest; hostile: month over month (0 of 0); new people's
      // day-7 retention month over month (40 in February).
      expect(r.below_min_sample).toBe(4);
      expect(r.insights).toEqual([]);
      expect(insightsMarkdown(r)).toContain('Nothing stands out this month.');
    } finally {
      w.close();
    }
  });

  it('defaults to the month of the last event, and reports a month without data', async () => {
    const w = await ws.open();
    try {
      const r = await computeInsights(w);
      expect(r.month).toBe('2024-04');
      // April has no start events: nothing to compare.
      expect(r.insights).toEqual([]);
      const empty = await computeInsights(w, { month: '2023-01' });
      expect(empty.skipped[0]).toEqual({ what: 'month 2023-01', reason: 'no data in 2023-01 (data covers 2024-02-10 … 2024-04-03)' });
    } finally {
      w.close();
    }
  });

  it('rejects a malformed month', async () => {
    const w = await ws.open();
    try {
      await expect(computeInsights(w, { month: '2024-3' })).rejects.toMatchObject({ code: 'insights_month_invalid' });
      await expect(computeInsights(w, { month: "2024-03'; --" })).rejects.toBeInstanceOf(UsageLabError);
    } finally {
      w.close();
    }
  });
});
