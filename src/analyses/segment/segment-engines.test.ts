/**
 * Differential test: seeded random data and segment definitions on DuckDB and on ClickHouse must give the same
 * members, counts and listed ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, openEngineWarehouse, type TestSession } from '../../test-support/engine-warehouse.js';
import { Random, RANDOM_EVENT_NAMES, RANDOM_TIMEZONES, randomEvents, randomRange, randomWhere } from '../../test-support/random-analysis-data.js';
import { runSegment } from './segment-analysis.js';
import { parseSegmentDefinition } from './segment-definition.js';

function randomSegment(r: Random): Record<string, unknown> {
  const def: Record<string, unknown> = { kind: 'segment', name: 'diff' };
  if (r.chance(0.5)) {
    const props: Record<string, unknown> = {};
    for (const field of r.some(['user_properties.plan', 'user_properties.seats', 'properties.format', 'device_type', 'country'], 2)) {
      // Columns are text (a flag would be refused); JSON fields take anything.
      props[field] = field.includes('.') ? r.pick<unknown>(['pro', ['pro', 'team'], 5, 'csv', null, true]) : r.pick<unknown>(['mobile', 'NL', null, ['NL', 'US']]);
    }
    def.properties = props;
  }
  if (r.chance(0.7)) {
    def.did = r.some(RANDOM_EVENT_NAMES, 2).map((event) => {
      const at_least = r.int(1, 3);
      return {
        event,
        at_least,
        ...(r.chance(0.3) ? { at_most: at_least + r.int(0, 2) } : {}),
        ...(r.chance(0.4) ? { where: randomWhere(r) } : {}),
        ...(r.chance(0.4) ? { date_range: randomRange(r) } : {}),
      };
    });
  }
  if (r.chance(0.4)) def.did_not = [{ event: r.pick(RANDOM_EVENT_NAMES), ...(r.chance(0.5) ? { where: randomWhere(r) } : {}) }];
  if (r.chance(0.3) || Object.keys(def).length === 2) def.first_seen = randomRange(r);
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

describe('segment: DuckDB and ClickHouse agree on random data and definitions', () => {
  for (let d = 0; d < 5; d++) {
    it(`dataset ${d + 1}`, async () => {
      const r = new Random(9100 + d);
      const events = randomEvents(r, r.int(10, 40), r.int(100, 400));
      if (duck.engine !== 'clickhouse') await duck.connection.run('DELETE FROM events');
      if (house.engine === 'clickhouse') await house.clickhouse.command('TRUNCATE TABLE events');
      await insertEvents(duck, events);
      await insertEvents(house, events);
      let nonEmpty = 0;
      for (let i = 0; i < 12; i++) {
        const input = randomSegment(r);
        const options = { timezone: r.pick(RANDOM_TIMEZONES), listPeople: r.int(1, 50) };
        const def = parseSegmentDefinition(input);
        const [a, b] = [await runSegment(duck, def, options), await runSegment(house, def, options)];
        expect(b, `${JSON.stringify(input)} in ${options.timezone}`).toEqual(a);
        if (a.people > 0) nonEmpty++;
      }
      // The generator must produce segments that hold people, or the comparison proves little.
      expect(nonEmpty).toBeGreaterThan(0);
    });
  }
});
