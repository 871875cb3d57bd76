import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { UsageLabError } from '../../core/errors.js';
import { ev, type TestEvent, type TestEventFields } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import type { AnalysisRunOptions } from '../analysis-kind.js';
import { parseSegmentDefinition } from '../segment/segment-definition.js';
import { pathsAnalysis, runPaths } from './paths-analysis.js';
import { parsePathsDefinition } from './paths-definition.js';
import { buildPathsTableQuery } from './paths-query.js';
import { chPathsTotalsQuery } from './paths-query-clickhouse.js';
import { stepText, type PathsResult, type PathStep } from './paths-result.js';
import { pathsRules } from './paths-rules.js';
import { expectCode } from '../../test-support/expect-error.js';

/** 2024-01-01T00:00:00Z plus minutes (and seconds). */
function at(minutes: number, seconds = 0): string {
  return new Date(Date.UTC(2024, 0, 1) + (minutes * 60 + seconds) * 1000).toISOString();
}

/** A page view of a cleaned path. */
function pv(person: string | null, time: string, path: string | null, fields: TestEventFields = {}): TestEvent {
  return ev(person, time, 'page_view', { event_kind: 'page_view', page_path: path, ...fields });
}

describe.each(ENGINES)('paths on %s', (engine) => {
  // Every case runs on both warehouse engines with the same expected numbers (ClickHouse: chDB, or CLICKHOUSE_URL).
  let session: TestSession;
  beforeEach(async () => {
    session = await openEngineWarehouse(engine);
  });
  afterEach(() => session.close());

  async function eventCount(): Promise<number> {
    if (session.engine === 'clickhouse') return Number((await session.clickhouse.query<{ n: number }>('SELECT count() AS n FROM events'))[0]!.n);
    const rows = await (session as unknown as { all<T>(sql: string): Promise<T[]> }).all<{ n: string }>('SELECT count(*) AS n FROM events');
    return Number(rows[0]!.n);
  }

  async function run(events: TestEvent[], def: Record<string, unknown>, options: Partial<AnalysisRunOptions> = {}): Promise<PathsResult> {
    await insertEvents(session, events);
    return runPaths(session, parsePathsDefinition({ kind: 'paths', name: 'test', ...def }), { timezone: 'UTC', ...options });
  }

  const text = (steps: PathStep[]): string => steps.map(stepText).join(' > ');
  /** Paths as [text, sessions]. */
  const paths = (r: { paths: { steps: PathStep[]; sessions: number }[] }): [string, number][] => r.paths.map((p) => [text(p.steps), p.sessions]);
  const transitions = (r: PathsResult): [number, string, string, number][] => r.transitions.map((t) => [t.depth, stepText(t.from), stepText(t.to), t.count]);
  const drops = (r: PathsResult): [number, number, number][] => r.drop_offs.map((d) => [d.depth, d.sessions, d.dropped]);

  describe('paths: steps of each session, in order', () => {
    it('counts sessions per path, with shares, transitions and drop-offs; repeats collapse', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/home', { session_id: 's1' }),
          pv('p1', at(1), '/home', { session_id: 's1' }),
          pv('p1', at(2), '/pricing', { session_id: 's1' }),
          pv('p1', at(3), '/signup', { session_id: 's1' }),
          pv('p2', at(0), '/home', { session_id: 's2' }),
          // Events that are not page views are not steps with step: page (the default), and do not break a repeat.
          ev('p2', at(1), 'click', { session_id: 's2', page_path: '/home' }),
          pv('p2', at(2), '/pricing', { session_id: 's2' }),
          pv('p2', at(3), '/signup', { session_id: 's2' }),
          pv('p3', at(0), '/home', { session_id: 's3' }),
          pv('p3', at(5), '/docs', { session_id: 's3' }),
          // Only clicks: no step, no path.
          ev('p4', at(0), 'click', { session_id: 's4' }),
          // A page view without a page_path is not a step.
          pv('p4', at(1), null, { session_id: 's4' }),
          // No person, or no session: ignored.
          pv(null, at(0), '/home'),
          pv('p5', at(0), '/home', { session_id: null }),
        ],
        {},
      );
      expect(r.kind).toBe('paths');
      expect(r.version).toBe(1);
      expect(r.aligned).toBe('first_step');
      expect(r.paths).toEqual([
        {
          steps: [
            { type: 'page', name: '/home' },
            { type: 'page', name: '/pricing' },
            { type: 'page', name: '/signup' },
          ],
          sessions: 2,
          share: 2 / 3,
        },
        { steps: [{ type: 'page', name: '/home' }, { type: 'page', name: '/docs' }], sessions: 1, share: 1 / 3 },
      ]);
      expect(r.other_paths).toEqual({ paths: 0, sessions: 0 });
      expect(transitions(r)).toEqual([
        [1, '/home', '/pricing', 2],
        [1, '/home', '/docs', 1],
        [2, '/pricing', '/signup', 2],
      ]);
      expect(r.other_transitions).toEqual({ transitions: 0, count: 0 });
      expect(drops(r)).toEqual([
        [1, 3, 0],
        [2, 3, 1],
        [3, 2, 2],
        [4, 0, 0],
        [5, 0, 0],
      ]);
      expect(r.drop_offs[1]!.share).toBe(1 / 3);
      expect(r.drop_offs[3]!.share).toBeNull();
      expect(r.sessions).toEqual({ with_start: null, with_end: null, with_path: 3, truncated: 0, end_beyond_depth: null });
    });

    it('collapse_repeats: false keeps consecutive identical steps', async () => {
      const r = await run(
        [pv('p1', at(0), '/home'), pv('p1', at(1), '/home'), pv('p1', at(2), '/pricing'), pv('p2', at(0), '/home'), pv('p2', at(2), '/pricing')],
        { collapse_repeats: false },
      );
      expect(paths(r)).toEqual([
        ['/home > /home > /pricing', 1],
        ['/home > /pricing', 1],
      ]);
      expect(transitions(r)).toEqual([
        [1, '/home', '/home', 1],
        [1, '/home', '/pricing', 1],
        [2, '/home', '/pricing', 1],
      ]);
    });

    it('equal timestamps are ordered by event_id, whatever the insertion order', async () => {
      const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      const r = await run(
        [
          pv('p1', at(0), '/b', { event_id: id(0xb2) }),
          pv('p1', at(0), '/a', { event_id: id(0xb1) }),
          pv('p1', at(1), '/c', { event_id: id(0xa0) }),
          pv('p2', at(0), '/a', { event_id: id(0xc2) }),
          pv('p2', at(0), '/b', { event_id: id(0xc1) }),
        ],
        {},
      );
      expect(paths(r)).toEqual([
        ['/a > /b > /c', 1],
        ['/b > /a', 1],
      ]);
    });

    it('depth limits the steps per path; truncated paths are not drop-offs', async () => {
      const seven = ['/1', '/2', '/3', '/4', '/5', '/6', '/7'].map((p, i) => pv('p1', at(i), p));
      const three = ['/1', '/2', '/3'].map((p, i) => pv('p2', at(i), p));
      const r = await run([...seven, ...three, pv('p3', at(0), '/1'), pv('p3', at(1), '/9')], { depth: 3 });
      expect(paths(r)).toEqual([
        ['/1 > /2 > /3', 2],
        ['/1 > /9', 1],
      ]);
      expect(r.sessions.truncated).toBe(1);
      expect(r.sessions.with_path).toBe(3);
      expect(drops(r)).toEqual([
        [1, 3, 0],
        [2, 3, 1],
        [3, 2, 1],
      ]);
      expect(transitions(r)).toEqual([
        [1, '/1', '/2', 2],
        [1, '/1', '/9', 1],
        [2, '/2', '/3', 2],
      ]);
    });

    it('two sessions of one person are two paths; a person merged across sources is one session', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/home', { session_id: 'a' }),
          pv('p1', at(1), '/pricing', { session_id: 'a' }),
          pv('p1', at(60), '/home', { session_id: 'b' }),
          pv('p1', at(61), '/pricing', { session_id: 'b' }),
          // One person, one session, events from two sources: one path, in time order.
          pv('p2', at(0), '/home', { session_id: 'c', source: 'amplitude' }),
          pv('p2', at(1), '/docs', { session_id: 'c', source: 'posthog' }),
          pv('p2', at(2), '/pricing', { session_id: 'c', source: 'amplitude' }),
        ],
        {},
      );
      expect(paths(r)).toEqual([
        ['/home > /pricing', 2],
        ['/home > /docs > /pricing', 1],
      ]);
    });

    it('page paths are the cleaned page_path: ids already collapsed group together', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/projects/:id/board', { page_url: 'https://app.io/projects/1/board' }),
          pv('p1', at(1), '/projects/:id/settings', { page_url: 'https://app.io/projects/1/settings?tab=a' }),
          pv('p2', at(0), '/projects/:id/board', { page_url: 'https://app.io/projects/2/board' }),
          pv('p2', at(1), '/projects/:id/settings', { page_url: 'https://app.io/projects/2/settings' }),
        ],
        {},
      );
      expect(paths(r)).toEqual([['/projects/:id/board > /projects/:id/settings', 2]]);
    });

    it('step modes: event names, pages and events, include_events and exclude_events', async () => {
      const events = [
        pv('p1', at(0), '/home'),
        ev('p1', at(1), 'click'),
        ev('p1', at(2), 'signup'),
        ev('p1', at(3), 'identify', { event_kind: 'identify' }),
        pv('p1', at(4), '/dashboard'),
        // A screen view is a page view named by its (cleaned) screen name.
        ev('p1', at(5), 'screen', { event_kind: 'screen_view', page_path: 'HomeScreen' }),
      ];
      await insertEvents(session, events);
      const go = async (def: Record<string, unknown>): Promise<string[]> =>
        paths(await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', depth: 10, ...def }), { timezone: 'UTC' })).map(([p]) => p);
      expect(await go({})).toEqual(['/home > /dashboard > HomeScreen']);
      expect(await go({ step: 'page' })).toEqual(['/home > /dashboard > HomeScreen']);
      expect(await go({ step: 'event' })).toEqual(['(page_view) > (click) > (signup) > (identify) > (page_view) > (screen)']);
      expect(await go({ step: 'page_and_event' })).toEqual(['/home > (click) > (signup) > (identify) > /dashboard > HomeScreen']);
      expect(await go({ step: 'page_and_event', include_events: ['signup'] })).toEqual(['/home > (signup) > /dashboard > HomeScreen']);
      expect(await go({ step: 'page_and_event', exclude_events: ['click', 'identify'] })).toEqual(['/home > (signup) > /dashboard > HomeScreen']);
      expect(await go({ step: 'event', include_events: ['page_view', 'signup'], exclude_events: ['signup'] })).toEqual(['(page_view)']);
    });

    it('a page and an event with the same text are different steps', async () => {
      const r = await run([pv('p1', at(0), '/home'), ev('p1', at(1), '/home'), ev('p1', at(2), 'p/home')], { step: 'page_and_event' });
      expect(r.paths[0]!.steps).toEqual([
        { type: 'page', name: '/home' },
        { type: 'event', name: '/home' },
        { type: 'event', name: 'p/home' },
      ]);
    });

    it('top and top_transitions list the largest; the rest is counted in other_paths / other_transitions', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/a'),
          pv('p1', at(1), '/b'),
          pv('p2', at(0), '/a'),
          pv('p2', at(1), '/b'),
          pv('p3', at(0), '/a'),
          pv('p3', at(1), '/c'),
          pv('p4', at(0), '/d'),
          pv('p4', at(1), '/c'),
          pv('p5', at(0), '/a'),
        ],
        { top: 2, top_transitions: 1 },
      );
      // Equal counts: ties broken by the steps, compared one by one (a shorter prefix first: /a before /a > /c).
      expect(paths(r)).toEqual([
        ['/a > /b', 2],
        ['/a', 1],
      ]);
      expect(r.other_paths).toEqual({ paths: 2, sessions: 2 });
      expect(r.paths.map((p) => p.share)).toEqual([2 / 5, 1 / 5]);
      expect(transitions(r)).toEqual([[1, '/a', '/b', 2]]);
      expect(r.other_transitions).toEqual({ transitions: 2, count: 2 });
    });
  });

  describe('paths: start and end', () => {
    it('start by event: the path runs from the first start event of the session; sessions without it count nowhere', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/home'),
          ev('p1', at(1), 'signup'),
          pv('p1', at(2), '/dashboard'),
          pv('p1', at(3), '/settings'),
          // A later start event is not a step with step: page.
          ev('p1', at(4), 'signup'),
          pv('p1', at(5), '/dashboard'),
          ev('p2', at(0), 'signup'),
          pv('p2', at(1), '/dashboard'),
          pv('p3', at(0), '/home'),
          ev('p4', at(0), 'signup'),
          // The start event's where narrows the start.
          ev('p5', at(0), 'signup', { properties: { plan: 'free' } }),
          pv('p5', at(1), '/welcome'),
        ],
        { start: { event: 'signup', where: { 'properties.plan': null } } },
      );
      expect(paths(r)).toEqual([
        ['(signup)', 1],
        ['(signup) > /dashboard', 1],
        ['(signup) > /dashboard > /settings > /dashboard', 1],
      ]);
      expect(r.sessions).toEqual({ with_start: 3, with_end: null, with_path: 3, truncated: 0, end_beyond_depth: null });
      expect(r.paths.map((p) => p.share)).toEqual([1 / 3, 1 / 3, 1 / 3]);
      expect(drops(r)).toEqual([
        [1, 3, 1],
        [2, 2, 1],
        [3, 1, 0],
        [4, 1, 1],
        [5, 0, 0],
      ]);
    });

    it('start shorthand: a string is an event name', async () => {
      const r = await run([pv('p1', at(0), '/home'), ev('p1', at(1), 'signup'), pv('p1', at(2), '/home')], { start: 'signup' });
      expect(paths(r)).toEqual([['(signup) > /home', 1]]);
    });

    it('start by page: only page views of that cleaned path start; repeats collapse after the cut and the step filter', async () => {
      const events = [
        pv('p1', at(0), '/home'),
        // A click on that page is not a page view: it does not start the path.
        ev('p1', at(1), 'click', { page_path: '/settings/:id' }),
        pv('p1', at(2), '/settings/:id'),
        ev('p1', at(3), 'click', { page_path: '/settings/:id' }),
        pv('p1', at(4), '/settings/:id'),
        pv('p1', at(5), '/billing'),
        pv('p2', at(0), '/settings/:id'),
        pv('p3', at(0), '/settings/:ids'),
      ];
      await insertEvents(session, events);
      const go = async (def: Record<string, unknown>): Promise<[string, number][]> =>
        paths(await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', start: { page: '/settings/:id' }, ...def }), { timezone: 'UTC' }));
      expect(await go({})).toEqual([
        ['/settings/:id', 1],
        ['/settings/:id > /billing', 1],
      ]);
      expect(await go({ step: 'page_and_event' })).toEqual([
        ['/settings/:id', 1],
        ['/settings/:id > (click) > /settings/:id > /billing', 1],
      ]);
      // With step: event the page anchor is still shown as its page.
      expect(await go({ step: 'event' })).toEqual([
        ['/settings/:id', 1],
        ['/settings/:id > (click) > (page_view)', 1],
      ]);
    });

    it('end: the steps leading to the first end event, aligned on the end', async () => {
      const r = await run(
        [
          pv('p1', at(0), '/home'),
          pv('p1', at(1), '/pricing'),
          pv('p1', at(2), '/pricing'),
          ev('p1', at(3), 'upgrade'),
          pv('p1', at(4), '/thanks'),
          ev('p1', at(5), 'upgrade'),
          ...['/a', '/b', '/c', '/d', '/e', '/f'].map((p, i) => pv('p2', at(i), p)),
          ev('p2', at(10), 'upgrade'),
          pv('p3', at(0), '/home'),
          pv('p4', at(0), '/pricing'),
          ev('p4', at(1), 'upgrade'),
          ev('p5', at(0), 'upgrade'),
        ],
        { end: { event: 'upgrade' }, depth: 3 },
      );
      expect(r.aligned).toBe('end');
      expect(paths(r)).toEqual([
        ['(upgrade)', 1],
        ['/e > /f > (upgrade)', 1],
        ['/home > /pricing > (upgrade)', 1],
        ['/pricing > (upgrade)', 1],
      ]);
      expect(r.sessions).toEqual({ with_start: null, with_end: 4, with_path: 4, truncated: 1, end_beyond_depth: null });
      expect(transitions(r)).toEqual([
        [1, '/e', '/f', 1],
        [1, '/home', '/pricing', 1],
        [2, '/pricing', '(upgrade)', 2],
        [2, '/f', '(upgrade)', 1],
      ]);
      expect(r.drop_offs).toEqual([]);
    });

    it('start and end: from the first start to the first end after it, within depth', async () => {
      const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
      const r = await run(
        [
          ev('p1', at(0), 'signup'),
          pv('p1', at(1), '/a'),
          pv('p1', at(2), '/b'),
          ev('p1', at(3), 'upgrade'),
          // Five steps from start to end: beyond depth 4.
          ev('p2', at(0), 'signup'),
          pv('p2', at(1), '/a'),
          pv('p2', at(2), '/b'),
          pv('p2', at(3), '/c'),
          ev('p2', at(4), 'upgrade'),
          // No end after the start.
          ev('p3', at(0), 'signup'),
          pv('p3', at(1), '/a'),
          // An end before the start does not count; the first end after it does.
          ev('p4', at(0), 'upgrade'),
          ev('p4', at(1), 'signup'),
          pv('p4', at(2), '/x'),
          ev('p4', at(3), 'upgrade'),
          ev('p4', at(4), 'upgrade'),
          // No start.
          ev('p5', at(0), 'upgrade'),
          // Same instant: the end is ordered before the start by event id, so it is not after it.
          ev('p6', at(0), 'signup', { event_id: id(0xf2) }),
          ev('p6', at(0), 'upgrade', { event_id: id(0xf1) }),
        ],
        { start: 'signup', end: 'upgrade', depth: 4 },
      );
      expect(r.aligned).toBe('first_step');
      expect(paths(r)).toEqual([
        ['(signup) > /a > /b > (upgrade)', 1],
        ['(signup) > /x > (upgrade)', 1],
      ]);
      expect(r.sessions).toEqual({ with_start: 5, with_end: 3, with_path: 2, truncated: 0, end_beyond_depth: 1 });
      expect(r.drop_offs).toEqual([]);
    });

    it('start and end may be the same event: from one occurrence to the next', async () => {
      const r = await run([ev('p1', at(0), 'search'), pv('p1', at(1), '/results'), ev('p1', at(2), 'search'), ev('p2', at(0), 'search')], { start: 'search', end: 'search' });
      expect(paths(r)).toEqual([['(search) > /results > (search)', 1]]);
      expect(r.sessions).toMatchObject({ with_start: 2, with_end: 1, with_path: 1 });
    });
  });

  describe('paths: scope (date range, where, segment, breakdown, exclude)', () => {
    it('only events in the date range count: a session crossing the boundary keeps its part inside (DST day, New York)', async () => {
      // 2024-03-10 in America/New_York runs from 05:00Z to 04:00Z the next day (23 hours).
      const events = [
        pv('p1', '2024-03-10T04:59:59Z', '/before'),
        pv('p1', '2024-03-10T05:00:00Z', '/a'),
        pv('p1', '2024-03-11T03:59:59Z', '/b'),
        pv('p1', '2024-03-11T04:00:00Z', '/after'),
      ];
      const r = await run(events, { date_range: { from: '2024-03-10', to: '2024-03-10' } }, { timezone: 'America/New_York' });
      expect(paths(r)).toEqual([['/a > /b', 1]]);
      expect(r.definition.date_range).toEqual({ from: '2024-03-10', to: '2024-03-10' });
      expect(r.definition.timezone).toBe('America/New_York');
      const utc = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', date_range: { from: '2024-03-10', to: '2024-03-10' } }), { timezone: 'UTC' });
      expect(paths(utc)).toEqual([['/before > /a', 1]]);
    });

    it('fall-back day (25 h) in Europe/Berlin: both ends of the range', async () => {
      // 2024-10-27 in Europe/Berlin runs from 2024-10-26T22:00Z to 2024-10-27T23:00Z.
      const events = [
        pv('p1', '2024-10-26T21:59:59Z', '/x'),
        pv('p1', '2024-10-26T22:00:00Z', '/a'),
        pv('p1', '2024-10-27T22:59:59Z', '/b'),
        pv('p1', '2024-10-27T23:00:00Z', '/y'),
      ];
      const r = await run(events, { date_range: { from: '2024-10-27', to: '2024-10-27' } }, { timezone: 'Europe/Berlin' });
      expect(paths(r)).toEqual([['/a > /b', 1]]);
    });

    it('where filters the events: filtered-out events are not steps', async () => {
      const r = await run(
        [pv('p1', at(0), '/a', { device_type: 'desktop' }), pv('p1', at(1), '/b', { device_type: 'mobile' }), pv('p1', at(2), '/c', { device_type: 'desktop' }), pv('p2', at(0), '/a', { device_type: 'mobile' })],
        { where: { device_type: 'desktop' } },
      );
      expect(paths(r)).toEqual([['/a > /c', 1]]);
    });

    it('where applies to the start and end events too', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'signup', { device_type: 'mobile' }),
          pv('p1', at(1), '/a', { device_type: 'desktop' }),
          ev('p1', at(2), 'signup', { device_type: 'desktop' }),
          pv('p1', at(3), '/b', { device_type: 'desktop' }),
          ev('p1', at(4), 'upgrade', { device_type: 'mobile' }),
          ev('p1', at(5), 'upgrade', { device_type: 'desktop' }),
        ],
        { start: 'signup', end: 'upgrade', where: { device_type: 'desktop' } },
      );
      expect(paths(r)).toEqual([['(signup) > /b > (upgrade)', 1]]);
    });

    it('segment: only people in the saved segment', async () => {
      const segments = new Map([['pros', parseSegmentDefinition({ kind: 'segment', name: 'pros', properties: { 'user_properties.plan': 'pro' } })]]);
      const r = await run(
        [pv('p1', at(0), '/a', { user_properties: { plan: 'pro' } }), pv('p1', at(1), '/b'), pv('p2', at(0), '/a', { user_properties: { plan: 'free' } }), pv('p2', at(1), '/c')],
        { segment: 'pros' },
        { segments },
      );
      expect(paths(r)).toEqual([['/a > /b', 1]]);
      await expect(runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', segment: 'nope' }), { timezone: 'UTC', segments })).rejects.toMatchObject({ code: 'paths_segment_unknown' });
    });

    it('breakdown: the value on the path’s first step, or on its start event', async () => {
      const events = [
        pv('p1', at(0), '/a', { device_type: 'desktop' }),
        ev('p1', at(1), 'signup', { device_type: 'mobile' }),
        pv('p1', at(2), '/b', { device_type: 'desktop' }),
        pv('p2', at(0), '/a', { device_type: 'mobile' }),
        pv('p3', at(0), '/a'),
        ev('p3', at(1), 'signup', { device_type: 'tablet' }),
        pv('p4', at(0), '/a', { device_type: 'desktop' }),
        pv('p4', at(1), '/c', { device_type: 'mobile' }),
      ];
      await insertEvents(session, events);
      const r = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', breakdown: 'device_type' }), { timezone: 'UTC' });
      expect(r.breakdown!.map((g) => [g.value, g.sessions, paths(g), g.other_paths])).toEqual([
        ['desktop', 2, [['/a > /b', 1], ['/a > /c', 1]], { paths: 0, sessions: 0 }],
        ['mobile', 1, [['/a', 1]], { paths: 0, sessions: 0 }],
        [null, 1, [['/a', 1]], { paths: 0, sessions: 0 }],
      ]);
      expect(r.breakdown![0]!.paths[0]!.share).toBe(0.5);
      // The overall list is not split.
      expect(paths(r)).toEqual([
        ['/a', 2],
        ['/a > /b', 1],
        ['/a > /c', 1],
      ]);
      const s = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', start: 'signup', breakdown: 'device_type' }), { timezone: 'UTC' });
      expect(s.breakdown!.map((g) => [g.value, paths(g)])).toEqual([
        ['mobile', [['(signup) > /b', 1]]],
        ['tablet', [['(signup)', 1]]],
      ]);
      const segments = new Map([['mobile-users', parseSegmentDefinition({ kind: 'segment', name: 'mobile-users', properties: { device_type: 'mobile' } })]]);
      const bySegment = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', breakdown: 'segment:mobile-users' }), { timezone: 'UTC', segments });
      // A person's latest device: p2 and p4 are mobile users.
      expect(bySegment.breakdown!.map((g) => [g.value, g.sessions])).toEqual([
        ['mobile-users', 2],
        ['not mobile-users', 2],
      ]);
    });

    it('exclude: tagged people are left out by default and reported; exclude: [] brings them back', async () => {
      await tagPerson(session, 'p2', 'internal');
      const events = [pv('p1', at(0), '/a'), pv('p1', at(1), '/b'), pv('p2', at(0), '/a'), pv('p2', at(1), '/b'), pv('p2', at(2), '/c')];
      const r = await run(events, {});
      expect(paths(r)).toEqual([['/a > /b', 1]]);
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 3, share_of_events: 3 / 5 });
      const all = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', exclude: [] }), { timezone: 'UTC' });
      expect(paths(all)).toEqual([
        ['/a > /b', 1],
        ['/a > /b > /c', 1],
      ]);
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
    });

    it('an empty warehouse: no paths, zeros, null shares, never NaN', async () => {
      const r = await run([], { start: 'signup' });
      expect(r.paths).toEqual([]);
      expect(r.transitions).toEqual([]);
      expect(r.other_paths).toEqual({ paths: 0, sessions: 0 });
      expect(r.other_transitions).toEqual({ transitions: 0, count: 0 });
      expect(r.sessions).toEqual({ with_start: 0, with_end: null, with_path: 0, truncated: 0, end_beyond_depth: null });
      expect(r.drop_offs).toEqual([1, 2, 3, 4, 5].map((depth) => ({ depth, sessions: 0, dropped: 0, share: null })));
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
      const b = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', breakdown: 'country', end: 'x', start: 'y' }), { timezone: 'UTC' });
      expect(b.breakdown).toEqual([]);
      expect(b.sessions).toEqual({ with_start: 0, with_end: 0, with_path: 0, truncated: 0, end_beyond_depth: 0 });
    });
  });

  describe('paths: SQL safety', () => {
    const hostile = "x'); DROP TABLE events; --";

    it('hostile names and values are bound parameters: the SQL text does not change', () => {
      const shape = (name: string, key: string, value: string) =>
        parsePathsDefinition({
          kind: 'paths',
          name,
          start: { event: name, where: { [`properties.${key}`]: value, country: value } },
          end: { page: name },
          step: 'page_and_event',
          include_events: [name],
          exclude_events: [name, value],
          where: { page_path: value },
          breakdown: `properties.${key}`,
          date_range: { from: '2024-01-01', to: '2024-01-31' },
        });
      const build = (def: ReturnType<typeof shape>, timezone: string): { sql: string; params: unknown[] } => {
        if (engine === 'duckdb') return buildPathsTableQuery(def, { kind: 'paths', timezone });
        const q = chPathsTotalsQuery(def, { kind: 'paths', timezone });
        return { sql: q.sql, params: Object.values(q.params) };
      };
      const benign = build(shape('signup', 'plan', 'pro'), 'UTC');
      const evil = build(shape(hostile, `k"); ${hostile}`, `'\\"; ${hostile}`), `UTC'; ${hostile}`);
      expect(evil.sql).toBe(benign.sql);
      expect(evil.sql).not.toContain('DROP');
      expect(evil.params).toContain(hostile);
    });

    it('hostile names and stored values run, match exactly, come back intact, and leave the warehouse alone', async () => {
      const page = `/it's "quoted"/${hostile}`;
      const r = await run(
        [ev('p1', at(0), hostile), pv('p1', at(1), page), ev('p1', at(2), 'signup'), ev('p2', at(0), 'signup'), pv('p2', at(1), '/a')],
        { name: hostile, start: hostile, where: { country: null }, exclude: [] },
      );
      expect(r.name).toBe(hostile);
      expect(r.paths).toEqual([{ steps: [{ type: 'event', name: hostile }, { type: 'page', name: page }], sessions: 1, share: 1 }]);
      const none = await runPaths(session, parsePathsDefinition({ kind: 'paths', name: 't', start: { page: hostile } }), { timezone: 'UTC' });
      expect(none.paths).toEqual([]);
      expect(await eventCount()).toBe(5);
    });
  });

  describe('paths definition: parsing, defaults, rules', () => {
    const yaml = `
kind: paths
name: After signup
start: { event: signup }
step: page_and_event
include_events: [create_project, invite_teammate]
depth: 6
collapse_repeats: true
top: 10
date_range: { from: 2024-01-01, to: 2024-03-31 }
where: { device_type: desktop }
breakdown: country
exclude: [internal]
`;

    it('parses the documented YAML example and echoes the definition with every default filled in', async () => {
      const def = pathsAnalysis.parse(parseYaml(yaml), 'queries/after-signup.yaml');
      expect(def.depth).toBe(6);
      const r = await runPaths(session, def, { timezone: 'Europe/Berlin' });
      expect(r.definition).toEqual({
        name: 'After signup',
        date_range: { from: '2024-01-01', to: '2024-03-31' },
        where: { device_type: 'desktop' },
        segment: null,
        breakdown: 'country',
        exclude: ['internal'],
        timezone: 'Europe/Berlin',
        start: { event: 'signup', page: null, where: {} },
        end: null,
        step: 'page_and_event',
        include_events: ['create_project', 'invite_teammate'],
        exclude_events: [],
        depth: 6,
        collapse_repeats: true,
        top: 10,
        top_transitions: 100,
        unit: 'session',
      });
    });

    it('defaults: step page, depth 5, collapse repeats, top 20, top_transitions 100, unit session, exclude internal and bot', () => {
      const def = parsePathsDefinition({ kind: 'paths', name: 'x' });
      expect(def).toMatchObject({ step: 'page', depth: 5, collapse_repeats: true, top: 20, top_transitions: 100, unit: 'session', exclude: ['internal', 'bot'], exclude_events: [] });
      expect(def.start ?? null).toBeNull();
      expect(def.include_events ?? null).toBeNull();
    });

    it('rule codes name the field', () => {
      const p = (extra: Record<string, unknown>) => () => parsePathsDefinition({ kind: 'paths', name: 'x', ...extra }, 'queries/p.yaml');
      expectCode(p({ bogus: 1 }), 'paths_invalid', 'bogus');
      expectCode(p({ step: 'clicks' }), 'paths_invalid', 'step');
      expectCode(p({ unit: 'person' }), 'paths_invalid', 'unit');
      expectCode(p({ depth: '5' }), 'paths_invalid', 'depth');
      expectCode(p({ start: { event: 'a', page: '/b' } }), 'paths_anchor_invalid', 'start');
      expectCode(p({ end: { where: { country: 'NL' } } }), 'paths_anchor_invalid', 'end');
      expectCode(p({ end: { page: ' ' } }), 'paths_anchor_invalid', 'end.page');
      expectCode(p({ start: { event: '' } }), 'paths_event_missing', 'start.event');
      expectCode(p({ start: { event: 'a', where: { nope: 1 } } }), 'paths_field_unknown', 'start.where.nope');
      expectCode(p({ end: { event: 'a', where: { rage_click: 'yes' } } }), 'paths_filter_value_invalid', 'end.where.rage_click');
      expectCode(p({ include_events: ['a'] }), 'paths_include_events_unused', 'include_events');
      expectCode(p({ step: 'event', include_events: [] }), 'paths_include_events_unused', 'include_events');
      expectCode(p({ step: 'event', include_events: ['a', ''] }), 'paths_event_missing', 'include_events.1');
      expectCode(p({ exclude_events: [' '] }), 'paths_event_missing', 'exclude_events.0');
      expectCode(p({ depth: 1 }), 'paths_depth_invalid', 'depth');
      expectCode(p({ depth: 21 }), 'paths_depth_invalid', 'depth');
      expectCode(p({ depth: 2.5 }), 'paths_depth_invalid', 'depth');
      expectCode(p({ top: 0 }), 'paths_top_invalid', 'top');
      expectCode(p({ top_transitions: 10_001 }), 'paths_top_invalid', 'top_transitions');
      expectCode(p({ where: { nope: 1 } }), 'paths_field_unknown', 'where.nope');
      expectCode(p({ breakdown: 'nope' }), 'paths_field_unknown', 'breakdown');
      expectCode(p({ date_range: { from: '2024-02-30', to: '2024-03-01' } }), 'paths_date_range_invalid', 'date_range.from');
      expectCode(p({ date_range: { from: '2024-03-02', to: '2024-03-01' } }), 'paths_date_range_invalid', 'date_range');
      expectCode(p({ segment: ' ' }), 'paths_segment_missing', 'segment');
      try {
        p({ depth: 0 })();
      } catch (err) {
        expect((err as UsageLabError).place.file).toBe('queries/p.yaml');
      }
      expect(pathsRules(parsePathsDefinition({ kind: 'paths', name: 'x' }))).toEqual([]);
    });

    it('depth bounds 2 and 20 are allowed', () => {
      expect(parsePathsDefinition({ kind: 'paths', name: 'x', depth: 2 }).depth).toBe(2);
      expect(parsePathsDefinition({ kind: 'paths', name: 'x', depth: 20 }).depth).toBe(20);
    });

    it('an unknown time zone is refused at run time', async () => {
      await expect(runPaths(session, parsePathsDefinition({ kind: 'paths', name: 'x' }), { timezone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'paths_timezone_invalid' });
    });
  });
});
