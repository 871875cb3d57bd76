/**
 * Differential test: seeded random sessions and friction definitions run on DuckDB and on ClickHouse (chDB, or
 * the server of CLICKHOUSE_URL) must give identical results: every hotspot, page, error page, U-turn, label,
 * comparison with the previous period, list count and breakdown group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngineWarehouse, type TestSession } from '../../test-support/engine-warehouse.js';
import { Random, RANDOM_TIMEZONES, randomRange, randomWhere } from '../../test-support/random-analysis-data.js';
import { loadDataset } from '../../test-support/engine-datasets.js';
import { randomSessionEvents } from '../../test-support/random-session-events.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { runFriction } from './friction-analysis.js';
import { parseFrictionDefinition } from './friction-definition.js';

const DATASETS = 5;
const DEFINITIONS_PER_DATASET = 8;

function randomDefinition(r: Random): Record<string, unknown> {
  const def: Record<string, unknown> = { kind: 'friction', name: 'diff' };
  if (r.chance(0.5)) def.signals = r.some(['rage', 'dead', 'error'], 3);
  if (r.chance(0.6)) def.element = r.pick(['selector', 'text', 'text_and_selector']);
  def.min_sessions = r.int(1, 3);
  def.top = r.int(1, 6);
  if (r.chance(0.7)) def.u_turn_seconds = r.int(1, 300);
  if (r.chance(0.2)) def.compare = 'none';
  if (r.chance(0.8)) def.date_range = randomRange(r);
  if (r.chance(0.3)) def.where = randomWhere(r);
  if (r.chance(0.4)) def.breakdown = r.pick(['device_type', 'country', 'properties.format', 'user_properties.plan', 'rage_click', 'segment:exporters']);
  if (r.chance(0.2)) def.segment = 'exporters';
  if (r.chance(0.3)) def.exclude = r.pick([[], ['internal'], ['internal', 'bot', 'exporters']]);
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

describe('friction: DuckDB and ClickHouse agree on random data and definitions', () => {
  for (let d = 0; d < DATASETS; d++) {
    it(`dataset ${d + 1}`, async () => {
      const r = new Random(9300 + d);
      await loadDataset([duck, house], randomSessionEvents(r, r.int(4, 15), r.int(150, 400), true));
      let withHotspots = 0;
      let withUTurns = 0;
      for (let i = 0; i < DEFINITIONS_PER_DATASET; i++) {
        const input = randomDefinition(r);
        const options = { timezone: r.pick(RANDOM_TIMEZONES), segments };
        const def = parseFrictionDefinition(input);
        const [a, b] = [await runFriction(duck, def, options), await runFriction(house, def, options)];
        expect(b, `${JSON.stringify(input)} in ${options.timezone}`).toEqual(a);
        if (a.hotspots.length > 0) withHotspots++;
        if (a.overall.u_turns > 0) withUTurns++;
      }
      // The generator must produce hotspots and U-turns, or the comparison proves little.
      expect([withHotspots, withUTurns].every((n) => n > 0)).toBe(true);
    });
  }
});
