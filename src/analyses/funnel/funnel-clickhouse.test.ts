/**
 * Differential tests of the ClickHouse funnel (chDB, or CLICKHOUSE_URL), two levels:
 *
 * - The SQL state machine alone: thousands of random units in one warehouse, each unit's best attempt read back
 *   (chFunnelOutcomesQuery) and compared with the reference state machine of funnel-attempts.ts run on the same
 *   events in TypeScript — every order, overlapping steps, exclusions, attempts: first, ties, window edges.
 * - Whole runs: random warehouses and definitions, the full result (steps, breakdown groups, dropped and next
 *   events, excluded) and every droppedAfter list compared with the DuckDB engine's, across time zones with a DST
 *   change, sessions, first_time steps, segments, filters, date ranges and presets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ev, type TestEvent } from '../../test-support/analysis-events.js';
import { insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { bestAttempt, type AttemptRules, type UnitEvent } from './funnel-attempts.js';
import { evaluateFunnel } from './funnel-analysis.js';
import { parseFunnelDefinition, type FunnelDefinition } from './funnel-definition.js';
import { chFunnelOutcomesQuery } from './funnel-query-clickhouse.js';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

const uuid = (r: () => number): string => {
  const hex = (digits: number): string => Array.from({ length: digits }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
};

let clickhouse: TestSession;
let duckdb: TestSession;
beforeAll(async () => {
  clickhouse = await openEngineWarehouse('clickhouse');
  duckdb = await openEngineWarehouse('duckdb');
});
afterAll(() => {
  clickhouse.close();
  duckdb.close();
});

/** Empties `events` on both engines (person tags stay: each data set tags its own people). */
async function clearEvents(): Promise<void> {
  if (clickhouse.engine === 'clickhouse') await clickhouse.clickhouse.command('TRUNCATE TABLE events');
  await (duckdb as unknown as { run(sql: string): Promise<void> }).run('DELETE FROM events');
}

