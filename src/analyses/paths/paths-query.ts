/**
 * SQL for paths (DuckDB dialect). One statement reduces the events to each session's path — a list of step
 * keys, with whether it was cut at depth and its breakdown value — and counts the sessions per distinct path;
 * small aggregate statements over those counts give the totals, the top paths, the transitions and the
 * drop-offs. Everything is SQL, so 10M events never cross into JavaScript.
 *
 * A step key is 'p' + cleaned page_path or 'e' + event name, so a page and an event that share a text never
 * merge (paths-result.ts turns keys back into { type, name }).
 *
 * Every name and value is a bound parameter and every identifier goes through quoteIdent, so the statement
 * text depends only on the definition's shape.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import type { BuiltQuery } from '../common/run-support.js';
import { buildScope, withClause, type ScopeOptions } from '../common/scope-sql.js';
import { filterCondition, parseEventField } from '../event-fields.js';
import type { PathAnchor, PathsDefinition } from './paths-definition.js';

export const PAGE_KEY_PREFIX = 'p';
export const EVENT_KEY_PREFIX = 'e';

/** Event kinds that are page views: their step is the cleaned page_path. */
export const PAGE_VIEW_KINDS = ['page_view', 'screen_view'] as const;

/** Which way paths run: from a start (or the session's first step) forwards, or backwards from an end. */
export type PathsShape = 'forward' | 'start_to_end' | 'to_end';

export function pathsShape(def: Pick<PathsDefinition, 'start' | 'end'>): PathsShape {
  if (def.end == null) return 'forward';
  return def.start == null ? 'to_end' : 'start_to_end';
}

/** Columns of the table of path counts the aggregates read. */
export const PATHS_TABLE_COLUMNS = ['bd', 'path', 'more', 'has_end', 'n'] as const;

const E = 'e';
const col = (name: string): string => `${E}.${quoteIdent(name)}`;

function pageViewKind(params: BoundParams): string {
  return `${col('event_kind')} IN (${PAGE_VIEW_KINDS.map((k) => params.bind(k)).join(', ')})`;
}

/**
 * Whether an event is a step under the definition's step mode (on raw columns, so the scan filters before any
 * key is built), and its step key. A page view without a page_path has no page to name: it is not a step, nor an
 * event step.
 */
function stepSql(def: PathsDefinition, params: BoundParams): { condition: string; key: string } {
  const names: string[] = [];
  if (def.include_events != null) names.push(`${col('event_name')} IN (${def.include_events.map((n) => params.bind(n)).join(', ')})`);
  if (def.exclude_events.length > 0) names.push(`${col('event_name')} NOT IN (${def.exclude_events.map((n) => params.bind(n)).join(', ')})`);
  const eventOk = names.length === 0 ? 'TRUE' : names.join(' AND ');
  // Placeholders are bound only where used: DuckDB refuses a value bound to no placeholder.
  const eventKey = (): string => `${params.bind(EVENT_KEY_PREFIX)} || ${col('event_name')}`;
  if (def.step === 'event') return { condition: `(${eventOk})`, key: eventKey() };
  const pageKind = pageViewKind(params);
  const page = `(${pageKind} AND ${col('page_path')} IS NOT NULL)`;
  const pageKey = `${params.bind(PAGE_KEY_PREFIX)} || ${col('page_path')}`;
  if (def.step === 'page') return { condition: page, key: pageKey };
  return {
    condition: `(${page} OR (NOT (${pageKind}) AND ${eventOk}))`,
    key: `CASE WHEN ${pageKind} THEN ${pageKey} ELSE ${eventKey()} END`,
  };
}

/** Condition for an anchor event, and the step key it is shown with. */
function anchorSql(anchor: PathAnchor, params: BoundParams): { condition: string; key: string } {
  const where = Object.entries(anchor.where ?? {}).map(([name, value]) => filterCondition(parseEventField(name)!, value, params, E));
  if (anchor.event !== undefined) {
    return {
      condition: [`${col('event_name')} = ${params.bind(anchor.event)}`, ...where].join(' AND '),
      key: params.bind(EVENT_KEY_PREFIX + anchor.event),
    };
  }
  return {
    condition: [`(${pageViewKind(params)})`, `${col('page_path')} = ${params.bind(anchor.page!)}`, ...where].join(' AND '),
    key: params.bind(PAGE_KEY_PREFIX + anchor.page!),
  };
}

