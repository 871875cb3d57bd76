import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageLabError } from '../../core/errors.js';
import { ev, type TestEvent, type TestEventFields } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { runOnEngine } from '../analysis-kind.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { adoptionAnalysis, runAdoption, type AdoptionRunOptions } from './adoption-analysis.js';
import { classifyFeature } from './adoption-classify.js';
import { parseAdoptionDefinition } from './adoption-definition.js';
import { buildMarkedEventsTable } from './adoption-query.js';
import { chUsageQuery } from './adoption-query-clickhouse.js';
import type { AdoptionResult, FeatureAdoption } from './adoption-result.js';
import { DEFAULT_THRESHOLDS } from './adoption-thresholds.js';
import { featureSlug, parseFeatureCatalog, type FeatureCatalog } from './feature-catalog.js';
import { expectCode } from '../../test-support/expect-error.js';

describe.each(ENGINES)('adoption on %s', (engine) => {
  // Every case runs on both warehouse engines with the same expected numbers (ClickHouse: chDB, or CLICKHOUSE_URL).
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function eventCount(): Promise<number> {
    if (session.engine === 'clickhouse') return Number((await session.clickhouse.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n);
    const rows = await (session as unknown as { all<T>(sql: string): Promise<T[]> }).all<{ n: number }>('SELECT count(*) AS n FROM events');
    return Number(rows[0]!.n);
  }

  const CATALOG_FILE = 'queries/features.yaml';

  function catalogOf(features: unknown[], thresholds?: Record<string, unknown>): FeatureCatalog {
    return parseFeatureCatalog({ features, ...(thresholds === undefined ? {} : { thresholds }) }, CATALOG_FILE);
  }

  /** Thresholds that let a handful of hand-made people be judged. */
  const FEW = { min_users: 1 };

  async function run(events: TestEvent[], catalog: FeatureCatalog, def: Record<string, unknown> = {}, options: Partial<AdoptionRunOptions> = {}): Promise<AdoptionResult> {
    await insertEvents(session, events);
    return runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'test', ...def }), { timezone: 'UTC', catalog, ...options });
  }

  const feature = (r: AdoptionResult, key: string): FeatureAdoption => {
    const f = r.features.find((x) => x.key === key);
    if (f === undefined) throw new Error(`no feature ${key}`);
    return f;
  };

  async function expectCodeAsync(fn: () => Promise<unknown>, code: string, field?: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageLabError);
      expect((err as UsageLabError).code).toBe(code);
      if (field !== undefined) expect((err as UsageLabError).place.field).toBe(field);
      return;
    }
    throw new Error(`expected ${code}`);
  }

  /** n people `${prefix}00`.. each with one event `name` at `at`. */
  function crowd(prefix: string, n: number, at: string, name: string, fields: TestEventFields = {}): TestEvent[] {
    return Array.from({ length: n }, (_v, i) => ev(`${prefix}${String(i).padStart(3, '0')}`, at, name, fields));
  }

  describe('adoption: users, share and frequency', () => {
    it('counts an event matching two matchers once; share, mean, median and weekly uses', async () => {
      const catalog = catalogOf(
        [{ name: 'Export to CSV', match: [{ event: 'export_clicked' }, { where: { page_path: '/reports/:id/export' } }] }],
        FEW,
      );
      const r = await run(
        [
          ev('p3', '2024-01-01T00:00:00Z', 'visit'),
          // Matches both matchers: one use.
          ev('p1', '2024-01-02T10:00:00Z', 'export_clicked', { page_path: '/reports/:id/export' }),
          ev('p1', '2024-01-03T10:00:00Z', 'export_clicked'),
          ev('p1', '2024-01-03T11:00:00Z', '$pageview', { event_kind: 'page_view', page_path: '/reports/:id/export' }),
          ev('p2', '2024-01-05T10:00:00Z', 'export_clicked'),
          ev('p5', '2024-01-09T10:00:00Z', 'export_clicked'),
          ev('p4', '2024-01-14T23:00:00Z', 'visit'),
          // No person: not counted anywhere.
          ev(null, '2024-01-05T10:00:00Z', 'export_clicked'),
        ],
        catalog,
        { date_range: { from: '2024-01-01', to: '2024-01-14' } },
      );
      expect(r.kind).toBe('adoption');
      expect(r.version).toBe(1);
      expect(r.active_users).toBe(5);
      const f = feature(r, 'export-to-csv');
      expect(f).toMatchObject({ name: 'Export to CSV', period: { from: '2024-01-01', to: '2024-01-14', days: 14 }, active_users: 5, users: 3, share: 0.6, uses: 5 });
      expect(f.frequency).toEqual({ uses_per_user_mean: 5 / 3, uses_per_user_median: 1, uses_per_week: 2.5, uses_per_user_per_week: 2.5 / 3 });
      expect(f.class).toBe('adopted');
      expect(f.reason).toEqual({ rule: 'adopted_min_share', text: 'share 60.0% ≥ adopted_min_share 20.0%' });
    });

    it('median of an even number of users is the mean of the two middle counts; equal timestamps are two uses', async () => {
      const catalog = catalogOf([{ name: 'x', match: ['x'] }], FEW);
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'x'),
          ev('p1', '2024-01-01T10:00:00Z', 'x'),
          ev('p1', '2024-01-01T10:00:00Z', 'x'),
          ev('p2', '2024-01-01T10:00:00Z', 'x'),
        ],
        catalog,
      );
      const f = feature(r, 'x');
      expect(f.uses).toBe(4);
      expect(f.users).toBe(2);
      expect(f.frequency.uses_per_user_median).toBe(2);
      expect(f.frequency.uses_per_user_mean).toBe(2);
      // No date range: the period is the days with data (one day).
      expect(f.period).toEqual({ from: '2024-01-01', to: '2024-01-01', days: 1 });
      expect(f.frequency.uses_per_week).toBe(28);
    });

    it('page: matches page and screen views of the cleaned path, from any source; event lists are any of', async () => {
      const catalog = catalogOf(
        [
          { name: 'Reports', match: [{ page: '/reports/:id' }] },
          { name: 'Either', match: [{ event: ['a', 'b'] }] },
          { name: 'Two pages', match: [{ page: ['/p1', '/p2'] }] },
        ],
        FEW,
      );
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', '$pageview', { event_kind: 'page_view', page_path: '/reports/:id' }),
          ev('p2', '2024-01-01T10:00:00Z', 'Screen', { event_kind: 'screen_view', page_path: '/reports/:id' }),
          ev('p3', '2024-01-01T10:00:00Z', 'click', { event_kind: 'click', page_path: '/reports/:id' }),
          ev('p4', '2024-01-01T10:00:00Z', '$pageview', { event_kind: 'page_view', page_path: '/reports' }),
          ev('p5', '2024-01-01T10:00:00Z', '$pageview', { event_kind: 'page_view', page_path: '/reports/:id', source: 'posthog' }),
          ev('p5', '2024-01-01T11:00:00Z', '[Amplitude] Page Viewed', { event_kind: 'page_view', page_path: '/reports/:id', source: 'amplitude' }),
          ev('p1', '2024-01-01T12:00:00Z', 'a'),
          ev('p2', '2024-01-01T12:00:00Z', 'b'),
          ev('p3', '2024-01-01T12:00:00Z', 'c'),
          ev('p1', '2024-01-01T13:00:00Z', 'v', { event_kind: 'page_view', page_path: '/p1' }),
          ev('p2', '2024-01-01T13:00:00Z', 'v', { event_kind: 'page_view', page_path: '/p2' }),
        ],
        catalog,
      );
      expect(feature(r, 'reports')).toMatchObject({ users: 3, uses: 4, active_users: 5 });
      expect(feature(r, 'either')).toMatchObject({ users: 2, uses: 2 });
      expect(feature(r, 'two-pages')).toMatchObject({ users: 2, uses: 2 });
    });

    it('merged identities: one person_id from two sources is one user', async () => {
      const catalog = catalogOf([{ name: 'Share', match: ['share'] }], FEW);
      const r = await run(
        [
          ev('u:7', '2024-01-01T10:00:00Z', 'share', { source: 'posthog', anonymous_id: 'ph-1' }),
          ev('u:7', '2024-01-02T10:00:00Z', 'share', { source: 'amplitude', anonymous_id: 'amp-1' }),
        ],
        catalog,
      );
      expect(r.active_users).toBe(1);
      expect(feature(r, 'share')).toMatchObject({ users: 1, uses: 2, share: 1 });
    });

    it('released: uses and active users counted from local midnight of the release day', async () => {
      const catalog = catalogOf(
        [
          { name: 'New', match: ['new'], released: '2024-01-08' },
          { name: 'Future', match: ['future'], released: '2024-02-01' },
        ],
        FEW,
      );
      const r = await run(
        [
          ev('p1', '2024-01-07T23:59:59Z', 'new'),
          ev('p1', '2024-01-08T00:00:00Z', 'new'),
          ev('p2', '2024-01-05T10:00:00Z', 'new'),
          ev('p3', '2024-01-10T10:00:00Z', 'visit'),
          ev('p1', '2024-01-09T10:00:00Z', 'future'),
          ev('p4', '2024-01-14T23:59:59Z', 'visit'),
          ev('p5', '2024-01-15T00:00:00Z', 'visit'),
        ],
        catalog,
        { date_range: { from: '2024-01-01', to: '2024-01-14' } },
      );
      expect(r.active_users).toBe(4);
      expect(r.data_through).toBe('2024-01-15');
      const n = feature(r, 'new');
      expect(n).toMatchObject({ period: { from: '2024-01-08', to: '2024-01-14', days: 7 }, active_users: 3, users: 1, uses: 1, share: 1 / 3 });
      expect(n.frequency.uses_per_week).toBe(1);
      const fut = feature(r, 'future');
      expect(fut).toMatchObject({ period: null, active_users: 0, users: 0, uses: 0, share: null, class: 'insufficient_data' });
      expect(fut.reason).toEqual({ rule: 'not_released', text: "released 2024-02-01, after the period's last day 2024-01-14" });
      expect(fut.frequency).toEqual({ uses_per_user_mean: null, uses_per_user_median: null, uses_per_week: null, uses_per_user_per_week: null });
    });

    it('date range in a non-UTC zone on a DST day (America/New_York, 2024-03-10 is 23 hours)', async () => {
      const catalog = catalogOf([{ name: 'F', match: ['f'] }], FEW);
      const events = [
        ev('pA', '2024-03-10T04:59:59Z', 'f'), // 2024-03-09 23:59:59 EST
        ev('pB', '2024-03-10T05:00:00Z', 'f'), // 2024-03-10 00:00 EST
        ev('pC', '2024-03-11T03:59:59Z', 'visit'), // 2024-03-10 23:59:59 EDT
        ev('pD', '2024-03-11T04:00:00Z', 'visit'), // 2024-03-11 00:00 EDT
      ];
      const def = { date_range: { from: '2024-03-10', to: '2024-03-10' } };
      const ny = await run(events, catalog, def, { timezone: 'America/New_York' });
      expect(ny.active_users).toBe(2);
      expect(feature(ny, 'f')).toMatchObject({ active_users: 2, users: 1, share: 0.5, period: { from: '2024-03-10', to: '2024-03-10', days: 1 } });
      expect(ny.data_from).toBe('2024-03-09');
      expect(ny.data_through).toBe('2024-03-11');
      const utc = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'utc', ...def }), { timezone: 'UTC', catalog });
      expect(utc.active_users).toBe(2);
      expect(feature(utc, 'f')).toMatchObject({ active_users: 2, users: 2, share: 1 });
    });
  });

  describe('adoption: retention of feature users', () => {
    const catalog = catalogOf([{ name: 'R', match: ['r'] }], FEW);
    const base = [
      ev('p1', '2024-01-01T10:00:00Z', 'r'), // cohort week of Mon 2024-01-01
      ev('p1', '2024-01-09T10:00:00Z', 'r'), // +1
      ev('p1', '2024-01-23T10:00:00Z', 'r'), // +3, after the date range
      ev('p2', '2024-01-10T10:00:00Z', 'r'), // cohort week of 2024-01-08
      ev('p2', '2024-01-16T10:00:00Z', 'r'), // +1
      ev('p3', '2024-01-14T23:00:00Z', 'r'), // cohort week of 2024-01-08 (Sunday), no return
    ];
    const def = { date_range: { from: '2024-01-01', to: '2024-01-14' } };

    it('intervals not yet complete are pending, not 0; a share with no complete interval is null', async () => {
      const r = await run(base, catalog, def);
      expect(r.data_through).toBe('2024-01-23');
      expect(feature(r, 'r').retention).toEqual([
        { interval: 1, users: 3, retained: 2, share: 2 / 3, pending_users: 0, complete: true },
        { interval: 2, users: 1, retained: 0, share: 0, pending_users: 2, complete: false },
        { interval: 3, users: 0, retained: 0, share: null, pending_users: 3, complete: false },
        { interval: 4, users: 0, retained: 0, share: null, pending_users: 3, complete: false },
      ]);
      // Uses after the date range count for retention only, not for uses.
      expect(feature(r, 'r').uses).toBe(4);
    });

    it('later data completes the intervals (uses past the date range count as returns)', async () => {
      const r = await run([...base, ev('p9', '2024-02-05T10:00:00Z', 'visit')], catalog, def);
      expect(r.data_through).toBe('2024-02-05');
      expect(feature(r, 'r').retention).toEqual([
        { interval: 1, users: 3, retained: 2, share: 2 / 3, pending_users: 0, complete: true },
        { interval: 2, users: 3, retained: 0, share: 0, pending_users: 0, complete: true },
        { interval: 3, users: 3, retained: 1, share: 1 / 3, pending_users: 0, complete: true },
        { interval: 4, users: 1, retained: 0, share: 0, pending_users: 2, complete: false },
      ]);
    });

    it('weeks are local to the configured zone across the November DST change (America/New_York)', async () => {
      const events = [
        ev('p1', '2024-11-04T04:30:00Z', 'r'), // Sun 2024-11-03 23:30 EST: week of Mon 2024-10-28
        ev('p1', '2024-11-04T05:30:00Z', 'r'), // Mon 2024-11-04 00:30 EST: the next week
        ev('p9', '2024-11-20T12:00:00Z', 'visit'),
      ];
      const ny = await run(events, catalog, { retention_intervals: 2 }, { timezone: 'America/New_York' });
      expect(feature(ny, 'r').retention.map((k) => [k.users, k.retained])).toEqual([[1, 1], [1, 0]]);
      const utc = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'utc', retention_intervals: 2 }), { timezone: 'UTC', catalog });
      // In UTC both uses fall on Monday 2024-11-04: no use in the following week.
      // ...and its second week (2024-11-18..24) is not complete on 2024-11-20: pending, not counted.
      expect(feature(utc, 'r').retention.map((k) => [k.users, k.retained, k.pending_users])).toEqual([[1, 0, 0], [0, 0, 1]]);
    });

    it('week start and day / month intervals', async () => {
      const events = [
        ev('p1', '2024-01-06T10:00:00Z', 'r'), // Saturday
        ev('p1', '2024-01-07T10:00:00Z', 'r'), // Sunday
        ev('p1', '2024-02-20T10:00:00Z', 'r'),
        ev('p9', '2024-03-31T10:00:00Z', 'visit'),
      ];
      const monday = await run(events, catalog, { retention_intervals: 1 });
      expect(feature(monday, 'r').retention[0]).toMatchObject({ users: 1, retained: 0 });
      const sunday = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 's', retention_intervals: 1 }), { timezone: 'UTC', weekStart: 'sunday', catalog });
      expect(sunday.definition.week_start).toBe('sunday');
      expect(feature(sunday, 'r').retention[0]).toMatchObject({ users: 1, retained: 1 });
      const day = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'd', interval: 'day', retention_intervals: 2 }), { timezone: 'UTC', catalog });
      expect(feature(day, 'r').retention.map((k) => k.retained)).toEqual([1, 0]);
      const month = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'm', interval: 'month', retention_intervals: 2 }), { timezone: 'UTC', catalog });
      expect(feature(month, 'r').retention.map((k) => [k.users, k.retained])).toEqual([[1, 1], [1, 0]]);
    });

    it('retention_intervals: 0 leaves retention out', async () => {
      const r = await run(base, catalog, { retention_intervals: 0 });
      expect(feature(r, 'r').retention).toEqual([]);
    });
  });

  describe('adoption: frustration', () => {
    it('share of feature sessions with a signal on a feature event or a signals matcher', async () => {
      const catalog = catalogOf([{ name: 'Export', match: ['export_clicked'], signals: [{ where: { element_selector: '#export' } }] }], FEW);
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'export_clicked', { session_id: 's1' }),
          ev('p1', '2024-01-01T10:00:01Z', '$rageclick', { session_id: 's1', element_selector: '#export', rage_click: true }),
          ev('p1', '2024-01-02T10:00:00Z', 'export_clicked', { session_id: 's2' }),
          // A dead click on the button whose action never fired: a feature session, frustrated, but no use.
          ev('p2', '2024-01-01T10:00:00Z', '$dead_click', { session_id: 's3', element_selector: '#export', dead_click: true }),
          // A signal elsewhere does not count.
          ev('p3', '2024-01-01T10:00:00Z', 'export_clicked', { session_id: 's4' }),
          ev('p3', '2024-01-01T10:00:05Z', '$rageclick', { session_id: 's4', element_selector: '#other', rage_click: true }),
          // The flag on the feature event itself (FullStory style).
          ev('p4', '2024-01-01T10:00:00Z', 'export_clicked', { session_id: 's5', error_click: true }),
          // A signals-matcher event without a signal is not a feature session.
          ev('p5', '2024-01-01T10:00:00Z', 'click', { session_id: 's6', element_selector: '#export' }),
        ],
        catalog,
      );
      const f = feature(r, 'export');
      expect(f).toMatchObject({ users: 3, uses: 4, active_users: 5 });
      expect(f.frustration).toEqual({ sessions: 5, frustrated_sessions: 3, rate: 0.6, rage_sessions: 1, dead_sessions: 1, error_sessions: 1 });
      expect(f.class).toBe('frustrating');
      expect(f.reason.rule).toBe('frustrating_min_rate');
    });

    it('no sessions: rate null', async () => {
      const catalog = catalogOf([{ name: 'X', match: ['x'] }], FEW);
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'visit')], catalog);
      expect(feature(r, 'x').frustration).toEqual({ sessions: 0, frustrated_sessions: 0, rate: null, rage_sessions: 0, dead_sessions: 0, error_sessions: 0 });
    });
  });

  describe('adoption: classification', () => {
    it('thresholds are inclusive at each boundary; frustration needs min_users users', async () => {
      const day = '2024-01-02T10:00:00Z';
      const people = crowd('p', 100, day, 'visit');
      const ids = people.map((e) => e.person!);
      const uses = (name: string, from: number, n: number, frustrated = 0): TestEvent[] =>
        ids.slice(from, from + n).map((p, i) => ev(p, day, name, i < frustrated ? { rage_click: true } : {}));
      const catalog = catalogOf([
        { name: 'a20', match: ['a'] },
        { name: 'b19', match: ['b'] },
        { name: 'c5', match: ['c'] },
        { name: 'd6', match: ['d'] },
        { name: 'e frustrating', match: ['e'] },
        { name: 'f calm', match: ['f'] },
        { name: 'g few', match: ['g'] },
        { name: 'h nobody', match: ['h'] },
      ]);
      const r = await run(
        [...people, ...uses('a', 0, 20), ...uses('b', 0, 19), ...uses('c', 50, 5), ...uses('d', 50, 6), ...uses('e', 10, 20, 3), ...uses('f', 10, 20, 2), ...uses('g', 60, 19, 19)],
        catalog,
      );
      const cls = Object.fromEntries(r.features.map((f) => [f.key, [f.class, f.reason.rule]]));
      expect(cls).toEqual({
        a20: ['adopted', 'adopted_min_share'],
        b19: ['emerging', 'between_thresholds'],
        c5: ['ignored', 'ignored_max_share'],
        d6: ['emerging', 'between_thresholds'],
        'e-frustrating': ['frustrating', 'frustrating_min_rate'],
        'f-calm': ['adopted', 'adopted_min_share'],
        'g-few': ['emerging', 'between_thresholds'],
        'h-nobody': ['ignored', 'ignored_max_share'],
      });
      expect(feature(r, 'e-frustrating').frustration.rate).toBe(0.15);
      expect(feature(r, 'f-calm').frustration.rate).toBe(0.1);
      expect(feature(r, 'g-few').frustration.rate).toBe(1);
      expect(feature(r, 'h-nobody')).toMatchObject({ users: 0, uses: 0, share: 0, active_users: 100 });
      expect(feature(r, 'c5').reason.text).toBe('share 5.0% ≤ ignored_max_share 5.0%');
      expect(r.definition.thresholds).toEqual(DEFAULT_THRESHOLDS);
    });

    it('insufficient data below min_users active users; judged at exactly min_users', async () => {
      const catalog = catalogOf([{ name: 'X', match: ['x'] }]);
      const r19 = await run(crowd('a', 19, '2024-01-02T10:00:00Z', 'x'), catalog);
      expect(feature(r19, 'x')).toMatchObject({ users: 19, active_users: 19, class: 'insufficient_data', reason: { rule: 'min_users', text: '19 active users < min_users 20' } });
      await insertEvents(session, crowd('b', 1, '2024-01-02T10:00:00Z', 'x'));
      const r20 = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 't' }), { timezone: 'UTC', catalog });
      expect(feature(r20, 'x')).toMatchObject({ users: 20, class: 'adopted' });
    });

    it('definition thresholds override the catalog, which overrides the defaults', async () => {
      const catalog = catalogOf([{ name: 'X', match: ['x'] }], { adopted_min_share: 0.6, min_users: 1 });
      const events = [ev('p1', '2024-01-02T10:00:00Z', 'x'), ev('p2', '2024-01-02T10:00:00Z', 'visit')];
      const r = await run(events, catalog);
      expect(r.definition.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, adopted_min_share: 0.6, min_users: 1 });
      expect(feature(r, 'x').class).toBe('emerging');
      const o = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'o', thresholds: { adopted_min_share: 0.5 } }), { timezone: 'UTC', catalog });
      expect(o.definition.thresholds.adopted_min_share).toBe(0.5);
      expect(feature(o, 'x').class).toBe('adopted');
    });

    it('classifyFeature: empty periods say why', () => {
      const none = { period: null, active_users: 0, users: 0, share: null, frustration_rate: null };
      expect(classifyFeature({ ...none, released: '2024-03-01', periodEnd: '2024-02-29' }, DEFAULT_THRESHOLDS).reason.rule).toBe('not_released');
      expect(classifyFeature({ ...none, released: '2024-03-01', periodEnd: '2024-03-01' }, DEFAULT_THRESHOLDS).reason.rule).toBe('no_data');
      expect(classifyFeature({ ...none, released: null, periodEnd: null }, DEFAULT_THRESHOLDS)).toEqual({ class: 'insufficient_data', reason: { rule: 'no_data', text: 'no events in the period' } });
    });
  });

  describe('adoption: scope', () => {
    const catalog = catalogOf([{ name: 'X', match: ['x'] }], FEW);

    it('excludes tagged people by default and says how many; exclude: [] brings them back', async () => {
      await tagPerson(session, 'p1', 'internal');
      const events = [ev('p1', '2024-01-01T10:00:00Z', 'x'), ev('p1', '2024-01-01T11:00:00Z', 'x'), ev('p2', '2024-01-01T10:00:00Z', 'x'), ev('p3', '2024-01-01T10:00:00Z', 'visit')];
      const r = await run(events, catalog);
      expect(r.active_users).toBe(2);
      expect(feature(r, 'x')).toMatchObject({ users: 1, uses: 1 });
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 2, share_of_events: 0.5 });
      const all = await runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'all', exclude: [] }), { timezone: 'UTC', catalog });
      expect(all.active_users).toBe(3);
      expect(feature(all, 'x')).toMatchObject({ users: 2, uses: 3 });
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
    });

    it('where filters every event (active users too)', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'x', { device_type: 'mobile' }),
          ev('p1', '2024-01-01T11:00:00Z', 'x', { device_type: 'desktop' }),
          ev('p2', '2024-01-01T10:00:00Z', 'x', { device_type: 'desktop' }),
          ev('p3', '2024-01-01T10:00:00Z', 'visit', { device_type: 'mobile' }),
        ],
        catalog,
        { where: { device_type: 'mobile' } },
      );
      expect(r.active_users).toBe(2);
      expect(feature(r, 'x')).toMatchObject({ users: 1, uses: 1, share: 0.5 });
      expect(r.definition.where).toEqual({ device_type: 'mobile' });
    });

    it('segment: only its people; an unknown segment is an error', async () => {
      const segments = new Map<string, SegmentDefinition>([['signed-up', parseSegmentDefinition({ kind: 'segment', name: 'signed-up', did: ['signup'] })]]);
      const r = await run(
        [ev('p1', '2024-01-01T09:00:00Z', 'signup'), ev('p1', '2024-01-01T10:00:00Z', 'x'), ev('p2', '2024-01-01T10:00:00Z', 'x'), ev('p3', '2024-01-01T10:00:00Z', 'signup')],
        catalog,
        { segment: 'signed-up' },
        { segments },
      );
      expect(r.active_users).toBe(2);
      expect(feature(r, 'x')).toMatchObject({ users: 1, share: 0.5 });
      await expectCodeAsync(
        () => runAdoption(session, parseAdoptionDefinition({ kind: 'adoption', name: 'n', segment: 'nope' }), { timezone: 'UTC', catalog, segments }),
        'adoption_segment_unknown',
        'segment',
      );
    });

    it('breakdown: per value, attributed by event (a person can be in two groups)', async () => {
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'x', { device_type: 'desktop' }),
          ev('p1', '2024-01-01T11:00:00Z', 'visit', { device_type: 'mobile' }),
          ev('p2', '2024-01-01T10:00:00Z', 'x', { device_type: 'mobile' }),
          ev('p2', '2024-01-01T11:00:00Z', 'x', { device_type: 'mobile' }),
          ev('p3', '2024-01-01T10:00:00Z', 'visit', { device_type: 'desktop' }),
          ev('p4', '2024-01-01T10:00:00Z', 'visit'),
        ],
        catalog,
        { breakdown: 'device_type' },
      );
      expect(r.active_users).toBe(4);
      expect(feature(r, 'x')).toMatchObject({ users: 2, uses: 3 });
      expect(r.breakdown!.map((g) => [g.value, g.active_users, g.features[0]!.users, g.features[0]!.uses, g.features[0]!.share])).toEqual([
        ['desktop', 2, 1, 1, 0.5],
        ['mobile', 2, 1, 2, 0.5],
        [null, 1, 0, 0, 0],
      ]);
    });

    it('breakdown by segment', async () => {
      const segments = new Map<string, SegmentDefinition>([['pro', parseSegmentDefinition({ kind: 'segment', name: 'pro', properties: { 'user_properties.plan': 'pro' } })]]);
      const r = await run(
        [
          ev('p1', '2024-01-01T10:00:00Z', 'x', { user_properties: { plan: 'pro' } }),
          ev('p2', '2024-01-01T10:00:00Z', 'visit', { user_properties: { plan: 'pro' } }),
          ev('p3', '2024-01-01T10:00:00Z', 'visit'),
        ],
        catalog,
        { breakdown: 'segment:pro' },
        { segments },
      );
      expect(r.breakdown!.map((g) => [g.value, g.active_users, g.features[0]!.users])).toEqual([
        ['pro', 2, 1],
        ['not pro', 1, 0],
      ]);
    });
  });

  describe('adoption: empty results', () => {
    it('empty warehouse: no data, every feature insufficient, nothing made up', async () => {
      const catalog = catalogOf([{ name: 'X', match: ['x'] }]);
      const r = await run([], catalog, { date_range: { from: '2024-01-01', to: '2024-01-31' } });
      expect(r).toMatchObject({ data_from: null, data_through: null, active_users: 0 });
      expect(feature(r, 'x')).toMatchObject({ period: null, users: 0, uses: 0, share: null, class: 'insufficient_data', reason: { rule: 'no_data' } });
      expect(feature(r, 'x').retention).toHaveLength(4);
      expect(feature(r, 'x').retention.every((k) => k.share === null && k.users === 0)).toBe(true);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
    });

    it('a date range outside the data: no period', async () => {
      const catalog = catalogOf([{ name: 'X', match: ['x'] }], FEW);
      const r = await run([ev('p1', '2024-05-01T10:00:00Z', 'x')], catalog, { date_range: { from: '2024-01-01', to: '2024-01-31' } });
      expect(feature(r, 'x')).toMatchObject({ period: null, users: 0, class: 'insufficient_data', reason: { rule: 'no_data' } });
    });

    it('features: selects and orders features; the resolved definition lists them with every default', async () => {
      const catalog = catalogOf([{ name: 'A', match: ['a'] }, { name: 'B', key: 'bee', match: ['b'] }, { name: 'C', match: ['c'] }]);
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'b')], catalog, { features: ['c', 'bee'] });
      expect(r.features.map((f) => f.key)).toEqual(['c', 'bee']);
      expect(r.definition).toMatchObject({
        name: 'test',
        interval: 'week',
        retention_intervals: 4,
        week_start: 'monday',
        timezone: 'UTC',
        date_range: null,
        where: {},
        segment: null,
        breakdown: null,
        exclude: ['internal', 'bot'],
        catalog_file: CATALOG_FILE,
      });
      expect(r.definition.features[1]).toEqual({ key: 'bee', name: 'B', description: null, match: [{ event: ['b'], page: null, where: {} }], signals: [], released: null });
    });
  });

  describe('adoption: hostile values', () => {
    const hostile = "x'); DROP TABLE events; --";

    it('names and values are bound: they match nothing and change nothing', async () => {
      const catalog = catalogOf(
        [
          {
            name: hostile,
            match: [{ event: hostile, where: { [`properties.${hostile}`]: hostile } }, { page: `/${hostile}` }],
            signals: [{ where: { element_selector: hostile } }],
          },
        ],
        FEW,
      );
      const r = await run([ev('p1', '2024-01-01T10:00:00Z', 'visit', { properties: { a: 1 } })], catalog, { where: { 'properties.a': 1 }, breakdown: `properties.${hostile}` });
      expect(r.features[0]!.key).toBe(featureSlug(hostile));
      expect(r.features[0]!.name).toBe(hostile);
      expect(r.features[0]!).toMatchObject({ users: 0, active_users: 1 });
      expect(await eventCount()).toBe(1);
      const def = parseAdoptionDefinition({ kind: 'adoption', name: 'h' });
      const sqlOptions = { timezone: 'UTC', weekStart: 'monday', interval: 'week' } as const;
      const built =
        engine === 'duckdb'
          ? buildMarkedEventsTable({ features: 'f', marked: 'm', featureEvents: 'fe' }, catalog.features, def, sqlOptions)
          : ((q) => ({ sql: q.sql, params: Object.values(q.params) }))(chUsageQuery(catalog.features, def, sqlOptions, false));
      expect(built.sql).not.toContain('DROP TABLE');
      expect(built.params).toContain(hostile);
    });

    it('an explicit hostile key is refused', () => {
      expectCode(() => catalogOf([{ name: 'x', key: hostile, match: ['x'] }]), 'features_key_invalid', 'features.0.key');
    });
  });

  describe('feature catalog: validation', () => {
    const ok = { name: 'X', match: ['x'] };
    const cases: [string, unknown, string, string | undefined][] = [
      ['wrong shape', { features: [{ name: 'X', match: 'x' }] }, 'features_invalid', 'features.0.match'],
      ['unknown key', { features: [{ ...ok, matches: [] }] }, 'features_invalid', 'features.0.matches'],
      ['no features', { features: [] }, 'features_empty', 'features'],
      ['duplicate derived key', { features: [ok, { name: 'x', match: ['y'] }] }, 'features_duplicate_key', 'features.1.name'],
      ['duplicate explicit key', { features: [{ ...ok, key: 'k' }, { name: 'Y', key: 'k', match: ['y'] }] }, 'features_duplicate_key', 'features.1.key'],
      ['no key from name', { features: [{ name: '!!!', match: ['x'] }] }, 'features_key_invalid', 'features.0.name'],
      ['no matcher', { features: [{ name: 'X', match: [] }] }, 'features_match_missing', 'features.0.match'],
      ['empty matcher', { features: [{ name: 'X', match: [{}] }] }, 'features_matcher_empty', 'features.0.match.0'],
      ['empty event', { features: [{ name: 'X', match: [{ event: ' ' }] }] }, 'features_event_missing', 'features.0.match.0.event'],
      ['empty event list', { features: [{ name: 'X', match: [{ event: [] }] }] }, 'features_event_missing', 'features.0.match.0.event'],
      ['empty page', { features: [{ name: 'X', match: [{ page: '' }] }] }, 'features_page_missing', 'features.0.match.0.page'],
      ['page and page_path', { features: [{ name: 'X', match: [{ page: '/a', where: { page_path: '/b' } }] }] }, 'features_page_conflict', 'features.0.match.0.where.page_path'],
      ['page in signals', { features: [{ ...ok, signals: [{ page: '/a' }] }] }, 'features_signals_page', 'features.0.signals.0.page'],
      ['unknown field', { features: [{ name: 'X', match: [{ where: { nope: 1 } }] }] }, 'features_field_unknown', 'features.0.match.0.where.nope'],
      ['flag compared with text', { features: [{ name: 'X', match: [{ where: { rage_click: 'yes' } }] }] }, 'features_filter_value_invalid', 'features.0.match.0.where.rage_click'],
      ['bad release date', { features: [{ ...ok, released: '2024-02-30' }] }, 'features_released_invalid', 'features.0.released'],
      ['share above 1', { features: [ok], thresholds: { adopted_min_share: 20 } }, 'features_thresholds_invalid', 'thresholds.adopted_min_share'],
      ['min_users 0', { features: [ok], thresholds: { min_users: 0 } }, 'features_thresholds_invalid', 'thresholds.min_users'],
      ['ignored not below adopted', { features: [ok], thresholds: { ignored_max_share: 0.2 } }, 'features_thresholds_invalid', 'thresholds.ignored_max_share'],
      ['unknown threshold', { features: [ok], thresholds: { adopted: 0.2 } }, 'features_invalid', 'thresholds.adopted'],
    ];
    for (const [what, input, code, field] of cases) {
      it(`${what} → ${code}`, () => {
        expectCode(() => parseFeatureCatalog(input, CATALOG_FILE), code, field);
      });
    }

    it('errors name the file', () => {
      try {
        parseFeatureCatalog({ features: [] }, CATALOG_FILE);
      } catch (err) {
        expect((err as UsageLabError).place.file).toBe(CATALOG_FILE);
        return;
      }
      throw new Error('expected an error');
    });

    it('an empty file is a shape error', () => {
      expectCode(() => parseFeatureCatalog(null, CATALOG_FILE), 'features_invalid', 'features');
    });

    it('the workspace template (templates/workspace/queries/features.yaml) is a valid catalog', () => {
      const file = new URL('../../../templates/workspace/queries/features.yaml', import.meta.url);
      const c = parseFeatureCatalog(parseYaml(readFileSync(file, 'utf8')), 'features.yaml');
      expect(c.features.map((f) => f.key)).toEqual(['create-project', 'invite', 'report-export', 'templates']);
      expect(c.thresholds).toEqual(DEFAULT_THRESHOLDS);
    });

    it('keys: slug of the name unless given; shorthand matchers; released as a YAML date', () => {
      const c = parseFeatureCatalog({ features: [{ name: 'Export to CSV', match: ['export_clicked'], released: new Date('2024-02-01T00:00:00Z') }] });
      expect(c.features[0]).toEqual({ key: 'export-to-csv', name: 'Export to CSV', description: null, match: [{ event: ['export_clicked'], page: null, where: {} }], signals: [], released: '2024-02-01' });
      expect(featureSlug('Café — Dark mode!')).toBe('cafe-dark-mode');
      expect(c.file).toBeNull();
    });
  });

  describe('adoption definition: validation', () => {
    const parse = (extra: Record<string, unknown>) => () => parseAdoptionDefinition({ kind: 'adoption', name: 'x', ...extra }, 'queries/a.yaml');
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['unknown key', { featurez: [] }, 'adoption_invalid', 'featurez'],
      ['bad interval', { interval: 'year' }, 'adoption_invalid', 'interval'],
      ['empty features', { features: [] }, 'adoption_features_empty', 'features'],
      ['duplicate feature', { features: ['a', 'a'] }, 'adoption_feature_duplicate', 'features.1'],
      ['retention intervals', { retention_intervals: 1.5 }, 'adoption_retention_intervals_invalid', 'retention_intervals'],
      ['too many intervals', { retention_intervals: 101 }, 'adoption_retention_intervals_invalid', 'retention_intervals'],
      ['threshold range', { thresholds: { frustrating_min_rate: -0.1 } }, 'adoption_thresholds_invalid', 'thresholds.frustrating_min_rate'],
      ['unknown field', { where: { nope: 1 } }, 'adoption_field_unknown', 'where.nope'],
      ['date range', { date_range: { from: '2024-02-01', to: '2024-01-01' } }, 'adoption_date_range_invalid', 'date_range'],
    ];
    for (const [what, extra, code, field] of cases) {
      it(`${what} → ${code}`, () => expectCode(parse(extra), code, field));
    }

    it('rules that need the catalog are checked when it runs', async () => {
      const catalog = catalogOf([{ name: 'A', match: ['a'] }], { adopted_min_share: 0.3 });
      const def = (extra: Record<string, unknown>) => parseAdoptionDefinition({ kind: 'adoption', name: 'x', ...extra });
      await expectCodeAsync(() => runAdoption(session, def({ features: ['a', 'zzz'] }), { timezone: 'UTC', catalog }), 'adoption_feature_unknown', 'features.1');
      // 0.25 is valid on its own and below the catalog's 0.3, but not below the definition's 0.2.
      await runAdoption(session, def({ thresholds: { ignored_max_share: 0.25 } }), { timezone: 'UTC', catalog });
      await expectCodeAsync(() => runAdoption(session, def({ thresholds: { ignored_max_share: 0.25, adopted_min_share: 0.2 } }), { timezone: 'UTC', catalog }), 'adoption_thresholds_invalid', 'thresholds.ignored_max_share');
      await expectCodeAsync(() => runAdoption(session, def({}), { timezone: 'UTC' } as AdoptionRunOptions), 'adoption_catalog_missing');
      await expectCodeAsync(() => runAdoption(session, def({}), { timezone: 'Mars/Base', catalog }), 'adoption_timezone_invalid', 'timezone');
    });

    it('is an AnalysisKind: parse and run with the catalog in the options', async () => {
      const catalog = catalogOf([{ name: 'A', match: ['a'] }], FEW);
      await insertEvents(session, [ev('p1', '2024-01-01T10:00:00Z', 'a')]);
      const r = await runOnEngine(adoptionAnalysis, session, adoptionAnalysis.parse({ kind: 'adoption', name: 'k' }), { timezone: 'UTC', catalog } as AdoptionRunOptions);
      expect(feature(r, 'a').users).toBe(1);
      expect(adoptionAnalysis.kind).toBe('adoption');
    });
  });
});
