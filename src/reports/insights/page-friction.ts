/**
 * What the insights need of friction, for every signal and both months: per page, its sessions (the friction
 * run's own units, friction-units.ts) and its sessions with each signal (one pass over the events that carry a
 * signal), and for the month the element with the most affected sessions of each (signal, page). One friction run
 * per signal and month (six runs, each finding every (page, session) pair and every U-turn again) would give the
 * same numbers; page-friction.test.ts checks that they do.
 *
 * Counted as the friction analysis counts (same scope, same element key, same hotspot order): sessions of events
 * with a session id, per page_path; `error` means an exception event or an error click on the page, as friction's
 * `error_pages`; an element is a friction hotspot key (page, selector, text) of the signal's own events (error
 * clicks for `error`).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AnalysisSession } from '../../analyses/analysis-kind.js';
import type { DateRange } from '../../analyses/common/definition-parts.js';
import { queryRows } from '../../analyses/common/run-support.js';
import { buildScope, withClause, type ScopeOptions } from '../../analyses/common/scope-sql.js';
import { periodBounds, truncateText } from '../../analyses/friction/friction-analysis.js';
import type { FrictionDefinition } from '../../analyses/friction/friction-definition.js';
import { elementKey } from '../../analyses/friction/friction-query.js';
import { periodUnits, type UnitRow } from '../../analyses/friction/friction-units.js';
import { BoundParams } from '../../sql/bound-params.js';
import type { FrictionSignalName } from './insight-candidates.js';

/** A page's sessions and, per signal, how many of them had it on the page. */
export interface PageSignalSessions {
  sessions: number;
  with: Record<FrictionSignalName, number>;
}

export interface MainElement {
  text: string | null;
  selector: string | null;
  sessions: number;
}

export interface PageFriction {
  /** Pages (non-null page_path) with at least one session in the month. */
  current: Map<string, PageSignalSessions>;
  /** The same for the month before; null without one. */
  previous: Map<string, PageSignalSessions> | null;
  /** Per signal, the page's element with the most sessions with that signal in the month (hotspot order on ties). */
  elements: Record<FrictionSignalName, Map<string, MainElement>>;
}

export const PAGE_FRICTION_SIGNALS: readonly FrictionSignalName[] = ['dead', 'rage', 'error'];

interface PageRow {
  period: number;
  page_path: string;
  sessions: number;
  rage: number;
  dead: number;
  error: number;
}

interface ElementRow {
  signal: FrictionSignalName;
  page_path: string;
  k_sel: string | null;
  k_text: string | null;
  text_label: string | null;
  selector_label: string | null;
  sessions: number;
}

/**
 * `def` gives the scope (where, segment, exclude) and the element key; its signals and range are not used. `previous`
 * must end the day before `current` starts.
 */
