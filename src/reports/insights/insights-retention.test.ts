import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ev, seedWorkspace, type TestEvent } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { computeInsights } from './insights.js';
import { twoProportionZTest } from './insight-stats.js';

/**
 * Europe/Berlin, weeks from Monday. February: 48 new people, first seen on the Mondays starting February's weeks
 * (5, 12, 19, 26), 10 of them back 7 days later (week 1). March: 48 new people on the Mondays 4, 11 and 18, 36 back
 * in week 1 and 6 back in week 2 only. `edge`, first seen on Monday March 25, has a week 1 that ends after March:
 * not counted ("as of" the month's end). People first seen on Friday March 1 are in the week of February 26.
 * Saved segment `pro`: the people with a `plan_pro` event; in March 18 of the 48 are pro, and all come back.
 */
function events(): TestEvent[] {
  const out: TestEvent[] = [];
  const at = (month: string, d: number, plus = 0): string => new Date(Date.UTC(2024, Number(month) - 1, d + plus, 9)).toISOString();
  const feb = [5, 12, 19, 26];
  for (let i = 0; i < 48; i++) {
    const d = feb[i % 4]!;
    out.push(ev(`f${i}`, at('02', d), 'open'));
    if (i < 10) out.push(ev(`f${i}`, at('02', d, 7), 'open'));
  }
  const mar = [4, 11, 18];
  for (let i = 0; i < 48; i++) {
    const d = mar[i % 3]!;
    out.push(ev(`m${i}`, at('03', d), i < 18 ? 'plan_pro' : 'open'));
    if (i < 36) out.push(ev(`m${i}`, at('03', d, 7), 'open'));
    else if (i < 42) out.push(ev(`m${i}`, at('03', d, 14), 'open'));
  }
  out.push(ev('edge', at('03', 25), 'open'));
  out.push(ev('friday', at('03', 1), 'open'), ev('friday', at('03', 5), 'open'));
  out.push(ev('staff', at('03', 4), 'open'), ev('staff', at('03', 11), 'open'));
  out.push(ev('late', '2024-04-20T09:00:00Z', 'open'));
  return out;
}

let ws: TempWorkspace;
beforeEach(async () => {
  ws = tempWorkspace('version: 1\ntimezone: Europe/Berlin\n');
  ws.write('queries/pro.yaml', 'kind: segment\nname: pro\ndid:\n  - event: plan_pro\n');
  await seedWorkspace(ws, events(), ['staff']);
});
afterEach(() => ws.cleanup());

describe('retention insights', () => {
  it('compares new people’s week-1 retention month over month and per saved segment, with exact numbers', async () => {
    const w = await ws.open();
    try {
      // 18 pro people: the sample rule is lowered to let the segment be tested.
      const r = await computeInsights(w, { month: '2024-03', settings: { min_sample: 18 } });
      expect(r.skipped.map((x) => x.what)).toEqual(['adoption']);
      const mom = r.insights.find((i) => i.id === 'retention:mom:new-people:week1');
      // March: 36 of 48 (staff excluded, edge not complete); February: 10 of 48, plus `friday`, first seen on March 1
      // in the week of February 26 and back on Tuesday March 5 (week 1).
      expect(mom?.current).toEqual({ label: '2024-03', x: 36, n: 48, value: 0.75 });
      expect(mom?.baseline).toEqual({ label: '2024-02', x: 11, n: 49, value: 11 / 49 });
      expect(mom?.test.p_value).toBeCloseTo(twoProportionZTest(36, 48, 11, 49).p_value, 15);
      expect(mom?.direction).toBe('up');
      expect(mom?.query).toBe("usagelab retention '$any' --returning '$any' --cohort first_time --interval week --intervals 6 --from 2024-01-01 --to 2024-03-31");
      const seg = r.insights.find((i) => i.id === 'retention:segment:pro:week1');
      // Pro: 18 of 18; everyone else: 18 of 30.
      expect(seg?.current).toEqual({ label: 'segment pro', x: 18, n: 18, value: 1 });
      expect(seg?.baseline).toEqual({ label: 'everyone else', x: 18, n: 30, value: 0.6 });
      expect(seg?.title).toBe('New people in segment pro retain better in week 1');
    } finally {
      w.close();
    }
  });
});
