import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import type { Workspace } from '../library/workspace.js';
import { ev, insertEvents, tagPerson } from '../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { AnalysisPool } from './analysis-pool.js';

describe('the report analysis pool', () => {
  let tw: TempWorkspace;
  let ws: Workspace;
  beforeEach(async () => {
    tw = tempWorkspace('version: 1\ntimezone: America/New_York\n');
    ws = await tw.open();
    await insertEvents(ws.warehouse, [
      ev('p1', '2024-03-01T15:00:00Z', 'signup'),
      ev('p1', '2024-03-02T15:00:00Z', 'create_project'),
      ev('p2', '2024-03-02T16:00:00Z', 'signup'),
      ev('p3', '2024-03-10T04:30:00Z', 'signup'),
    ]);
  });
  afterEach(() => {
    ws.close();
    tw.cleanup();
  });

  const events = (name: string, interval = 'day'): Record<string, unknown> => ({ kind: 'trends', name, measure: 'events', interval, date_range: { from: '2024-03-01', to: '2024-03-10' } });

  it('runs a definition asked for twice once, and gives each caller its own name', async () => {
    const labels: string[] = [];
    const pool = await AnalysisPool.open(ws, 2, (label) => labels.push(label));
    try {
      const [a, b] = await Promise.all([pool.run(trendsAnalysis, events('first')), pool.run(trendsAnalysis, events('second'))]);
      expect(pool.counts).toEqual({ runs: 1, reused: 1 });
      expect(labels).toEqual(['trends first']);
      expect([a.name, b.name, a.definition.name, b.definition.name]).toEqual(['first', 'second', 'first', 'second']);
      expect({ ...b, name: 'first', definition: { ...b.definition, name: 'first' } }).toEqual(a);
      // Something else in the definition (or the run options) is a different run.
      await pool.run(trendsAnalysis, events('weekly', 'week'));
      await pool.run(trendsAnalysis, events('first'), { now: new Date('2024-03-05T00:00:00Z') });
      expect(pool.counts).toEqual({ runs: 3, reused: 1 });
    } finally {
      pool.close();
    }
  });

  it('gives side-by-side runs the results of one-at-a-time runs, and does not keep failures', async () => {
    const pool = await AnalysisPool.open(ws, 2);
    try {
      const inputs = [events('a'), events('b', 'week'), { ...events('c'), measure: 'people' }, { ...events('d', 'month'), where: { event_name: 'signup' } }];
      const together = await Promise.all(inputs.map((i) => pool.run(trendsAnalysis, i)));
      for (const [i, input] of inputs.entries()) expect(together[i]).toEqual(await ws.runAnalysis(trendsAnalysis, input));
      await expect(pool.run(trendsAnalysis, { ...events('bad'), interval: 'fortnight' })).rejects.toMatchObject({ code: expect.stringMatching(/^trends_/) });
      await expect(pool.run(trendsAnalysis, { ...events('bad'), interval: 'fortnight' })).rejects.toMatchObject({ code: expect.stringMatching(/^trends_/) });
      expect(pool.counts.reused).toBe(0);
    } finally {
      pool.close();
    }
  });

  it('counts what the exclusions left out once per range and filters, for every run that asks', async () => {
    await tagPerson(ws.warehouse, 'p2', 'internal');
    const pool = await AnalysisPool.open(ws, 2);
    try {
      const inputs = [events('a'), { ...events('b'), measure: 'people' }, { ...events('c', 'week'), where: { event_name: 'signup' } }];
      const together = await Promise.all(inputs.map((i) => pool.run(trendsAnalysis, i)));
      for (const [i, input] of inputs.entries()) expect(together[i]).toEqual(await ws.runAnalysis(trendsAnalysis, input));
      expect(together[0]!.excluded).toMatchObject({ people: 1, events: 1 });
      // Two statements: the range without filters (asked twice) and with the event filter.
      expect(await pool.withSession('memo', async (s) => s.memo?.size)).toBe(2);
    } finally {
      pool.close();
    }
  });
});
