/**
 * Differential test: seeded random sessions and paths definitions run on DuckDB and on ClickHouse (chDB, or the
 * server of CLICKHOUSE_URL) must give identical results: every path, share, transition, drop-off and total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngineWarehouse, type TestSession } from '../../test-support/engine-warehouse.js';
import { Random, RANDOM_EVENT_NAMES, RANDOM_TIMEZONES, randomRange, randomWhere } from '../../test-support/random-analysis-data.js';
import { loadDataset } from '../../test-support/engine-datasets.js';
import { RANDOM_PAGES, randomSessionEvents } from '../../test-support/random-session-events.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { runPaths } from './paths-analysis.js';
import { parsePathsDefinition } from './paths-definition.js';

const DATASETS = 5;
const DEFINITIONS_PER_DATASET = 10;

function randomAnchor(r: Random): unknown {
  const anchor: Record<string, unknown> = r.chance(0.6) ? { event: r.pick([...RANDOM_EVENT_NAMES, 'view', '$pageview']) } : { page: r.pick(RANDOM_PAGES) };
  if (r.chance(0.2)) anchor.where = randomWhere(r);
  return r.chance(0.3) && anchor.event !== undefined && anchor.where === undefined ? anchor.event : anchor;
}

function randomDefinition(r: Random): Record<string, unknown> {
  const def: Record<string, unknown> = { kind: 'paths', name: 'diff', step: r.pick(['page', 'event', 'page_and_event']) };
  const anchors = r.int(0, 3);
  if (anchors === 1 || anchors === 3) def.start = randomAnchor(r);
  if (anchors === 2 || anchors === 3) def.end = randomAnchor(r);
  if (def.step !== 'page' && r.chance(0.3)) def.include_events = r.some([...RANDOM_EVENT_NAMES, 'view'], 3);
  if (def.step !== 'page' && r.chance(0.3)) def.exclude_events = r.some([...RANDOM_EVENT_NAMES, '$pageview'], 2);
  def.depth = r.int(2, 6);
  if (r.chance(0.3)) def.collapse_repeats = false;
  if (r.chance(0.6)) def.top = r.int(1, 6);
  if (r.chance(0.6)) def.top_transitions = r.int(1, 12);
  if (r.chance(0.7)) def.date_range = randomRange(r);
  if (r.chance(0.4)) def.where = randomWhere(r);
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

describe('paths: DuckDB and ClickHouse agree on random data and definitions', () => {
  for (let d = 0; d < DATASETS; d++) {
    it(`dataset ${d + 1}`, async () => {
      const r = new Random(9100 + d);
      await loadDataset([duck, house], randomSessionEvents(r, r.int(4, 15), r.int(120, 400)));
      let withPaths = 0;
      for (let i = 0; i < DEFINITIONS_PER_DATASET; i++) {
        const input = randomDefinition(r);
        const options = { timezone: r.pick(RANDOM_TIMEZONES), segments };
        const def = parsePathsDefinition(input);
        const [a, b] = [await runPaths(duck, def, options), await runPaths(house, def, options)];
        expect(b, `${JSON.stringify(input)} in ${options.timezone}`).toEqual(a);
        if (a.paths.length > 0) withPaths++;
      }
      // The generator must produce definitions that find paths, or the comparison proves little.
      expect(withPaths).toBeGreaterThan(2);
    });
  }
});
