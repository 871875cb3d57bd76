import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frictionAnalysis } from '../analyses/friction/friction-analysis.js';
import { demoLikeWorkspace, DEMO_LIKE_MONTH } from '../test-support/demo-like-workspace.js';
import { reportMonth, weeksOf } from './report-period.js';
import { weeklyFriction } from './weekly-friction.js';

let like: Awaited<ReturnType<typeof demoLikeWorkspace>>;
beforeAll(async () => {
  like = await demoLikeWorkspace({ people: 120 });
}, 120_000);
afterAll(() => like?.cleanup());

describe('weekly frustration rate', () => {
  it('counts, in one pass, what a friction run per week counts', async () => {
    const { ws } = like;
    const { range } = reportMonth(DEMO_LIKE_MONTH);
    const weeks = weeksOf(range, ws.config.week_start);
    for (const input of [
      { kind: 'friction', name: 'all signals' },
      { kind: 'friction', name: 'rage only', signals: ['rage'], where: { device_type: 'desktop' } },
      { kind: 'friction', name: 'with the internal tester', exclude: [] },
    ]) {
      const def = frictionAnalysis.parse({ ...input, date_range: range });
      const weekly = await weeklyFriction(ws.warehouse, def, weeks, { kind: 'friction', timezone: ws.config.timezone, segments: ws.segments() });
      const perWeek = [];
      for (const week of weeks) {
        const r = await ws.runAnalysis(frictionAnalysis, { ...input, compare: 'none', top: 1, date_range: week });
        perWeek.push({ range: week, sessions: r.overall.sessions, sessions_with_signal: r.overall.sessions_with_signal, share_of_sessions: r.overall.share_of_sessions });
      }
      expect(weekly, input.name).toEqual(perWeek);
      expect(weekly.every((w) => w.sessions > 0)).toBe(true);
      expect(weekly.some((w) => w.sessions_with_signal > 0)).toBe(true);
    }
  });
});
