/**
 * Friction in ClickHouse SQL: the counterpart of friction-query.ts. DuckDB computes every section in one
 * statement around materialized CTEs; ClickHouse re-evaluates a CTE at each reference, so the work is split into
 * statements that each scan the events once (or twice, where page views are needed in session order):
 *
 * - pages: per page and overall (GROUPING SETS), with the numbers of both periods side by side (`p_` columns), the
 *   visits and U-turns from the page views of each (period, session) as arrays, and the ranks and list counts of
 *   the page and error-page lists as window functions. The overall row always comes back (it carries the totals
 *   and the list counts); listed pages and error pages come with it.
 * - hotspots: per (page, element) and per page (GROUPING SETS) in one scan of every event in scope, so each
 *   hotspot reads its page's sessions through a window over the page; labels are the most common value in arrays.
 * - breakdown: per session, then per value.
 *
 * friction-clickhouse.ts turns the rows into the FrictionQueryRow the DuckDB statement returns, so the result is
 * shaped by the same code. Every value is a bound parameter.
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import { US_PER_SECOND } from '../common/durations.js';
import type { DateRange } from '../common/definition-parts.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { SIGNAL_COLUMNS, type FrictionDefinition, type FrictionElementKey, type FrictionSignal } from './friction-definition.js';

export interface ChFrictionOptions extends ScopeOptions {
  /** The comparison period (null without one); the range is the definition's date_range. */
  previous: DateRange | null;
}

/** Overall (`lvl` 1) and page (`lvl` 0) rows of the pages statement: current numbers, `p_` for the previous period. */
export interface ChPageRow {
  lvl: number;
  page_path: string | null;
  sessions: number;
  people: number;
  sessions_with_signal: number;
  people_with_signal: number;
  signal_events: number;
  rage: number;
  dead: number;
  errc: number;
  error_events: number;
  sessions_with_error: number;
  visits: number;
  u_turns: number;
  u_turn_sessions: number;
  p_sessions: number;
  p_people: number;
  p_sessions_with_signal: number;
  p_people_with_signal: number;
  p_signal_events: number;
  p_rage: number;
  p_dead: number;
  p_errc: number;
  p_error_events: number;
  p_sessions_with_error: number;
  p_visits: number;
  p_u_turns: number;
  p_u_turn_sessions: number;
  page_listed: boolean;
  page_rank: number;
  page_candidates: number;
  page_meeting: number;
  error_listed: boolean;
  error_rank: number;
  error_candidates: number;
  error_meeting: number;
}

/** A hotspot row: listed ones (`meets`), or one unlisted row that only carries the list counts. */
export interface ChHotspotRow {
  meets: boolean;
  rank: number;
  candidates: number;
  meeting: number;
  page_path: string | null;
  k_sel: string | null;
  k_text: string | null;
  text_label: string | null;
  selector_label: string | null;
  signal_events: number;
  rage: number;
  dead: number;
  errc: number;
  sessions: number;
  people: number;
  page_sessions: number;
  prev_sessions: number | null;
  prev_people: number | null;
  prev_signal_events: number | null;
  prev_page_sessions: number | null;
}

const e = (name: string): string => `e.${name}`;

/** The element key columns (see friction-query.ts elementKey). */
function elementKey(element: FrictionElementKey): { sel: string; text: string } {
  const sel = e('element_selector');
  const text = e('element_text');
  if (element === 'selector') return { sel, text: `if(${sel} IS NULL, ${text}, NULL)` };
  if (element === 'text') return { sel: `if(${text} IS NULL, ${sel}, NULL)`, text };
  return { sel, text };
}

function signalFlag(signals: readonly FrictionSignal[], signal: FrictionSignal): string {
  return signals.includes(signal) ? e(SIGNAL_COLUMNS[signal]) : 'false';
}

/** The scope as CTEs and the conditions of an in-scope event of either period, and its period (0 or 1). */
function scan(def: FrictionDefinition, options: ChFrictionOptions, params: ClickhouseParams, withBreakdown = false): { ctes: string[]; where: string; period: string; breakdown: string } {
  const scope = buildClickhouseScope({ ...def, date_range: null, breakdown: withBreakdown ? def.breakdown : null }, params, 'e', options);
  const where = [...scope.conditions, `${e('session_id')} IS NOT NULL`];
  let period = '0';
  if (def.date_range != null) {
    const tz = params.bind(options.timezone);
    const lo = chLocalMidnight(params.bind(def.date_range.from, 'Date32'), tz);
    const hi = chLocalMidnight(`addDays(${params.bind(def.date_range.to, 'Date32')}, 1)`, tz);
    where.push(`${e('occurred_at')} < ${hi}`);
    if (options.previous === null) {
      where.push(`${e('occurred_at')} >= ${lo}`);
    } else {
      where.push(`${e('occurred_at')} >= ${chLocalMidnight(params.bind(options.previous.from, 'Date32'), tz)}`);
      period = `if(${e('occurred_at')} >= ${lo}, 0, 1)`;
    }
  }
  return { ctes: scope.ctes, where: where.join('\n    AND '), period, breakdown: scope.breakdown };
}