/** The event at `e` compared with an anchor struct {t, id}: order within a session is (occurred_at, event_id). */
const T = col('occurred_at');
const ID = col('event_id');
const atOrAfter = (s: string): string => `(${T} > ${s}.t OR (${T} = ${s}.t AND ${ID} >= ${s}.id))`;
const after = (s: string): string => `(${T} > ${s}.t OR (${T} = ${s}.t AND ${ID} > ${s}.id))`;
const atOrBefore = (s: string): string => `(${T} < ${s}.t OR (${T} = ${s}.t AND ${ID} <= ${s}.id))`;
const isRow = (s: string): string => `(${T} = ${s}.t AND ${ID} = ${s}.id)`;

/**
 * Sessions counted by (bd, path, more, has_end) → n. The sessions counted are:
 * - forward without start: every session with a step; with a start: every session with a start event;
 * - start_to_end: every session with a start (`has_end` false when no end follows it; `path` NULL then, and when
 *   the end came after more than `depth` steps);
 * - to_end: every session with an end event.
 * `path` is the list of step keys (at most `depth`), `more` whether the session had more steps than the path
 * shows (cut at depth), `bd` the breakdown value on the anchor event (start, end, or the first step).
 */
export function buildPathsTableQuery(def: PathsDefinition, options: ScopeOptions): BuiltQuery {
  const params = new BoundParams();
  const scope = buildScope(def as AnalysisScope, params, E, options);
  const shape = pathsShape(def);
  const step = stepSql(def, params);
  const start = def.start == null ? undefined : anchorSql(def.start, params);
  const end = def.end == null ? undefined : anchorSql(def.end, params);
  const depth = `CAST(${params.bind(def.depth)} AS BIGINT)`;
  // Every scan of events sees the same scope: a person, the global filters, segment, exclusions, date range.
  const inScope = [...scope.conditions, scope.inRange, `${col('session_id')} IS NOT NULL`].join('\n    AND ');
  const unit = `${col('session_id')} AS unit`;

  const ctes = [...scope.ctes];
  // Anchors are found by their own scan (few rows), so the scan of steps can skip sessions without one.
  if (start !== undefined) {
    // The first start event of each session; the path runs from it.
    ctes.push(`ul_start AS (
  SELECT ${unit}, min({t: ${T}, id: ${ID}, bd: ${scope.breakdown}}) AS a FROM events ${E}
  WHERE ${inScope}
    AND ${start.condition}
  GROUP BY ALL
)`);
  }
  if (end !== undefined && start !== undefined) {
    // The first end event strictly after the start event (the start event itself cannot end its own path).
    ctes.push(`ul_end AS (
  SELECT ${unit}, min({t: ${T}, id: ${ID}}) AS z FROM events ${E} JOIN ul_start s ON ${col('session_id')} = s.unit
  WHERE ${inScope}
    AND ${end.condition} AND ${after('s.a')}
  GROUP BY ALL
)`);
  } else if (end !== undefined) {
    // The first end event of each session; the path leads to it.
    ctes.push(`ul_end AS (
  SELECT ${unit}, min({t: ${T}, id: ${ID}, bd: ${scope.breakdown}}) AS z FROM events ${E}
  WHERE ${inScope}
    AND ${end.condition}
  GROUP BY ALL
)`);
  }

  // Rows that may be steps or anchors are picked on raw columns before the joins (so the scan filters early);
  // after the joins, anchors get their key, other rows keep theirs only if they are steps.
  const joins: string[] = [];
  const candidate = [step.condition];
  const keys: string[] = [];
  const window: string[] = [];
  if (start !== undefined) {
    joins.push(`JOIN ul_start s ON ${col('session_id')} = s.unit`);
    candidate.push(`(${start.condition})`);
    keys.push(`WHEN ${isRow('s.a')} THEN ${start.key}`);
    window.push(atOrAfter('s.a'));
  }
  if (end !== undefined) {
    joins.push(`JOIN ul_end z ON ${col('session_id')} = z.unit`);
    candidate.push(`(${end.condition})`);
    keys.push(`WHEN ${isRow('z.z')} THEN ${end.key}`);
    window.push(atOrBefore('z.z'));
  }
  // The breakdown value travels with the steps only when the first step is the anchor (no start, no end).
  const bd = shape === 'forward' && start === undefined ? scope.breakdown : 'CAST(NULL AS VARCHAR)';
  const key = keys.length === 0 ? step.key : `CASE ${keys.join(' ')} WHEN ${step.condition} THEN ${step.key} END`;
  ctes.push(`ul_kept AS (
  SELECT * FROM (
    SELECT ${unit}, ${T} AS t, ${ID} AS id, ${key} AS key, ${bd} AS bd
    FROM events ${E}${joins.map((j) => ` ${j}`).join('')}
    WHERE ${inScope}
      AND ${[candidate.length === 1 ? candidate[0]! : `(${candidate.join(' OR ')})`, ...window].join('\n      AND ')}
  )${keys.length === 0 ? '' : ' WHERE key IS NOT NULL'}
)`);

  // One sort of the kept rows by (session, t, id): the row number orders each session's steps for the aggregate
  // below, and lag() finds repeats. A step equal to the one just before it in the same session (after the cut at
  // start/end) is not a new step. A window over one global order measured faster than one partitioned by
  // session (a million small partitions).
  ctes.push(`ul_ordered AS (
  SELECT unit, key, bd, row_number() OVER w AS rn, lag(key) OVER w AS prev, lag(unit) OVER w AS prev_unit FROM ul_kept
  WINDOW w AS (ORDER BY unit, t, id)
)`);
  const repeats = def.collapse_repeats ? ' WHERE prev_unit IS DISTINCT FROM unit OR prev <> key' : '';
  // min_by/max_by with a count return the keys of the first/last `depth` steps in row-number order: a hash
  // aggregate over integers, no second sort. arg_min_null keeps a NULL breakdown value (arg_min skips NULLs).
  const pathList = shape === 'to_end' ? `list_reverse(max_by(key, rn, ${depth}))` : `min_by(key, rn, ${depth})`;
  ctes.push(`ul_per_unit AS (
  SELECT unit, ${pathList} AS path, count(*) AS steps, arg_min_null(bd, rn) AS bd
  FROM ul_ordered${repeats} GROUP BY unit
)`);

  let perSession: string;
  if (shape === 'forward' && start === undefined) {
    perSession = `SELECT bd, path, steps, CAST(NULL AS BOOLEAN) AS has_end FROM ul_per_unit`;
  } else if (shape === 'forward') {
    perSession = `SELECT s.a.bd AS bd, p.path, p.steps, CAST(NULL AS BOOLEAN) AS has_end FROM ul_start s JOIN ul_per_unit p ON s.unit = p.unit`;
  } else if (shape === 'start_to_end') {
    perSession = `SELECT s.a.bd AS bd, CASE WHEN p.steps <= ${depth} THEN p.path END AS path, p.steps, p.unit IS NOT NULL AS has_end
  FROM ul_start s LEFT JOIN ul_per_unit p ON s.unit = p.unit`;
  } else {
    perSession = `SELECT z.z.bd AS bd, p.path, p.steps, TRUE AS has_end FROM ul_end z JOIN ul_per_unit p ON z.unit = p.unit`;
  }
  // Sessions with the same path are counted together: every later aggregate reads distinct paths, not sessions.
  const select = `SELECT bd, path, steps > len(path) AS more, has_end, count(*) AS n FROM (
  ${perSession}
) GROUP BY ALL`;
  return { sql: `${withClause(ctes)}${select}`, params: [...params.values] };
}