export async function pageFriction(session: AnalysisSession, def: FrictionDefinition, current: DateRange, previous: DateRange | null, options: ScopeOptions): Promise<PageFriction> {
  // The page sessions are the friction run's own units (friction-units.ts): inside a report, answered from the
  // memo when the friction section counted the same periods in the same scope.
  const { lo, hi, previousLo } = await periodBounds(session, current, previous, options.timezone);
  const currentUnits = await periodUnits(session, def, options, lo, hi);
  const previousUnits = previousLo === null ? null : await periodUnits(session, def, options, previousLo, lo);

  const params = new BoundParams();
  const scope = buildScope({ ...def, date_range: null }, params, 'e', options);
  const at = (us: bigint): string => `make_timestamptz(CAST(${params.bind(us)} AS BIGINT))`;
  const start = at(lo);
  const key = elementKey(def.element);
  const errorKind = params.bind('error');
  // Only the events with a signal or an error are read here.
  const sql = `${withClause([
    ...scope.ctes,
    `marked AS MATERIALIZED (
  SELECT CASE WHEN e.occurred_at >= ${start} THEN 0 ELSE 1 END AS period, e.session_id, e.page_path,
         e.rage_click AS rage, e.dead_click AS dead, e.error_click AS errc, (e.event_kind = ${errorKind} OR e.error_click) AS err,
         e.element_selector, e.element_text, ${key.sel} AS k_sel, ${key.text} AS k_text
  FROM events e
  WHERE ${[
    ...scope.conditions,
    'e.session_id IS NOT NULL',
    'e.page_path IS NOT NULL',
    `e.occurred_at >= ${previousLo === null ? start : at(previousLo)}`,
    `e.occurred_at < ${at(hi)}`,
    `(e.rage_click OR e.dead_click OR e.error_click OR e.event_kind = ${errorKind})`,
  ].join('\n    AND ')}
)`,
    `page_hits AS (
  SELECT period, page_path,
         count(DISTINCT session_id) FILTER (WHERE rage) AS rage, count(DISTINCT session_id) FILTER (WHERE dead) AS dead,
         count(DISTINCT session_id) FILTER (WHERE err) AS error
  FROM marked GROUP BY ALL
)`,
    // One row per signal event of the month: error clicks are the error signal's events, as in a friction run.
    `signal_events AS MATERIALIZED (
  SELECT s.signal, m.page_path, m.session_id, m.k_sel, m.k_text, m.element_selector, m.element_text
  FROM marked m JOIN (VALUES ('rage'), ('dead'), ('error')) s(signal)
    ON (s.signal = 'rage' AND m.rage) OR (s.signal = 'dead' AND m.dead) OR (s.signal = 'error' AND m.errc)
  WHERE m.period = 0
)`,
    `elements AS (
  SELECT signal, page_path, k_sel, k_text, count(DISTINCT session_id) AS sessions, count(*) AS events
  FROM signal_events GROUP BY ALL
)`,
    `top_elements AS (
  SELECT * FROM elements
  QUALIFY row_number() OVER (PARTITION BY signal, page_path ORDER BY sessions DESC, events DESC, k_sel NULLS LAST, k_text NULLS LAST) = 1
)`,
    // friction-query.ts's labels: the most common value among the hotspot's signal events; ties → smallest.
    `labels AS (
  SELECT signal, page_path, k_sel, k_text,
         first(element_text ORDER BY element_text IS NULL, n_text DESC, element_text) AS text_label,
         first(element_selector ORDER BY element_selector IS NULL, n_sel DESC, element_selector) AS selector_label
  FROM (
    SELECT x.signal, x.page_path, x.k_sel, x.k_text, x.element_text, x.element_selector,
           count(*) OVER (PARTITION BY x.signal, x.page_path, x.k_sel, x.k_text, x.element_text) AS n_text,
           count(*) OVER (PARTITION BY x.signal, x.page_path, x.k_sel, x.k_text, x.element_selector) AS n_sel
    FROM signal_events x SEMI JOIN top_elements t
      ON t.signal = x.signal AND t.page_path = x.page_path AND t.k_sel IS NOT DISTINCT FROM x.k_sel AND t.k_text IS NOT DISTINCT FROM x.k_text
  ) GROUP BY ALL
)`,
  ])}SELECT 'page' AS row_kind, period, page_path, 0 AS sessions, rage, dead, error,
  NULL AS signal, NULL AS k_sel, NULL AS k_text, NULL AS text_label, NULL AS selector_label
FROM page_hits
UNION ALL
SELECT 'element', 0, t.page_path, t.sessions, 0, 0, 0, t.signal, t.k_sel, t.k_text, l.text_label, l.selector_label
FROM top_elements t JOIN labels l
  ON l.signal = t.signal AND l.page_path = t.page_path AND l.k_sel IS NOT DISTINCT FROM t.k_sel AND l.k_text IS NOT DISTINCT FROM t.k_text`;
  const rows = await queryRows<(PageRow & ElementRow) & { row_kind: 'page' | 'element' }>(session, { sql, params: params.values as DuckDBValue[] as never });

  const hits = new Map<string, PageRow>();
  const out: PageFriction = { current: new Map(), previous: previous === null ? null : new Map(), elements: { rage: new Map(), dead: new Map(), error: new Map() } };
  for (const r of rows) {
    if (r.row_kind === 'page') hits.set(`${Number(r.period)}\u0000${r.page_path}`, r);
    else out.elements[r.signal].set(r.page_path, { text: truncateText(r.k_text ?? r.text_label), selector: r.k_sel ?? r.selector_label, sessions: Number(r.sessions) });
  }
  const pages = (period: 0 | 1, units: UnitRow[], into: Map<string, PageSignalSessions>): void => {
    for (const u of units) {
      if (u.g !== 1 || u.page_path === null) continue;
      const h = hits.get(`${period}\u0000${u.page_path}`);
      into.set(u.page_path, { sessions: u.n, with: { rage: Number(h?.rage ?? 0), dead: Number(h?.dead ?? 0), error: Number(h?.error ?? 0) } });
    }
  };
  pages(0, currentUnits, out.current);
  if (previousUnits !== null && out.previous !== null) pages(1, previousUnits, out.previous);
  return out;
}