/** Per-event flags of the definition: a signal, each selected flag, an error event. */
function flags(def: FrictionDefinition, params: ClickhouseParams): string {
  const signal = def.signals.map((s) => e(SIGNAL_COLUMNS[s])).join(' OR ');
  return `(${signal}) AS f_sig, ${signalFlag(def.signals, 'rage')} AS f_rage, ${signalFlag(def.signals, 'dead')} AS f_dead, ${signalFlag(def.signals, 'error')} AS f_errc,
         (${e('event_kind')} = ${params.bind('error')} OR ${e('error_click')}) AS f_err`;
}

/** `name` for period 0 and `p_name` for period 1 of an aggregate written with `$p` for the period test. */
const bothPeriods = (aggregate: string, name: string): string => `${aggregate.replace('$p', 'period = 0')} AS ${name}, ${aggregate.replace('$p', 'period = 1')} AS p_${name}`;

/** The pages statement: see ChPageRow. */
export function chFrictionPagesQuery(def: FrictionDefinition, options: ChFrictionOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes, where, period } = scan(def, options, params);
  const minSessions = params.bind(def.min_sessions, 'Int64');
  const top = params.bind(def.top, 'Int64');
  const uTurnUs = params.bind(BigInt(def.u_turn_seconds * US_PER_SECOND), 'Int64');
  const views = [params.bind('page_view'), params.bind('screen_view')];
  ctes.push(
    `ul_stats AS (
  SELECT toUInt8(grouping(page_path)) AS lvl, page_path, if(lvl = 1, '', concat('p', page_path)) AS jk,
         ${bothPeriods('uniqExactIf(session_id, $p)', 'sessions')}, ${bothPeriods('uniqExactIf(person_id, $p)', 'people')},
         ${bothPeriods('uniqExactIf(session_id, f_sig AND $p)', 'sessions_with_signal')}, ${bothPeriods('uniqExactIf(person_id, f_sig AND $p)', 'people_with_signal')},
         ${bothPeriods('countIf(f_sig AND $p)', 'signal_events')}, ${bothPeriods('countIf(f_rage AND $p)', 'rage')},
         ${bothPeriods('countIf(f_dead AND $p)', 'dead')}, ${bothPeriods('countIf(f_errc AND $p)', 'errc')},
         ${bothPeriods('countIf(f_err AND $p)', 'error_events')}, ${bothPeriods('uniqExactIf(session_id, f_err AND $p)', 'sessions_with_error')}
  FROM (
    SELECT ${period} AS period, e.session_id AS session_id, e.person_id AS person_id, e.page_path AS page_path, ${flags(def, params)}
    FROM events AS e
    WHERE ${where}
  )
  GROUP BY GROUPING SETS ((page_path), ())
)`,
    // Page views of each (period, session) in order (ties by event id as text: DuckDB's UUID order); a view of
    // another page than the view before starts a visit; a visit returning to the page two visits back within
    // the threshold of the visit before it started is a U-turn.
    `ul_views AS (
  SELECT period, session_id, arraySort(x -> (x.1, x.2), groupArray((e.occurred_at, toString(e.event_id), assumeNotNull(e.page_path)))) AS sorted,
         arrayMap(x -> x.3, sorted) AS pages, arrayMap(x -> toUnixTimestamp64Micro(x.1), sorted) AS times
  FROM (SELECT ${period} AS period, e.session_id AS session_id, e.occurred_at, e.event_id, e.page_path FROM events AS e
        WHERE ${where} AND e.event_kind IN (${views.join(', ')}) AND e.page_path IS NOT NULL) AS e
  GROUP BY period, session_id
)`,
    `ul_visits AS (
  SELECT period, session_id, v_pages, v_times,
         arrayMap((p, p2, t, t1, n) -> n >= 3 AND p = p2 AND t <= t1 + ${uTurnUs}, v_pages,
                  arrayPopBack(arrayPopBack(arrayPushFront(arrayPushFront(v_pages, ''), ''))), v_times, arrayPopBack(arrayPushFront(v_times, toInt64(0))),
                  arrayEnumerate(v_pages)) AS turns
  FROM (
    SELECT period, session_id, arrayFilter((p, s) -> s, pages, starts) AS v_pages, arrayFilter((t, s) -> s, times, starts) AS v_times
    FROM (SELECT period, session_id, pages, times,
                 arrayMap((p, q, n) -> n = 1 OR p != q, pages, arrayPushFront(arrayPopBack(pages), ''), arrayEnumerate(pages)) AS starts
          FROM ul_views)
  )
)`,
    `ul_turns AS (
  SELECT toUInt8(grouping(page_path)) AS lvl, if(lvl = 1, '', concat('p', page_path)) AS jk,
         ${bothPeriods('countIf($p)', 'visits')}, ${bothPeriods('countIf(u_turn AND $p)', 'u_turns')},
         ${bothPeriods('uniqExactIf(session_id, u_turn AND $p)', 'u_turn_sessions')}
  FROM (SELECT period, session_id, v.1 AS page_path, v.2 AS u_turn FROM ul_visits ARRAY JOIN arrayZip(v_pages, turns) AS v)
  GROUP BY GROUPING SETS ((page_path), ())
)`,
  );
  const turnColumns = ['visits', 'u_turns', 'u_turn_sessions'].flatMap((c) => [c, `p_${c}`]);
  ctes.push(`ul_pages AS (
  SELECT s.*, ${turnColumns.map((c) => `ifNull(t.${c}, 0) AS ${c}`).join(', ')},
         s.lvl = 0 AND s.sessions > 0 AND (s.sessions_with_signal > 0 OR u_turn_sessions > 0) AS page_candidate,
         page_candidate AND (s.sessions_with_signal >= ${minSessions} OR u_turn_sessions >= ${minSessions}) AS page_meets,
         s.lvl = 0 AND s.sessions > 0 AND s.sessions_with_error > 0 AS error_candidate,
         error_candidate AND s.sessions_with_error >= ${minSessions} AS error_meets
  FROM ul_stats AS s
  LEFT JOIN ul_turns AS t ON t.jk = s.jk
)`);
  ctes.push(`ul_ranked AS (
  SELECT *,
         row_number() OVER (PARTITION BY page_meets ORDER BY sessions_with_signal DESC, u_turns DESC, page_path ASC NULLS LAST) AS page_rank,
         countIf(page_candidate) OVER () AS page_candidates, countIf(page_meets) OVER () AS page_meeting,
         row_number() OVER (PARTITION BY error_meets ORDER BY sessions_with_error DESC, sessions_with_error / sessions DESC, page_path ASC NULLS LAST) AS error_rank,
         countIf(error_candidate) OVER () AS error_candidates, countIf(error_meets) OVER () AS error_meeting
  FROM ul_pages
)`);
  const sql = `${chWithClause(ctes)}SELECT lvl, page_path,
  sessions, people, sessions_with_signal, people_with_signal, signal_events, rage, dead, errc, error_events, sessions_with_error, visits, u_turns, u_turn_sessions,
  p_sessions, p_people, p_sessions_with_signal, p_people_with_signal, p_signal_events, p_rage, p_dead, p_errc, p_error_events, p_sessions_with_error, p_visits, p_u_turns, p_u_turn_sessions,
  CAST(page_meets AND page_rank <= ${top} AS Bool) AS page_listed, page_rank, page_candidates, page_meeting,
  CAST(error_meets AND error_rank <= ${top} AS Bool) AS error_listed, error_rank, error_candidates, error_meeting
FROM ul_ranked
WHERE lvl = 1 OR (page_meets AND page_rank <= ${top}) OR (error_meets AND error_rank <= ${top})`;
  return { sql, params: params.values };
}

