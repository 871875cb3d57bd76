import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { UsageLabError } from '../../core/errors.js';
import { ev, type TestEvent, type TestEventFields } from '../../test-support/analysis-events.js';
import { ENGINES, insertEvents, openEngineWarehouse, tagPerson, type TestSession } from '../../test-support/engine-warehouse.js';
import { parseSegmentDefinition, type SegmentDefinition } from '../segment/segment-definition.js';
import { frictionAnalysis, runFriction, truncateText } from './friction-analysis.js';
import { parseFrictionDefinition } from './friction-definition.js';
import { isWholeMonths, previousMonths, previousPeriod, rangeDays } from './friction-periods.js';
import { buildFrictionQuery } from './friction-query.js';
import { chFrictionPagesQuery } from './friction-query-clickhouse.js';
import { buildUnitsQuery } from './friction-units.js';
import type { FrictionResult } from './friction-result.js';
import { expectCode, expectRunCode } from '../../test-support/expect-error.js';

describe.each(ENGINES)('friction on %s', (engine) => {
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

  /** 2024-01-10T10:00:00Z plus seconds (fractions allowed down to the microsecond). */
  function at(seconds: number): string {
    const us = BigInt(Math.round(seconds * 1_000_000));
    const base = BigInt(Date.UTC(2024, 0, 10, 10)) * 1000n;
    const total = base + us;
    const ms = Number(total / 1000n);
    const micro = String(total % 1000n).padStart(3, '0');
    return new Date(ms).toISOString().replace('Z', `${micro}Z`);
  }

  interface RunOptions {
    timezone?: string;
    segments?: ReadonlyMap<string, SegmentDefinition>;
  }

  async function run(events: TestEvent[], def: Record<string, unknown>, options: RunOptions = {}): Promise<FrictionResult> {
    await insertEvents(session, events);
    return runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 'test', ...def }), { timezone: 'UTC', ...options });
  }

  const pv = (person: string, t: number, page: string | null, fields: TestEventFields = {}): TestEvent =>
    ev(person, at(t), 'page_view', { event_kind: 'page_view', page_path: page, ...fields });
  const click = (person: string, t: number, page: string | null, fields: TestEventFields = {}): TestEvent =>
    ev(person, at(t), 'click', { event_kind: 'click', page_path: page, ...fields });

  const SAVE = { element_selector: 'button#save', element_text: 'Save' };

  /**
   * Five sessions of four people on /a and /b:
   * s1 (p1): /a, three rage clicks on Save, a dead click on Help.
   * s2 (p2): /a, a dead click on Save ("Save changes"), a click that is both rage and error on Save.
   * s3 (p3): /a with a plain click on Save, then /b and an error event there (no element).
   * s4 (p1 again): /a, a dead click on Save.
   * s5 (p4): /b only.
   */
  function hotspotEvents(): TestEvent[] {
    return [
      pv('p1', 0, '/a', { session_id: 's1' }),
      click('p1', 1, '/a', { session_id: 's1', ...SAVE, rage_click: true }),
      click('p1', 1.2, '/a', { session_id: 's1', ...SAVE, rage_click: true }),
      click('p1', 1.4, '/a', { session_id: 's1', ...SAVE, rage_click: true }),
      click('p1', 5, '/a', { session_id: 's1', element_selector: 'a#help', dead_click: true }),
      pv('p2', 0, '/a', { session_id: 's2' }),
      click('p2', 3, '/a', { session_id: 's2', element_selector: 'button#save', element_text: 'Save changes', dead_click: true }),
      click('p2', 4, '/a', { session_id: 's2', element_selector: 'button#save', element_text: 'Save changes', rage_click: true, error_click: true }),
      pv('p3', 0, '/a', { session_id: 's3' }),
      click('p3', 2, '/a', { session_id: 's3', ...SAVE }),
      pv('p3', 30, '/b', { session_id: 's3' }),
      ev('p3', at(31), 'exception', { session_id: 's3', event_kind: 'error', page_path: '/b', error_click: true }),
      pv('p1', 3600, '/a', { session_id: 's4' }),
      click('p1', 3601, '/a', { session_id: 's4', ...SAVE, dead_click: true }),
      pv('p4', 0, '/b', { session_id: 's5' }),
    ];
  }

  describe('friction: hotspots by page and element', () => {
    it('counts rage, dead and error events, sessions, people and the share of the page sessions', async () => {
      const r = await run(hotspotEvents(), { min_sessions: 1 });
      expect(r.kind).toBe('friction');
      expect(r.version).toBe(1);
      expect(r.hotspots.map(({ change: _change, ...h }) => h)).toEqual([
        {
          rank: 1, page: '/a', selector: 'button#save', text: 'Save',
          signal_events: 6, rage_clicks: 4, dead_clicks: 2, error_clicks: 1,
          sessions: 3, people: 2, page_sessions: 4, share_of_page_sessions: 0.75,
        },
        {
          rank: 2, page: '/a', selector: 'a#help', text: null,
          signal_events: 1, rage_clicks: 0, dead_clicks: 1, error_clicks: 0,
          sessions: 1, people: 1, page_sessions: 4, share_of_page_sessions: 0.25,
        },
        {
          rank: 3, page: '/b', selector: null, text: null,
          signal_events: 1, rage_clicks: 0, dead_clicks: 0, error_clicks: 1,
          sessions: 1, people: 1, page_sessions: 2, share_of_page_sessions: 0.5,
        },
      ]);
      // No date range: no comparison, and the result says why.
      expect(r.hotspots.every((h) => h.change === null)).toBe(true);
      expect(r.previous).toEqual({ compared: false, reason: 'no date_range: the previous period needs one', date_range: null, totals: null });
    });

    it('reports pages, error pages and overall numbers', async () => {
      const r = await run(hotspotEvents(), { min_sessions: 1 });
      expect(r.pages.map(({ change: _change, ...p }) => p)).toEqual([
        {
          rank: 1, page: '/a', sessions: 4, sessions_with_signal: 3, share_of_sessions: 0.75,
          signal_events: 7, rage_clicks: 4, dead_clicks: 3, error_clicks: 1,
          error_events: 1, sessions_with_error: 1, visits: 4, u_turns: 0, u_turn_sessions: 0, u_turn_share: 0,
        },
        {
          rank: 2, page: '/b', sessions: 2, sessions_with_signal: 1, share_of_sessions: 0.5,
          signal_events: 1, rage_clicks: 0, dead_clicks: 0, error_clicks: 1,
          error_events: 1, sessions_with_error: 1, visits: 2, u_turns: 0, u_turn_sessions: 0, u_turn_share: 0,
        },
      ]);
      // Same number of error sessions: the higher error rate first.
      expect(r.error_pages).toEqual([
        { rank: 1, page: '/b', sessions: 2, sessions_with_error: 1, error_rate: 0.5, error_events: 1 },
        { rank: 2, page: '/a', sessions: 4, sessions_with_error: 1, error_rate: 0.25, error_events: 1 },
      ]);
      expect(r.overall).toEqual({
        sessions: 5, people: 4, sessions_with_signal: 4, share_of_sessions: 0.8, people_with_signal: 3,
        signal_events: 8, rage_clicks: 4, dead_clicks: 3, error_clicks: 2,
        error_events: 2, sessions_with_error: 2, visits: 6, u_turns: 0, u_turn_sessions: 0, u_turn_share: 0,
        change: null,
      });
      expect(r.lists).toEqual({
        hotspots: { candidates: 3, below_min_sessions: 0, beyond_top: 0, listed: 3 },
        pages: { candidates: 2, below_min_sessions: 0, beyond_top: 0, listed: 2 },
        error_pages: { candidates: 2, below_min_sessions: 0, beyond_top: 0, listed: 2 },
      });
    });

    it('counts only the chosen signals; the others are null; error pages still list errors', async () => {
      const r = await run(hotspotEvents(), { min_sessions: 1, signals: ['rage'] });
      expect(r.hotspots.map(({ change: _change, ...h }) => h)).toEqual([
        {
          rank: 1, page: '/a', selector: 'button#save', text: 'Save',
          signal_events: 4, rage_clicks: 4, dead_clicks: null, error_clicks: null,
          sessions: 2, people: 2, page_sessions: 4, share_of_page_sessions: 0.5,
        },
      ]);
      expect(r.overall).toMatchObject({ sessions_with_signal: 2, share_of_sessions: 0.4, signal_events: 4, dead_clicks: null, error_clicks: null, error_events: 2 });
      expect(r.error_pages.map((p) => p.page)).toEqual(['/b', '/a']);
      expect(r.definition.signals).toEqual(['rage']);
    });

    it('identifies elements by selector (text where there is none), by text, or by both', async () => {
      const events = [
        ...hotspotEvents(),
        // No selector: grouped by its text under element: selector.
        click('p4', 10, '/b', { session_id: 's5', element_text: 'Buy', dead_click: true }),
      ];
      const bySelector = await run(events, { min_sessions: 1 });
      expect(bySelector.hotspots.map((h) => [h.page, h.selector, h.text, h.sessions])).toEqual([
        ['/a', 'button#save', 'Save', 3],
        ['/a', 'a#help', null, 1],
        ['/b', null, 'Buy', 1],
        ['/b', null, null, 1],
      ]);
      const byText = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1, element: 'text' }), { timezone: 'UTC' });
      // 'Save' in s1 and s4, 'Save changes' in s2; Help has no text, so its selector identifies it.
      expect(byText.hotspots.map((h) => [h.page, h.selector, h.text, h.sessions, h.signal_events])).toEqual([
        ['/a', 'button#save', 'Save', 2, 4],
        ['/a', 'button#save', 'Save changes', 1, 2],
        ['/a', 'a#help', null, 1, 1],
        ['/b', null, 'Buy', 1, 1],
        ['/b', null, null, 1, 1],
      ]);
      const byBoth = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1, element: 'text_and_selector' }), { timezone: 'UTC' });
      expect(byBoth.hotspots.map((h) => [h.page, h.selector, h.text, h.sessions])).toEqual([
        ['/a', 'button#save', 'Save', 2],
        ['/a', 'button#save', 'Save changes', 1],
        ['/a', 'a#help', null, 1],
        ['/b', null, 'Buy', 1],
        ['/b', null, null, 1],
      ]);
    });

    it('labels an element with its most common text (ties: the smallest), truncated to 200 characters', async () => {
      const long = 'x'.repeat(300);
      const r = await run(
        [
          click('p1', 0, '/a', { session_id: 's1', element_selector: '#b', element_text: 'Beta', dead_click: true }),
          click('p2', 0, '/a', { session_id: 's2', element_selector: '#b', element_text: 'Alpha', dead_click: true }),
          click('p3', 0, '/a', { session_id: 's3', element_selector: '#b', dead_click: true }),
          click('p3', 1, '/a', { session_id: 's3', element_selector: '#b', dead_click: true }),
          click('p4', 0, '/a', { session_id: 's4', element_selector: '#long', element_text: long, rage_click: true }),
        ],
        { min_sessions: 1 },
      );
      expect(r.hotspots.map((h) => [h.selector, h.text])).toEqual([
        ['#b', 'Alpha'],
        ['#long', `${'x'.repeat(199)}…`],
      ]);
      expect(truncateText('ab', 2)).toBe('ab');
      expect(truncateText('abc', 2)).toBe('a…');
      expect(truncateText('😀😀😀', 2)).toBe('😀…');
    });

    it('cuts hotspots, pages and error pages below min_sessions and beyond top, and says how many', async () => {
      const cut = await run(hotspotEvents(), { min_sessions: 2 });
      expect(cut.hotspots.map((h) => [h.page, h.selector])).toEqual([['/a', 'button#save']]);
      expect(cut.pages.map((p) => p.page)).toEqual(['/a']);
      expect(cut.error_pages).toEqual([]);
      expect(cut.lists).toEqual({
        hotspots: { candidates: 3, below_min_sessions: 2, beyond_top: 0, listed: 1 },
        pages: { candidates: 2, below_min_sessions: 1, beyond_top: 0, listed: 1 },
        error_pages: { candidates: 2, below_min_sessions: 2, beyond_top: 0, listed: 0 },
      });
      // The overall numbers never depend on the cut.
      expect(cut.overall.sessions_with_signal).toBe(4);

      const byDefault = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't' }), { timezone: 'UTC' });
      expect(byDefault.definition.min_sessions).toBe(5);
      expect(byDefault.hotspots).toEqual([]);
      expect(byDefault.lists.hotspots).toEqual({ candidates: 3, below_min_sessions: 3, beyond_top: 0, listed: 0 });

      const top = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1, top: 1 }), { timezone: 'UTC' });
      expect(top.hotspots.map((h) => h.rank)).toEqual([1]);
      expect(top.lists.hotspots).toEqual({ candidates: 3, below_min_sessions: 0, beyond_top: 2, listed: 1 });
      expect(top.pages.length).toBe(1);
      expect(top.error_pages.length).toBe(1);
    });

    it('keeps events without a page or element as their own hotspot and page; ignores events without a session', async () => {
      const r = await run(
        [
          ev('p1', at(0), 'exception', { session_id: 's1', event_kind: 'error', page_path: null, error_click: true }),
          ev('p1', at(1), 'custom', { session_id: 's1', page_path: null }),
          ev('p2', at(0), 'exception', { session_id: null, event_kind: 'error', page_path: null, error_click: true }),
          ev(null, at(0), 'exception', { event_kind: 'error', page_path: null, error_click: true }),
        ],
        { min_sessions: 1 },
      );
      expect(r.hotspots.map(({ change: _change, ...h }) => h)).toEqual([
        { rank: 1, page: null, selector: null, text: null, signal_events: 1, rage_clicks: 0, dead_clicks: 0, error_clicks: 1, sessions: 1, people: 1, page_sessions: 1, share_of_page_sessions: 1 },
      ]);
      expect(r.pages.map((p) => [p.page, p.sessions, p.sessions_with_signal, p.visits])).toEqual([[null, 1, 1, 0]]);
      expect(r.error_pages.map((p) => [p.page, p.sessions_with_error, p.error_events])).toEqual([[null, 1, 1]]);
      expect(r.overall).toMatchObject({ sessions: 1, people: 1, error_events: 1 });
    });

    it('counts a person merged from two sources once, and each of their sessions', async () => {
      const r = await run(
        [
          pv('p1', 0, '/a', { session_id: 'posthog-1', source: 'posthog' }),
          click('p1', 1, '/a', { session_id: 'posthog-1', source: 'posthog', ...SAVE, dead_click: true }),
          pv('p1', 100, '/a', { session_id: 'amplitude-1', source: 'amplitude' }),
          click('p1', 101, '/a', { session_id: 'amplitude-1', source: 'amplitude', ...SAVE, rage_click: true }),
        ],
        { min_sessions: 1 },
      );
      expect(r.hotspots.map((h) => [h.sessions, h.people, h.rage_clicks, h.dead_clicks])).toEqual([[2, 1, 1, 1]]);
      expect(r.overall).toMatchObject({ sessions: 2, people: 1, sessions_with_signal: 2, people_with_signal: 1 });
    });

    it('returns zeros, nulls and empty lists on an empty warehouse', async () => {
      const r = await run([], { date_range: { from: '2024-01-01', to: '2024-01-31' } });
      expect(r.hotspots).toEqual([]);
      expect(r.pages).toEqual([]);
      expect(r.error_pages).toEqual([]);
      expect(r.overall).toEqual({
        sessions: 0, people: 0, sessions_with_signal: 0, share_of_sessions: null, people_with_signal: 0,
        signal_events: 0, rage_clicks: 0, dead_clicks: 0, error_clicks: 0,
        error_events: 0, sessions_with_error: 0, visits: 0, u_turns: 0, u_turn_sessions: 0, u_turn_share: null,
        change: {
          sessions: { previous: 0, change: 0, relative: null },
          sessions_with_signal: { previous: 0, change: 0, relative: null },
          share_of_sessions: { previous: null, change: null, relative: null },
          people_with_signal: { previous: 0, change: 0, relative: null },
          signal_events: { previous: 0, change: 0, relative: null },
          sessions_with_error: { previous: 0, change: 0, relative: null },
          u_turns: { previous: 0, change: 0, relative: null },
        },
      });
      expect(r.previous.compared).toBe(true);
      expect(r.previous.date_range).toEqual({ from: '2023-12-01', to: '2023-12-31' });
      expect(r.lists.hotspots).toEqual({ candidates: 0, below_min_sessions: 0, beyond_top: 0, listed: 0 });
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 0, events: 0, share_of_events: null });
    });
  });

  describe('friction: U-turns', () => {
    const views = (person: string, pages: [number, string, string?][]): TestEvent[] =>
      pages.map(([t, page, id]) => pv(person, t, page, { session_id: `s-${person}`, ...(id === undefined ? {} : { event_id: id }) }));

    it('counts a return to the page within u_turn_seconds of leaving it (boundary included), attributed to that page', async () => {
      const r = await run(
        [
          // Left /a at 5 s, back 10 s later: a U-turn.
          ...views('in', [[0, '/a'], [5, '/b'], [15, '/a']]),
          // Back 10 s + 1 µs later: not.
          ...views('out', [[0, '/a'], [5, '/b'], [15.000001, '/a']]),
          // Another page in between: not a U-turn.
          ...views('via', [[0, '/a'], [2, '/b'], [4, '/c'], [6, '/a']]),
        ],
        { min_sessions: 1 },
      );
      const a = r.pages.find((p) => p.page === '/a')!;
      expect([a.visits, a.u_turns, a.u_turn_sessions, a.u_turn_share]).toEqual([6, 1, 1, 1 / 6]);
      expect(r.pages.find((p) => p.page === '/b')).toBeUndefined();
      expect(r.overall).toMatchObject({ visits: 10, u_turns: 1, u_turn_sessions: 1, u_turn_share: 0.1 });
      const wider = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1, u_turn_seconds: 11 }), { timezone: 'UTC' });
      expect(wider.overall.u_turns).toBe(2);
      expect(wider.definition.u_turn_seconds).toBe(11);
    });

    it('orders views at the same instant by event id; a return at the very instant of leaving is a U-turn', async () => {
      const r = await run(
        [
          // /b and the return to /a share an instant; /b's id sorts first: /a → /b → /a, back after 0 s.
          ...views('tie', [[0, '/a', '00000000-0000-4000-8000-00000000a001'], [5, '/b', '00000000-0000-4000-8000-00000000a002'], [5, '/a', '00000000-0000-4000-8000-00000000a003']]),
          // Here the /a view's id sorts first: /a → /a → /b, no U-turn (the two /a views are one visit).
          ...views('rev', [[0, '/a', '00000000-0000-4000-8000-00000000b001'], [5, '/b', '00000000-0000-4000-8000-00000000b003'], [5, '/a', '00000000-0000-4000-8000-00000000b002']]),
        ],
        { min_sessions: 1 },
      );
      expect(r.overall).toMatchObject({ visits: 5, u_turns: 1, u_turn_sessions: 1 });
      expect(r.pages.map((p) => [p.page, p.visits, p.u_turns])).toEqual([['/a', 3, 1]]);
    });

    it('treats repeated views of a page as one visit, timed from its first view', async () => {
      const r = await run(
        [
          // /b reloaded: still a U-turn, 9 s after /b was first viewed.
          ...views('reload', [[0, '/a'], [1, '/a'], [5, '/b'], [8, '/b'], [14, '/a'], [15, '/a']]),
          // /b viewed first at 5 s, reloaded at 14 s, back at 16 s: 11 s after leaving /a, not a U-turn.
          ...views('late', [[0, '/a'], [5, '/b'], [14, '/b'], [16, '/a']]),
          // Other events between the views do not matter. /a → /b → /a → /b → /a: two U-turns on /a, one on /b.
          ...views('twice', [[0, '/a'], [1, '/b'], [2, '/a'], [3, '/b'], [4, '/a']]),
          click('twice', 1.5, '/b', { session_id: 's-twice' }),
        ],
        { min_sessions: 1 },
      );
      const a = r.pages.find((p) => p.page === '/a')!;
      expect([a.visits, a.u_turns, a.u_turn_sessions]).toEqual([2 + 2 + 3, 3, 2]);
      const b = r.pages.find((p) => p.page === '/b')!;
      expect([b.visits, b.u_turns, b.u_turn_sessions]).toEqual([1 + 1 + 2, 1, 1]);
      expect(r.overall).toMatchObject({ visits: 3 + 3 + 5, u_turns: 4, u_turn_sessions: 2 });
    });

    it('lists a page with U-turns in at least min_sessions sessions even without signals', async () => {
      const events = ['u1', 'u2'].flatMap((p) => views(p, [[0, '/a'], [1, '/b'], [2, '/a']]));
      const r = await run(events, { min_sessions: 2 });
      expect(r.pages.map((p) => [p.page, p.sessions_with_signal, p.u_turns, p.u_turn_sessions])).toEqual([['/a', 0, 2, 2]]);
      expect(r.lists.pages).toEqual({ candidates: 1, below_min_sessions: 0, beyond_top: 0, listed: 1 });
      const cut = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 3 }), { timezone: 'UTC' });
      expect(cut.pages).toEqual([]);
      expect(cut.lists.pages).toEqual({ candidates: 1, below_min_sessions: 1, beyond_top: 0, listed: 0 });
    });

    it('counts screen views as views and ignores views without a page', async () => {
      const r = await run(
        [
          ev('m', at(0), 'screen', { session_id: 's-m', event_kind: 'screen_view', page_path: 'Home' }),
          ev('m', at(1), 'screen', { session_id: 's-m', event_kind: 'screen_view', page_path: null }),
          ev('m', at(2), 'screen', { session_id: 's-m', event_kind: 'screen_view', page_path: 'Cart' }),
          ev('m', at(3), 'screen', { session_id: 's-m', event_kind: 'screen_view', page_path: 'Home' }),
        ],
        { min_sessions: 1 },
      );
      expect(r.overall).toMatchObject({ visits: 3, u_turns: 1 });
    });
  });

  describe('friction: comparison with the previous period', () => {
    // America/New_York, DST starts 2024-03-10. Range 2024-03-10..16 = 2024-03-10T05:00Z up to 2024-03-17T04:00Z
    // (EDT from the 10th); previous period 2024-03-03..09 = 2024-03-03T05:00Z up to 2024-03-10T05:00Z.
    const NY = { timezone: 'America/New_York' };
    const range = { date_range: { from: '2024-03-10', to: '2024-03-16' }, min_sessions: 1 };
    const hit = (person: string, iso: string, selector: string): TestEvent =>
      ev(person, iso, 'click', { session_id: `${person}-${iso}`, event_kind: 'click', page_path: '/a', element_selector: selector, dead_click: true });
    const seen = (person: string, iso: string): TestEvent =>
      ev(person, iso, 'page_view', { session_id: `${person}-${iso}`, event_kind: 'page_view', page_path: '/a' });

    function dstEvents(): TestEvent[] {
      return [
        hit('early', '2024-03-03T04:59:59.999999Z', '#x'), // Mar 2 local: in neither period
        hit('prev1', '2024-03-03T05:00:00Z', '#x'), // first instant of the previous period
        hit('prev2', '2024-03-10T04:59:59.999999Z', '#x'), // last instant of the previous period
        seen('prev3', '2024-03-05T12:00:00Z'),
        seen('prev4', '2024-03-06T12:00:00Z'),
        hit('cur1', '2024-03-10T05:00:00Z', '#x'), // first instant of the range
        hit('cur2', '2024-03-17T03:59:59.999999Z', '#x'), // last instant (EDT)
        hit('cur3', '2024-03-12T12:00:00Z', '#x'),
        hit('cur4', '2024-03-12T13:00:00Z', '#new'),
        hit('late', '2024-03-17T04:00:00Z', '#x'), // Mar 17 local: after the range
      ];
    }

    it('compares each hotspot, page and the totals with the days before the range, in local days across DST', async () => {
      const r = await run(dstEvents(), range, NY);
      expect(r.previous).toMatchObject({ compared: true, reason: null, date_range: { from: '2024-03-03', to: '2024-03-09' } });
      expect(r.previous.totals).toMatchObject({ sessions: 4, sessions_with_signal: 2, share_of_sessions: 0.5, signal_events: 2 });
      expect(r.hotspots.map((h) => [h.selector, h.sessions, h.page_sessions, h.share_of_page_sessions])).toEqual([
        ['#x', 3, 4, 0.75],
        ['#new', 1, 4, 0.25],
      ]);
      expect(r.hotspots[0]!.change).toEqual({
        sessions: { previous: 2, change: 1, relative: 0.5 },
        people: { previous: 2, change: 1, relative: 0.5 },
        signal_events: { previous: 2, change: 1, relative: 0.5 },
        share_of_page_sessions: { previous: 0.5, change: 0.25, relative: 0.5 },
        new: false,
      });
      expect(r.hotspots[1]!.change).toEqual({
        sessions: { previous: 0, change: 1, relative: null },
        people: { previous: 0, change: 1, relative: null },
        signal_events: { previous: 0, change: 1, relative: null },
        share_of_page_sessions: { previous: 0, change: 0.25, relative: null },
        new: true,
      });
      expect(r.pages[0]!.change).toEqual({
        sessions_with_signal: { previous: 2, change: 2, relative: 1 },
        share_of_sessions: { previous: 0.5, change: 0.5, relative: 1 },
        signal_events: { previous: 2, change: 2, relative: 1 },
        u_turns: { previous: 0, change: 0, relative: null },
        new: false,
      });
      expect(r.overall).toMatchObject({ sessions: 4, sessions_with_signal: 4, share_of_sessions: 1 });
      expect(r.overall.change).toMatchObject({
        sessions: { previous: 4, change: 0, relative: 0 },
        sessions_with_signal: { previous: 2, change: 2, relative: 1 },
        share_of_sessions: { previous: 0.5, change: 0.5, relative: 1 },
      });
    });

    it('marks nothing new when the previous period has no data at all', async () => {
      const r = await run(dstEvents().filter((e) => e.at >= '2024-03-10T05'), range, NY);
      expect(r.previous.totals).toMatchObject({ sessions: 0 });
      expect(r.hotspots.map((h) => h.change?.new)).toEqual([false, false]);
      expect(r.hotspots[0]!.change!.sessions).toEqual({ previous: 0, change: 3, relative: null });
    });

    it('has no comparison without a date range or with compare: none', async () => {
      await insertEvents(session, dstEvents());
      const none = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', ...range, compare: 'none' }), NY);
      expect(none.previous).toEqual({ compared: false, reason: 'compare: none', date_range: null, totals: null });
      expect(none.overall.change).toBeNull();
      expect(none.hotspots.map((h) => [h.selector, h.sessions, h.change])).toEqual([['#x', 3, null], ['#new', 1, null]]);
      const all = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1 }), NY);
      expect(all.previous.compared).toBe(false);
      expect(all.overall.sessions).toBe(10);
    });

    it('computes the previous period in calendar days', () => {
      expect(previousPeriod({ from: '2024-03-10', to: '2024-03-16' })).toEqual({ from: '2024-03-03', to: '2024-03-09' });
      expect(previousPeriod({ from: '2024-03-01', to: '2024-03-31' })).toEqual({ from: '2024-01-30', to: '2024-02-29' });
      expect(previousPeriod({ from: '2024-01-01', to: '2024-01-01' })).toEqual({ from: '2023-12-31', to: '2023-12-31' });
      expect(rangeDays({ from: '2024-02-01', to: '2024-03-01' })).toBe(30);
      expect(previousPeriod({ from: '0001-01-02', to: '0001-01-02' })).toEqual({ from: '0001-01-01', to: '0001-01-01' });
      expect(previousPeriod({ from: '0001-01-01', to: '0001-01-05' })).toBeUndefined();
    });

    it('computes the previous calendar months of a range of whole months', () => {
      expect(previousMonths({ from: '2024-03-01', to: '2024-03-31' })).toEqual({ from: '2024-02-01', to: '2024-02-29' });
      expect(previousMonths({ from: '2024-02-01', to: '2024-02-29' })).toEqual({ from: '2024-01-01', to: '2024-01-31' });
      expect(previousMonths({ from: '2024-01-01', to: '2024-01-31' })).toEqual({ from: '2023-12-01', to: '2023-12-31' });
      expect(previousMonths({ from: '2024-04-01', to: '2024-06-30' })).toEqual({ from: '2024-01-01', to: '2024-03-31' });
      expect(previousMonths({ from: '2023-11-01', to: '2024-02-29' })).toEqual({ from: '2023-07-01', to: '2023-10-31' });
      expect(previousMonths({ from: '9999-12-01', to: '9999-12-31' })).toEqual({ from: '9999-11-01', to: '9999-11-30' });
      expect(previousMonths({ from: '0001-01-01', to: '0001-01-31' })).toBeUndefined();
      for (const notWhole of [{ from: '2024-03-02', to: '2024-03-31' }, { from: '2024-03-01', to: '2024-03-30' }, { from: '2023-02-01', to: '2023-02-29' }]) {
        expect(isWholeMonths(notWhole), JSON.stringify(notWhole)).toBe(false);
        expect(previousMonths(notWhole)).toBeUndefined();
      }
      expect(isWholeMonths({ from: '2023-02-01', to: '2023-02-28' })).toBe(true);
    });

    it('compares a month with the calendar month before with compare: previous_month, in local days', async () => {
      // March (31 days) against February 2024 (29 days): previous_period would compare with Jan 31 – Feb 29.
      const events = [
        hit('jan31', '2024-01-31T12:00:00Z', '#x'), // in the 31 days before March, not in February
        hit('feb1', '2024-02-01T05:00:00Z', '#x'), // Feb 1, 00:00 local (EST): first instant of February
        seen('feb2', '2024-02-15T12:00:00Z'),
        hit('mar1', '2024-03-01T05:00:00Z', '#x'), // Mar 1, 00:00 local
        hit('mar2', '2024-04-01T03:59:59.999999Z', '#x'), // Mar 31, 23:59:59 local (EDT)
        seen('mar3', '2024-03-20T12:00:00Z'),
        seen('apr1', '2024-04-01T04:00:00Z'), // Apr 1, 00:00 local: after the range
      ];
      const month = { date_range: { from: '2024-03-01', to: '2024-03-31' }, min_sessions: 1 };
      const r = await run(events, { ...month, compare: 'previous_month' }, NY);
      expect(r.previous).toMatchObject({ compared: true, reason: null, date_range: { from: '2024-02-01', to: '2024-02-29' } });
      expect(r.previous.totals).toMatchObject({ sessions: 2, sessions_with_signal: 1, share_of_sessions: 0.5 });
      expect(r.overall).toMatchObject({ sessions: 3, sessions_with_signal: 2 });
      expect(r.hotspots[0]!.change!.sessions).toEqual({ previous: 1, change: 1, relative: 1 });
      expect(r.definition.compare).toBe('previous_month');
      const days = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', ...month }), NY);
      expect(days.previous).toMatchObject({ date_range: { from: '2024-01-30', to: '2024-02-29' }, totals: { sessions: 3, sessions_with_signal: 2 } });
    });

    it('refuses compare: previous_month on a range that is not whole months', () => {
      const parse = (date_range: object) => () => frictionAnalysis.parse({ kind: 'friction', name: 'n', compare: 'previous_month', date_range }, 'queries/f.yaml');
      expectCode(parse({ from: '2024-03-10', to: '2024-03-16' }), 'friction_compare_invalid', 'compare');
      expectCode(parse({ from: '2024-03-01', to: '2024-04-15' }), 'friction_compare_invalid', 'compare');
      expect(frictionAnalysis.parse({ kind: 'friction', name: 'n', compare: 'previous_month', date_range: { from: '2024-03-01', to: '2024-04-30' } }).compare).toBe('previous_month');
      // Without a range there is nothing to compare; the result says why (as for previous_period).
      expect(frictionAnalysis.parse({ kind: 'friction', name: 'n', compare: 'previous_month' }).compare).toBe('previous_month');
    });
  });

  describe('friction: scope', () => {
    it('applies where to every event: signals, page sessions and views', async () => {
      const events = [
        pv('d', 0, '/a', { session_id: 'd1', device_type: 'desktop' }),
        click('d', 1, '/a', { session_id: 'd1', device_type: 'desktop', ...SAVE, rage_click: true }),
        pv('m', 0, '/a', { session_id: 'm1', device_type: 'mobile' }),
        click('m', 1, '/a', { session_id: 'm1', device_type: 'mobile', ...SAVE, dead_click: true }),
        pv('m2', 0, '/a', { session_id: 'm2', device_type: 'mobile' }),
      ];
      const r = await run(events, { min_sessions: 1, where: { device_type: 'mobile' } });
      expect(r.hotspots.map((h) => [h.sessions, h.rage_clicks, h.dead_clicks, h.page_sessions, h.share_of_page_sessions])).toEqual([[1, 0, 1, 2, 0.5]]);
      expect(r.overall).toMatchObject({ sessions: 2, sessions_with_signal: 1, visits: 2 });
    });

    it('leaves tagged people out by default, reports them in excluded, and brings them back with exclude: []', async () => {
      const events = [...hotspotEvents()];
      await tagPerson(session, 'p1', 'internal');
      const r = await run(events, { min_sessions: 1 });
      // p1's sessions s1 and s4 are gone: 7 of the 15 events.
      expect(r.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 7, share_of_events: 7 / 15 });
      expect(r.hotspots.map((h) => [h.selector, h.sessions, h.signal_events, h.page_sessions])).toEqual([
        ['button#save', 1, 2, 2],
        [null, 1, 1, 2],
      ]);
      expect(r.overall).toMatchObject({ sessions: 3, people: 3 });
      const all = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', min_sessions: 1, exclude: [] }), { timezone: 'UTC' });
      expect(all.excluded).toEqual({ by: [], people: 0, events: 0, share_of_events: null });
      expect(all.overall).toMatchObject({ sessions: 5, people: 4 });
    });

    it('restricts to the people of a saved segment', async () => {
      const segments = new Map<string, SegmentDefinition>([
        ['errored', parseSegmentDefinition({ kind: 'segment', name: 'errored', did: ['exception'] })],
      ]);
      const r = await run(hotspotEvents(), { min_sessions: 1, segment: 'errored' }, { segments });
      // Only p3: sessions s3 (/a and /b).
      expect(r.overall).toMatchObject({ sessions: 1, people: 1, sessions_with_signal: 1, signal_events: 1 });
      expect(r.hotspots.map((h) => [h.page, h.sessions])).toEqual([['/b', 1]]);
      await expectRunCode(
        runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't', segment: 'nope' }), { timezone: 'UTC', segments }),
        'friction_segment_unknown',
      );
    });

    it('breaks the totals down by the value on each session’s first event', async () => {
      const events = [
        pv('a', 0, '/a', { session_id: 'a1', device_type: 'desktop' }),
        // Same session, later on mobile: the session stays in desktop.
        click('a', 1, '/a', { session_id: 'a1', device_type: 'mobile', ...SAVE, rage_click: true }),
        click('a', 2, '/a', { session_id: 'a1', device_type: 'mobile', ...SAVE, dead_click: true }),
        pv('b', 0, '/a', { session_id: 'b1', device_type: 'mobile' }),
        pv('c', 0, '/a', { session_id: 'c1', device_type: 'mobile' }),
        click('c', 1, '/a', { session_id: 'c1', device_type: 'mobile', ...SAVE, dead_click: true }),
        pv('d', 0, '/a', { session_id: 'd1' }),
      ];
      const r = await run(events, { min_sessions: 1, breakdown: 'device_type' });
      expect(r.breakdown).toEqual([
        { value: 'mobile', sessions: 2, sessions_with_signal: 1, share_of_sessions: 0.5, signal_events: 1, rage_clicks: 0, dead_clicks: 1, error_clicks: 0 },
        { value: 'desktop', sessions: 1, sessions_with_signal: 1, share_of_sessions: 1, signal_events: 2, rage_clicks: 1, dead_clicks: 1, error_clicks: 0 },
        { value: null, sessions: 1, sessions_with_signal: 0, share_of_sessions: 0, signal_events: 0, rage_clicks: 0, dead_clicks: 0, error_clicks: 0 },
      ]);
      const plain = await runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't' }), { timezone: 'UTC' });
      expect(plain.breakdown).toBeUndefined();
    });
  });

  describe('friction: definition', () => {
    it('fills every default and prints it in the result', async () => {
      const r = await run([], {});
      expect(r.definition).toEqual({
        name: 'test',
        signals: ['rage', 'dead', 'error'],
        element: 'selector',
        min_sessions: 5,
        top: 20,
        u_turn_seconds: 10,
        compare: 'previous_period',
        date_range: null,
        where: {},
        segment: null,
        breakdown: null,
        exclude: ['internal', 'bot'],
        timezone: 'UTC',
      });
      expect(frictionAnalysis.kind).toBe('friction');
    });

    it('refuses broken definitions with stable codes and fields', () => {
      const parse = (d: Record<string, unknown>) => () => frictionAnalysis.parse({ kind: 'friction', name: 'n', ...d }, 'queries/f.yaml');
      expectCode(parse({ nope: 1 }), 'friction_invalid', 'nope');
      expectCode(parse({ signals: ['rage', 'angry'] }), 'friction_invalid', 'signals.1');
      expectCode(parse({ element: 'xpath' }), 'friction_invalid', 'element');
      expectCode(parse({ compare: 'last_year' }), 'friction_invalid', 'compare');
      expectCode(parse({ name: '' }), 'friction_invalid', 'name');
      expectCode(parse({ signals: [] }), 'friction_signals_invalid', 'signals');
      expectCode(parse({ signals: ['rage', 'rage'] }), 'friction_signals_invalid', 'signals');
      expectCode(parse({ min_sessions: 0 }), 'friction_min_sessions_invalid', 'min_sessions');
      expectCode(parse({ min_sessions: 1.5 }), 'friction_min_sessions_invalid', 'min_sessions');
      expectCode(parse({ top: 0 }), 'friction_top_invalid', 'top');
      expectCode(parse({ top: 1001 }), 'friction_top_invalid', 'top');
      expectCode(parse({ u_turn_seconds: 0 }), 'friction_u_turn_seconds_invalid', 'u_turn_seconds');
      expectCode(parse({ u_turn_seconds: 3601 }), 'friction_u_turn_seconds_invalid', 'u_turn_seconds');
      expectCode(parse({ where: { nope: 1 } }), 'friction_field_unknown', 'where.nope');
      expectCode(parse({ where: { rage_click: 'yes' } }), 'friction_filter_value_invalid', 'where.rage_click');
      expectCode(parse({ breakdown: 'nope' }), 'friction_field_unknown', 'breakdown');
      expectCode(parse({ date_range: { from: '2024-02-30', to: '2024-03-01' } }), 'friction_date_range_invalid', 'date_range.from');
      expectCode(parse({ date_range: { from: '2024-03-02', to: '2024-03-01' } }), 'friction_date_range_invalid', 'date_range');
      expectCode(parse({ segment: ' ' }), 'friction_segment_missing', 'segment');
      try {
        parse({ top: 0 })();
      } catch (err) {
        expect((err as UsageLabError).place.file).toBe('queries/f.yaml');
      }
    });

    it('refuses an unknown time zone at run time', async () => {
      await expectRunCode(runFriction(session, parseFrictionDefinition({ kind: 'friction', name: 't' }), { timezone: 'Mars/Olympus' }), 'friction_timezone_invalid');
    });
  });

  describe('friction: hostile values', () => {
    const HOSTILE = "x'); DROP TABLE events; --";

    it('treats hostile filter values as values: they match nothing and change no SQL', async () => {
      const r = await run(hotspotEvents(), { min_sessions: 1, where: { page_path: HOSTILE, 'properties.a"b': HOSTILE } });
      expect(r.overall.sessions).toBe(0);
      expect(r.hotspots).toEqual([]);
      expect(await eventCount()).toBe(15);
      const sql = (value: string) => {
        const def = parseFrictionDefinition({ kind: 'friction', name: 't', where: { page_path: value } });
        if (engine === 'duckdb') {
          const units = buildUnitsQuery(def, { kind: 'friction', timezone: 'UTC' }, null, null).sql;
          return `${units}\n${buildFrictionQuery(def, { kind: 'friction', timezone: 'UTC', bounds: null, units: [] }).sql}`;
        }
        return chFrictionPagesQuery(def, { kind: 'friction', timezone: 'UTC', previous: null }).sql;
      };
      expect(sql(HOSTILE)).toBe(sql('/a'));
      expect(sql(HOSTILE)).not.toContain('DROP');
    });

    it('returns hostile element texts and selectors verbatim as data', async () => {
      const r = await run(
        [click('p1', 0, HOSTILE, { session_id: 's1', element_selector: `div[data-x="'"]`, element_text: `${HOSTILE}\nline 2`, rage_click: true })],
        { min_sessions: 1 },
      );
      expect(r.hotspots.map((h) => [h.page, h.selector, h.text])).toEqual([[HOSTILE, `div[data-x="'"]`, `${HOSTILE}\nline 2`]]);
    });
  });
});
