/**
 * Differential test: seeded random data and trends definitions run on DuckDB and on ClickHouse (chDB, or the
 * server of CLICKHOUSE_URL) must give identical results, every number and flag of every point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { Random, RANDOM_EVENT_NAMES, RANDOM_TIMEZONES, randomEvents, randomRange, randomWhere } from '../../test-support/random-analysis-data.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { runTrends } from './trends-analysis.js';
import { parseTrendsDefinition } from './trends-definition.js';
import { TRENDS_MEASURES } from './trends-options.js';
import type { WeekStart } from '../common/time-buckets.js';

const DATASETS = 6;
const DEFINITIONS_PER_DATASET = 8;

function randomDefinition(r: Random): Record<string, unknown> {
  const measure = r.pick(TRENDS_MEASURES);
  const def: Record<string, unknown> = { kind: 'trends', name: 'diff', measure, interval: r.pick(['day', 'week', 'month']) };
  if (r.chance(0.7)) {
    def.events = r.some([...RANDOM_EVENT_NAMES, '$any'], 3).map((event) => (r.chance(0.3) ? { event, where: randomWhere(r) } : event));
  }
  if (r.chance(0.8)) def.date_range = randomRange(r);
  if (r.chance(0.4)) def.where = randomWhere(r);
  if (r.chance(0.4)) {
    def.breakdown = r.pick(['device_type', 'country', 'properties.format', 'user_properties.plan', 'rage_click', 'segment:exporters']);
    if (r.chance(0.5)) def.breakdown_limit = r.int(1, 3);
  }
  if (r.chance(0.2)) def.segment = 'exporters';
  if (r.chance(0.3)) def.exclude = r.pick([[], ['internal'], ['internal', 'bot', 'exporters']]);
  if (measure === 'active_users' && r.chance(0.5)) def.active_windows = { wau: r.int(2, 7), mau: r.int(8, 30) };
  if (measure === 'stickiness' && r.chance(0.5)) def.active_windows = { mau: r.int(5, 30) };
  if (measure === 'lifecycle' && r.chance(0.5)) def.lifecycle_new = 'first_seen';
  return def;
}

let duck: TestSession;
let house: TestSession;
beforeAll(async () => {
  duck = await openEngineWarehouse('duckdb');
  house = await openEngineWarehouse('clickhouse');
});
afterAll(() => {
  duck.close();
  house.close();
});

const segments = new Map<string, SegmentDefinition>([
  ['exporters', parseSegmentDefinition({ kind: 'segment', name: 'exporters', did: [{ event: 'export', at_least: 2 }], properties: { 'user_properties.plan': ['pro', 'team'] } })],
]);

describe('trends: DuckDB and ClickHouse agree on random data and definitions', () => {
  for (let d = 0; d < DATASETS; d++) {
    it(`dataset ${d + 1}`, async () => {
      const r = new Random(7000 + d);
      const events = randomEvents(r, r.int(5, 25), r.int(80, 300));
      // Each dataset replaces the last one in both warehouses.
      for (const s of [duck, house]) {
        await (s.engine === 'clickhouse' ? s.clickhouse.command('TRUNCATE TABLE events') : s.connection.run('DELETE FROM events'));
        await (s.engine === 'clickhouse' ? s.clickhouse.command('TRUNCATE TABLE person_tags') : s.connection.run('DELETE FROM person_tags'));
        await insertEvents(s, events);
        await tagPerson(s, 'p1', 'internal');
        await tagPerson(s, 'p2', 'bot');
      }
      for (let i = 0; i < DEFINITIONS_PER_DATASET; i++) {
        const input = randomDefinition(r);
        const options = { timezone: r.pick(RANDOM_TIMEZONES), weekStart: r.pick<WeekStart>(['monday', 'sunday', 'saturday']), segments };
        const def = parseTrendsDefinition(input);
        const [a, b] = [await runTrends(duck, def, options), await runTrends(house, def, options)];
        expect(b, `${JSON.stringify(input)} in ${options.timezone}, week from ${options.weekStart}`).toEqual(a);
      }
    });
  }
});
