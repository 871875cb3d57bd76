import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frictionAnalysis, runFriction } from '../../analyses/friction/friction-analysis.js';
import type { FrictionResult } from '../../analyses/friction/friction-result.js';
import { ev, insertEvents, tagPerson, type TestEvent } from '../../test-support/analysis-events.js';
import { demoLikeWorkspace, DEMO_LIKE_MONTH } from '../../test-support/demo-like-workspace.js';
import { tempWorkspace } from '../../test-support/temp-workspace.js';
import type { FrictionSignalName } from './insight-candidates.js';
import { monthRange, previousMonth } from './insight-months.js';
import { pageFriction, PAGE_FRICTION_SIGNALS, type PageFriction } from './page-friction.js';

let like: Awaited<ReturnType<typeof demoLikeWorkspace>>;
beforeAll(async () => {
  like = await demoLikeWorkspace({ people: 120 });
}, 120_000);
afterAll(() => like?.cleanup());

/** What a friction run with that one signal says of each page with the signal: (sessions with it, sessions). */
function fromFriction(result: FrictionResult, signal: FrictionSignalName): Map<string, { x: number; n: number }> {
  const out = new Map<string, { x: number; n: number }>();
  if (signal === 'error') for (const p of result.error_pages) out.set(p.page!, { x: p.sessions_with_error, n: p.sessions });
  else for (const p of result.pages) if (p.sessions_with_signal > 0) out.set(p.page!, { x: p.sessions_with_signal, n: p.sessions });
  return out;
}

function withSignal(pages: PageFriction['current'], signal: FrictionSignalName): Map<string, { x: number; n: number }> {
  return new Map([...pages].filter(([, p]) => p.with[signal] > 0).map(([page, p]) => [page, { x: p.with[signal], n: p.sessions }]));
}