/** Session counts over the table of path counts. */
export function buildTotalsQuery(table: string): BuiltQuery {
  const sql = `SELECT COALESCE(sum(n), 0) AS units,
  COALESCE(sum(n) FILTER (WHERE has_end), 0) AS with_end,
  COALESCE(sum(n) FILTER (WHERE path IS NOT NULL), 0) AS with_path,
  COALESCE(sum(n) FILTER (WHERE path IS NOT NULL AND more), 0) AS truncated,
  COALESCE(sum(n) FILTER (WHERE has_end AND path IS NULL), 0) AS end_beyond_depth
FROM ${quoteIdent(table)}`;
  return { sql, params: [] };
}

/** Path lengths, and whether the session had more steps than the path shows (for drop-offs). */
export function buildLengthsQuery(table: string): BuiltQuery {
  const sql = `SELECT len(path) AS length, more, sum(n) AS n
FROM ${quoteIdent(table)} WHERE path IS NOT NULL GROUP BY ALL ORDER BY length, more`;
  return { sql, params: [] };
}

/**
 * The top paths (most sessions first, ties by the path's keys), per breakdown value when `byBreakdown`, with
 * each group's number of distinct paths and of sessions with a path.
 */
export function buildTopPathsQuery(table: string, top: number, byBreakdown: boolean): BuiltQuery {
  const params = new BoundParams();
  const n = `CAST(${params.bind(top)} AS BIGINT)`;
  const t = quoteIdent(table);
  if (!byBreakdown) {
    // ORDER BY ... LIMIT is a top-N (a heap), not a sort of every distinct path.
    const sql = `WITH pc AS (
  SELECT path, sum(n) AS n FROM ${t} WHERE path IS NOT NULL GROUP BY path
), totals AS (
  SELECT count(*) AS distinct_paths, sum(n) AS sessions FROM pc
)
SELECT CAST(NULL AS VARCHAR) AS bd, path, n, distinct_paths, sessions
FROM (SELECT path, n FROM pc ORDER BY n DESC, path LIMIT ${n}) CROSS JOIN totals
ORDER BY n DESC, path`;
    return { sql, params: [...params.values] };
  }
  const sql = `WITH pc AS (
  SELECT bd, path, sum(n) AS n FROM ${t} WHERE path IS NOT NULL GROUP BY bd, path
), ranked AS (
  SELECT bd, path, n,
         row_number() OVER (PARTITION BY bd ORDER BY n DESC, path) AS rank,
         count(*) OVER (PARTITION BY bd) AS distinct_paths,
         sum(n) OVER (PARTITION BY bd) AS sessions
  FROM pc
)
SELECT bd, path, n, distinct_paths, sessions FROM ranked WHERE rank <= ${n} ORDER BY sessions DESC, bd NULLS LAST, rank`;
  return { sql, params: [...params.values] };
}