describe('the SQL state machine agrees with the reference on random units', () => {
  const START = Date.UTC(2024, 0, 1);
  const MINUTE_US = 60_000_000;

  interface Generated {
    event: TestEvent;
    t: number;
  }

  /** `units` people, each with up to 16 events of a, b, c, x at whole 10 minutes over 2 hours (many ties). */
  function randomUnits(seed: number, units: number): Map<string, Generated[]> {
    const r = rng(seed);
    const out = new Map<string, Generated[]>();
    for (let u = 0; u < units; u++) {
      const person = `u${String(u).padStart(5, '0')}`;
      const n = 1 + Math.floor(r() * (r() < 0.1 ? 40 : 16));
      const events: Generated[] = [];
      for (let i = 0; i < n; i++) {
        const minutes = Math.floor(r() * 12) * 10;
        const id = uuid(r);
        events.push({
          t: (START / 1000) * 1000 * 1000 + minutes * MINUTE_US,
          event: ev(person, new Date(START + minutes * 60_000).toISOString(), pick(r, ['a', 'a', 'b', 'b', 'c', 'x']), {
            event_id: id,
            device_type: pick(r, ['m', 'd', null]),
            properties: { i: id },
          }),
        });
      }
      out.set(person, events);
    }
    return out;
  }

  type Match = { event: string; where?: { device_type: string } };
  const matches = (m: Match, e: TestEvent): boolean => m.event === e.name && (m.where === undefined || m.where.device_type === e.device_type);

  /**
   * A random definition over a, b, c and x; steps often share a name, with and without a device condition, so one
   * event may match several steps and the choice among simultaneous candidates matters.
   */
  function randomDefinition(r: () => number): FunnelDefinition {
    const order = pick(r, ['ordered', 'ordered', 'strict', 'unordered'] as const);
    const n = 2 + Math.floor(r() * 3);
    const steps: Match[] = Array.from({ length: n }, () => {
      const event = pick(r, ['a', 'a', 'b', 'c']);
      return r() < 0.45 ? { event, where: { device_type: pick(r, ['m', 'd']) } } : { event };
    });
    const exclusions =
      order === 'unordered' || r() < 0.5
        ? []
        : Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
            const from = 1 + Math.floor(r() * (n - 1));
            const ex: Match & { between: [number, number] } = { event: pick(r, ['x', 'x', 'b']), between: [from, from + 1 + Math.floor(r() * (n - from))] };
            if (r() < 0.3) ex.where = { device_type: 'm' };
            return ex;
          });
    return parseFunnelDefinition({
      kind: 'funnel',
      name: 'units',
      steps,
      exclusions,
      order,
      window: pick(r, ['30m', '1h', '90m', '2h']),
      attempts: r() < 0.3 ? 'first' : 'best',
      breakdown: 'properties.i',
      exclude: [],
    });
  }

  /** The reference's answer for one unit: its events in (time, event id) order, step and exclusion bits in TypeScript. */
  function expected(def: FunnelDefinition, events: readonly Generated[]): { reached: number; times: number[]; bd: string | null } | undefined {
    const sorted = [...events].sort((p, q) => p.t - q.t || (p.event.event_id! < q.event.event_id! ? -1 : 1));
    const unit: UnitEvent[] = [];
    for (const { event, t } of sorted) {
      let steps = 0;
      def.steps.forEach((s, k) => (steps |= matches(s as Match, event) ? 1 << k : 0));
      let exclusions = 0;
      def.exclusions.forEach((x, k) => (exclusions |= matches(x as Match, event) ? 1 << k : 0));
      if (def.order === 'strict' || steps !== 0 || exclusions !== 0) unit.push({ t, steps, exclusions, inRange: true, breakdown: event.event_id! });
    }
    const n = def.steps.length;
    const rules: AttemptRules = {
      stepCount: n,
      windowUs: Number.parseInt(String(def.window)) * (String(def.window).endsWith('h') ? 60 : 1) * MINUTE_US,
      order: def.order,
      attempts: def.attempts,
      exclusions: def.exclusions.map((x) => ({ from: x.between?.[0] ?? 1, to: x.between?.[1] ?? n })),
    };
    const outcome = bestAttempt(unit, rules);
    return outcome === undefined ? undefined : { reached: outcome.reached, times: Array.from(outcome.times).slice(0, outcome.reached), bd: outcome.breakdown };
  }

  it('2,000 units × 24 definitions: each unit’s reached steps, step instants and starting event', async () => {
    if (clickhouse.engine !== 'clickhouse') return;
    const units = randomUnits(20_240_101, 2000);
    await clearEvents();
    await insertEvents(clickhouse, [...units.values()].flatMap((events) => events.map((g) => g.event)));
    const r = rng(7);
    let converted = 0;
    for (let d = 0; d < 24; d++) {
      const def = randomDefinition(r);
      const query = chFunnelOutcomesQuery(def, { timezone: 'UTC' });
      const rows = await clickhouse.clickhouse.query<{ unit_id: string; reached: number; times: number[]; bd: string | null }>(query.sql, query.params);
      const actual = new Map(rows.map((row) => [row.unit_id, { reached: Number(row.reached), times: row.times.map(Number), bd: row.bd }]));
      for (const [person, events] of units) {
        const want = expected(def, events);
        expect(actual.get(person), `definition ${d} ${JSON.stringify({ order: def.order, steps: def.steps, exclusions: def.exclusions, window: def.window, attempts: def.attempts })}, ${person}`).toEqual(want);
        if (want !== undefined && want.reached === def.steps.length) converted++;
      }
    }
    // The generated units must reach the last step often enough to exercise every rule.
    expect(converted).toBeGreaterThan(5000);
  }, 300_000);
});

