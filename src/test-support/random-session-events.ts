/**
 * Seeded random events for the differential tests of the session-shaped kinds (paths, friction, adoption): the
 * events of random-analysis-data.ts, given several sessions per person (some events without one), page views of a
 * few cleaned paths (some without a path), screen views, error events, elements (selector and/or text, empty
 * strings included), frustration flags, and random event ids, so that events at the same instant are ordered by
 * an id whose order differs from their insertion order (and from ClickHouse's own UUID order).
 */
import type { TestEvent } from './analysis-events.js';
import { randomEvents, type Random } from './random-analysis-data.js';

export const RANDOM_PAGES = ['/home', '/pricing', '/settings/:id', "/it's", '/a.b'] as const;
const SELECTORS = ['#save', 'button.export', '', null] as const;
const TEXTS = ['Save', 'Export', 'save', '', null] as const;

function randomId(r: Random): string {
  const hex = Array.from({ length: 32 }, () => r.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `count` events of `people` people, shaped as described above. `compact`: a session's events fall within ten
 * minutes of its first one (whole seconds, now and then two at one instant), so views come back within seconds.
 */
export function randomSessionEvents(r: Random, people: number, count: number, compact = false): TestEvent[] {
  const events = randomEvents(r, people, count).map((e): TestEvent => {
    const out: TestEvent = { ...e, event_id: randomId(r) };
    out.session_id = r.chance(0.05) || e.person === null ? null : `${e.person}-s${r.int(1, 3)}`;
    const kind = r.int(0, 9);
    if (kind <= 3) {
      out.event_kind = 'page_view';
      out.name = r.pick(['$pageview', 'page_view', 'view']);
    } else if (kind === 4) {
      out.event_kind = 'screen_view';
    } else if (kind === 5) {
      out.event_kind = 'error';
    }
    if (r.chance(0.85)) out.page_path = r.pick(RANDOM_PAGES);
    if (r.chance(0.6)) out.element_selector = r.pick(SELECTORS);
    if (r.chance(0.6)) out.element_text = r.pick(TEXTS);
    out.rage_click = r.chance(0.15);
    out.dead_click = r.chance(0.1);
    out.error_click = r.chance(0.08);
    return out;
  });
  if (!compact) return events;
  const base = new Map<string, number>();
  let last: string | undefined;
  for (const e of events) {
    if (e.session_id == null) continue;
    const start = base.get(e.session_id) ?? Date.parse(e.at);
    base.set(e.session_id, start);
    e.at = last !== undefined && r.chance(0.1) ? last : new Date(start + r.int(0, 600) * 1000).toISOString();
    last = e.at;
  }
  return events;
}