/**
 * Transitions between consecutive steps of every reported path, by position, the `top` largest (ties by
 * position, then keys), with the number of distinct transitions and their total. Positions count from the
 * path's first step; with `alignEnd` they count so that the last step is at position `depth`.
 */
export function buildTransitionsQuery(table: string, depth: number, top: number, alignEnd: boolean): BuiltQuery {
  const params = new BoundParams();
  const d = `CAST(${params.bind(depth)} AS BIGINT)`;
  const position = alignEnd ? `i + ${d} - len(path)` : 'i';
  const sql = `WITH pc AS (
  SELECT path, sum(n) AS n FROM ${quoteIdent(table)} WHERE path IS NOT NULL GROUP BY path
), tr AS (
  SELECT ${position} AS depth, path[i] AS src, path[i + 1] AS dst, sum(n) AS n
  FROM pc CROSS JOIN range(1, ${d}) r(i)
  WHERE i < len(path)
  GROUP BY ALL
), ranked AS (
  SELECT depth, src, dst, n,
         row_number() OVER (ORDER BY n DESC, depth, src, dst) AS rank,
         count(*) OVER () AS distinct_transitions,
         sum(n) OVER () AS total
  FROM tr
)
SELECT depth, src, dst, n, distinct_transitions, total FROM ranked WHERE rank <= CAST(${params.bind(top)} AS BIGINT) ORDER BY depth, n DESC, src, dst`;
  return { sql, params: [...params.values] };
}
