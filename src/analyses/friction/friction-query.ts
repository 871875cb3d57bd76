/**
 * SQL for a friction analysis (DuckDB dialect): one statement that reads the events in scope of the range (and
 * of the comparison period before it, labelled period 1) and returns one row holding every section as a list of
 * structs: totals per period, ranked hotspots, pages and error pages, list counts and the breakdown.
 *
 * Work is split by size. The distinct (page, session), session and person units come in as a parameter (counted
 * beforehand, one statement per period: friction-units.ts); one window pass over page views finds visits and
 * U-turns; everything about signals and errors is computed from the few events that carry one (`ul_marked`,
 * materialized once).
 *
 * Every value is a bound parameter and every column name a constant of this file, so the statement text depends
 * only on the definition's shape; element texts and selectors are data, never SQL.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import type { DateRange } from '../common/definition-parts.js';
import type { BuiltQuery } from '../common/run-support.js';
import { buildScope, withClause, type ScopeOptions } from '../common/scope-sql.js';
import { US_PER_SECOND } from '../common/durations.js';
import type { UnitRow } from './friction-units.js';
import { SIGNAL_COLUMNS, type FrictionDefinition, type FrictionElementKey, type FrictionSignal } from './friction-definition.js';

/** The periods as instants (epoch microseconds), resolved in the configured time zone by periodBoundsQuery. */
export interface FrictionBounds {
  /** First instant of the range and the instant after its last day. */
  lo: bigint;
  hi: bigint;
  /** First instant of the comparison period (which ends at `lo`); null without a comparison. */
  previousLo: bigint | null;
}

export interface FrictionQueryOptions extends ScopeOptions {
  /** null without a date_range (all history, no comparison). */
  bounds: FrictionBounds | null;
  /** The units of each period (friction-units.ts), labelled 0 (the range) and 1 (the comparison period). */
  units: PeriodUnitRow[];
}

export interface PeriodUnitRow extends UnitRow {
  period: 0 | 1;
}

/**
 * Local midnights of the range (and of the comparison period's first day) as epoch microseconds. Resolved once,
 * up front, so the main statement compares occurred_at with constants instead of joining a bounds table in every
 * scan; DST days are 23 or 25 hours long.
 */
export function periodBoundsQuery(range: DateRange, previous: DateRange | null, timezone: string): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(timezone);
  const midnight = (date: string, plusDays: number): string =>
    `epoch_us(timezone(${tz}, CAST(CAST(${params.bind(date)} AS DATE) + ${plusDays} AS TIMESTAMP)))`;
  const sql = `SELECT ${midnight(range.from, 0)} AS lo, ${midnight(range.to, 1)} AS hi, ${previous === null ? 'NULL' : midnight(previous.from, 0)} AS previous_lo`;
  return { sql, params: [...params.values] };
}

/** Signal counts as the query returns them (a signal not selected is always 0 here; the result makes it null). */
interface SignalCountsRow {
  signal_events: number;
  rage: number;
  dead: number;
  errc: number;
}

export interface TotalsRow extends SignalCountsRow {
  period: number;
  sessions: number;
  people: number;
  sessions_with_signal: number;
  people_with_signal: number;
  error_events: number;
  sessions_with_error: number;
  visits: number;
  u_turns: number;
  u_turn_sessions: number;
}

export interface HotspotRow extends SignalCountsRow {
  rank: number;
  page_path: string | null;
  k_sel: string | null;
  k_text: string | null;
  text_label: string | null;
  selector_label: string | null;
  sessions: number;
  people: number;
  page_sessions: number;
  /** Period-1 numbers; null when the hotspot (or page) had no row there. */
  prev_sessions: number | null;
  prev_people: number | null;
  prev_signal_events: number | null;
  prev_page_sessions: number | null;
}

export interface PageRow extends SignalCountsRow {
  rank: number;
  page_path: string | null;
  sessions: number;
  sessions_with_signal: number;
  error_events: number;
  sessions_with_error: number;
  visits: number;
  u_turns: number;
  u_turn_sessions: number;
  prev_sessions: number | null;
  prev_sessions_with_signal: number | null;
  prev_signal_events: number | null;
  prev_u_turns: number | null;
}

