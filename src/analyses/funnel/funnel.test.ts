import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { UsageLabError } from '../../core/errors.js';
import { ev, type TestEvent } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { bestAttempt, type UnitEvent } from './funnel-attempts.js';
import { evaluateFunnel, runFunnel, funnelAnalysis, type FunnelEvaluation, type FunnelRunOptions } from './funnel-analysis.js';
import { parseFunnelDefinition } from './funnel-definition.js';
import { buildFunnelEventsQuery } from './funnel-query.js';
import { chDroppedUnitsQuery, chFunnelTallyQuery, chNextEventsQuery } from './funnel-query-clickhouse.js';
import { checkFunnelRules } from './funnel-rules.js';
import type { FunnelResult } from './funnel-result.js';
import { expectCode } from '../../test-support/expect-error.js';

/** 2024-01-01T00:00:00Z plus days, hours, minutes, seconds. */
function at(days: number, hours = 0, minutes = 0, seconds = 0): string {
  return new Date(Date.UTC(2024, 0, 1) + (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000).toISOString();
}

const HOUR = 3600;
const DAY = 86_400;

const counts = (r: { steps: { count: number }[] }): number[] => r.steps.map((s) => s.count);

// Every case runs on both warehouse engines with the same expected numbers (ClickHouse: chDB, or CLICKHOUSE_URL).
describe.each(ENGINES)('funnel on %s', (engine) => {
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function evaluate(events: TestEvent[], def: Record<string, unknown>, options: Partial<FunnelRunOptions> = {}): Promise<FunnelEvaluation> {
    await insertEvents(session, events);
    return evaluateFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 'test', ...def }), { timezone: 'UTC', ...options });
  }

  async function run(events: TestEvent[], def: Record<string, unknown>, options: Partial<FunnelRunOptions> = {}): Promise<FunnelResult> {
    return (await evaluate(events, def, options)).result;
  }

  /** Empties the events table, on either engine. */
  async function clearEvents(): Promise<void> {
    if (session.engine === 'clickhouse') await session.clickhouse.command('TRUNCATE TABLE events');
    else await (session as unknown as { run(sql: string): Promise<void> }).run('DELETE FROM events');
  }

  /** Events in the warehouse, on either engine. */
  async function countEvents(): Promise<number> {
    if (session.engine === 'clickhouse') return Number((await session.clickhouse.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n);
    const rows = await (session as unknown as { all<T>(sql: string): Promise<T[]> }).all<{ n: string }>('SELECT count(*) AS n FROM events');
    return Number(rows[0]!.n);
  }

  describe('funnel: ordered steps', () => {
    it('counts people by the furthest step, in order, with rates, drop-off and times', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'signup'),
          ev('p1', at(0, 1), 'create_project'),
          ev('p1', at(1, 1), 'upgrade'),
          ev('p2', at(0), 'signup'),
          ev('p2', at(0, 3), 'create_project'),
          ev('p3', at(0), 'signup'),
          ev('p4', at(0), 'create_project'),
          ev('p4', at(0, 1), 'upgrade'),
          // Step 3 before step 1 does not count.
          ev('p5', at(0), 'upgrade'),
          ev('p5', at(0, 1), 'signup'),
          ev('p5', at(0, 9), 'create_project'),
          // No person: ignored.
          ev(null, at(0), 'signup'),
          ev(null, at(0, 1), 'create_project'),
          ev(null, at(0, 2), 'upgrade'),
        ],
        { steps: ['signup', 'create_project', 'upgrade'] },
      );
      expect(r.steps).toEqual([
        { name: 'signup', count: 4, conversion_from_previous: 1, conversion_from_first: 1, drop_off: 0, median_seconds_from_previous: null, mean_seconds_from_previous: null },
        { name: 'create_project', count: 3, conversion_from_previous: 0.75, conversion_from_first: 0.75, drop_off: 1, median_seconds_from_previous: 3 * HOUR, mean_seconds_from_previous: 4 * HOUR },
        { name: 'upgrade', count: 1, conversion_from_previous: 1 / 3, conversion_from_first: 0.25, drop_off: 2, median_seconds_from_previous: DAY, mean_seconds_from_previous: DAY },
      ]);
      expect(r.kind).toBe('funnel');
      expect(r.version).toBe(1);
    });

    it('step 2 before step 1 does not convert; a later step 2 does', async () => {
      const r = await run(
        [ev('p1', at(0), 'b'), ev('p1', at(0, 1), 'a'), ev('p2', at(0), 'b'), ev('p2', at(0, 1), 'a'), ev('p2', at(0, 2), 'b')],
        { steps: ['a', 'b'] },
      );
      expect(counts(r)).toEqual([2, 1]);
      expect(r.steps[1]!.median_seconds_from_previous).toBe(HOUR);
    });

    it('a repeated step needs its own event ([x, x] needs two x)', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'x'),
          ev('p2', at(0), 'x'),
          ev('p2', at(0, 1), 'x'),
          ev('p3', at(0), 'x'),
          ev('p3', at(0), 'x'),
          ev('p4', at(0), 'x'),
          ev('p4', at(0, 1), 'x'),
          ev('p4', at(0, 2), 'x'),
        ],
        { steps: ['x', 'x', 'x'] },
      );
      expect(counts(r)).toEqual([4, 3, 1]);
      // p2: 1 h, p3: same instant (0 s), p4: 1 h.
      expect(r.steps[1]!.median_seconds_from_previous).toBe(HOUR);
      expect(r.steps[1]!.mean_seconds_from_previous).toBe((2 * HOUR) / 3);
    });

    it('a step at the same instant as the previous one converts, whatever the stored order', async () => {
      const r = await run(
        [
          // event ids put b before a in the (time, event_id) order.
          ev('p1', at(0), 'a', { event_id: '00000000-0000-4000-8000-ffffffffff02' }),
          ev('p1', at(0), 'b', { event_id: '00000000-0000-4000-8000-ffffffffff01' }),
          ev('p2', at(0), 'a'),
          ev('p2', at(0, 1), 'b'),
          ev('p2', at(0, 1), 'c'),
          ev('p3', at(0), 'c'),
          ev('p3', at(0), 'b'),
          ev('p3', at(0), 'a'),
        ],
        { steps: ['a', 'b', 'c'] },
      );
      expect(counts(r)).toEqual([3, 3, 2]);
      expect(r.steps[1]!.median_seconds_from_previous).toBe(0);
      expect(r.steps[2]!.median_seconds_from_previous).toBe(0);
    });

    it('window: measured from step 1, boundary inclusive (14d converts, 14d + 1 µs does not)', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T00:00:00Z', 'a'),
          ev('p1', '2024-01-15T00:00:00Z', 'b'),
          ev('p2', '2024-01-01T00:00:00Z', 'a'),
          ev('p2', '2024-01-15T00:00:00.000001Z', 'b'),
          // Measured from step 1, not from the previous step.
          ev('p3', '2024-01-01T00:00:00Z', 'a'),
          ev('p3', '2024-01-11T00:00:00Z', 'b'),
          ev('p3', '2024-01-15T00:00:00.000001Z', 'c'),
        ],
        { steps: ['a', 'b', 'c'] },
      );
      expect(counts(r)).toEqual([3, 2, 0]);
      expect(r.definition.window).toBe('14d');
      expect(r.definition.window_seconds).toBe(14 * DAY);
    });

    it('window: other units', async () => {
      const events = [ev('p1', at(0), 'a'), ev('p1', at(0, 0, 30), 'b'), ev('p2', at(0), 'a'), ev('p2', at(0, 0, 30, 1), 'b')];
      expect(counts(await run(events, { steps: ['a', 'b'], window: '30m' }))).toEqual([2, 1]);
    });

    it('the best attempt counts: furthest step, then the earliest', async () => {
      const r = await run(
        [
          // p1: a first attempt reaching 2, a later one reaching 3.
          ev('p1', at(0), 'a'),
          ev('p1', at(1), 'b'),
          ev('p1', at(20), 'a'),
          ev('p1', at(21), 'b'),
          ev('p1', at(22), 'c'),
          // p2: two attempts reaching 2: the earliest (2 h) counts, not the later (1 h).
          ev('p2', at(0), 'a'),
          ev('p2', at(0, 2), 'b'),
          ev('p2', at(20), 'a'),
          ev('p2', at(20, 1), 'b'),
          // p3: the first a's window misses b; a later a catches it.
          ev('p3', at(0), 'a'),
          ev('p3', at(10), 'a'),
          ev('p3', at(16), 'b'),
        ],
        { steps: ['a', 'b', 'c'] },
      );
      expect(counts(r)).toEqual([3, 3, 1]);
      expect(r.steps[1]!.median_seconds_from_previous).toBe(DAY);
      expect(r.steps[1]!.mean_seconds_from_previous).toBe((DAY + 2 * HOUR + 6 * DAY) / 3);
      expect(r.steps[2]!.median_seconds_from_previous).toBe(DAY);
    });
  });

  describe('funnel: exclusions', () => {
    const events = [
      // p1: x strictly between steps 1 and 2: the attempt is dropped (p1 not counted at all).
      ev('p1', at(0), 'a'),
      ev('p1', at(0, 1), 'x'),
      ev('p1', at(0, 2), 'b'),
      ev('p1', at(0, 3), 'c'),
      // p2: x between steps 2 and 3: outside [1, 2].
      ev('p2', at(0), 'a'),
      ev('p2', at(0, 1), 'b'),
      ev('p2', at(0, 2), 'x'),
      ev('p2', at(0, 3), 'c'),
      // p3: x at the same instants as steps 1 and 2: not strictly between.
      ev('p3', at(0), 'a'),
      ev('p3', at(0), 'x'),
      ev('p3', at(0, 2), 'x'),
      ev('p3', at(0, 2), 'b'),
      ev('p3', at(0, 3), 'c'),
      // p4: step 2 never reached, x after the window: kept at step 1.
      ev('p4', at(0), 'a'),
      ev('p4', '2024-01-15T00:00:00.000001Z', 'x'),
      // p5: step 2 never reached, x inside the window (at its last instant): dropped.
      ev('p5', at(0), 'a'),
      ev('p5', '2024-01-15T00:00:00Z', 'x'),
      // p6: the first attempt is dropped, a later clean one counts.
      ev('p6', at(0), 'a'),
      ev('p6', at(0, 1), 'x'),
      ev('p6', at(0, 2), 'b'),
      ev('p6', at(30), 'a'),
      ev('p6', at(30, 1), 'b'),
      ev('p6', at(30, 2), 'c'),
    ];

    it('drops attempts with the excluded event strictly between the steps, within the window', async () => {
      const e = await evaluate(events, { steps: ['a', 'b', 'c'], exclusions: [{ event: 'x', between: [1, 2] }] });
      expect(counts(e.result)).toEqual([4, 3, 3]);
      expect(e.droppedAfter(1)).toEqual(['p4']);
      expect(e.result.definition.exclusions).toEqual([{ event: 'x', where: {}, between: [1, 2] }]);
    });

    it('between defaults to the whole funnel', async () => {
      const r = await run(events, { steps: ['a', 'b', 'c'], exclusions: [{ event: 'x' }] });
      // p2 (x between 2 and 3) and p3 (x at 02:00 strictly between a at 00:00 and c at 03:00) are now dropped too.
      expect(counts(r)).toEqual([2, 1, 1]);
      expect(r.definition.exclusions[0]!.between).toEqual([1, 3]);
    });

    it('exclusion filters apply', async () => {
      const r = await run(
        [ev('p1', at(0), 'a'), ev('p1', at(0, 1), 'x', { device_type: 'mobile' }), ev('p1', at(0, 2), 'b'), ev('p2', at(0), 'a'), ev('p2', at(0, 1), 'x', { device_type: 'desktop' }), ev('p2', at(0, 2), 'b')],
        { steps: ['a', 'b'], exclusions: [{ event: 'x', where: { device_type: 'desktop' } }] },
      );
      expect(counts(r)).toEqual([1, 1]);
    });
  });

  describe('funnel: strict and unordered', () => {
    it('strict: no other event of the person strictly between consecutive steps', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'a'),
          ev('p1', at(0, 1), 'b'),
          ev('p1', at(0, 2), 'c'),
          // p2: x between a and b.
          ev('p2', at(0), 'a'),
          ev('p2', at(0, 1), 'x'),
          ev('p2', at(0, 2), 'b'),
          ev('p2', at(0, 3), 'c'),
          // p3: x at the same instant as a: not between.
          ev('p3', at(0), 'a'),
          ev('p3', at(0), 'x'),
          ev('p3', at(0, 1), 'b'),
          ev('p3', at(0, 2), 'c'),
          // p4: x between b and c.
          ev('p4', at(0), 'a'),
          ev('p4', at(0, 1), 'b'),
          ev('p4', at(0, 2), 'x'),
          ev('p4', at(0, 3), 'c'),
          // p5: the second a starts a clean run.
          ev('p5', at(0), 'a'),
          ev('p5', at(0, 1), 'x'),
          ev('p5', at(0, 2), 'a'),
          ev('p5', at(0, 3), 'b'),
          ev('p5', at(0, 4), 'c'),
        ],
        { steps: ['a', 'b', 'c'], order: 'strict' },
      );
      expect(counts(r)).toEqual([5, 4, 3]);
    });

    it('ordered (the default) allows those events in between', async () => {
      const r = await run(
        [ev('p2', at(0), 'a'), ev('p2', at(0, 1), 'x'), ev('p2', at(0, 2), 'b')],
        { steps: ['a', 'b'] },
      );
      expect(counts(r)).toEqual([1, 1]);
      expect(r.definition.order).toBe('ordered');
    });

    it('unordered: row k counts units that did k of the steps, in any order, within the window', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'c'),
          ev('p1', at(0, 1), 'b'),
          ev('p1', at(0, 3), 'a'),
          ev('p2', at(0), 'b'),
          ev('p2', at(0, 2), 'a'),
          ev('p3', at(0), 'c'),
          ev('p4', at(0), 'a'),
          ev('p4', at(15), 'b'),
        ],
        { steps: ['a', 'b', 'c'], order: 'unordered' },
      );
      expect(counts(r)).toEqual([4, 2, 1]);
      expect(r.steps[1]!.median_seconds_from_previous).toBe(1.5 * HOUR);
      expect(r.steps[2]!.median_seconds_from_previous).toBe(2 * HOUR);
    });

    it('unordered: one event cannot fill two steps; a matching assigns events to steps', async () => {
      const r = await run(
        [
          // p1: the desktop x can fill either step, the mobile x only step 2: both steps filled.
          ev('p1', at(0), 'x', { device_type: 'mobile' }),
          ev('p1', at(0, 1), 'x', { device_type: 'desktop' }),
          // p2: one desktop x: one step.
          ev('p2', at(0), 'x', { device_type: 'desktop' }),
        ],
        { steps: [{ event: 'x', where: { device_type: 'desktop' } }, 'x'], order: 'unordered' },
      );
      expect(counts(r)).toEqual([2, 1]);
    });
  });

  describe('funnel: unit, breakdown, first_time, filters', () => {
    it('unit session: each session is a unit; events without a session are ignored', async () => {
      const e = await evaluate(
        [
          ev('p1', at(0), 'a', { session_id: 's1' }),
          ev('p1', at(0, 0, 5), 'b', { session_id: 's1' }),
          ev('p1', at(1), 'a', { session_id: 's2' }),
          // a in one session, b in the next: no conversion for a session funnel.
          ev('p1', at(2), 'a', { session_id: 's3' }),
          ev('p1', at(2, 1), 'b', { session_id: 's4' }),
          ev('p2', at(0), 'a', { session_id: null }),
          ev('p2', at(0, 0, 1), 'b', { session_id: null }),
        ],
        { steps: ['a', 'b'], unit: 'session' },
      );
      expect(counts(e.result)).toEqual([3, 1]);
      expect(e.droppedAfter(1)).toEqual(['s2', 's3']);
      expect(e.result.definition.unit).toBe('session');
    });

    it('breakdown: attributed to the best attempt’s step-1 event', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'a', { device_type: 'desktop' }),
          ev('p1', at(0, 1), 'b', { device_type: 'mobile' }),
          ev('p2', at(0), 'a', { device_type: 'mobile' }),
          ev('p3', at(0), 'a'),
          ev('p3', at(0, 1), 'b', { device_type: 'desktop' }),
          ev('p4', at(0), 'a', { device_type: 'mobile' }),
          ev('p4', at(20), 'a', { device_type: 'desktop' }),
          ev('p4', at(21), 'b', { device_type: 'mobile' }),
        ],
        { steps: ['a', 'b'], breakdown: 'device_type' },
      );
      expect(counts(r)).toEqual([4, 3]);
      expect(r.breakdown!.map((g) => [g.value, counts(g)])).toEqual([
        ['desktop', [2, 2]],
        ['mobile', [1, 0]],
        [null, [1, 1]],
      ]);
      expect(r.breakdown![1]!.steps[1]!.conversion_from_previous).toBe(0);
    });

    it('breakdown by an event property', async () => {
      const r = await run(
        [ev('p1', at(0), 'a', { properties: { plan: 'pro' } }), ev('p1', at(0, 1), 'b'), ev('p2', at(0), 'a', { properties: { plan: 'free' } }), ev('p3', at(0), 'a', { properties: { plan: 'pro' } })],
        { steps: ['a', 'b'], breakdown: 'properties.plan' },
      );
      expect(r.breakdown!.map((g) => [g.value, counts(g)])).toEqual([
        ['pro', [2, 1]],
        ['free', [1, 0]],
      ]);
    });

    it('first_time: only the person’s first-ever occurrence (all history, not just the date range)', async () => {
      const events = [
        ev('p1', '2023-06-01T00:00:00Z', 'signup'),
        ev('p1', '2024-01-02T00:00:00Z', 'signup'),
        ev('p1', '2024-01-03T00:00:00Z', 'upgrade'),
        ev('p2', '2024-01-02T00:00:00Z', 'signup'),
        ev('p2', '2024-01-03T00:00:00Z', 'upgrade'),
        ev('p3', '2024-01-04T00:00:00Z', 'signup'),
      ];
      const def = { steps: [{ event: 'signup', first_time: true }, 'upgrade'], date_range: { from: '2024-01-01', to: '2024-01-31' } };
      expect(counts(await run(events, def))).toEqual([2, 1]);
    });

    it('first_time without it: every occurrence may start an attempt', async () => {
      const events = [ev('p1', '2023-06-01T00:00:00Z', 'signup'), ev('p1', '2024-01-02T00:00:00Z', 'signup'), ev('p1', '2024-01-03T00:00:00Z', 'upgrade')];
      expect(counts(await run(events, { steps: ['signup', 'upgrade'] }))).toEqual([1, 1]);
    });

    it('where: columns, properties (numbers match by value), lists, null', async () => {
      const events = [
        ev('p1', at(0), 'a'),
        ev('p1', at(0, 1), 'b', { device_type: 'desktop', properties: { seats: '5', flag: true } }),
        ev('p2', at(0), 'a'),
        ev('p2', at(0, 1), 'b', { device_type: 'tablet', properties: { seats: 5.0, flag: 'true' } }),
        ev('p3', at(0), 'a'),
        ev('p3', at(0, 1), 'b', { device_type: 'mobile', properties: { seats: 6 } }),
        ev('p4', at(0), 'a'),
        ev('p4', at(0, 1), 'b', { device_type: null, properties: { seats: 'five' } }),
      ];
      await insertEvents(session, events);
      const go = async (where: Record<string, unknown>) =>
        counts(await runFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 'w', steps: ['a', { event: 'b', where }] }), { timezone: 'UTC', nextEvents: false }));
      expect(await go({ device_type: 'desktop' })).toEqual([4, 1]);
      expect(await go({ device_type: ['desktop', 'tablet'] })).toEqual([4, 2]);
      expect(await go({ device_type: null })).toEqual([4, 1]);
      expect(await go({ 'properties.seats': 5 })).toEqual([4, 2]);
      // A text value compares as text: the number 5 reads as "5".
      expect(await go({ 'properties.seats': '5' })).toEqual([4, 2]);
      expect(await go({ 'properties.flag': true })).toEqual([4, 2]);
      expect(await go({ 'properties.seats': 5, device_type: 'tablet' })).toEqual([4, 1]);
      expect(await go({ 'properties.missing': null })).toEqual([4, 4]);
    });
  });

  describe('funnel: date range and time zones', () => {
    // America/New_York switches to DST on 2024-03-10 at 02:00: that local day runs 05:00Z → 04:00Z next day (23 h).
    const events = [
      ev('p1', '2024-03-10T04:59:59Z', 'a'),
      ev('p1', '2024-03-10T05:10:00Z', 'b'),
      ev('p2', '2024-03-10T05:00:00Z', 'a'),
      ev('p3', '2024-03-11T03:59:59Z', 'a'),
      // A later step may fall after the date range (within the window).
      ev('p3', '2024-03-11T04:30:00Z', 'b'),
      ev('p4', '2024-03-11T04:00:00Z', 'a'),
      ev('p4', '2024-03-11T04:01:00Z', 'b'),
      // Only on 2024-03-10 in Asia/Kolkata (+05:30).
      ev('p5', '2024-03-09T19:00:00Z', 'a'),
    ];
    const def = { steps: ['a', 'b'], date_range: { from: '2024-03-10', to: '2024-03-10' } };

    it('step 1 must fall on the local calendar days of the range (DST day in America/New_York)', async () => {
      const e = await evaluate(events, def, { timezone: 'America/New_York' });
      expect(counts(e.result)).toEqual([2, 1]);
      expect(e.droppedAfter(1)).toEqual(['p2']);
      // p3 converts: 03:59:59Z → 04:30:00Z.
      expect(e.result.steps[1]!.median_seconds_from_previous).toBe(1801);
      expect(e.result.definition.date_range).toEqual({ from: '2024-03-10', to: '2024-03-10' });
      expect(e.result.definition.timezone).toBe('America/New_York');
    });

    it('the same range in UTC and in Asia/Kolkata selects other people', async () => {
      await insertEvents(session, events);
      const parsed = parseFunnelDefinition({ kind: 'funnel', name: 'tz', ...def });
      const utc = await evaluateFunnel(session, parsed, { timezone: 'UTC' });
      expect(counts(utc.result)).toEqual([2, 1]);
      expect(utc.droppedAfter(1)).toEqual(['p2']);
      // p1 converts here, not p3: 04:59:59Z → 05:10:00Z.
      expect(utc.result.steps[1]!.median_seconds_from_previous).toBe(601);
      // Kolkata (+05:30): 2024-03-09T18:30Z .. 2024-03-10T18:30Z.
      const kolkata = await evaluateFunnel(session, parsed, { timezone: 'Asia/Kolkata' });
      expect(counts(kolkata.result)).toEqual([3, 1]);
      expect(kolkata.result.dropped![0]!.count).toBe(2);
      expect(kolkata.droppedAfter(1)).toEqual(['p2', 'p5']);
    });

    it('fall-back day (25 h) in Europe/Berlin, range of several days, dates given as Date', async () => {
      // 2024-10-27 in Berlin: 2024-10-26T22:00Z .. 2024-10-27T23:00Z.
      const r = await run(
        [ev('p1', '2024-10-26T21:59:59Z', 'a'), ev('p2', '2024-10-26T22:00:00Z', 'a'), ev('p3', '2024-10-27T22:59:59Z', 'a'), ev('p4', '2024-10-27T23:00:00Z', 'a')],
        { steps: ['a', 'b'], date_range: { from: new Date('2024-10-27T00:00:00Z'), to: '2024-10-27' } },
        { timezone: 'Europe/Berlin' },
      );
      expect(counts(r)).toEqual([2, 0]);
    });
  });

  describe('funnel: empty results and dropped users', () => {
    it('no events: zeros, null rates and times, never NaN', async () => {
      const r = await run([], { steps: ['a', 'b', 'c'], breakdown: 'country' });
      expect(r.steps).toEqual(
        ['a', 'b', 'c'].map((name) => ({ name, count: 0, conversion_from_previous: null, conversion_from_first: null, drop_off: 0, median_seconds_from_previous: null, mean_seconds_from_previous: null })),
      );
      expect(r.breakdown).toEqual([]);
      expect(r.dropped).toEqual([
        { after_step: 1, step_name: 'a', count: 0, next_events: [], no_next_event: 0 },
        { after_step: 2, step_name: 'b', count: 0, next_events: [], no_next_event: 0 },
      ]);
      expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
    });

    it('a step nobody reached after a reached one: rate 0, later rates null', async () => {
      const r = await run([ev('p1', at(0), 'a')], { steps: ['a', 'b', 'c'] });
      expect(r.steps.map((s) => [s.count, s.conversion_from_previous, s.conversion_from_first, s.drop_off])).toEqual([
        [1, 1, 1, 0],
        [0, 0, 0, 1],
        [0, null, 0, 0],
      ]);
    });

    it('droppedAfter and the top next events of dropped people (within the window, not simultaneous)', async () => {
      const e = await evaluate(
        [
          ev('p1', at(0), 'a'),
          ev('p1', at(0, 1), 'x'),
          ev('p1', at(0, 2), 'y'),
          ev('p2', at(0), 'a'),
          ev('p2', at(0, 1), 'x'),
          ev('p3', at(0), 'a'),
          ev('p3', at(0, 1), 'y'),
          ev('p4', at(0), 'a'),
          ev('p4', at(0, 1), 'b'),
          ev('p4', at(0, 2), 'z'),
          ev('p5', at(0), 'a'),
          ev('p6', at(0), 'a'),
          ev('p6', at(15), 'w'),
          ev('p7', at(0), 'a'),
          ev('p7', at(0), 'q'),
          ev('p7', at(0, 1), 'v'),
          ev('p8', at(0), 'a'),
          ev('p8', at(0, 1), 'b'),
          ev('p8', at(0, 2), 'c'),
        ],
        { steps: ['a', 'b', 'c'] },
      );
      expect(counts(e.result)).toEqual([8, 2, 1]);
      expect(e.droppedAfter(1)).toEqual(['p1', 'p2', 'p3', 'p5', 'p6', 'p7']);
      expect(e.droppedAfter(2)).toEqual(['p4']);
      expect(e.result.dropped).toEqual([
        { after_step: 1, step_name: 'a', count: 6, next_events: [{ event: 'x', count: 2 }, { event: 'v', count: 1 }, { event: 'y', count: 1 }], no_next_event: 2 },
        { after_step: 2, step_name: 'b', count: 1, next_events: [{ event: 'z', count: 1 }], no_next_event: 0 },
      ]);
      expectCode(() => e.droppedAfter(3), 'funnel_step_out_of_range');
      expectCode(() => e.droppedAfter(0), 'funnel_step_out_of_range');
    });

    it('next events: top 5 only, ties by name; nextEvents: false leaves dropped out', async () => {
      const events: TestEvent[] = [];
      ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].forEach((name, i) => {
        for (let k = 0; k <= (i === 5 ? 2 : i % 2); k++) {
          const person = `${name}-${k}`;
          events.push(ev(person, at(0), 'a'), ev(person, at(0, 1), name));
        }
      });
      const e = await evaluate(events, { steps: ['a', 'b'] });
      expect(e.result.dropped![0]!.count).toBe(10);
      expect(e.result.dropped![0]!.next_events).toEqual([
        { event: 'n6', count: 3 },
        { event: 'n2', count: 2 },
        { event: 'n4', count: 2 },
        { event: 'n1', count: 1 },
        { event: 'n3', count: 1 },
      ]);
      expect(e.result.dropped![0]!.no_next_event).toBe(0);
      const quiet = await evaluateFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 'q', steps: ['a', 'b'] }), { timezone: 'UTC', nextEvents: false });
      expect(quiet.result.dropped).toBeUndefined();
      expect(quiet.droppedAfter(1)).toHaveLength(10);
    });
  });

  describe('funnel: SQL safety', () => {
    const hostile = "'; DROP TABLE events; --";

    it('hostile names and values are bound parameters: the SQL text does not change', () => {
      const shape = (event: string, key: string, value: string) =>
        parseFunnelDefinition({
          kind: 'funnel',
          name: event,
          steps: [event, { event, where: { [`properties.${key}`]: value, country: value } }],
          exclusions: [{ event, between: [1, 2] }],
          breakdown: `properties.${key}`,
          date_range: { from: '2024-01-01', to: '2024-01-31' },
        });
      const evilShape = shape(hostile, `x"); ${hostile}`, `'\\"; ${hostile}`);
      const evilOptions = { timezone: `UTC'; ${hostile}` };
      if (engine === 'clickhouse') {
        for (const build of [chFunnelTallyQuery, chNextEventsQuery, (d: typeof evilShape, o: { timezone: string }) => chDroppedUnitsQuery(d, o, 1)]) {
          const benign = build(shape('signup', 'plan', 'pro'), { timezone: 'UTC' });
          const evil = build(evilShape, evilOptions);
          expect(evil.sql).toBe(benign.sql);
          expect(evil.sql).not.toContain('DROP');
          expect(Object.values(evil.params)).toContain(hostile);
        }
        return;
      }
      const benign = buildFunnelEventsQuery(shape('signup', 'plan', 'pro'), { timezone: 'UTC' });
      const evil = buildFunnelEventsQuery(evilShape, evilOptions);
      expect(evil.sql).toBe(benign.sql);
      expect(evil.sql).not.toContain('DROP');
      expect(evil.params).toContain(hostile);
    });

    it('hostile names run, match exactly, and leave the warehouse intact', async () => {
      const key = `k"'/~.${hostile}`;
      const r = await run(
        [ev('p1', at(0), hostile, { properties: { [key]: hostile } }), ev('p1', at(0, 1), 'b'), ev('p2', at(0), hostile), ev('p3', at(0), 'signup')],
        { name: hostile, steps: [{ event: hostile, where: { [`properties.${key}`]: hostile } }, 'b'], breakdown: `properties.${key}` },
      );
      expect(counts(r)).toEqual([1, 1]);
      expect(r.name).toBe(hostile);
      expect(r.breakdown).toEqual([{ value: hostile, steps: r.steps }]);
      expect(await countEvents()).toBe(4);
    });
  });

  describe('funnel definition: parsing, defaults, rules', () => {
    const yaml = `
  kind: funnel
  name: Signup to paid
  steps:
    - event: signup
    - event: create_project
    - { event: invite_teammate, where: { device_type: desktop } }
    - event: upgrade
  window: 14d
  order: ordered
  unit: person
  exclusions: [{ event: cancel, between: [1, 2] }]
  breakdown: device_type
  date_range: { from: 2024-01-01, to: 2024-03-31 }
  `;

    it('parses the documented YAML example', () => {
      const def = parseFunnelDefinition(parseYaml(yaml), 'queries/signup.yaml');
      expect(def.steps.map((s) => s.event)).toEqual(['signup', 'create_project', 'invite_teammate', 'upgrade']);
      expect(def.steps[2]!.where).toEqual({ device_type: 'desktop' });
      expect(def.date_range).toEqual({ from: '2024-01-01', to: '2024-03-31' });
      expect(funnelAnalysis.parse(parseYaml(yaml))).toEqual(def);
      expect(funnelAnalysis.engines).toEqual(['duckdb', 'clickhouse']);
    });

    it('fills defaults and reports them with the result', async () => {
      const r = await run([], { steps: ['a', { event: 'b', name: 'Bee' }] });
      expect(r.definition).toEqual({
        name: 'test',
        steps: [
          { event: 'a', name: 'a', where: {}, first_time: false },
          { event: 'b', name: 'Bee', where: {}, first_time: false },
        ],
        window: '14d',
        window_seconds: 14 * DAY,
        order: 'ordered',
        unit: 'person',
        attempts: 'best',
        preset: null,
        exclusions: [],
        breakdown: null,
        date_range: null,
        where: {},
        segment: null,
        exclude: ['internal', 'bot'],
        timezone: 'UTC',
      });
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
      expect(r.steps.map((s) => s.name)).toEqual(['a', 'Bee']);
      expect(r.breakdown).toBeUndefined();
    });

    const base = { kind: 'funnel', name: 'f', steps: ['a', 'b'] };
    it.each([
      [{ ...base, steps: ['a'] }, 'funnel_too_few_steps', 'steps'],
      [{ ...base, steps: Array.from({ length: 21 }, (_, i) => `s${i}`) }, 'funnel_too_many_steps', 'steps'],
      [{ ...base, steps: ['a', ' '] }, 'funnel_event_missing', 'steps.1.event'],
      [{ ...base, window: '0d' }, 'funnel_window_invalid', 'window'],
      [{ ...base, window: '14' }, 'funnel_window_invalid', 'window'],
      [{ ...base, window: 14 }, 'funnel_window_invalid', 'window'],
      [{ ...base, window: '366d' }, 'funnel_window_invalid', 'window'],
      [{ ...base, window: '1.5d' }, 'funnel_window_invalid', 'window'],
      [{ ...base, exclusions: [{ event: 'x', between: [2, 1] }] }, 'funnel_exclusion_range', 'exclusions.0.between'],
      [{ ...base, exclusions: [{ event: 'x', between: [0, 2] }] }, 'funnel_exclusion_range', 'exclusions.0.between'],
      [{ ...base, exclusions: [{ event: 'x', between: [1, 3] }] }, 'funnel_exclusion_range', 'exclusions.0.between'],
      [{ ...base, exclusions: [{ event: 'x', between: [1.5, 2] }] }, 'funnel_exclusion_range', 'exclusions.0.between'],
      [{ ...base, order: 'unordered', exclusions: [{ event: 'x' }] }, 'funnel_exclusion_unordered', 'exclusions'],
      [{ ...base, steps: ['a', { event: 'b', where: { colour: 'red' } }] }, 'funnel_field_unknown', 'steps.1.where.colour'],
      [{ ...base, steps: ['a', { event: 'b', where: { 'properties.': 'x' } }] }, 'funnel_field_unknown', 'steps.1.where.properties.'],
      [{ ...base, breakdown: 'occurred_at' }, 'funnel_field_unknown', 'breakdown'],
      [{ ...base, steps: ['a', { event: 'b', where: { rage_click: 'yes' } }] }, 'funnel_filter_value_invalid', 'steps.1.where.rage_click'],
      [{ ...base, steps: ['a', { event: 'b', where: { country: true } }] }, 'funnel_filter_value_invalid', 'steps.1.where.country'],
      [{ ...base, steps: ['a', { event: 'b', where: { country: [] } }] }, 'funnel_filter_value_invalid', 'steps.1.where.country'],
      [{ ...base, date_range: { from: '2024-02-30', to: '2024-03-01' } }, 'funnel_date_range_invalid', 'date_range.from'],
      [{ ...base, date_range: { from: '2024-03-02', to: '2024-03-01' } }, 'funnel_date_range_invalid', 'date_range'],
      [{ ...base, colour: 'red' }, 'funnel_invalid', 'colour'],
      [{ ...base, order: 'sequential' }, 'funnel_invalid', 'order'],
      [{ ...base, steps: ['a', { event: 'b', frist_time: true }] }, 'funnel_invalid', 'steps.1.frist_time'],
      [{ ...base, kind: 'retention' }, 'funnel_invalid', 'kind'],
      [{ ...base, name: '' }, 'funnel_invalid', 'name'],
    ])('rule %#: %o → %s', (input, code, field) => {
      expectCode(() => parseFunnelDefinition(input, 'queries/f.yaml'), code, field);
    });

    it('errors carry the file, and checkFunnelRules lists every violation', () => {
      try {
        parseFunnelDefinition({ ...base, window: 'soon' }, 'queries/f.yaml');
        throw new Error('expected an error');
      } catch (err) {
        expect((err as UsageLabError).place).toEqual({ file: 'queries/f.yaml', field: 'window' });
        expect((err as UsageLabError).hint).toMatch(/14d/);
      }
      const def = { ...parseFunnelDefinition(base), steps: [{ event: '', first_time: false }], window: 'x' };
      expect(checkFunnelRules(def).map((v) => v.code)).toEqual(['funnel_too_few_steps', 'funnel_event_missing', 'funnel_window_invalid']);
    });

    it('an unknown time zone is refused at run time', async () => {
      await expect(runFunnel(session, parseFunnelDefinition(base), { timezone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'funnel_timezone_invalid' });
    });
  });

  describe('funnel state machine (no warehouse)', () => {
    const rules = { stepCount: 2, windowUs: 10, order: 'ordered' as const, exclusions: [], attempts: 'best' as const };
    const e = (t: number, steps: number, inRange = true): UnitEvent => ({ t, steps, exclusions: 0, inRange, breakdown: null });

    it('only in-range step-1 events start attempts', () => {
      expect(bestAttempt([e(0, 1, false), e(1, 2)], rules)).toBeUndefined();
      expect(bestAttempt([e(0, 1, false), e(1, 2), e(5, 1), e(6, 2)], rules)).toEqual({ reached: 2, times: [5, 6], breakdown: null });
    });

    it('prefers, among simultaneous candidates, the event no later step needs', () => {
      // Steps: 1 = bit 1, 2 = bit 2, 3 = bit 4. At t=1 one event matches steps 2 and 3, the other only step 2.
      const three = { ...rules, stepCount: 3 };
      expect(bestAttempt([e(0, 1), e(1, 2 | 4), e(1, 2)], three)?.reached).toBe(3);
    });
  });

  describe('funnel: shared scope (where, segment, exclude, breakdown by segment)', () => {
    const journeys = (): TestEvent[] => [
      ev('p1', at(0), 'signup', { device_type: 'mobile' }),
      ev('p1', at(0, 1), 'pay', { device_type: 'desktop' }),
      ev('p2', at(0), 'signup', { device_type: 'mobile' }),
      ev('p2', at(0, 2), 'pay', { device_type: 'mobile' }),
      ev('p3', at(0), 'signup', { device_type: 'desktop' }),
      ev('p3', at(0, 3), 'pay', { device_type: 'desktop' }),
      ev('p3', at(0, 4), 'pay', { device_type: 'desktop' }),
      ev('staff', at(0), 'signup'),
      ev('staff', at(0, 1), 'pay'),
    ];

    it('global where filters every event, step events included', async () => {
      const r = await run(journeys(), { steps: ['signup', 'pay'], where: { device_type: 'mobile' } });
      // p1 paid on desktop: its pay event is filtered out. staff has no device.
      expect(counts(r)).toEqual([2, 1]);
      expect(r.definition.where).toEqual({ device_type: 'mobile' });
    });

    it('tagged people are excluded by default, counted in `excluded`, and back with exclude: []', async () => {
      await tagPerson(session, 'staff', 'internal');
      const r = await run(journeys(), { steps: ['signup', 'pay'] });
      expect(counts(r)).toEqual([3, 3]);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 2, share_of_events: 2 / 9 });
      const all = await runFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['signup', 'pay'], exclude: [] }), { timezone: 'UTC' });
      expect(counts(all)).toEqual([4, 4]);
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
    });

    it('segment restricts to its people; breakdown segment:NAME splits members from the rest', async () => {
      const segments = new Map([['repeat-payers', parseSegmentDefinition({ kind: 'segment', name: 'repeat-payers', did: [{ event: 'pay', at_least: 2 }] })]]);
      const r = await run(journeys(), { steps: ['signup', 'pay'], segment: 'repeat-payers' }, { segments });
      expect(counts(r)).toEqual([1, 1]);
      const b = await runFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['signup', 'pay'], breakdown: 'segment:repeat-payers' }), { timezone: 'UTC', segments });
      expect(b.breakdown?.map((g) => [g.value, g.steps[0]!.count])).toEqual([['not repeat-payers', 3], ['repeat-payers', 1]]);
      await expect(runFunnel(session, parseFunnelDefinition({ kind: 'funnel', name: 't', steps: ['signup', 'pay'], segment: 'nope' }), { timezone: 'UTC', segments })).rejects.toMatchObject({ code: 'funnel_segment_unknown' });
    });

    it('lists the people who dropped after a step, in id order', async () => {
      const r = await run([ev('b', at(0), 'signup'), ev('a', at(0), 'signup'), ev('c', at(0), 'signup'), ev('c', at(0, 1), 'pay')], { steps: ['signup', 'pay'] }, { listDroppedAfter: 1 });
      expect(r.dropped_people).toEqual({ after_step: 1, unit: 'person', ids: ['a', 'b'] });
    });
  });

  describe('funnel presets', () => {
    it('fill window, order and attempts unless the definition sets them', () => {
      const p = (extra: Record<string, unknown>) => parseFunnelDefinition({ kind: 'funnel', name: 'f', steps: ['a', 'b'], ...extra });
      expect(p({ preset: 'mixpanel' })).toMatchObject({ window: '30d', order: 'ordered', attempts: 'first' });
      expect(p({ preset: 'amplitude' })).toMatchObject({ window: '1d', attempts: 'best' });
      expect(p({ preset: 'posthog', window: '3d' })).toMatchObject({ window: '3d', attempts: 'best' });
      expectCode(() => p({ preset: 'heap' }), 'funnel_invalid', 'preset');
    });

    it('mixpanel counts only the first step-1 event in range; best attempt finds a later converting one', async () => {
      const events = [ev('p', at(0), 'a'), ev('p', at(40), 'a'), ev('p', at(41), 'b')];
      expect(counts(await run(events, { steps: ['a', 'b'], preset: 'mixpanel' }))).toEqual([1, 0]);
      await clearEvents();
      expect(counts(await run(events, { steps: ['a', 'b'], window: '30d' }))).toEqual([1, 1]);
    });

    it('attempts: first drops the unit when its first attempt is excluded', async () => {
      const events = [ev('p', at(0), 'a'), ev('p', at(0, 1), 'x'), ev('p', at(0, 2), 'b'), ev('p', at(1), 'a'), ev('p', at(1, 1), 'b')];
      expect(counts(await run(events, { steps: ['a', 'b'], attempts: 'first', exclusions: [{ event: 'x' }] }))).toEqual([0, 0]);
      await clearEvents();
      expect(counts(await run(events, { steps: ['a', 'b'], exclusions: [{ event: 'x' }] }))).toEqual([1, 1]);
    });
  });
});
