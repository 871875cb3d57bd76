/**
 * Differential test: retention on ClickHouse (chDB, or CLICKHOUSE_URL) gives exactly DuckDB's results — every
 * cohort, cell, average and breakdown group — on seeded random warehouses and random definitions: calendar and
 * rolling intervals, both cohort types, minimum occurrences, cumulative, breakdowns by field and segment, filters,
 * date ranges, tagged people, in zones with DST changes inside the data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ev, type TestEvent } from '../../test-support/analysis-events.js';
import { insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { runRetention } from './retention-analysis.js';
import { parseRetentionDefinition } from './retention-definition.js';

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

/**
 * 30 people over ~10 weeks around New York's spring DST change (2024-03-10), at whole half-hours so that events
 * share instants and fall on interval edges; random event ids (ties broken by id), devices and plans.
 */
function randomEvents(seed: number): TestEvent[] {
  const r = rng(seed);
  const out: TestEvent[] = [];
  const start = Date.UTC(2024, 1, 5);
  for (let p = 0; p < 30; p++) {
    const n = Math.floor(r() * (r() < 0.2 ? 40 : 12));
    for (let i = 0; i < n; i++) {
      const halfHours = Math.floor(r() * 70 * 48);
      out.push(
        ev(`p${p}`, new Date(start + halfHours * 1_800_000).toISOString(), pick(r, ['signup', 'login', 'login', 'view', 'share']), {
          event_id: uuid(r),
          device_type: pick(r, ['mobile', 'desktop', null]),
          properties: { plan: pick(r, ['pro', 'free']) },
        }),
      );
    }
  }
  return out;
}

/** A random definition over the shapes retention supports. */
function randomDefinition(r: () => number): Record<string, unknown> {
  const rolling = r() < 0.4;
  const def: Record<string, unknown> = {
    kind: 'retention',
    name: 'diff',
    target: pick(r, ['signup', 'login', '$any', { event: 'login', where: { device_type: 'mobile' } }]),
    interval: pick(r, ['day', 'week', 'month']),
    intervals: 1 + Math.floor(r() * 6),
    cohort: r() < 0.35 ? 'first_time' : 'recurring',
    rolling,
  };
  if (r() < 0.7) def.returning = pick(r, ['login', '$any', 'view', { event: 'share', where: { 'properties.plan': 'pro' } }]);
  if (r() < 0.3) def.cumulative = true;
  if (r() < 0.3) def.min_occurrences = 2;
  if (rolling && r() < 0.5) def.round_to_hour = true;
  if (r() < 0.4) def.breakdown = pick(r, ['device_type', 'properties.plan', 'segment:sharers']);
  if (r() < 0.3) def.where = { 'properties.plan': 'pro' };
  if (r() < 0.2) def.segment = 'sharers';
  if (r() < 0.5) def.date_range = pick(r, [{ from: '2024-02-12', to: '2024-03-17' }, { from: '2024-03-01', to: '2024-03-31' }, { from: '2024-03-10', to: '2024-03-10' }]);
  if (r() < 0.3) def.exclude = [];
  return def;
}

const segments = new Map([['sharers', parseSegmentDefinition({ kind: 'segment', name: 'sharers', did: [{ event: 'share', at_least: 2 }] })]]);

describe('retention: ClickHouse equals DuckDB on random warehouses and definitions', () => {
  let duckdb: TestSession;
  let clickhouse: TestSession;
  beforeAll(async () => {
    duckdb = await openEngineWarehouse('duckdb');
    clickhouse = await openEngineWarehouse('clickhouse');
  });
  afterAll(() => {
    duckdb.close();
    clickhouse.close();
  });

  it('4 warehouses × 12 definitions, in UTC, America/New_York and Asia/Kolkata', async () => {
    let nonEmpty = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const events = randomEvents(seed * 104_729);
      // Each seed adds its own people (ids differ by seed): the engines hold the same growing warehouse.
      const tagged = events.map((e) => ({ ...e, person: `${e.person}-${seed}` }));
      await insertEvents(duckdb, tagged);
      await insertEvents(clickhouse, tagged);
      await tagPerson(duckdb, `p3-${seed}`, 'internal');
      await tagPerson(clickhouse, `p3-${seed}`, 'internal');
      const r = rng(seed);
      for (let d = 0; d < 12; d++) {
        const definition = parseRetentionDefinition(randomDefinition(r));
        const options = { timezone: pick(r, ['UTC', 'America/New_York', 'Asia/Kolkata']), weekStart: pick(r, ['monday', 'sunday', 'saturday'] as const), now: new Date('2024-04-10T00:00:00Z'), segments };
        const expected = await runRetention(duckdb, definition, options);
        const actual = await runRetention(clickhouse, definition, options);
        expect(actual, `seed ${seed}, definition ${d}: ${JSON.stringify(definition)} ${options.timezone}`).toEqual(expected);
        if (expected.cohorts.some((c) => c.size > 0)) nonEmpty++;
      }
    }
    // The generated cases must exercise the computation, not only empty matrices.
    expect(nonEmpty).toBeGreaterThan(30);
  }, 300_000);
});