describe('whole runs: ClickHouse equals DuckDB on random warehouses', () => {
  /**
   * 40 people over 4 days around New York's spring DST change, at whole hours (ties and window edges are common),
   * random event ids, two sessions a day, devices and plans per event, some events without a person, one person
   * with many events.
   */
  function randomEvents(seed: number): TestEvent[] {
    const r = rng(seed);
    const names = ['a', 'b', 'c', 'd', 'x'];
    const out: TestEvent[] = [];
    for (let p = 0; p < 40; p++) {
      const n = p === 7 ? 60 : Math.floor(r() * 14);
      for (let i = 0; i < n; i++) {
        const hour = Math.floor(r() * 96);
        out.push(
          ev(p === 39 ? null : `p${p}`, new Date(Date.UTC(2024, 2, 8, hour)).toISOString(), pick(r, names), {
            event_id: uuid(r),
            session_id: `p${p}-s${Math.floor(hour / 12)}`,
            device_type: pick(r, ['mobile', 'desktop']),
            properties: { plan: pick(r, ['pro', 'free']) },
          }),
        );
      }
    }
    return out;
  }

  function randomDefinition(r: () => number): Record<string, unknown> {
    const order = pick(r, ['ordered', 'ordered', 'strict', 'unordered']);
    const n = 2 + Math.floor(r() * 3);
    const steps = Array.from({ length: n }, () => {
      const event = pick(r, ['a', 'b', 'c', 'd']);
      const roll = r();
      if (roll < 0.2) return { event, where: { device_type: pick(r, ['mobile', 'desktop']) } };
      if (roll < 0.3) return { event, first_time: true };
      return event;
    });
    const def: Record<string, unknown> = { kind: 'funnel', name: 'diff', steps, order, window: pick(r, ['5h', '1d', '30h', '2d']) };
    if (order !== 'unordered' && r() < 0.4) def.exclusions = [{ event: 'x', between: [1, n] }];
    if (r() < 0.3) def.attempts = 'first';
    if (r() < 0.3) def.unit = 'session';
    if (r() < 0.5) def.breakdown = pick(r, ['device_type', 'properties.plan', 'segment:busy']);
    if (r() < 0.4) def.date_range = pick(r, [{ from: '2024-03-09', to: '2024-03-10' }, { from: '2024-03-10', to: '2024-03-10' }]);
    if (r() < 0.2) def.where = { 'properties.plan': 'pro' };
    if (r() < 0.15) def.segment = 'busy';
    if (r() < 0.15) def.preset = pick(r, ['posthog', 'mixpanel', 'amplitude']);
    return def;
  }

  const segments = new Map([['busy', parseSegmentDefinition({ kind: 'segment', name: 'busy', did: [{ event: 'd', at_least: 2 }] })]]);

  it('3 warehouses × 12 definitions: results, dropped lists and next events are identical', async () => {
    let reachedLast = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const events = randomEvents(seed * 7919).map((e) => (e.person === null ? e : { ...e, person: `${e.person}-${seed}`, session_id: `${e.session_id}-${seed}` }));
      await clearEvents();
      await insertEvents(clickhouse, events);
      await insertEvents(duckdb, events);
      await tagPerson(clickhouse, `p5-${seed}`, 'internal');
      await tagPerson(duckdb, `p5-${seed}`, 'internal');
      const r = rng(seed * 31);
      for (let d = 0; d < 12; d++) {
        const definition = parseFunnelDefinition(randomDefinition(r));
        const options = { timezone: pick(r, ['UTC', 'America/New_York', 'Asia/Kolkata']), segments, topNextEvents: 3 };
        const want = await evaluateFunnel(duckdb, definition, options);
        const got = await evaluateFunnel(clickhouse, definition, options);
        const label = `seed ${seed}, definition ${d}: ${JSON.stringify(definition)} in ${options.timezone}`;
        expect(got.result, label).toEqual(want.result);
        for (let k = 1; k < definition.steps.length; k++) expect(got.droppedAfter(k), label).toEqual(want.droppedAfter(k));
        if (want.result.steps.at(-1)!.count > 0) reachedLast++;
      }
    }
    expect(reachedLast).toBeGreaterThan(10);
  }, 300_000);
});