export interface ErrorPageRow {
  rank: number;
  page_path: string | null;
  sessions: number;
  sessions_with_error: number;
  error_events: number;
}

export interface BreakdownRow extends SignalCountsRow {
  value: string | null;
  sessions: number;
  sessions_with_signal: number;
}

export interface ListCountsRow {
  candidates: number;
  meeting: number;
}

/** The single row the statement returns (DuckDB gives an empty list as NULL). */
export interface FrictionQueryRow {
  totals: TotalsRow[] | null;
  hotspots: HotspotRow[] | null;
  pages: PageRow[] | null;
  error_pages: ErrorPageRow[] | null;
  breakdown: BreakdownRow[] | null;
  hotspot_counts: ListCountsRow;
  page_counts: ListCountsRow;
  error_page_counts: ListCountsRow;
}

const col = (name: string): string => `e.${quoteIdent(name)}`;

/** The hotspot key columns: the identifying one as is, the other only where the identifying one is missing. */
export function elementKey(element: FrictionElementKey): { sel: string; text: string } {
  const sel = quoteIdent('element_selector');
  const text = quoteIdent('element_text');
  if (element === 'selector') return { sel, text: `CASE WHEN ${sel} IS NULL THEN ${text} END` };
  if (element === 'text') return { sel: `CASE WHEN ${text} IS NULL THEN ${sel} END`, text };
  return { sel, text };
}

function signalFlag(signals: readonly FrictionSignal[], signal: FrictionSignal): string {
  return signals.includes(signal) ? col(SIGNAL_COLUMNS[signal]) : 'FALSE';
}

/** Same hotspot key on both sides (NULL keys are values here: events without a page or element). */
const sameKey = (a: string, b: string): string =>
  ['page_path', 'k_sel', 'k_text'].map((k) => `${b}.${k} IS NOT DISTINCT FROM ${a}.${k}`).join(' AND ');

/** The most common value of `column` among the range's signal events of each hotspot; ties → smallest value. */
function labelCte(name: string, column: string): string {
  return `${name} AS (
  SELECT page_path, k_sel, k_text, first(v ORDER BY v IS NULL, n DESC, v) AS label
  FROM (SELECT page_path, k_sel, k_text, ${quoteIdent(column)} AS v, count(*) AS n FROM ul_marked WHERE sig AND period = 0 GROUP BY ALL)
  GROUP BY ALL
)`;
}

