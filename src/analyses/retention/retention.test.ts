import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { ev, type TestEvent } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { runOnEngine } from '../analysis-kind.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { runRetention, retentionAnalysis, type RetentionRunOptions } from './retention-analysis.js';
import { parseRetentionDefinition } from './retention-definition.js';
import { buildCalendarQuery, buildRollingQuery, type RetentionPlan } from './retention-query.js';
import { chCalendarQuery, chRollingQuery } from './retention-query-clickhouse.js';
import type { RetentionCohort, RetentionResult } from './retention-result.js';
import { retentionSettings } from './retention-settings.js';
import { expectCode, expectRunCode } from '../../test-support/expect-error.js';

const define = (def: Record<string, unknown>) => parseRetentionDefinition({ kind: 'retention', name: 'test', ...def });

/** Each cohort as [start, size, count k=0, count k=1, ...] (null = incomplete). */
const matrix = (cohorts: readonly RetentionCohort[]): (string | number | null)[][] => cohorts.map((c) => [c.start, c.size, ...c.intervals.map((i) => i.count)]);

/** A late event of someone else, so every interval of the tests ends before the data does. */
const LATE = ev('zz-late', '2025-01-01T00:00:00Z', 'heartbeat');

// Every case runs on both warehouse engines with the same expected numbers (ClickHouse: chDB, or CLICKHOUSE_URL).
describe.each(ENGINES)('retention on %s', (engine) => {
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function run(events: TestEvent[], def: Record<string, unknown>, options: Partial<RetentionRunOptions> = {}): Promise<RetentionResult> {
    await insertEvents(session, events);
    return runRetention(session, define(def), { timezone: 'UTC', ...options });
  }

  /** Reruns a definition on the events already inserted. */
  const rerun = (def: Record<string, unknown>, options: Partial<RetentionRunOptions> = {}): Promise<RetentionResult> =>
    runRetention(session, define(def), { timezone: 'UTC', ...options });

  /** Events in the warehouse, on either engine. */
  async function countEvents(): Promise<number> {
    if (session.engine === 'clickhouse') return Number((await session.clickhouse.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n);
    const rows = await (session as unknown as { all<T>(sql: string): Promise<T[]> }).all<{ n: number }>('SELECT count(*)::INTEGER AS n FROM events');
    return rows[0]!.n;
  }

  describe('retention: weekly recurring cohorts', () => {
    const events = [
      // 2024-01-01 is a Monday.
      ev('p1', '2024-01-01T10:00:00Z', 'signup'),
      ev('p1', '2024-01-09T10:00:00Z', 'login'),
      ev('p1', '2024-01-22T10:00:00Z', 'login'),
      ev('p2', '2024-01-03T10:00:00Z', 'signup'),
      ev('p2', '2024-01-04T10:00:00Z', 'login'),
      ev('p3', '2024-01-08T10:00:00Z', 'signup'),
      ev('p3', '2024-01-15T10:00:00Z', 'login'),
    ];

    it('counts each cohort per interval, marks intervals that end after the data incomplete (null, not 0)', async () => {
      const r = await run(events, { target: 'signup', returning: 'login', intervals: 3, date_range: { from: '2024-01-01', to: '2024-01-14' } });
      expect(r.kind).toBe('retention');
      expect(r.version).toBe(1);
      expect(r.observed_until).toBe('2024-01-22T10:00:00.000Z');
      expect(matrix(r.cohorts)).toEqual([
        // k0: p2 logged in after signing up that week; k1: p1 (01-09); k2: nobody; k3 (week of 01-22) not over.
        ['2024-01-01', 2, 1, 1, 0, null],
        ['2024-01-08', 1, 0, 1, null, null],
      ]);
      expect(r.cohorts[0]!.intervals).toEqual([
        { k: 0, count: 1, rate: 0.5, complete: true },
        { k: 1, count: 1, rate: 0.5, complete: true },
        { k: 2, count: 0, rate: 0, complete: true },
        { k: 3, count: null, rate: null, complete: false },
      ]);
      // Weighted: Σ retained ÷ Σ size over the cohorts whose interval k is complete.
      expect(r.average).toEqual([
        { k: 0, count: 1, size: 3, rate: 1 / 3, cohorts: 2 },
        { k: 1, count: 2, size: 3, rate: 2 / 3, cohorts: 2 },
        { k: 2, count: 0, size: 2, rate: 0, cohorts: 1 },
        { k: 3, count: 0, size: 0, rate: null, cohorts: 0 },
      ]);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: 0 });
      expect(r.breakdown).toBeUndefined();
    });

    it('fills every default into the resolved definition', async () => {
      const r = await run(events, { target: 'signup' });
      expect(r.definition).toEqual({
        name: 'test',
        target: { event: 'signup', where: {} },
        returning: { event: 'signup', where: {} },
        cohort: 'recurring',
        interval: 'week',
        intervals: 8,
        cumulative: false,
        min_occurrences: 1,
        rolling: false,
        rolling_hours: null,
        round_to_hour: false,
        week_start: 'monday',
        preset: null,
        from_preset: [],
        date_range: null,
        where: {},
        segment: null,
        breakdown: null,
        exclude: ['internal', 'bot'],
        timezone: 'UTC',
      });
      // Without a date range the cohorts run from the first to the last event's week.
      expect(r.cohorts.map((c) => c.start)).toEqual(['2024-01-01', '2024-01-08', '2024-01-15', '2024-01-22']);
      // Returning = target by default: interval 0 holds the entry event itself.
      expect(r.cohorts.map((c) => [c.size, c.intervals[0]!.count])).toEqual([
        [2, 2],
        [1, 1],
        [0, 0],
        [0, null],
      ]);
    });

    it('a person enters every interval in which they did the target; returning events before the entry do not count for interval 0', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'login'),
          ev('p1', '2024-01-02T10:00:00Z', 'signup'),
          ev('p1', '2024-01-08T10:00:00Z', 'signup'),
          ev('p1', '2024-01-08T12:00:00Z', 'login'),
          ev('p1', '2024-01-09T10:00:00Z', 'signup'),
          LATE,
        ],
        { target: 'signup', returning: 'login', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-14' } },
      );
      // Week 01-01: the login came before the signup (k0 0); p1 logged in the next week (k1 1). Week 01-08: one entry
      // however many signups, at the first (01-08 10:00); the login 2 h later counts.
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 1, 0, 1],
        ['2024-01-08', 1, 1, 0],
      ]);
    });
  });

  describe('retention: interval 0 and simultaneous events', () => {
    const events = [
      // p1: login at the same instant as the signup.
      ev('p1', '2024-01-01T10:00:00Z', 'signup'),
      ev('p1', '2024-01-01T10:00:00Z', 'login'),
      // p2: login 1 µs before the signup.
      ev('p2', '2024-01-01T09:59:59.999999Z', 'login'),
      ev('p2', '2024-01-01T10:00:00Z', 'signup'),
      // p3: login the next calendar day.
      ev('p3', '2024-01-01T10:00:00Z', 'signup'),
      ev('p3', '2024-01-02T00:00:00Z', 'login'),
      LATE,
    ];
    const base = { target: 'signup', interval: 'day', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-01' } };

    it('a returning event at the same instant as the entry counts; one before it does not', async () => {
      const r = await run(events, { ...base, returning: 'login' });
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 3, 1, 1]]);
    });

    it('returning any event: the entry event itself returns in interval 0', async () => {
      await insertEvents(session, events);
      expect(matrix((await rerun({ ...base, returning: '$any' })).cohorts)).toEqual([['2024-01-01', 3, 3, 1]]);
      // $any in the target too: everyone active that day.
      const any = await rerun({ ...base, target: '$any', returning: '$any' });
      expect(matrix(any.cohorts)).toEqual([['2024-01-01', 3, 3, 1]]);
      expect(any.definition.target).toEqual({ event: '$any', where: {} });
    });

    it('min_occurrences counts the entry event, and only events at or after it in interval 0', async () => {
      await insertEvents(session, events);
      const r = await rerun({ ...base, returning: '$any', min_occurrences: 2 });
      // p1: signup + login at the same instant (2); p2: the earlier login does not count (1); p3: 1 a day.
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 3, 1, 0]]);
    });
  });

  describe('retention: min_occurrences and cumulative', () => {
    it('min_occurrences 2: retained in an interval only with two returning events there', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T08:00:00Z', 'login'),
          ev('p1', '2024-01-01T10:00:00Z', 'signup'),
          ev('p1', '2024-01-02T10:00:00Z', 'login'),
          ev('p1', '2024-01-08T10:00:00Z', 'login'),
          ev('p1', '2024-01-09T10:00:00Z', 'login'),
          ev('p1', '2024-01-15T10:00:00Z', 'login'),
          ev('p2', '2024-01-01T10:00:00Z', 'signup'),
          ev('p2', '2024-01-02T10:00:00Z', 'login'),
          ev('p2', '2024-01-03T10:00:00Z', 'login'),
          ev('p2', '2024-01-08T10:00:00Z', 'login'),
          ev('p2', '2024-01-15T10:00:00Z', 'login'),
          ev('p2', '2024-01-16T10:00:00Z', 'login'),
          ev('p2', '2024-01-17T10:00:00Z', 'login'),
          LATE,
        ],
        { target: 'signup', returning: 'login', intervals: 2, date_range: { from: '2024-01-01', to: '2024-01-07' } },
      );
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 2, 2, 2, 2]]);
      const two = await rerun({ target: 'signup', returning: 'login', intervals: 2, min_occurrences: 2, date_range: { from: '2024-01-01', to: '2024-01-07' } });
      // k0: p1 has one login before the signup and one after (1 < 2); p2 two after. k1: p1 two, p2 one. k2: p2 three.
      expect(matrix(two.cohorts)).toEqual([['2024-01-01', 2, 1, 1, 1]]);
      expect(two.definition.min_occurrences).toBe(2);
    });

    it('cumulative: interval k counts people who came back in k or any later interval shown', async () => {
      const events = [
        ev('p1', '2024-01-01T10:00:00Z', 'signup'),
        ev('p1', '2024-01-15T10:00:00Z', 'login'),
        ev('p2', '2024-01-01T10:00:00Z', 'signup'),
        ev('p2', '2024-01-08T10:00:00Z', 'login'),
        ev('p3', '2024-01-01T10:00:00Z', 'signup'),
        // After interval 3: not shown, not counted.
        ev('p3', '2024-02-12T10:00:00Z', 'login'),
        LATE,
      ];
      const def = { target: 'signup', returning: 'login', intervals: 3, date_range: { from: '2024-01-01', to: '2024-01-07' } };
      expect(matrix((await run(events, def)).cohorts)).toEqual([['2024-01-01', 3, 0, 1, 1, 0]]);
      const cumulative = await rerun({ ...def, cumulative: true });
      expect(matrix(cumulative.cohorts)).toEqual([['2024-01-01', 3, 2, 2, 1, 0]]);
      expect(cumulative.average.map((a) => a.rate)).toEqual([2 / 3, 2 / 3, 1 / 3, 0]);
    });
  });

  describe('retention: first_time vs recurring cohorts', () => {
    const events = [
      ev('p1', '2024-01-01T10:00:00Z', 'signup'),
      ev('p1', '2024-01-08T10:00:00Z', 'signup'),
      ev('p1', '2024-01-09T10:00:00Z', 'login'),
      ev('p1', '2024-01-16T10:00:00Z', 'login'),
      // p2's first signup ever is before the range: no first-time cohort.
      ev('p2', '2023-12-20T10:00:00Z', 'signup'),
      ev('p2', '2024-01-10T10:00:00Z', 'signup'),
      ev('p2', '2024-01-16T10:00:00Z', 'login'),
      ev('p3', '2024-01-02T10:00:00Z', 'signup'),
      ev('p3', '2024-01-02T11:00:00Z', 'login'),
      LATE,
    ];
    const def = { target: 'signup', returning: 'login', intervals: 2, date_range: { from: '2024-01-01', to: '2024-01-14' } };

    it('recurring: a cohort for every interval with a target event in the range', async () => {
      const r = await run(events, def);
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 2, 1, 1, 1],
        ['2024-01-08', 2, 1, 2, 0],
      ]);
    });

    it('first_time: only the first target event ever, over all history', async () => {
      await insertEvents(session, events);
      const r = await rerun({ ...def, cohort: 'first_time' });
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 2, 1, 1, 1],
        ['2024-01-08', 0, 0, 0, 0],
      ]);
      expect(r.cohorts[1]!.intervals.map((i) => i.rate)).toEqual([null, null, null]);
      // Averages skip empty cohorts.
      expect(r.average.map((a) => [a.count, a.size, a.cohorts])).toEqual([
        [1, 2, 1],
        [1, 2, 1],
        [1, 2, 1],
      ]);
    });

    it('first_time with rolling intervals', async () => {
      await insertEvents(session, events);
      const r = await rerun({ ...def, cohort: 'first_time', interval: 'day', rolling: true, intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-02' } });
      // p1 (01-01 10:00): no login within 48 h; p3 (01-02 10:00): login 1 h later.
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 1, 0, 0],
        ['2024-01-02', 1, 1, 0],
      ]);
    });
  });

  describe('retention: calendar intervals in the configured time zone', () => {
    it('day cohorts: 23:30 local is a different day than in UTC', async () => {
      const events = [
        // 2023-12-31 23:30 in New York, 2024-01-01 04:30 UTC.
        ev('p1', '2024-01-01T04:30:00Z', 'signup'),
        // 2024-01-01 01:00 in New York.
        ev('p1', '2024-01-01T06:00:00Z', 'login'),
        LATE,
      ];
      const def = { target: 'signup', returning: 'login', interval: 'day', intervals: 1, date_range: { from: '2023-12-31', to: '2024-01-01' } };
      expect(matrix((await run(events, def)).cohorts)).toEqual([
        ['2023-12-31', 0, 0, 0],
        ['2024-01-01', 1, 1, 0],
      ]);
      expect(matrix((await rerun(def, { timezone: 'America/New_York' })).cohorts)).toEqual([
        ['2023-12-31', 1, 0, 1],
        ['2024-01-01', 0, 0, 0],
      ]);
      // India is UTC+05:30: both events are on 2024-01-01 there.
      expect(matrix((await rerun(def, { timezone: 'Asia/Kolkata' })).cohorts)).toEqual([
        ['2023-12-31', 0, 0, 0],
        ['2024-01-01', 1, 1, 0],
      ]);
    });

    describe('week cohorts across the spring DST change in New York (2024-03-10)', () => {
      const events = [
        // Sat 03-09 23:30 EST.
        ev('p1', '2024-03-10T04:30:00Z', 'signup'),
        // Sun 03-10 00:30 EST.
        ev('p1', '2024-03-10T05:30:00Z', 'login'),
        // Mon 03-11 00:30 EDT.
        ev('p1', '2024-03-11T04:30:00Z', 'login'),
        // Sun 03-10 03:30 EDT (just after the change).
        ev('p2', '2024-03-10T07:30:00Z', 'signup'),
        // Sun 03-17 00:30 EDT.
        ev('p2', '2024-03-17T04:30:00Z', 'login'),
        LATE,
      ];
      const def = { target: 'signup', returning: 'login', intervals: 1, date_range: { from: '2024-03-03', to: '2024-03-10' } };

      it('weeks starting on Monday', async () => {
        const r = await run(events, def, { timezone: 'America/New_York', weekStart: 'monday' });
        expect(matrix(r.cohorts)).toEqual([
          ['2024-02-26', 0, 0, 0],
          ['2024-03-04', 2, 1, 2],
        ]);
        expect(r.definition.week_start).toBe('monday');
      });

      it('weeks starting on Sunday', async () => {
        await insertEvents(session, events);
        const r = await rerun(def, { timezone: 'America/New_York', weekStart: 'sunday' });
        expect(matrix(r.cohorts)).toEqual([
          ['2024-03-03', 1, 0, 1],
          ['2024-03-10', 1, 0, 1],
        ]);
        expect(r.definition.week_start).toBe('sunday');
      });

      it('the same data in UTC puts p1 in the week of 03-10 (Sunday weeks)', async () => {
        await insertEvents(session, events);
        expect(matrix((await rerun(def, { weekStart: 'sunday' })).cohorts)).toEqual([
          ['2024-03-03', 0, 0, 0],
          ['2024-03-10', 2, 1, 1],
        ]);
      });
    });

    it('day cohorts across the fall DST change in New York (2024-11-03 is 25 hours long)', async () => {
      const events = [
        // 11-03 00:30 EDT.
        ev('p1', '2024-11-03T04:30:00Z', 'signup'),
        // 11-03 23:30 EST: still 11-03 (a fixed UTC-4 offset would say 11-04 00:30).
        ev('p1', '2024-11-04T04:30:00Z', 'login'),
        // 11-04 00:30 EST.
        ev('p1', '2024-11-04T05:30:00Z', 'login'),
        // 11-03 23:30 EST.
        ev('p2', '2024-11-04T04:30:00Z', 'signup'),
        LATE,
      ];
      const r = await run(events, { target: 'signup', returning: 'login', interval: 'day', intervals: 1, date_range: { from: '2024-11-03', to: '2024-11-03' } }, { timezone: 'America/New_York' });
      expect(matrix(r.cohorts)).toEqual([['2024-11-03', 2, 1, 1]]);
    });

    it('month cohorts across month lengths (leap February) and a DST change in Berlin', async () => {
      const events = [
        ev('p1', '2024-01-31T12:00:00Z', 'signup'),
        ev('p1', '2024-02-29T12:00:00Z', 'login'),
        ev('p1', '2024-03-01T12:00:00Z', 'login'),
        // 02-29 23:30 in Berlin (CET).
        ev('p2', '2024-02-29T22:30:00Z', 'signup'),
        // 04-01 00:30 in Berlin (CEST since 03-31); 03-31 in UTC.
        ev('p2', '2024-03-31T22:30:00Z', 'login'),
        LATE,
      ];
      const def = { target: 'signup', returning: 'login', interval: 'month', intervals: 2, date_range: { from: '2024-01-01', to: '2024-02-29' } };
      expect(matrix((await run(events, def, { timezone: 'Europe/Berlin' })).cohorts)).toEqual([
        ['2024-01-01', 1, 0, 1, 1],
        ['2024-02-01', 1, 0, 0, 1],
      ]);
      expect(matrix((await rerun(def)).cohorts)).toEqual([
        ['2024-01-01', 1, 0, 1, 1],
        ['2024-02-01', 1, 0, 1, 0],
      ]);
    });

    it('date range boundaries are local midnights: 00:00 local is in, 00:00 the day after "to" is out', async () => {
      const events = [
        // 2024-03-01 00:00 EST = 05:00 UTC: first instant of the range.
        ev('p1', '2024-03-01T05:00:00Z', 'signup'),
        // 1 µs before the range.
        ev('p2', '2024-03-01T04:59:59.999999Z', 'signup'),
        // 2024-03-10 23:59:59.999999 EDT: last instant of the range (the day of the DST change is 23 hours long).
        ev('p3', '2024-03-11T03:59:59.999999Z', 'signup'),
        // 2024-03-11 00:00 EDT: the day after.
        ev('p4', '2024-03-11T04:00:00Z', 'signup'),
        LATE,
      ];
      const r = await run(events, { target: 'signup', interval: 'day', intervals: 1, date_range: { from: '2024-03-01', to: '2024-03-10' } }, { timezone: 'America/New_York' });
      expect(r.cohorts.length).toBe(10);
      expect(r.cohorts.filter((c) => c.size > 0).map((c) => [c.start, c.size])).toEqual([
        ['2024-03-01', 1],
        ['2024-03-10', 1],
      ]);
    });
  });

  describe('retention: rolling intervals', () => {
    const events = [
      ev('p1', '2024-01-01T10:00:00Z', 'signup'),
      // 23 h later, the next calendar day.
      ev('p1', '2024-01-02T09:00:00Z', 'login'),
      ev('p2', '2024-01-01T10:00:00Z', 'signup'),
      // Exactly 24 h later: rolling day 1.
      ev('p2', '2024-01-02T10:00:00Z', 'login'),
      LATE,
    ];
    const def = { target: 'signup', returning: 'login', interval: 'day', intervals: 2, date_range: { from: '2024-01-01', to: '2024-01-01' } };

    it('calendar days vs rolling 24 h from the entry instant', async () => {
      expect(matrix((await run(events, def)).cohorts)).toEqual([['2024-01-01', 2, 0, 2, 0]]);
      const rolling = await rerun({ ...def, rolling: true });
      expect(matrix(rolling.cohorts)).toEqual([['2024-01-01', 2, 1, 1, 0]]);
      expect(rolling.definition.rolling_hours).toBe(24);
    });

    it('round_to_hour measures from the hour (Amplitude): 23 h 06 min across hours 10 → 34 is day 1', async () => {
      await insertEvents(session, [...events, ev('p3', '2024-01-01T10:59:00Z', 'signup'), ev('p3', '2024-01-02T10:05:00Z', 'login')]);
      expect(matrix((await rerun({ ...def, rolling: true })).cohorts)).toEqual([['2024-01-01', 3, 2, 1, 0]]);
      expect(matrix((await rerun({ ...def, rolling: true, round_to_hour: true })).cohorts)).toEqual([['2024-01-01', 3, 1, 2, 0]]);
    });

    it('rolling weeks are 7 × 24 h; recurring entries each measure from their own first target event', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'signup'),
          ev('p1', '2024-01-08T09:00:00Z', 'login'),
          ev('p1', '2024-01-09T10:00:00Z', 'signup'),
          ev('p1', '2024-01-16T10:00:00Z', 'login'),
          LATE,
        ],
        { target: 'signup', returning: 'login', interval: 'week', rolling: true, intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-14' } },
      );
      // Entry 01-01 10:00: the 01-08 09:00 login is 167 h later (week 0), 01-16 is in week 2 (not shown).
      // Entry 01-09 10:00: the 01-16 10:00 login is exactly 168 h later (week 1).
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 1, 1, 0],
        ['2024-01-08', 1, 0, 1],
      ]);
      expect(r.definition.rolling_hours).toBe(168);
    });

    it('min_occurrences and a breakdown with rolling intervals', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'signup', { device_type: 'a' }),
          ev('p1', '2024-01-01T12:00:00Z', 'login'),
          ev('p1', '2024-01-02T09:00:00Z', 'login'),
          ev('p1', '2024-01-02T11:00:00Z', 'login'),
          ev('p2', '2024-01-01T11:00:00Z', 'signup', { device_type: 'b' }),
          ev('p2', '2024-01-02T12:00:00Z', 'login'),
          ev('p2', '2024-01-02T13:00:00Z', 'login'),
          LATE,
        ],
        { target: 'signup', returning: 'login', interval: 'day', rolling: true, intervals: 1, min_occurrences: 2, breakdown: 'device_type', date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      // p1: two logins within 24 h, one in the next 24 h; p2: none, then two.
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 2, 1, 1]]);
      expect(r.breakdown!.map((g) => [g.value, matrix(g.cohorts)])).toEqual([
        ['a', [['2024-01-01', 1, 1, 0]]],
        ['b', [['2024-01-01', 1, 0, 1]]],
      ]);
    });

    it('completeness is measured from the latest entry of the cohort', async () => {
      const r = await run(
        [ev('p1', '2024-01-01T01:00:00Z', 'signup'), ev('p2', '2024-01-01T20:00:00Z', 'signup'), ev('p2', '2024-01-02T21:00:00Z', 'signup')],
        { target: 'signup', interval: 'day', rolling: true, intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      // Data ends 01-02 21:00: interval 0 ended for p2 at 01-02 20:00, interval 1 ends 01-03 20:00.
      expect(r.cohorts[0]!.intervals.map((i) => [i.count, i.complete])).toEqual([
        [2, true],
        [null, false],
      ]);
    });
  });

  describe('retention: completeness and empty data', () => {
    it('an empty warehouse gives no cohorts and null rates', async () => {
      const r = await run([], { target: 'signup', intervals: 2 });
      expect(r.cohorts).toEqual([]);
      expect(r.observed_until).toBeNull();
      expect(r.average).toEqual([
        { k: 0, count: 0, size: 0, rate: null, cohorts: 0 },
        { k: 1, count: 0, size: 0, rate: null, cohorts: 0 },
        { k: 2, count: 0, size: 0, rate: null, cohorts: 0 },
      ]);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
    });

    it('a date range on an empty warehouse lists empty, incomplete cohorts', async () => {
      const r = await run([], { target: 'signup', interval: 'day', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-02' } });
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 0, null, null],
        ['2024-01-02', 0, null, null],
      ]);
    });

    it('no matching events: cohorts of size 0 with counts 0 where complete', async () => {
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'view'), LATE], { target: 'signup', interval: 'day', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-01' } });
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 0, 0, 0]]);
      expect(r.average[0]).toEqual({ k: 0, count: 0, size: 0, rate: null, cohorts: 0 });
    });

    it('"now" caps the observed data: intervals ending after it are incomplete even with later events', async () => {
      const events = [ev('p1', '2024-01-01T10:00:00Z', 'signup'), ev('p1', '2024-01-02T10:00:00Z', 'signup'), ev('p1', '2024-01-05T10:00:00Z', 'signup')];
      const def = { target: 'signup', interval: 'day', intervals: 2, date_range: { from: '2024-01-01', to: '2024-01-01' } };
      expect(matrix((await run(events, def)).cohorts)).toEqual([['2024-01-01', 1, 1, 1, 0]]);
      const capped = await rerun(def, { now: new Date('2024-01-02T12:00:00Z') });
      expect(capped.observed_until).toBe('2024-01-02T12:00:00.000Z');
      expect(matrix(capped.cohorts)).toEqual([['2024-01-01', 1, 1, null, null]]);
    });

    it('a date range reaching past the data: later cohorts are listed, their intervals incomplete', async () => {
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'signup'), ev('p1', '2024-01-02T10:00:00Z', 'signup')], {
        target: 'signup',
        interval: 'day',
        intervals: 1,
        date_range: { from: '2024-01-01', to: '2024-01-04' },
      });
      // Data ends 01-02 10:00: only 01-01's interval 0 is over.
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 1, 1, null],
        ['2024-01-02', 1, null, null],
        ['2024-01-03', 0, null, null],
        ['2024-01-04', 0, null, null],
      ]);
      expect(r.average.map((a) => [a.count, a.size, a.rate])).toEqual([
        [1, 1, 1],
        [0, 0, null],
      ]);
    });

    it('an interval ending exactly at the last event is complete', async () => {
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'signup'), ev('p2', '2024-01-02T00:00:00Z', 'x')], {
        target: 'signup',
        interval: 'day',
        intervals: 1,
        date_range: { from: '2024-01-01', to: '2024-01-01' },
      });
      expect(r.cohorts[0]!.intervals.map((i) => i.complete)).toEqual([true, false]);
    });
  });

  describe('retention: identities, filters, segments, breakdowns, exclusions', () => {
    it('events of one person from two sources count as one person', async () => {
      const r = await run(
        [ev('p1', '2024-01-01T10:00:00Z', 'signup', { source: 'amplitude' }), ev('p1', '2024-01-09T10:00:00Z', 'login', { source: 'mixpanel' }), ev(null, '2024-01-09T10:00:00Z', 'login'), LATE],
        { target: 'signup', returning: 'login', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-07' } },
      );
      expect(matrix(r.cohorts)).toEqual([['2024-01-01', 1, 0, 1]]);
    });

    const events = [
      ev('p1', '2024-01-01T10:00:00Z', 'signup', { device_type: 'mobile', properties: { plan: 'pro' } }),
      ev('p1', '2024-01-08T10:00:00Z', 'login', { device_type: 'desktop' }),
      ev('p1', '2024-01-09T10:00:00Z', 'signup', { device_type: 'desktop', properties: { plan: 'free' } }),
      ev('p1', '2024-01-16T10:00:00Z', 'login', { device_type: 'mobile' }),
      ev('p2', '2024-01-02T10:00:00Z', 'signup', { device_type: 'mobile', properties: { plan: 'pro' } }),
      ev('p2', '2024-01-10T10:00:00Z', 'login', { device_type: 'mobile' }),
      ev('p2', '2024-01-10T11:00:00Z', 'upgrade'),
      ev('p3', '2024-01-03T10:00:00Z', 'signup'),
      LATE,
    ];
    const def = { target: 'signup', returning: 'login', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-14' } };

    it('where applies to target and returning events alike', async () => {
      await insertEvents(session, events);
      expect(matrix((await rerun(def)).cohorts)).toEqual([
        ['2024-01-01', 3, 0, 2],
        ['2024-01-08', 1, 0, 1],
      ]);
      expect(matrix((await rerun({ ...def, where: { device_type: 'mobile' } })).cohorts)).toEqual([
        ['2024-01-01', 2, 0, 1],
        ['2024-01-08', 0, 0, 0],
      ]);
      // Per-event filters: only pro signups enter, any login returns.
      expect(matrix((await rerun({ ...def, target: { event: 'signup', where: { 'properties.plan': 'pro' } } })).cohorts)).toEqual([
        ['2024-01-01', 2, 0, 2],
        ['2024-01-08', 0, 0, 0],
      ]);
    });

    it('breakdown: the value on the cohort-entry event; each entry in one group', async () => {
      await insertEvents(session, events);
      const r = await rerun({ ...def, breakdown: 'device_type' });
      expect(r.definition.breakdown).toBe('device_type');
      expect(r.breakdown!.map((g) => [g.value, g.size, matrix(g.cohorts)])).toEqual([
        [
          'mobile',
          2,
          [
            ['2024-01-01', 2, 0, 2],
            ['2024-01-08', 0, 0, 0],
          ],
        ],
        [
          'desktop',
          1,
          [
            ['2024-01-01', 0, 0, 0],
            ['2024-01-08', 1, 0, 1],
          ],
        ],
        [
          null,
          1,
          [
            ['2024-01-01', 1, 0, 0],
            ['2024-01-08', 0, 0, 0],
          ],
        ],
      ]);
      expect(r.breakdown![0]!.average.map((a) => a.rate)).toEqual([0, 1]);
      // The totals are the sum of the groups.
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 3, 0, 2],
        ['2024-01-08', 1, 0, 1],
      ]);
      const json = await rerun({ ...def, breakdown: 'properties.plan' });
      expect(json.breakdown!.map((g) => [g.value, g.size])).toEqual([
        ['pro', 2],
        ['free', 1],
        [null, 1],
      ]);
    });

    it('breakdown of first-time cohorts: the value on the first target event ever', async () => {
      await insertEvents(session, [
        ev('p1', '2024-01-01T10:00:00Z', 'signup', { device_type: 'mobile' }),
        ev('p1', '2024-01-02T10:00:00Z', 'signup', { device_type: 'desktop' }),
        LATE,
      ]);
      const def = { target: 'signup', interval: 'day', intervals: 1, breakdown: 'device_type', date_range: { from: '2024-01-01', to: '2024-01-02' } };
      const first = await rerun({ ...def, cohort: 'first_time' });
      expect(first.breakdown!.map((g) => [g.value, matrix(g.cohorts)])).toEqual([
        [
          'mobile',
          [
            ['2024-01-01', 1, 1, 1],
            ['2024-01-02', 0, 0, 0],
          ],
        ],
      ]);
      const recurring = await rerun(def);
      expect(recurring.breakdown!.map((g) => [g.value, g.size])).toEqual([
        ['desktop', 1],
        ['mobile', 1],
      ]);
      const rolling = await rerun({ ...def, cohort: 'first_time', rolling: true });
      expect(rolling.breakdown!.map((g) => [g.value, matrix(g.cohorts)])).toEqual([
        [
          'mobile',
          [
            ['2024-01-01', 1, 1, 1],
            ['2024-01-02', 0, 0, 0],
          ],
        ],
      ]);
    });

    it('breakdown ties at the same instant are broken by event id', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'signup', { device_type: 'b', event_id: '00000000-0000-4000-8000-ffffffffff02' }),
          ev('p1', '2024-01-01T10:00:00Z', 'signup', { device_type: 'a', event_id: '00000000-0000-4000-8000-ffffffffff01' }),
          LATE,
        ],
        { target: 'signup', interval: 'day', intervals: 1, breakdown: 'device_type', date_range: { from: '2024-01-01', to: '2024-01-01' } },
      );
      expect(r.breakdown!.map((g) => [g.value, g.size])).toEqual([['a', 1]]);
    });

    it('segment and breakdown by segment', async () => {
      await insertEvents(session, events);
      const segments = new Map([['upgraders', parseSegmentDefinition({ kind: 'segment', name: 'upgraders', did: [{ event: 'upgrade' }] })]]);
      expect(matrix((await rerun({ ...def, segment: 'upgraders' }, { segments })).cohorts)).toEqual([
        ['2024-01-01', 1, 0, 1],
        ['2024-01-08', 0, 0, 0],
      ]);
      const r = await rerun({ ...def, breakdown: 'segment:upgraders' }, { segments });
      expect(r.breakdown!.map((g) => [g.value, g.size, matrix(g.cohorts)])).toEqual([
        [
          'not upgraders',
          3,
          [
            ['2024-01-01', 2, 0, 1],
            ['2024-01-08', 1, 0, 1],
          ],
        ],
        [
          'upgraders',
          1,
          [
            ['2024-01-01', 1, 0, 1],
            ['2024-01-08', 0, 0, 0],
          ],
        ],
      ]);
      await expectRunCode(rerun({ ...def, segment: 'nope' }, { segments }), 'retention_segment_unknown', 'segment');
      await expectRunCode(rerun({ ...def, breakdown: 'segment:nope' }, { segments }), 'retention_segment_unknown', 'breakdown');
    });

    it('an unknown segment is refused on an empty warehouse too', async () => {
      await expectRunCode(rerun({ target: 'signup', segment: 'nope' }), 'retention_segment_unknown', 'segment');
    });

    it('tagged people are excluded by default, reported in excluded, and come back with exclude: []', async () => {
      await insertEvents(session, events);
      await tagPerson(session, 'p2', 'internal');
      const r = await rerun(def);
      expect(matrix(r.cohorts)).toEqual([
        ['2024-01-01', 2, 0, 1],
        ['2024-01-08', 1, 0, 1],
      ]);
      // p2's 3 events of the 7 in the range.
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 3, share_of_events: 3 / 7 });
      const all = await rerun({ ...def, exclude: [] });
      expect(matrix(all.cohorts)).toEqual([
        ['2024-01-01', 3, 0, 2],
        ['2024-01-08', 1, 0, 1],
      ]);
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
    });
  });

  describe('retention: presets', () => {
    it('each preset fills only what the definition leaves out, and says which keys it set', () => {
      const amplitude = retentionSettings(define({ target: 'signup', preset: 'amplitude' }));
      expect(amplitude).toMatchObject({ interval: 'day', rolling: true, round_to_hour: true, cohort: 'recurring', cumulative: false, returning: { event: '$any', where: {} }, intervals: 8 });
      expect(amplitude.from_preset.sort()).toEqual(['cohort', 'cumulative', 'interval', 'returning', 'rolling', 'round_to_hour']);
      const mixpanel = retentionSettings(define({ target: 'signup', preset: 'mixpanel' }));
      expect(mixpanel).toMatchObject({ interval: 'day', rolling: true, round_to_hour: false, cohort: 'first_time', returning: { event: 'signup' } });
      const posthog = retentionSettings(define({ target: 'signup', preset: 'posthog' }));
      expect(posthog).toMatchObject({ interval: 'week', rolling: false, round_to_hour: false, cohort: 'recurring', cumulative: false });
      expect(posthog.from_preset.sort()).toEqual(['cumulative', 'rolling']);
      // Explicit keys win; turning rolling off also drops the preset's hour rounding.
      const explicit = retentionSettings(define({ target: 'signup', preset: 'amplitude', rolling: false, interval: 'week', returning: 'login' }));
      expect(explicit).toMatchObject({ interval: 'week', rolling: false, round_to_hour: false, returning: { event: 'login' } });
      expect(explicit.from_preset.sort()).toEqual(['cohort', 'cumulative']);
    });

    it('a preset run equals the same settings written out', async () => {
      await insertEvents(session, [
        ev('p1', '2024-01-01T10:59:00Z', 'signup'),
        ev('p1', '2024-01-02T10:05:00Z', 'view'),
        ev('p2', '2024-01-01T10:00:00Z', 'signup'),
        ev('p2', '2024-01-01T12:00:00Z', 'signup'),
        // 48 h 30 min after p2's hour: day 2.
        ev('p2', '2024-01-03T10:30:00Z', 'view'),
        LATE,
      ]);
      const range = { date_range: { from: '2024-01-01', to: '2024-01-01' }, intervals: 2 };
      const preset = await rerun({ target: 'signup', preset: 'amplitude', ...range });
      const written = await rerun({ target: 'signup', returning: '$any', interval: 'day', rolling: true, round_to_hour: true, ...range });
      expect(preset.cohorts).toEqual(written.cohorts);
      expect(matrix(preset.cohorts)).toEqual([['2024-01-01', 2, 2, 1, 1]]);
      expect(preset.definition.preset).toBe('amplitude');
    });
  });

  describe('retention: validation', () => {
    const ok = { target: 'signup' };
    it('rule codes name the field', () => {
      expectCode(() => define({ ...ok, bogus: 1 }), 'retention_invalid', 'bogus');
      expectCode(() => define({}), 'retention_invalid', 'target');
      expectCode(() => define({ ...ok, interval: 'hour' }), 'retention_invalid', 'interval');
      expectCode(() => define({ ...ok, cohort: 'new' }), 'retention_invalid', 'cohort');
      expectCode(() => define({ ...ok, preset: 'heap' }), 'retention_invalid', 'preset');
      expectCode(() => define({ target: ' ' }), 'retention_event_missing', 'target.event');
      expectCode(() => define({ ...ok, returning: { event: '' } }), 'retention_event_missing', 'returning.event');
      expectCode(() => define({ ...ok, intervals: 0 }), 'retention_intervals_invalid', 'intervals');
      expectCode(() => define({ ...ok, intervals: 1.5 }), 'retention_intervals_invalid', 'intervals');
      expectCode(() => define({ ...ok, intervals: 367 }), 'retention_intervals_invalid', 'intervals');
      expectCode(() => define({ ...ok, min_occurrences: 0 }), 'retention_min_occurrences_invalid', 'min_occurrences');
      expectCode(() => define({ ...ok, min_occurrences: 101 }), 'retention_min_occurrences_invalid', 'min_occurrences');
      expectCode(() => define({ ...ok, round_to_hour: true }), 'retention_round_to_hour_needs_rolling', 'round_to_hour');
      expectCode(() => define({ ...ok, target: { event: 'signup', where: { bogus: 'x' } } }), 'retention_field_unknown', 'target.where.bogus');
      expectCode(() => define({ ...ok, returning: { event: 'x', where: { rage_click: 'yes' } } }), 'retention_filter_value_invalid', 'returning.where.rage_click');
      expectCode(() => define({ ...ok, where: { device_type: [] } }), 'retention_filter_value_invalid', 'where.device_type');
      expectCode(() => define({ ...ok, breakdown: 'nope' }), 'retention_field_unknown', 'breakdown');
      expectCode(() => define({ ...ok, breakdown: 'segment:' }), 'retention_segment_missing', 'breakdown');
      expectCode(() => define({ ...ok, date_range: { from: '2024-02-30', to: '2024-03-01' } }), 'retention_date_range_invalid', 'date_range.from');
      expectCode(() => define({ ...ok, date_range: { from: '2024-03-02', to: '2024-03-01' } }), 'retention_date_range_invalid', 'date_range');
      expect(define({ ...ok, rolling: true, round_to_hour: true }).round_to_hour).toBe(true);
    });

    it('a bad time zone is refused at run time', async () => {
      await expectRunCode(rerun(ok, { timezone: 'Mars/Olympus' }), 'retention_timezone_invalid', 'timezone');
    });

    it('the kind object parses and runs', async () => {
      await insertEvents(session, [ev('p1', '2024-01-01T10:00:00Z', 'signup'), LATE]);
      const def = retentionAnalysis.parse({ kind: 'retention', name: 'k', target: 'signup', interval: 'day', intervals: 1, date_range: { from: '2024-01-01', to: '2024-01-01' } });
      expect(matrix((await runOnEngine(retentionAnalysis, session, def, { timezone: 'UTC' })).cohorts)).toEqual([['2024-01-01', 1, 1, 0]]);
      expect(retentionAnalysis.engines).toEqual(['duckdb', 'clickhouse']);
      expect(retentionAnalysis.kind).toBe('retention');
    });
  });

  describe('retention: hostile values are only values', () => {
    const hostile = "x'); DROP TABLE events; --";
    it('an event name full of SQL matches nothing and changes nothing', async () => {
      await insertEvents(session, [ev('p1', '2024-01-01T10:00:00Z', 'signup'), LATE]);
      const r = await rerun({ target: hostile, returning: { event: hostile, where: { [`properties.${hostile}`]: hostile } }, breakdown: `properties.${hostile}`, intervals: 1 });
      expect(r.cohorts.every((c) => c.size === 0)).toBe(true);
      expect(r.breakdown).toEqual([]);
      expect(await countEvents()).toBe(2);
    });

    it('the statement text depends only on the definition shape, not on its values', () => {
      const plan: RetentionPlan = { loUs: 0, hiUs: 1, firstBucket: 0, lastBucket: 0, scanHiUs: 2, offsets: { initialUs: 0, transitions: [] } };
      const sqlOf = (target: string, rolling: boolean, timezone = 'UTC') => {
        const def = define({ target, where: { country: target }, breakdown: 'device_type', rolling });
        const input = { scope: def, settings: retentionSettings(def), plan, weekStart: 'monday' as const, scopeOptions: { kind: 'retention', timezone } };
        if (engine === 'clickhouse') return (rolling ? chRollingQuery(input) : chCalendarQuery(input)).sql;
        return (rolling ? buildRollingQuery(input) : buildCalendarQuery(input)).sql;
      };
      for (const rolling of [false, true]) {
        expect(sqlOf(hostile, rolling)).toBe(sqlOf('signup', rolling));
        expect(sqlOf(hostile, rolling)).not.toContain('DROP');
      }
      // The zone is a bound value on ClickHouse (DuckDB folds its offsets into the plan instead).
      if (engine === 'clickhouse') expect(sqlOf('signup', false, `UTC'; ${hostile}`)).toBe(sqlOf('signup', false));
    });
  });
});