/**
 * The most common value of an array column (ties → the smallest), NULL when empty: the sorted values' runs,
 * their lengths, and the first longest run. No lambda captures a column.
 */
function mode(values: string): string {
  const sorted = `arraySort(${values})`;
  const starts = `arrayFilter((n, s) -> s, arrayEnumerate(${sorted}), arrayMap((v, q, n) -> n = 1 OR v != q, ${sorted}, arrayPushFront(arrayPopBack(${sorted}), ''), arrayEnumerate(${sorted})))`;
  const lengths = `arrayMap((a, b) -> b - a, ${starts}, arrayPushBack(arrayPopFront(${starts}), length(${sorted}) + 1))`;
  return `if(empty(${values}), NULL, arrayElement(${sorted}, arrayElement(${starts}, indexOf(${lengths}, arrayMax(${lengths})))))`;
}

/** The hotspots statement: see ChHotspotRow. */
export function chFrictionHotspotsQuery(def: FrictionDefinition, options: ChFrictionOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes, where, period } = scan(def, options, params);
  const minSessions = params.bind(def.min_sessions, 'Int64');
  const top = params.bind(def.top, 'Int64');
  const key = elementKey(def.element);
  // Events without a signal keep no element key: they only count for their page's sessions.
  ctes.push(`ul_groups AS (
  SELECT toUInt8(grouping(k_sel)) AS lvl, page_path, k_sel, k_text,
         countIf(f_sig AND period = 0) AS signal_events, countIf(f_rage AND period = 0) AS rage, countIf(f_dead AND period = 0) AS dead, countIf(f_errc AND period = 0) AS errc,
         uniqExactIf(session_id, f_sig AND period = 0) AS sessions, uniqExactIf(person_id, f_sig AND period = 0) AS people,
         countIf(f_sig AND period = 1) AS p_signal_events, uniqExactIf(session_id, f_sig AND period = 1) AS p_sessions, uniqExactIf(person_id, f_sig AND period = 1) AS p_people,
         uniqExactIf(session_id, period = 0) AS all_sessions, uniqExactIf(session_id, period = 1) AS p_all_sessions,
         groupArrayIf(element_text, f_sig AND period = 0) AS texts, groupArrayIf(element_selector, f_sig AND period = 0) AS selectors
  FROM (
    SELECT ${period} AS period, e.session_id AS session_id, e.person_id AS person_id, e.page_path AS page_path,
           e.element_text AS element_text, e.element_selector AS element_selector, ${flags(def, params)},
           if(f_sig, ${key.sel}, NULL) AS k_sel, if(f_sig, ${key.text}, NULL) AS k_text
    FROM events AS e
    WHERE ${where}
  )
  GROUP BY GROUPING SETS ((page_path, k_sel, k_text), (page_path))
)`);
  ctes.push(`ul_with_page AS (
  SELECT *, max(if(lvl = 1, all_sessions, 0)) OVER pg AS page_sessions, max(if(lvl = 1, p_all_sessions, 0)) OVER pg AS p_page_sessions
  FROM ul_groups
  WINDOW pg AS (PARTITION BY page_path IS NULL, ifNull(page_path, ''))
)`);
  ctes.push(`ul_candidates AS (
  SELECT *, sessions >= ${minSessions} AS meets
  FROM ul_with_page
  WHERE lvl = 0 AND signal_events > 0
)`);
  ctes.push(`ul_ranked AS (
  SELECT *,
         row_number() OVER (PARTITION BY meets ORDER BY sessions DESC, signal_events DESC, page_path ASC NULLS LAST, k_sel ASC NULLS LAST, k_text ASC NULLS LAST) AS rank,
         count() OVER () AS candidates, countIf(meets) OVER () AS meeting
  FROM ul_candidates
)`);
  const sql = `${chWithClause(ctes)}SELECT meets, rank, candidates, meeting, page_path, k_sel, k_text,
  ${mode('texts')} AS text_label, ${mode('selectors')} AS selector_label,
  signal_events, rage, dead, errc, sessions, people, page_sessions,
  if(p_signal_events = 0, NULL, p_sessions) AS prev_sessions, if(p_signal_events = 0, NULL, p_people) AS prev_people,
  if(p_signal_events = 0, NULL, p_signal_events) AS prev_signal_events, if(p_page_sessions = 0, NULL, p_page_sessions) AS prev_page_sessions
FROM ul_ranked
WHERE (meets AND rank <= ${top}) OR (NOT meets AND rank = 1)
ORDER BY meets DESC, rank ASC`;
  return { sql, params: params.values };
}