export function buildFrictionQuery(def: FrictionDefinition, options: FrictionQueryOptions): BuiltQuery {
  const params = new BoundParams();
  // The range is applied here with constant bounds (see periodBoundsQuery), not by buildScope.
  const scope = buildScope({ ...def, date_range: null }, params, 'e', options);
  const ctes = [...scope.ctes];

  const at = (us: bigint): string => `make_timestamptz(CAST(${params.bind(us)} AS BIGINT))`;
  const time = col('occurred_at');
  let period = '0';
  const inPeriods: string[] = [];
  const bounds = options.bounds;
  if (bounds !== null) {
    const lo = at(bounds.lo);
    inPeriods.push(`${time} >= ${bounds.previousLo === null ? lo : at(bounds.previousLo)}`, `${time} < ${at(bounds.hi)}`);
    if (bounds.previousLo !== null) period = `CASE WHEN ${time} >= ${lo} THEN 0 ELSE 1 END`;
  }

  const signal = def.signals.map((s) => col(SIGNAL_COLUMNS[s])).join(' OR ');
  const errorKind = params.bind('error');
  const viewKinds = [params.bind('page_view'), params.bind('screen_view')];
  const minSessions = params.bind(def.min_sessions);
  const top = params.bind(def.top);
  const uTurnUs = params.bind(BigInt(def.u_turn_seconds * US_PER_SECOND));
  const key = elementKey(def.element);
  const withBreakdown = def.breakdown != null;

  ctes.push(
    // Not materialized: each use reads only the columns it needs, straight from the events table.
    `ul_scoped AS NOT MATERIALIZED (
  SELECT ${period} AS period, e.session_id, e.person_id, e.page_path, e.event_kind, e.occurred_at, e.event_id,
         e.element_selector, e.element_text,
         (${signal}) AS sig,
         ${signalFlag(def.signals, 'rage')} AS rage, ${signalFlag(def.signals, 'dead')} AS dead, ${signalFlag(def.signals, 'error')} AS errc,
         (${col('event_kind')} = ${errorKind} OR ${col('error_click')}) AS err,
         ${scope.breakdown} AS bd
  FROM events e
  WHERE ${[...scope.conditions, `${col('session_id')} IS NOT NULL`, ...inPeriods].join('\n    AND ')}
)`,
    // The distinct units, counted beforehand one period at a time (friction-units.ts) and passed in as JSON.
    `ul_units AS MATERIALIZED (
  SELECT period, page_path, g, n
  FROM (SELECT unnest(from_json(CAST(${params.bind(JSON.stringify(options.units))} AS JSON), '[{"period":"INTEGER","page_path":"VARCHAR","g":"INTEGER","n":"BIGINT"}]'), recursive := true))
)`,
    // The few events with a signal or an error: everything about them is computed from here.
    `ul_marked AS MATERIALIZED (
  SELECT period, page_path, session_id, person_id, sig, rage, dead, errc, err, element_selector, element_text,
         ${key.sel} AS k_sel, ${key.text} AS k_text
  FROM ul_scoped WHERE sig OR err
)`,
    `ul_marked_stats AS MATERIALIZED (
  SELECT period, page_path, grouping(page_path) AS all_pages,
         count_if(sig) AS signal_events, count_if(rage) AS rage, count_if(dead) AS dead, count_if(errc) AS errc,
         count_if(err) AS error_events,
         count(DISTINCT session_id) FILTER (WHERE sig) AS sessions_with_signal,
         count(DISTINCT person_id) FILTER (WHERE sig) AS people_with_signal,
         count(DISTINCT session_id) FILTER (WHERE err) AS sessions_with_error
  FROM ul_marked GROUP BY GROUPING SETS ((period, page_path), (period))
)`,
    `ul_hotspot_stats AS MATERIALIZED (
  SELECT period, page_path, k_sel, k_text, count(*) AS signal_events,
         count_if(rage) AS rage, count_if(dead) AS dead, count_if(errc) AS errc,
         count(DISTINCT session_id) AS sessions, count(DISTINCT person_id) AS people
  FROM ul_marked WHERE sig GROUP BY period, page_path, k_sel, k_text
)`,
    labelCte('ul_text_labels', 'element_text'),
    labelCte('ul_selector_labels', 'element_selector'),
    // Page views in session order (ties by event id); a run of views of one page is one visit. The windows run
    // over one global order and check that the row looked back at is of the same session: measured faster than
    // partitioning by session (a million small partitions), same rows.
    `ul_views AS (
  SELECT period, session_id, page_path, occurred_at, event_id,
         CASE WHEN lag(session_id) OVER w = session_id AND lag(period) OVER w = period THEN lag(page_path) OVER w END AS before
  FROM ul_scoped WHERE event_kind IN (${viewKinds.join(', ')}) AND page_path IS NOT NULL
  WINDOW w AS (ORDER BY period, session_id, occurred_at, event_id)
)`,
    // A U-turn visit: the visit two back was this page, and this one starts within the threshold of the one before.
    // (When the visit two back is of the same session, so is the one before.)
    `ul_visits AS (
  SELECT period, session_id, page_path,
         coalesce(lag(session_id, 2) OVER w = session_id AND lag(period, 2) OVER w = period AND lag(page_path, 2) OVER w = page_path
                  AND occurred_at <= lag(occurred_at) OVER w + to_microseconds(CAST(${uTurnUs} AS BIGINT)), false) AS u_turn
  FROM ul_views WHERE before IS DISTINCT FROM page_path
  WINDOW w AS (ORDER BY period, session_id, occurred_at, event_id)
)`,
    `ul_turns AS MATERIALIZED (
  SELECT period, page_path, grouping(page_path) AS all_pages, count(*) AS visits, count_if(u_turn) AS u_turns,
         count(DISTINCT session_id) FILTER (WHERE u_turn) AS u_turn_sessions
  FROM ul_visits GROUP BY GROUPING SETS ((period, page_path), (period))
)`,
    `ul_pages AS MATERIALIZED (
  SELECT u.period, u.page_path, u.n AS sessions,
         coalesce(m.sessions_with_signal, 0) AS sessions_with_signal, coalesce(m.signal_events, 0) AS signal_events,
         coalesce(m.rage, 0) AS rage, coalesce(m.dead, 0) AS dead, coalesce(m.errc, 0) AS errc,
         coalesce(m.error_events, 0) AS error_events, coalesce(m.sessions_with_error, 0) AS sessions_with_error,
         coalesce(t.visits, 0) AS visits, coalesce(t.u_turns, 0) AS u_turns, coalesce(t.u_turn_sessions, 0) AS u_turn_sessions
  FROM ul_units u
  LEFT JOIN ul_marked_stats m ON m.all_pages = 0 AND m.period = u.period AND m.page_path IS NOT DISTINCT FROM u.page_path
  LEFT JOIN ul_turns t ON t.all_pages = 0 AND t.period = u.period AND t.page_path = u.page_path
  WHERE u.g = 1
)`,
    `ul_totals AS (
  SELECT s.period, s.n AS sessions, coalesce(p.n, 0) AS people,
         coalesce(m.sessions_with_signal, 0) AS sessions_with_signal, coalesce(m.people_with_signal, 0) AS people_with_signal,
         coalesce(m.signal_events, 0) AS signal_events, coalesce(m.rage, 0) AS rage, coalesce(m.dead, 0) AS dead,
         coalesce(m.errc, 0) AS errc, coalesce(m.error_events, 0) AS error_events,
         coalesce(m.sessions_with_error, 0) AS sessions_with_error,
         coalesce(t.visits, 0) AS visits, coalesce(t.u_turns, 0) AS u_turns, coalesce(t.u_turn_sessions, 0) AS u_turn_sessions
  FROM ul_units s
  LEFT JOIN ul_units p ON p.g = 2 AND p.period = s.period
  LEFT JOIN ul_marked_stats m ON m.all_pages = 1 AND m.period = s.period
  LEFT JOIN ul_turns t ON t.all_pages = 1 AND t.period = s.period
  WHERE s.g = 3
)`,
    `ul_hotspot_ranked AS (
  SELECT c.page_path, c.k_sel, c.k_text, tl.label AS text_label, sl.label AS selector_label,
         c.signal_events, c.rage, c.dead, c.errc, c.sessions, c.people, coalesce(pg.sessions, 0) AS page_sessions,
         p.sessions AS prev_sessions, p.people AS prev_people, p.signal_events AS prev_signal_events, pp.sessions AS prev_page_sessions,
         row_number() OVER (ORDER BY c.sessions DESC, c.signal_events DESC, c.page_path NULLS LAST, c.k_sel NULLS LAST, c.k_text NULLS LAST) AS rank
  FROM ul_hotspot_stats c
  LEFT JOIN ul_hotspot_stats p ON p.period = 1 AND ${sameKey('c', 'p')}
  LEFT JOIN ul_text_labels tl ON ${sameKey('c', 'tl')}
  LEFT JOIN ul_selector_labels sl ON ${sameKey('c', 'sl')}
  LEFT JOIN ul_pages pg ON pg.period = 0 AND pg.page_path IS NOT DISTINCT FROM c.page_path
  LEFT JOIN ul_pages pp ON pp.period = 1 AND pp.page_path IS NOT DISTINCT FROM c.page_path
  WHERE c.period = 0 AND c.sessions >= ${minSessions}
)`,
    `ul_page_ranked AS (
  SELECT c.page_path, c.sessions, c.sessions_with_signal, c.signal_events, c.rage, c.dead, c.errc, c.error_events,
         c.sessions_with_error, c.visits, c.u_turns, c.u_turn_sessions,
         p.sessions AS prev_sessions, p.sessions_with_signal AS prev_sessions_with_signal,
         p.signal_events AS prev_signal_events, p.u_turns AS prev_u_turns,
         row_number() OVER (ORDER BY c.sessions_with_signal DESC, c.u_turns DESC, c.page_path NULLS LAST) AS rank
  FROM ul_pages c
  LEFT JOIN ul_pages p ON p.period = 1 AND p.page_path IS NOT DISTINCT FROM c.page_path
  WHERE c.period = 0 AND (c.sessions_with_signal >= ${minSessions} OR c.u_turn_sessions >= ${minSessions})
)`,
    `ul_error_ranked AS (
  SELECT page_path, sessions, sessions_with_error, error_events,
         row_number() OVER (ORDER BY sessions_with_error DESC, sessions_with_error / sessions DESC, page_path NULLS LAST) AS rank
  FROM ul_pages WHERE period = 0 AND sessions_with_error >= ${minSessions}
)`,
  );
  if (withBreakdown) {
    ctes.push(
      // Each session is in the group of its first event in scope (ties by event id), so groups add up.
      `ul_session_values AS (
  SELECT session_id, arg_min_null(bd, (occurred_at, event_id)) AS value FROM ul_scoped WHERE period = 0 GROUP BY session_id
)`,
      `ul_session_signals AS (
  SELECT session_id, count(*) AS signal_events, count_if(rage) AS rage, count_if(dead) AS dead, count_if(errc) AS errc
  FROM ul_marked WHERE period = 0 AND sig GROUP BY session_id
)`,
      `ul_breakdown AS (
  SELECT v.value, count(*) AS sessions, count(s.session_id) AS sessions_with_signal,
         CAST(coalesce(sum(s.signal_events), 0) AS BIGINT) AS signal_events, CAST(coalesce(sum(s.rage), 0) AS BIGINT) AS rage,
         CAST(coalesce(sum(s.dead), 0) AS BIGINT) AS dead, CAST(coalesce(sum(s.errc), 0) AS BIGINT) AS errc
  FROM ul_session_values v LEFT JOIN ul_session_signals s ON s.session_id = v.session_id
  GROUP BY v.value
)`,
    );
  }

  const sql = `${withClause(ctes)}SELECT
  (SELECT list(t ORDER BY t.period) FROM ul_totals t) AS totals,
  (SELECT list(h ORDER BY h.rank) FROM ul_hotspot_ranked h WHERE h.rank <= ${top}) AS hotspots,
  (SELECT list(p ORDER BY p.rank) FROM ul_page_ranked p WHERE p.rank <= ${top}) AS pages,
  (SELECT list(x ORDER BY x.rank) FROM ul_error_ranked x WHERE x.rank <= ${top}) AS error_pages,
  ${withBreakdown ? '(SELECT list(b ORDER BY b.sessions DESC, b.value NULLS LAST) FROM ul_breakdown b)' : 'NULL'} AS breakdown,
  (SELECT {'candidates': count(*), 'meeting': count_if(sessions >= ${minSessions})} FROM ul_hotspot_stats WHERE period = 0) AS hotspot_counts,
  (SELECT {'candidates': count(*), 'meeting': count_if(sessions_with_signal >= ${minSessions} OR u_turn_sessions >= ${minSessions})}
     FROM ul_pages WHERE period = 0 AND (sessions_with_signal > 0 OR u_turn_sessions > 0)) AS page_counts,
  (SELECT {'candidates': count(*), 'meeting': count_if(sessions_with_error >= ${minSessions})}
     FROM ul_pages WHERE period = 0 AND sessions_with_error > 0) AS error_page_counts`;
  return { sql, params: [...params.values] };
}
