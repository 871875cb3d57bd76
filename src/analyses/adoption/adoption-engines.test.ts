/**
 * Differential test: seeded random data, feature catalogs and adoption definitions run on DuckDB and on
 * ClickHouse (chDB, or the server of CLICKHOUSE_URL) must give identical results: every feature's period, users,
 * share, uses, median, frustration counts, retention cell, class and breakdown group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngineWarehouse, type TestSession } from '../../test-support/engine-warehouse.js';
import { Random, RANDOM_EVENT_NAMES, RANDOM_TIMEZONES, randomRange, randomWhere } from '../../test-support/random-analysis-data.js';
import { loadDataset } from '../../test-support/engine-datasets.js';
import { RANDOM_PAGES, randomSessionEvents } from '../../test-support/random-session-events.js';
import type { WeekStart } from '../common/time-buckets.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { runAdoption } from './adoption-analysis.js';
import { parseAdoptionDefinition } from './adoption-definition.js';
import { parseFeatureCatalog, type FeatureCatalog } from './feature-catalog.js';

const DATASETS = 5;
const DEFINITIONS_PER_DATASET = 10;

function randomMatcher(r: Random, signal: boolean): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (signal) {
    const pick = r.int(0, 2);
    if (pick === 0) m.where = { element_selector: r.pick(['#save', 'button.export', '']) };
    else if (pick === 1) m.where = { page_path: r.pick(RANDOM_PAGES) };
    else m.event = r.pick(RANDOM_EVENT_NAMES);
    return m;
  }
  const pick = r.int(0, 3);
  if (pick <= 1) m.event = r.chance(0.3) ? r.some(RANDOM_EVENT_NAMES, 2) : r.pick(RANDOM_EVENT_NAMES);
  else if (pick === 2) m.page = r.chance(0.3) ? r.some(RANDOM_PAGES, 2) : r.pick(RANDOM_PAGES);
  if (pick === 3 || r.chance(0.3)) m.where = { ...randomWhere(r), ...(pick === 3 ? { country: r.pick(['NL', 'US']) } : {}) };
  return m;
}

function randomCatalog(r: Random): FeatureCatalog {
  const features = Array.from({ length: r.int(1, 4) }, (_v, i) => ({
    name: `Feature ${i}`,
    match: Array.from({ length: r.int(1, 2) }, () => randomMatcher(r, false)),
    ...(r.chance(0.5) ? { signals: Array.from({ length: r.int(1, 2) }, () => randomMatcher(r, true)) } : {}),
    ...(r.chance(0.3) ? { released: randomRange(r).from } : {}),
  }));
  return parseFeatureCatalog({ features, thresholds: { min_users: r.int(1, 4) } }, 'queries/features.yaml');
}

function randomDefinition(r: Random): Record<string, unknown> {
  const def: Record<string, unknown> = { kind: 'adoption', name: 'diff', interval: r.pick(['day', 'week', 'month']) };
  def.retention_intervals = r.pick([0, 1, 3, 6]);
  if (r.chance(0.7)) def.date_range = randomRange(r);
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

describe('adoption: DuckDB and ClickHouse agree on random data, catalogs and definitions', () => {
  for (let d = 0; d < DATASETS; d++) {
    it(`dataset ${d + 1}`, async () => {
      const r = new Random(9500 + d);
      await loadDataset([duck, house], randomSessionEvents(r, r.int(5, 20), r.int(150, 400), r.chance(0.5)));
      let withUsers = 0;
      let withRetention = 0;
      for (let i = 0; i < DEFINITIONS_PER_DATASET; i++) {
        const catalog = randomCatalog(r);
        const input = randomDefinition(r);
        const options = { timezone: r.pick(RANDOM_TIMEZONES), weekStart: r.pick<WeekStart>(['monday', 'sunday', 'saturday']), segments, catalog };
        const def = parseAdoptionDefinition(input);
        const [a, b] = [await runAdoption(duck, def, options), await runAdoption(house, def, options)];
        expect(b, `${JSON.stringify(input)} with ${JSON.stringify(catalog.features)} in ${options.timezone}, week from ${options.weekStart}`).toEqual(a);
        if (a.features.some((f) => f.users > 0)) withUsers++;
        if (a.features.some((f) => f.retention.some((x) => x.retained > 0))) withRetention++;
      }
      // The generator must produce features with users and returning users, or the comparison proves little.
      expect([withUsers, withRetention].every((n) => n > 0)).toBe(true);
    });
  }
});
