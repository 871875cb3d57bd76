import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { UsageLabError } from '../../core/errors.js';
import { ev, type TestEvent } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import type { AnalysisRunOptions } from '../analysis-kind.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { runTrends, trendsAnalysis } from './trends-analysis.js';
import { defaultRange, periodsOf } from './trends-calendar.js';
import { parseTrendsDefinition } from './trends-definition.js';
import type { ActiveUsersPoint, LifecyclePoint, StickinessPoint, TrendsResult } from './trends-result.js';
import { expectCode, expectRunCode } from '../../test-support/expect-error.js';

// Every case runs on both warehouse engines with the same expected numbers (ClickHouse: chDB, or CLICKHOUSE_URL).
describe.each(ENGINES)('trends on %s', (engine) => {
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function run(events: TestEvent[], def: Record<string, unknown>, options: Partial<AnalysisRunOptions> = {}): Promise<TrendsResult> {
    await insertEvents(session, events);
    return runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'test', ...def }), { timezone: 'UTC', ...options });
  }

  /** Each series as [label, breakdown value, values per point, total]. */
  function table(r: TrendsResult, pick: (p: Record<string, unknown>) => unknown): [string, string | null, unknown[], unknown][] {
    return r.series.map((s) => [s.label, s.breakdown_value, (s.points as unknown as Record<string, unknown>[]).map(pick), s.total]);
  }

  const starts = (r: TrendsResult): string[] => (r.series[0]?.points ?? []).map((p) => p.period_start);

  describe('trends: events and people', () => {
    it('counts events per local day and series; an event can match several series; equal timestamps all count', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'signup'),
          ev('p1', '2024-01-01T10:00:00Z', 'signup'),
          ev('p2', '2024-01-01T23:59:59Z', 'view'),
          ev('p2', '2024-01-02T00:00:00Z', 'signup'),
          ev('p3', '2024-01-03T12:00:00Z', 'view'),
          // Outside the range: not counted.
          ev('p3', '2023-12-31T23:59:59Z', 'signup'),
          ev('p3', '2024-01-04T00:00:00Z', 'signup'),
        ],
        { events: ['signup', { event: '$any', name: 'everything' }], date_range: { from: '2024-01-01', to: '2024-01-03' } },
      );
      expect(r.measure).toBe('events');
      expect(starts(r)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
      expect(table(r, (p) => p.events)).toEqual([
        ['signup', null, [2, 1, 0], { events: 3 }],
        ['everything', null, [3, 1, 1], { events: 5 }],
      ]);
      expect(r.kind).toBe('trends');
      expect(r.version).toBe(1);
      expect(r.definition).toMatchObject({
        measure: 'events',
        interval: 'day',
        week_start: 'monday',
        date_range: { from: '2024-01-01', to: '2024-01-03' },
        date_range_default: false,
        active_windows: null,
        lifecycle_new: null,
        breakdown_limit: null,
        exclude: ['internal', 'bot'],
        timezone: 'UTC',
        events: [
          { event: 'signup', name: 'signup', where: {} },
          { event: '$any', name: 'everything', where: {} },
        ],
      });
      expect(r.data_span).toEqual({ first_day: '2023-12-31', last_day: '2024-01-04' });
    });

    it('counts distinct people per interval; the total is distinct over the range, not the sum; merged identities count once', async () => {
      const r = await run(
        [
          // One person (resolved person_id p1) seen by two tools the same day.
          ev('p1', '2024-01-01T09:00:00Z', 'login', { source: 'amplitude' }),
          ev('p1', '2024-01-01T09:05:00Z', 'login', { source: 'mixpanel' }),
          ev('p1', '2024-01-02T09:00:00Z', 'login'),
          ev('p2', '2024-01-02T09:00:00Z', 'login'),
          ev('p2', '2024-01-02T10:00:00Z', 'login'),
        ],
        { measure: 'people', events: ['login'], date_range: { from: '2024-01-01', to: '2024-01-02' } },
      );
      expect(table(r, (p) => p.people)).toEqual([['login', null, [1, 2], { people: 2 }]]);
    });

    it('puts events on their local day across DST (America/New_York, 23 h and 25 h days); range bounds are local midnights', async () => {
      const events = [
        ev('p1', '2024-03-10T04:59:00Z', 'e'), // 2024-03-09 23:59 EST: before the range
        ev('p1', '2024-03-10T05:00:00Z', 'e'), // 03-10 00:00 EST: first instant of the range
        ev('p2', '2024-03-11T03:30:00Z', 'e'), // 03-10 23:30 EDT (a 23-hour day)
        ev('p3', '2024-03-11T04:00:00Z', 'e'), // 03-11 00:00 EDT
        ev('p1', '2024-11-03T04:30:00Z', 'e'), // 11-03 00:30 EDT
        ev('p2', '2024-11-04T04:30:00Z', 'e'), // 11-03 23:30 EST (a 25-hour day)
        ev('p3', '2024-11-04T05:00:00Z', 'e'), // 11-04 00:00 EST
      ];
      const march = await run(events, { date_range: { from: '2024-03-10', to: '2024-03-11' } }, { timezone: 'America/New_York' });
      expect(table(march, (p) => p.events)).toEqual([['$any', null, [2, 1], { events: 3 }]]);
      const november = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'n', date_range: { from: '2024-11-03', to: '2024-11-03' } }), { timezone: 'America/New_York' });
      expect(table(november, (p) => p.events)).toEqual([['$any', null, [2], { events: 2 }]]);
      const week = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'w', measure: 'people', interval: 'week', date_range: { from: '2024-03-04', to: '2024-03-17' } }), {
        timezone: 'America/New_York',
      });
      // The week of 03-04 ends with the DST Sunday 03-10 (p1 on Saturday 23:59 and Sunday, p2 at Sunday 23:30); p3 is Monday.
      expect(starts(week)).toEqual(['2024-03-04', '2024-03-11']);
      expect(table(week, (p) => p.people)).toEqual([['$any', null, [2, 1], { people: 3 }]]);
    });

    it('starts weeks on the configured day: monday vs sunday, cut weeks flagged partial', async () => {
      const events = [ev('p1', '2024-03-09T12:00:00Z', 'e'), ev('p2', '2024-03-10T12:00:00Z', 'e'), ev('p3', '2024-03-11T12:00:00Z', 'e')];
      const def = { interval: 'week', date_range: { from: '2024-03-09', to: '2024-03-11' } };
      const monday = await run(events, def);
      expect(monday.series[0]!.points.map((p) => [p.period_start, p.period_end, p.first_day, p.last_day, p.partial, (p as { events: number }).events])).toEqual([
        ['2024-03-04', '2024-03-10', '2024-03-09', '2024-03-10', true, 2],
        ['2024-03-11', '2024-03-17', '2024-03-11', '2024-03-11', true, 1],
      ]);
      const sunday = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 's', ...def }), { timezone: 'UTC', weekStart: 'sunday' });
      expect(sunday.definition.week_start).toBe('sunday');
      expect(sunday.series[0]!.points.map((p) => [p.period_start, p.period_end, (p as { events: number }).events])).toEqual([
        ['2024-03-03', '2024-03-09', 1],
        ['2024-03-10', '2024-03-16', 2],
      ]);
    });

    it('puts an event on the local month in a zone ahead of UTC (Asia/Kolkata)', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-31T18:29:00Z', 'e'), // 2024-01-31 23:59 IST
          ev('p2', '2024-01-31T18:30:00Z', 'e'), // 2024-02-01 00:00 IST
          ev('p2', '2024-02-29T18:29:59Z', 'e'), // 2024-02-29 23:59:59 IST
          ev('p1', '2024-03-01T00:00:00Z', 'e'), // 2024-03-01 05:30 IST
        ],
        { measure: 'people', interval: 'month', date_range: { from: '2024-01-01', to: '2024-03-31' } },
        { timezone: 'Asia/Kolkata' },
      );
      expect(starts(r)).toEqual(['2024-01-01', '2024-02-01', '2024-03-01']);
      expect(r.series[0]!.points.map((p) => p.period_end)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31']);
      expect(table(r, (p) => p.people)).toEqual([['$any', null, [1, 1, 1], { people: 2 }]]);
    });

    it('flags intervals outside the data instead of reporting silent zeros', async () => {
      const r = await run([ev('p1', '2024-01-02T12:00:00Z', 'e'), ev('p1', '2024-01-03T12:00:00Z', 'e')], { date_range: { from: '2024-01-01', to: '2024-01-04' } });
      expect(r.series[0]!.points.map((p) => [p.period_start, p.partial, p.no_data])).toEqual([
        ['2024-01-01', true, true],
        ['2024-01-02', false, false],
        ['2024-01-03', false, false],
        ['2024-01-04', true, true],
      ]);
    });
  });

  describe('trends: default date range and empty warehouse', () => {
    it('defaults to the last 30 days (day), 12 weeks (week) or 12 months (month) ending on the latest event day', async () => {
      await insertEvents(session, [ev('p1', '2024-03-05T12:00:00Z', 'e'), ev('p1', '2024-03-20T12:00:00Z', 'e')]);
      const day = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'd' }), { timezone: 'UTC' });
      expect(day.definition.date_range).toEqual({ from: '2024-02-20', to: '2024-03-20' });
      expect(day.definition.date_range_default).toBe(true);
      expect(day.series[0]!.points).toHaveLength(30);
      expect(day.series[0]!.total).toEqual({ events: 2 });
      const week = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'w', interval: 'week' }), { timezone: 'UTC' });
      expect(week.definition.date_range).toEqual({ from: '2024-01-01', to: '2024-03-20' });
      expect(week.series[0]!.points).toHaveLength(12);
      expect(week.series[0]!.points.at(-1)).toMatchObject({ period_start: '2024-03-18', last_day: '2024-03-20', partial: true });
      const month = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'm', interval: 'month' }), { timezone: 'UTC' });
      expect(month.definition.date_range).toEqual({ from: '2023-04-01', to: '2024-03-20' });
      expect(month.series[0]!.points).toHaveLength(12);
    });

    it('an empty warehouse: no range, no points, zero totals; with a range, every point is flagged no_data', async () => {
      for (const measure of ['events', 'people', 'active_users', 'stickiness', 'lifecycle']) {
        const r = await run([], { measure });
        expect(r.data_span).toBeNull();
        expect(r.definition.date_range).toBeNull();
        expect(r.series).toHaveLength(1);
        expect(r.series[0]!.points).toEqual([]);
        expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
        const ranged = await run([], { measure, date_range: { from: '2024-01-01', to: '2024-01-03' } });
        expect(ranged.series[0]!.points.map((p) => [p.period_start, p.partial, p.no_data])).toEqual([
          ['2024-01-01', true, true],
          ['2024-01-02', true, true],
          ['2024-01-03', true, true],
        ]);
      }
      const withBreakdown = await run([], { breakdown: 'device_type' });
      expect(withBreakdown.series).toEqual([]);
    });
  });

  describe('trends: active users', () => {
    const events = [
      ev('p1', '2024-01-01T10:00:00Z', 'e'),
      ev('p1', '2024-01-02T10:00:00Z', 'e'),
      ev('p1', '2024-01-05T10:00:00Z', 'e'),
      ev('p2', '2024-01-02T08:00:00Z', 'e'),
      ev('p2', '2024-01-02T09:00:00Z', 'e'),
      ev('p2', '2024-01-09T10:00:00Z', 'e'),
      ev('p3', '2024-01-04T10:00:00Z', 'e'),
    ];

    it('DAU, WAU (3 days) and MAU (5 days) per day, each window a distinct count ending on the day', async () => {
      const r = await run(events, { measure: 'active_users', active_windows: { wau: 3, mau: 5 }, date_range: { from: '2024-01-01', to: '2024-01-10' } });
      expect(r.definition.active_windows).toEqual({ wau: 3, mau: 5 });
      const points = r.series[0]!.points as ActiveUsersPoint[];
      expect(points.map((p) => [p.period_start, p.dau, p.wau, p.mau])).toEqual([
        ['2024-01-01', 1, 1, 1],
        ['2024-01-02', 2, 2, 2],
        ['2024-01-03', 0, 2, 2],
        ['2024-01-04', 1, 3, 3],
        ['2024-01-05', 1, 2, 3],
        ['2024-01-06', 0, 2, 3],
        ['2024-01-07', 0, 1, 2],
        ['2024-01-08', 0, 0, 2],
        ['2024-01-09', 1, 1, 2],
        ['2024-01-10', 0, 1, 1],
      ]);
      expect(points.map((p) => p.people)).toEqual([1, 2, 0, 1, 1, 0, 0, 0, 1, 0]);
      // Windows that start before the first day of data (2024-01-01) are partial; 01-10 is after the last event.
      expect(points.map((p) => [p.wau_partial, p.mau_partial, p.partial, p.no_data])).toEqual([
        [true, true, false, false],
        [true, true, false, false],
        [false, true, false, false],
        [false, true, false, false],
        [false, false, false, false],
        [false, false, false, false],
        [false, false, false, false],
        [false, false, false, false],
        [false, false, false, false],
        [false, false, true, true],
      ]);
      const total = r.series[0]!.total as { people: number; average_dau: number; average_wau: number; average_mau: number };
      expect(total.people).toBe(3);
      expect(total.average_dau).toBeCloseTo(0.6, 12);
      expect(total.average_wau).toBeCloseTo(1.5, 12);
      expect(total.average_mau).toBeCloseTo(2.1, 12);
    });

    it('weekly points: distinct people of the week, average DAU, and DAU/WAU/MAU as of the last counted day', async () => {
      const r = await run(events, { measure: 'active_users', interval: 'week', active_windows: { wau: 3, mau: 5 }, date_range: { from: '2024-01-01', to: '2024-01-10' } });
      const points = r.series[0]!.points as ActiveUsersPoint[];
      expect(points.map((p) => [p.period_start, p.first_day, p.last_day, p.people, p.dau, p.wau, p.mau, p.partial])).toEqual([
        ['2024-01-01', '2024-01-01', '2024-01-07', 3, 0, 1, 2, false],
        ['2024-01-08', '2024-01-08', '2024-01-10', 1, 0, 1, 1, true],
      ]);
      expect(points[0]!.average_dau).toBeCloseTo(5 / 7, 12);
      expect(points[1]!.average_dau).toBeCloseTo(1 / 3, 12);
    });

    it('windows look back before the range (default 7 and 30 days); a person active on many days is counted once', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'e'),
          ev('p2', '2024-01-20T10:00:00Z', 'e'),
          ev('p2', '2024-01-25T10:00:00Z', 'e'),
          ev('p2', '2024-01-30T10:00:00Z', 'e'),
          ev('p3', '2024-01-31T10:00:00Z', 'e'),
        ],
        { measure: 'active_users', date_range: { from: '2024-01-30', to: '2024-01-31' } },
      );
      expect(r.definition.active_windows).toEqual({ wau: 7, mau: 30 });
      // MAU of 01-30 covers 01-01..01-30; of 01-31 covers 01-02..01-31 (p1 drops out).
      expect((r.series[0]!.points as ActiveUsersPoint[]).map((p) => [p.dau, p.wau, p.mau, p.mau_partial])).toEqual([
        [1, 1, 2, false],
        [1, 2, 2, false],
      ]);
      expect(r.series[0]!.total).toMatchObject({ people: 2 });
    });
  });

  describe('trends: stickiness', () => {
    it('DAU ÷ MAU averaged over the days, and the "active on N days" distribution per interval and over the range', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'e'),
          ev('p1', '2024-01-02T10:00:00Z', 'e'),
          ev('p1', '2024-01-05T10:00:00Z', 'e'),
          ev('p2', '2024-01-02T08:00:00Z', 'e'),
          ev('p2', '2024-01-09T10:00:00Z', 'e'),
          ev('p3', '2024-01-04T10:00:00Z', 'e'),
        ],
        { measure: 'stickiness', interval: 'week', active_windows: { mau: 5 }, date_range: { from: '2024-01-01', to: '2024-01-10' } },
      );
      expect(r.definition.active_windows).toEqual({ wau: null, mau: 5 });
      const [w1, w2] = r.series[0]!.points as StickinessPoint[];
      expect(w1!.dau_mau).toBeCloseTo(8 / 21, 12);
      expect(w1!.average_dau).toBeCloseTo(5 / 7, 12);
      expect(w1!.average_mau).toBeCloseTo(16 / 7, 12);
      expect([w1!.people, w1!.active_days, w1!.mau_partial]).toEqual([3, [{ days: 1, people: 2 }, { days: 3, people: 1 }], true]);
      expect(w2!.dau_mau).toBeCloseTo(1 / 6, 12);
      expect([w2!.people, w2!.active_days, w2!.mau_partial, w2!.partial]).toEqual([1, [{ days: 1, people: 1 }], false, true]);
      const total = r.series[0]!.total as { people: number; dau_mau: number; active_days: unknown };
      expect(total.dau_mau).toBeCloseTo(19 / 60, 12);
      expect([total.people, total.active_days]).toEqual([3, [{ days: 1, people: 1 }, { days: 2, people: 1 }, { days: 3, people: 1 }]]);
    });

    it('dau_mau is null when nobody is active in the MAU windows', async () => {
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'e')], { measure: 'stickiness', active_windows: { mau: 2 }, date_range: { from: '2024-01-05', to: '2024-01-06' } });
      expect((r.series[0]!.points as StickinessPoint[]).map((p) => [p.dau_mau, p.people, p.active_days])).toEqual([
        [null, 0, []],
        [null, 0, []],
      ]);
      expect(r.series[0]!.total).toEqual({ people: 0, dau_mau: null, active_days: [] });
    });
  });

  describe('trends: lifecycle', () => {
    // Weeks (monday): W0 2023-12-25, W1 2024-01-01, W2 01-08, W3 01-15, W4 01-22.
    const events = [
      ev('a', '2024-01-02T10:00:00Z', 'login'), // W1 new
      ev('a', '2024-01-09T10:00:00Z', 'login'), // W2 returning; W3 dormant
      ev('a', '2024-01-23T10:00:00Z', 'login'), // W4 resurrecting
      ev('b', '2023-12-27T10:00:00Z', 'login'), // W0
      ev('b', '2024-01-03T10:00:00Z', 'login'), // W1 returning; W2 dormant
      ev('c', '2023-12-01T10:00:00Z', 'login'), // long before
      ev('c', '2024-01-10T10:00:00Z', 'login'), // W2 resurrecting; W3 dormant
      ev('d', '2023-12-26T10:00:00Z', 'login'), // W0 only: W1 dormant
      ev('e', '2024-01-16T10:00:00Z', 'login'), // W3 new
      ev('e', '2024-01-17T10:00:00Z', 'login'), // W4 dormant
      ev('f', '2023-12-28T10:00:00Z', 'visit'), // first seen W0, not a login
      ev('f', '2024-01-11T10:00:00Z', 'login'), // W2: new by first login, resurrecting by first seen
    ];
    const def = { measure: 'lifecycle', interval: 'week', events: ['login'], date_range: { from: '2024-01-01', to: '2024-01-28' } };

    it('new → returning → dormant → resurrecting per week, first ever over all history, dormant negative', async () => {
      const r = await run(events, def);
      expect(r.definition.lifecycle_new).toBe('first_activity');
      const points = r.series[0]!.points as LifecyclePoint[];
      expect(points.map((p) => [p.period_start, p.new, p.returning, p.resurrecting, p.dormant, p.active])).toEqual([
        ['2024-01-01', 1, 1, 0, -1, 2],
        ['2024-01-08', 1, 1, 1, -1, 3],
        ['2024-01-15', 1, 0, 0, -3, 1],
        ['2024-01-22', 0, 0, 1, -1, 1],
      ]);
      expect(r.series[0]!.total).toEqual({ new: 3, returning: 2, resurrecting: 2, dormant: -6 });
      // The last week runs past the last event (01-23): partial.
      expect(points.map((p) => p.partial)).toEqual([false, false, false, true]);
    });

    it('first_seen: new only in the interval of the first event of any kind (PostHog)', async () => {
      const r = await run(events, { ...def, lifecycle_new: 'first_seen' });
      expect(r.definition.lifecycle_new).toBe('first_seen');
      expect((r.series[0]!.points as LifecyclePoint[]).map((p) => [p.new, p.returning, p.resurrecting, p.dormant])).toEqual([
        [1, 1, 0, -1],
        [0, 1, 2, -1],
        [1, 0, 0, -3],
        [0, 0, 1, -1],
      ]);
    });

    it('reads whole intervals even when the range cuts them; the interval holding the first data is partial', async () => {
      const r = await run(
        [ev('a', '2024-01-01T10:00:00Z', 'login'), ev('a', '2024-01-09T10:00:00Z', 'login'), ev('b', '2024-01-14T10:00:00Z', 'login')],
        { measure: 'lifecycle', interval: 'week', date_range: { from: '2024-01-03', to: '2024-01-10' } },
      );
      const points = r.series[0]!.points as LifecyclePoint[];
      expect(points.map((p) => [p.period_start, p.first_day, p.last_day, p.new, p.returning, p.partial])).toEqual([
        ['2024-01-01', '2024-01-01', '2024-01-07', 1, 0, true],
        ['2024-01-08', '2024-01-08', '2024-01-14', 1, 1, false],
      ]);
    });
  });

  describe('trends: breakdown', () => {
    const events = [
      ev('p1', '2024-01-01T10:00:00Z', 'e', { device_type: 'mobile' }),
      ev('p1', '2024-01-01T11:00:00Z', 'e', { device_type: 'desktop' }),
      ev('p2', '2024-01-01T10:00:00Z', 'e', { device_type: 'mobile' }),
      ev('p2', '2024-01-02T10:00:00Z', 'e', { device_type: 'mobile' }),
      ev('p3', '2024-01-02T10:00:00Z', 'e'),
    ];
    const range = { from: '2024-01-01', to: '2024-01-02' };

    it('one series per event-level value, ranked by events; a person with two values counts in both', async () => {
      const r = await run(events, { measure: 'people', breakdown: 'device_type', date_range: range });
      expect(r.definition.breakdown_limit).toBe(25);
      expect(table(r, (p) => p.people)).toEqual([
        ['$any', 'mobile', [2, 1], { people: 2 }],
        ['$any', 'desktop', [1, 0], { people: 1 }],
        ['$any', null, [0, 1], { people: 1 }],
      ]);
    });

    it('values beyond breakdown_limit are merged into one "other" series with distinct counts', async () => {
      const r = await run(events, { measure: 'people', breakdown: 'device_type', breakdown_limit: 1, date_range: range });
      expect(r.series.map((s) => [s.breakdown_value, s.breakdown_other, (s.points as { people: number }[]).map((p) => p.people), s.total])).toEqual([
        ['mobile', false, [2, 1], { people: 2 }],
        [null, true, [1, 1], { people: 2 }],
      ]);
    });

    it('several series share the ranked values; an event in two series counts in both, for ranking too', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'a', { device_type: 'mobile' }),
          ev('p2', '2024-01-01T10:00:00Z', 'b', { device_type: 'desktop' }),
          ev('p3', '2024-01-01T10:00:00Z', 'b', { device_type: 'desktop' }),
          ev('p3', '2024-01-01T11:00:00Z', 'b', { device_type: 'desktop' }),
          ev('p4', '2024-01-01T10:00:00Z', 'a'),
        ],
        { events: ['a', '$any'], breakdown: 'device_type', breakdown_limit: 1, date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      // Ranking rows: desktop 3 (series $any), mobile 2 and absent 2 (series a and $any): desktop is kept.
      expect(r.series.map((s) => [s.label, s.breakdown_value, s.breakdown_other, s.total])).toEqual([
        ['a', 'desktop', false, { events: 0 }],
        ['a', null, true, { events: 2 }],
        ['$any', 'desktop', false, { events: 3 }],
        ['$any', null, true, { events: 2 }],
      ]);
    });

    it('lifecycle and active users break down by the value of the events', async () => {
      const life = await run(events, { measure: 'lifecycle', breakdown: 'device_type', date_range: range });
      expect(table(life, (p) => [p.new, p.returning, p.dormant])).toEqual([
        ['$any', 'mobile', [[2, 0, 0], [0, 1, -1]], { new: 2, returning: 1, resurrecting: 0, dormant: -1 }],
        ['$any', 'desktop', [[1, 0, 0], [0, 0, -1]], { new: 1, returning: 0, resurrecting: 0, dormant: -1 }],
        ['$any', null, [[0, 0, 0], [1, 0, 0]], { new: 1, returning: 0, resurrecting: 0, dormant: 0 }],
      ]);
      const active = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'a', measure: 'active_users', breakdown: 'device_type', date_range: range }), { timezone: 'UTC' });
      expect(table(active, (p) => [p.dau, p.wau])).toEqual([
        ['$any', 'mobile', [[2, 2], [1, 2]], { people: 2, average_dau: 1.5, average_wau: 2, average_mau: 2 }],
        ['$any', 'desktop', [[1, 1], [0, 1]], { people: 1, average_dau: 0.5, average_wau: 1, average_mau: 1 }],
        ['$any', null, [[0, 0], [1, 1]], { people: 1, average_dau: 0.5, average_wau: 0.5, average_mau: 0.5 }],
      ]);
    });

    it('breaks down by a saved segment (a person-level value) and filters to one', async () => {
      const segments = new Map([['pro', parseSegmentDefinition({ kind: 'segment', name: 'pro', properties: { 'user_properties.plan': 'pro' } })]]);
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'e', { user_properties: { plan: 'pro' } }),
          ev('p2', '2024-01-01T10:00:00Z', 'e', { user_properties: { plan: 'free' } }),
          ev('p2', '2024-01-02T10:00:00Z', 'e'),
        ],
        { measure: 'people', breakdown: 'segment:pro', date_range: range },
        { segments },
      );
      expect(table(r, (p) => p.people)).toEqual([
        ['$any', 'not pro', [1, 1], { people: 1 }],
        ['$any', 'pro', [1, 0], { people: 1 }],
      ]);
      const only = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'o', measure: 'events', segment: 'pro', date_range: range }), { timezone: 'UTC', segments });
      expect(table(only, (p) => p.events)).toEqual([['$any', null, [1, 0], { events: 1 }]]);
      await expectRunCode(runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', segment: 'nope', date_range: range }), { timezone: 'UTC', segments }), 'trends_segment_unknown', 'segment');
    });
  });

  describe('trends: scope', () => {
    it('leaves tagged people out by default and reports it; exclude: [] brings them back', async () => {
      const events = [ev('staff', '2024-01-01T10:00:00Z', 'e'), ev('staff', '2024-01-01T11:00:00Z', 'e'), ev('p1', '2024-01-01T10:00:00Z', 'e'), ev('p2', '2024-01-01T10:00:00Z', 'other')];
      await insertEvents(session, events);
      await tagPerson(session, 'staff', 'internal');
      const def = { kind: 'trends', name: 't', measure: 'people', events: ['e'], date_range: { from: '2024-01-01', to: '2024-01-01' } };
      const r = await runTrends(session, parseTrendsDefinition(def), { timezone: 'UTC' });
      expect(table(r, (p) => p.people)).toEqual([['e', null, [1], { people: 1 }]]);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 2, share_of_events: 0.5 });
      const all = await runTrends(session, parseTrendsDefinition({ ...def, exclude: [] }), { timezone: 'UTC' });
      expect(table(all, (p) => p.people)).toEqual([['e', null, [2], { people: 2 }]]);
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
    });

    it('applies global where and per-series where', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'buy', { device_type: 'mobile', properties: { plan: 'pro' } }),
          ev('p2', '2024-01-01T10:00:00Z', 'buy', { device_type: 'mobile', properties: { plan: 'free' } }),
          ev('p3', '2024-01-01T10:00:00Z', 'buy', { device_type: 'desktop', properties: { plan: 'pro' } }),
        ],
        { where: { device_type: 'mobile' }, events: ['buy', { event: 'buy', name: 'pro buys', where: { 'properties.plan': 'pro' } }], date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      expect(table(r, (p) => p.events)).toEqual([
        ['buy', null, [2], { events: 2 }],
        ['pro buys', null, [1], { events: 1 }],
      ]);
      expect(r.definition.where).toEqual({ device_type: 'mobile' });
    });

    it('hostile names and values are only values: they match nothing and change no SQL', async () => {
      const hostile = "x'); DROP TABLE events; --";
      const r = await run(
        [ev('p1', '2024-01-01T10:00:00Z', 'e', { properties: { [`a'b"c`]: hostile } })],
        { measure: 'people', events: [hostile, { event: '$any', where: { [`properties.a'b"c`]: hostile } }], breakdown: `properties.a'b"c`, date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      expect(table(r, (p) => p.people)).toEqual([
        [hostile, hostile, [0], { people: 0 }],
        ['$any', hostile, [1], { people: 1 }],
      ]);
      const again = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'n', date_range: { from: '2024-01-01', to: '2024-01-01' } }), { timezone: 'UTC' });
      expect(again.series[0]!.total).toEqual({ events: 1 });
    });
  });

  describe('trends: definition rules', () => {
    const parse = (def: Record<string, unknown>): unknown => parseTrendsDefinition({ kind: 'trends', name: 't', ...def }, 'queries/t.yaml');

    it('fills the defaults and reads YAML', () => {
      const def = parseTrendsDefinition(parseYaml('kind: trends\nname: weekly\nmeasure: people\nevents: [signup, { event: upgrade, where: { device_type: mobile } }]\ninterval: week\ndate_range: { from: 2024-01-01, to: 2024-03-31 }\n'));
      expect(def).toMatchObject({ measure: 'people', interval: 'week', events: [{ event: 'signup' }, { event: 'upgrade', where: { device_type: 'mobile' } }], date_range: { from: '2024-01-01', to: '2024-03-31' }, exclude: ['internal', 'bot'] });
      expect(parseTrendsDefinition({ kind: 'trends', name: 't' })).toMatchObject({ measure: 'events', interval: 'day', events: [{ event: '$any' }] });
      expect(trendsAnalysis.kind).toBe('trends');
    });

    it('reports each broken rule with its code and field', () => {
      expectCode(() => parse({ measure: 'sessions' }), 'trends_invalid', 'measure');
      expectCode(() => parse({ intervals: 'day' }), 'trends_invalid', 'intervals');
      expectCode(() => parse({ events: [] }), 'trends_series_missing', 'events');
      expectCode(() => parse({ events: Array.from({ length: 21 }, () => 'e') }), 'trends_too_many_series', 'events');
      expectCode(() => parse({ events: ['ok', ' '] }), 'trends_event_missing', 'events.1.event');
      expectCode(() => parse({ events: [{ event: 'e', where: { nope: 1 } }] }), 'trends_field_unknown', 'events.0.where.nope');
      expectCode(() => parse({ where: { rage_click: 'yes' } }), 'trends_filter_value_invalid', 'where.rage_click');
      expectCode(() => parse({ breakdown: 'nope' }), 'trends_field_unknown', 'breakdown');
      expectCode(() => parse({ segment: ' ' }), 'trends_segment_missing', 'segment');
      expectCode(() => parse({ date_range: { from: '2024-02-30', to: '2024-03-01' } }), 'trends_date_range_invalid', 'date_range.from');
      expectCode(() => parse({ date_range: { from: '2024-03-02', to: '2024-03-01' } }), 'trends_date_range_invalid', 'date_range');
      expectCode(() => parse({ date_range: { from: '2010-01-01', to: '2024-03-01' } }), 'trends_range_too_long', 'date_range');
      expectCode(() => parse({ measure: 'active_users', active_windows: { wau: 0 } }), 'trends_window_invalid', 'active_windows.wau');
      expectCode(() => parse({ measure: 'active_users', active_windows: { mau: 2.5 } }), 'trends_window_invalid', 'active_windows.mau');
      expectCode(() => parse({ measure: 'active_users', active_windows: { wau: 10, mau: 7 } }), 'trends_window_invalid', 'active_windows');
      expectCode(() => parse({ measure: 'events', active_windows: { mau: 28 } }), 'trends_option_unused', 'active_windows');
      expectCode(() => parse({ measure: 'stickiness', active_windows: { wau: 7 } }), 'trends_option_unused', 'active_windows.wau');
      expectCode(() => parse({ measure: 'people', lifecycle_new: 'first_seen' }), 'trends_option_unused', 'lifecycle_new');
      expectCode(() => parse({ breakdown_limit: 5 }), 'trends_option_unused', 'breakdown_limit');
      expectCode(() => parse({ breakdown: 'device_type', breakdown_limit: 0 }), 'trends_breakdown_limit_invalid', 'breakdown_limit');
      try {
        parse({ events: [] });
      } catch (err) {
        expect((err as UsageLabError).place.file).toBe('queries/t.yaml');
      }
    });

    it('refuses an unknown time zone at run time', async () => {
      await expectRunCode(runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 't' }), { timezone: 'Mars/Base' }), 'trends_timezone_invalid', 'timezone');
    });
  });

  describe('trends: local days in odd zones agree with the zone database', () => {
    // Every 17 minutes for 48 hours around a DST change (or, without DST, any day): 30- and 45-minute offsets,
    // DST at midnight (Havana), 30-minute DST (Lord Howe), and the days around 1970-01-01 (computed without the
    // hour-offset shortcut).
    const cases: [string, string][] = [
      ['Europe/London', '2024-03-31'],
      ['Europe/London', '2024-10-27'],
      ['America/Havana', '2024-03-10'],
      ['America/Havana', '2024-11-03'],
      ['Australia/Lord_Howe', '2024-04-07'],
      ['Australia/Lord_Howe', '2024-10-06'],
      ['Pacific/Chatham', '2024-04-07'],
      ['America/St_Johns', '2024-11-03'],
      ['Asia/Kathmandu', '2024-06-01'],
      ['America/New_York', '1970-01-01'],
    ];
    for (const [tz, day] of cases) {
      it(`${tz} around ${day}`, async () => {
        const start = Date.parse(`${day}T00:00:00Z`) - 86_400_000;
        const instants = Array.from({ length: Math.floor((48 * 60) / 17) }, (_v, i) => new Date(start + i * 17 * 60_000).toISOString());
        const localDay = (iso: string): string => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
        const expected = new Map<string, number>();
        for (const iso of instants) expected.set(localDay(iso), (expected.get(localDay(iso)) ?? 0) + 1);
        const days = [...expected.keys()].sort();
        const r = await run(
          instants.map((iso) => ev('p', iso, 'e')),
          { date_range: { from: days[0]!, to: days.at(-1)! } },
          { timezone: tz },
        );
        expect(r.series[0]!.points.map((p) => [p.period_start, (p as { events: number }).events])).toEqual(days.map((d) => [d, expected.get(d)]));
      });
    }
  });

  describe('trends: cross-check against a brute-force count (America/New_York, across the March DST change)', () => {
    const tz = 'America/New_York';
    const localDay = (iso: string): string =>
      new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
    const shift = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
    const monday = (day: string): string => shift(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));

    /** Deterministic pseudo-random events: 25 people, names a/b, devices m/d/none, 2024-02-01..2024-04-15 UTC. */
    function randomEvents(): TestEvent[] {
      let seed = 20240310;
      const next = (): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      const start = Date.parse('2024-02-01T00:00:00Z');
      const span = Date.parse('2024-04-15T00:00:00Z') - start;
      return Array.from({ length: 700 }, () => {
        const device = next();
        return ev(`p${Math.floor(next() * 25)}`, new Date(start + Math.floor(next() * span / 60_000) * 60_000).toISOString(), next() < 0.6 ? 'a' : 'b', device < 0.4 ? { device_type: 'm' } : device < 0.8 ? { device_type: 'd' } : {});
      });
    }

    it('DAU/WAU/MAU, weekly people, stickiness and lifecycle equal a per-person recount', async () => {
      const events = randomEvents();
      await insertEvents(session, events);
      const range = { from: '2024-03-01', to: '2024-03-31' };
      const matching = events.filter((e) => e.name === 'a').map((e) => ({ person: e.person!, day: localDay(e.at), device: e.device_type ?? null }));
      const activeIn = (from: string, to: string, device?: string | null): Set<string> =>
        new Set(matching.filter((m) => m.day >= from && m.day <= to && (device === undefined || m.device === device)).map((m) => m.person));
      const days = Array.from({ length: 31 }, (_v, i) => shift(range.from, i));

      const active = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', measure: 'active_users', events: ['a'], date_range: range }), { timezone: tz });
      expect((active.series[0]!.points as ActiveUsersPoint[]).map((p) => [p.period_start, p.dau, p.wau, p.mau])).toEqual(
        days.map((d) => [d, activeIn(d, d).size, activeIn(shift(d, -6), d).size, activeIn(shift(d, -29), d).size]),
      );
      expect(active.series[0]!.total).toMatchObject({ people: activeIn(range.from, range.to).size });

      const byDevice = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', measure: 'active_users', events: ['a'], breakdown: 'device_type', active_windows: { wau: 3, mau: 10 }, date_range: range }), {
        timezone: tz,
      });
      expect(byDevice.series.map((s) => s.breakdown_value).sort()).toEqual(['d', 'm', null].sort());
      for (const s of byDevice.series) {
        expect((s.points as ActiveUsersPoint[]).map((p) => [p.dau, p.wau, p.mau])).toEqual(
          days.map((d) => [activeIn(d, d, s.breakdown_value).size, activeIn(shift(d, -2), d, s.breakdown_value).size, activeIn(shift(d, -9), d, s.breakdown_value).size]),
        );
      }

      const weekly = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', measure: 'people', interval: 'week', events: ['a'], date_range: range }), { timezone: tz });
      expect(weekly.series[0]!.points.map((p) => [p.period_start, (p as { people: number }).people])).toEqual(
        weekly.series[0]!.points.map((p) => [p.period_start, activeIn(p.first_day, p.last_day).size]),
      );
      expect(weekly.series[0]!.points[0]!.period_start).toBe('2024-02-26');

      const sticky = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', measure: 'stickiness', events: ['a'], date_range: range }), { timezone: tz });
      const perPerson = new Map<string, Set<string>>();
      for (const m of matching.filter((x) => x.day >= range.from && x.day <= range.to)) perPerson.set(m.person, (perPerson.get(m.person) ?? new Set()).add(m.day));
      const histogram = new Map<number, number>();
      for (const set of perPerson.values()) histogram.set(set.size, (histogram.get(set.size) ?? 0) + 1);
      expect((sticky.series[0]!.total as { active_days: unknown }).active_days).toEqual([...histogram].sort((x, y) => x[0] - y[0]).map(([d, people]) => ({ days: d, people })));
      const ratios = days.map((d) => [activeIn(d, d).size, activeIn(shift(d, -29), d).size]).filter(([, mau]) => mau! > 0).map(([dau, mau]) => dau! / mau!);
      expect((sticky.series[0]!.total as { dau_mau: number }).dau_mau).toBeCloseTo(ratios.reduce((a, b) => a + b, 0) / ratios.length, 12);

      const life = await runTrends(session, parseTrendsDefinition({ kind: 'trends', name: 'x', measure: 'lifecycle', interval: 'week', events: ['a'], date_range: range }), { timezone: tz });
      const weeksOf = new Map<string, Set<string>>();
      for (const m of matching) weeksOf.set(m.person, (weeksOf.get(m.person) ?? new Set()).add(monday(m.day)));
      const expected = (life.series[0]!.points as LifecyclePoint[]).map((p) => {
        const counts = { new: 0, returning: 0, resurrecting: 0, dormant: 0 };
        const previous = shift(p.period_start, -7);
        for (const weeks of weeksOf.values()) {
          const first = [...weeks].sort()[0]!;
          if (weeks.has(p.period_start)) {
            if (first === p.period_start) counts.new++;
            else if (weeks.has(previous)) counts.returning++;
            else counts.resurrecting++;
          } else if (weeks.has(previous)) counts.dormant--;
        }
        return [p.period_start, counts.new, counts.returning, counts.resurrecting, counts.dormant];
      });
      expect((life.series[0]!.points as LifecyclePoint[]).map((p) => [p.period_start, p.new, p.returning, p.resurrecting, p.dormant])).toEqual(expected);
      // The data makes every status occur, so the comparison means something.
      const sums = life.series[0]!.total as { new: number; returning: number; resurrecting: number; dormant: number };
      expect(Math.min(sums.returning, sums.resurrecting, -sums.dormant)).toBeGreaterThan(0);
    });
  });
});

describe('trends: calendar', () => {
  it('lists cut and whole periods, and default ranges, independent of the process time zone', () => {
    expect(periodsOf({ from: '2024-02-28', to: '2024-03-02' }, 'month', 'monday', true)).toEqual([
      { start: '2024-02-01', end: '2024-02-29', first: '2024-02-28', last: '2024-02-29' },
      { start: '2024-03-01', end: '2024-03-31', first: '2024-03-01', last: '2024-03-02' },
    ]);
    expect(periodsOf({ from: '2024-03-09', to: '2024-03-09' }, 'week', 'saturday', false)).toEqual([{ start: '2024-03-09', end: '2024-03-15', first: '2024-03-09', last: '2024-03-15' }]);
    expect(defaultRange('2024-01-15', 'month', 'monday')).toEqual({ from: '2023-02-01', to: '2024-01-15' });
    expect(defaultRange('2024-01-03', 'week', 'sunday')).toEqual({ from: '2023-10-15', to: '2024-01-03' });
  });
});