/**
 * The breakdown: each session of the range in the group of the value on its first event in scope (ties by event
 * id as text), with its signal counts. argMin over a tuple keeps a NULL value (argMin skips NULL arguments).
 */
export function chFrictionBreakdownQuery(def: FrictionDefinition, options: ChFrictionOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes, where, period, breakdown } = scan(def, options, params, true);
  ctes.push(`ul_session_values AS (
  SELECT tupleElement(argMin(tuple(bd), (occurred_at, id)), 1) AS value,
         countIf(f_sig) AS s_signal_events, countIf(f_rage) AS s_rage, countIf(f_dead) AS s_dead, countIf(f_errc) AS s_errc
  FROM (
    SELECT ${period} AS period, e.session_id AS session_id, e.occurred_at AS occurred_at, toString(e.event_id) AS id, ${breakdown} AS bd, ${flags(def, params)}
    FROM events AS e
    WHERE ${where}
  )
  WHERE period = 0
  GROUP BY session_id
)`);
  const sql = `${chWithClause(ctes)}SELECT value, count() AS sessions, countIf(s_signal_events > 0) AS sessions_with_signal,
  toInt64(sum(s_signal_events)) AS signal_events, toInt64(sum(s_rage)) AS rage, toInt64(sum(s_dead)) AS dead, toInt64(sum(s_errc)) AS errc
FROM ul_session_values
GROUP BY value
ORDER BY sessions DESC, value ASC NULLS LAST`;
  return { sql, params: params.values };
}