describe('page friction for insights', () => {
  it('counts, in one pass, what one friction run per signal and month counts', async () => {
    const { ws } = like;
    const current = monthRange(DEMO_LIKE_MONTH);
    const previous = monthRange(previousMonth(DEMO_LIKE_MONTH));
    for (const input of [{ kind: 'friction', name: 'default scope' }, { kind: 'friction', name: 'desktop, by text', where: { device_type: 'desktop' }, element: 'text' }]) {
      const def = frictionAnalysis.parse(input);
      const pages = await pageFriction(ws.warehouse, def, current, previous, { ...ws.analysisOptions(), kind: 'friction' });
      let compared = 0;
      for (const signal of PAGE_FRICTION_SIGNALS) {
        for (const [range, side] of [[current, pages.current], [previous, pages.previous!]] as const) {
          const run = await ws.runAnalysis(frictionAnalysis, { ...input, signals: [signal], min_sessions: 1, top: 1000, compare: 'none', date_range: range });
          const expected = fromFriction(run, signal);
          expect(withSignal(side, signal), `${input.name}, ${signal}, ${range.from}`).toEqual(expected);
          compared += expected.size;
          // Every page of the run (listed for U-turns too) has the same sessions here.
          for (const p of run.pages) expect(side.get(p.page!)?.sessions, p.page!).toBe(p.sessions);
          if (range !== current) continue;
          // The main element: the run's first hotspot of the page (hotspot order).
          for (const page of expected.keys()) {
            const top = run.hotspots.filter((h) => h.page === page).sort((a, b) => b.sessions - a.sessions)[0];
            const el = pages.elements[signal].get(page);
            expect(el ?? null, `${signal} ${page}`).toEqual(top === undefined ? null : { text: top.text, selector: top.selector, sessions: top.sessions });
          }
        }
      }
      expect(compared, input.name).toBeGreaterThan(5);
    }
  });

  it("shares the friction run's units through a report's memo: each period is counted once", async () => {
    const { ws } = like;
    const current = monthRange(DEMO_LIKE_MONTH);
    const previous = monthRange(previousMonth(DEMO_LIKE_MONTH));
    const options = { ...ws.analysisOptions(), kind: 'friction' };
    const alone = await pageFriction(ws.warehouse, frictionAnalysis.parse({ kind: 'friction', name: 'x' }), current, previous, options);
    const memo = new Map<string, Promise<unknown>>();
    const shared = { connection: ws.warehouse.connection, memo };
    const run = await runFriction(shared, frictionAnalysis.parse({ kind: 'friction', name: 'report', compare: 'previous_month', date_range: current }), ws.analysisOptions());
    expect(run.previous.date_range).toEqual(previous);
    const unitKeys = (): string[] => [...memo.keys()].filter((k) => k.includes('GROUPING SETS'));
    expect(unitKeys()).toHaveLength(2);
    const after = await pageFriction(shared, frictionAnalysis.parse({ kind: 'friction', name: 'insights' }), current, previous, options);
    expect(unitKeys()).toHaveLength(2);
    expect(after).toEqual(alone);
    // The units are the run's own numbers.
    expect(after.current.get(run.pages[0]!.page!)?.sessions).toBe(run.pages[0]!.sessions);
    expect([...after.current.values()].reduce((n, p) => n + p.sessions, 0)).toBeGreaterThanOrEqual(run.overall.sessions);
  });

  it('gives exact counts on hand-made sessions, and every page with sessions', async () => {
    const tmp = tempWorkspace('version: 1\ntimezone: Europe/Berlin\n');
    try {
      const w = await tmp.open();
      try {
        const click = (person: string, at: string, session: string, page: string, flags: Record<string, unknown>): TestEvent =>
          ev(person, at, 'click', { session_id: session, page_path: page, event_kind: 'click', ...flags });
        const view = (person: string, at: string, session: string, page: string): TestEvent => ev(person, at, 'page_view', { session_id: session, page_path: page, event_kind: 'page_view' });
        await insertEvents(w.warehouse, [
          // March (Berlin): s1 rage-clicks "Save" twice and dead-clicks it; s2 rage-clicks "Save" by another selector.
          view('a', '2024-03-04T10:00:00Z', 's1', '/edit'),
          click('a', '2024-03-04T10:00:05Z', 's1', '/edit', { rage_click: true, element_selector: 'button.save', element_text: 'Save' }),
          click('a', '2024-03-04T10:00:06Z', 's1', '/edit', { rage_click: true, dead_click: true, element_selector: 'button.save', element_text: 'Save' }),
          view('b', '2024-03-05T10:00:00Z', 's2', '/edit'),
          click('b', '2024-03-05T10:00:05Z', 's2', '/edit', { rage_click: true, element_selector: 'a.save', element_text: 'Save' }),
          view('b', '2024-03-05T10:01:00Z', 's2', '/home'),
          ev('b', '2024-03-05T10:01:30Z', 'exception', { session_id: 's2', page_path: '/home', event_kind: 'error' }),
          // 2024-03-31T22:30Z is April 1 in Berlin (summer time): not in March.
          click('c', '2024-03-31T22:30:00Z', 's3', '/edit', { rage_click: true, element_selector: 'button.save' }),
          // February: one session on /edit without signals; /home with an error click.
          view('d', '2024-02-10T10:00:00Z', 's4', '/edit'),
          click('d', '2024-02-10T10:00:09Z', 's4', '/home', { error_click: true, element_selector: '#go' }),
          // No session id: never counted. An internal person: excluded by default.
          click('e', '2024-03-06T10:00:00Z', 'x', '/edit', { rage_click: true, session_id: null }),
          click('staff', '2024-03-06T10:00:00Z', 's9', '/edit', { rage_click: true, element_selector: 'button.save' }),
        ]);
        await tagPerson(w.warehouse, 'staff', 'internal');
        const def = frictionAnalysis.parse({ kind: 'friction', name: 'x' });
        const r = await pageFriction(w.warehouse, def, monthRange('2024-03'), monthRange('2024-02'), { ...w.analysisOptions(), kind: 'friction' });
        expect(Object.fromEntries(r.current)).toEqual({
          '/edit': { sessions: 2, with: { rage: 2, dead: 1, error: 0 } },
          '/home': { sessions: 1, with: { rage: 0, dead: 0, error: 1 } },
        });
        expect(Object.fromEntries(r.previous!)).toEqual({
          '/edit': { sessions: 1, with: { rage: 0, dead: 0, error: 0 } },
          '/home': { sessions: 1, with: { rage: 0, dead: 0, error: 1 } },
        });
        // Two sessions rage-click, one on each selector: the tie goes to the one with more events.
        expect(r.elements.rage.get('/edit')).toEqual({ text: 'Save', selector: 'button.save', sessions: 1 });
        expect(r.elements.dead.get('/edit')).toEqual({ text: 'Save', selector: 'button.save', sessions: 1 });
        // The exception is an error on /home but not an error click: no element.
        expect(r.elements.error.size).toBe(0);
        const none = await pageFriction(w.warehouse, def, monthRange('2024-03'), null, { ...w.analysisOptions(), kind: 'friction' });
        expect(none.previous).toBeNull();
        expect(none.current).toEqual(r.current);
      } finally {
        w.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
