/**
 * Paths in ClickHouse SQL: the counterpart of paths-query.ts, returning the rows the DuckDB aggregates return
 * (totals, top paths, transitions, lengths) so paths-analysis.ts shapes both engines' rows alike.
 *
 * The per-session work is array code, in one GROUP BY session: the session's candidate rows (steps and anchor
 * events) are collected and sorted by (occurred_at, event_id as text — the order DuckDB gives UUIDs), the start
 * and end are found by index, the rows between them become step keys, repeats are dropped against the previous
 * key, and the first (or, with only `end`, the last) `depth` keys are the path. In cluster mode the events are
 * sharded by person, so a session's events are on one shard and this runs shard-local.
 *
 * There are no temporary tables on ClickHouse: each statement below derives the sessions from its own scan
 * (`ul_sessions`, read once per statement).
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import type { PathAnchor, PathsDefinition } from './paths-definition.js';
import { EVENT_KEY_PREFIX, PAGE_KEY_PREFIX, PAGE_VIEW_KINDS, pathsShape } from './paths-query.js';

const E = 'e';
const col = (name: string): string => `${E}.${name}`;

function pageViewKind(params: ClickhouseParams): string {
  return `${col('event_kind')} IN (${PAGE_VIEW_KINDS.map((k) => params.bind(k)).join(', ')})`;
}

/** Whether an event is a step under the step mode (never NULL), and its key (meaningful only for steps). */
function stepSql(def: PathsDefinition, params: ClickhouseParams): { condition: string; key: string } {
  const names: string[] = [];
  if (def.include_events != null) names.push(`${col('event_name')} IN (${def.include_events.map((n) => params.bind(n)).join(', ')})`);
  if (def.exclude_events.length > 0) names.push(`${col('event_name')} NOT IN (${def.exclude_events.map((n) => params.bind(n)).join(', ')})`);
  const eventOk = names.length === 0 ? 'true' : names.join(' AND ');
  const eventKey = `concat(${params.bind(EVENT_KEY_PREFIX)}, ${col('event_name')})`;
  if (def.step === 'event') return { condition: `(${eventOk})`, key: eventKey };
  const pageKind = pageViewKind(params);
  const page = `(${pageKind} AND ${col('page_path')} IS NOT NULL)`;
  // ifNull: a page view without a path is no step, and its key is never read.
  const pageKey = `concat(${params.bind(PAGE_KEY_PREFIX)}, ifNull(${col('page_path')}, ''))`;
  if (def.step === 'page') return { condition: page, key: pageKey };
  return { condition: `(${page} OR (NOT (${pageKind}) AND ${eventOk}))`, key: `if(${pageKind}, ${pageKey}, ${eventKey})` };
}

/** Condition for an anchor event (never NULL: a JSON filter on a missing key is false here), and its step key. */
function anchorSql(anchor: PathAnchor, params: ClickhouseParams): { condition: string; key: string } {
  const where = Object.entries(anchor.where ?? {}).map(([name, value]) => chFilterCondition(parseEventField(name)!, value, params, E));
  const parts =
    anchor.event !== undefined
      ? [`${col('event_name')} = ${params.bind(anchor.event)}`, ...where]
      : [`(${pageViewKind(params)})`, `${col('page_path')} = ${params.bind(anchor.page!)}`, ...where];
  const key = anchor.event !== undefined ? params.bind(EVENT_KEY_PREFIX + anchor.event) : params.bind(PAGE_KEY_PREFIX + anchor.page!);
  return { condition: `ifNull(${parts.join(' AND ')}, false)`, key };
}

/**
 * `ul_sessions(bd, path, steps, has_path, more, has_end)`: one row per session counted (see buildPathsTableQuery
 * for which sessions count). `has_path` false stands for DuckDB's NULL path (start and end: no end after the
 * start, or the end beyond depth); `more` is false where the path is absent.
 */
function sessionsCtes(def: PathsDefinition, options: ScopeOptions, params: ClickhouseParams): string[] {
  const scope = buildClickhouseScope(def as AnalysisScope, params, E, options);
  const shape = pathsShape(def);
  const step = stepSql(def, params);
  const start = def.start == null ? undefined : anchorSql(def.start, params);
  const end = def.end == null ? undefined : anchorSql(def.end, params);
  const depth = params.bind(def.depth, 'Int64');
  const inScope = [...scope.conditions, scope.inRange, `${col('session_id')} IS NOT NULL`];
  const candidate = [step.condition, ...(start === undefined ? [] : [start.condition]), ...(end === undefined ? [] : [end.condition])];

  // Row tuple: 1 time, 2 id text, 3 is a step, 4 step key, 5 is a start, 6 is an end, 7 breakdown value.
  const row = `(${col('occurred_at')}, toString(${col('event_id')}), ${step.condition}, ${step.key}, ${start?.condition ?? 'false'}, ${end?.condition ?? 'false'}, ${scope.breakdown})`;
  const ctes = [
    ...scope.ctes,
    `ul_rows AS (
  SELECT arraySort(x -> (x.1, x.2), groupArray(${row})) AS seq
  FROM events AS ${E}
  WHERE ${inScope.join('\n    AND ')}
    AND (${candidate.join(' OR ')})
  GROUP BY ${col('session_id')}
)`,
  ];

  // si / zi: 1-based index of the start / end row (0 = none); rows si..zi are the path's (1..n without them).
  // No lambda below captures a column: lambdas reading si/zi of an enclosing subquery failed on chDB 26.7
  // (SIZES_OF_ARRAYS_DONT_MATCH), so the path is cut with arraySlice and the anchors put in by position.
  const si = start === undefined ? '0' : 'arrayFirstIndex(x -> x.5, seq)';
  let zi = '0';
  if (end !== undefined) {
    zi = start === undefined ? 'arrayFirstIndex(x -> x.6, seq)' : 'if(si = 0, 0, if(zs = 0, 0, si + zs))';
  }
  // The first end strictly after the start, as an offset from it.
  const after = start !== undefined && end !== undefined ? ', arrayFirstIndex(x -> x.6, arraySlice(seq, si + 1)) AS zs' : '';
  const lo = start === undefined ? '1' : 'si';
  const hi = shape === 'start_to_end' ? 'if(zi > 0, zi, length(seq))' : end === undefined ? 'length(seq)' : 'zi';
  // The rows of the path as step keys, '' for a row that is no step (every real key has a prefix); the start
  // and end rows are shown as the anchor they matched.
  let raw = `arrayMap(x -> if(x.3, x.4, ''), arraySlice(seq, ${lo}, ${hi} - ${lo} + 1))`;
  if (start !== undefined) raw = `arrayPushFront(arrayPopFront(${raw}), ${start.key})`;
  if (end !== undefined) raw = start === undefined ? `arrayPushBack(arrayPopBack(${raw}), ${end.key})` : `if(zi > 0, arrayPushBack(arrayPopBack(${raw}), ${end.key}), ${raw})`;
  const collapsed = def.collapse_repeats ? `arrayFilter((k, p) -> k != p, keys, arrayPushFront(arrayPopBack(keys), ''))` : 'keys';
  const path = shape === 'to_end' ? `arraySlice(steps_all, greatest(1, toInt64(length(steps_all)) - ${depth} + 1))` : `arraySlice(steps_all, 1, ${depth})`;

  // The anchor's breakdown value (without anchors: the first step's), and whether there is an end after the start.
  let bd: string;
  let hasEnd = 'false';
  if (shape === 'forward' && start === undefined) {
    bd = 'tupleElement(arrayFirst(x -> x.3, seq), 7)';
  } else if (shape === 'to_end') {
    bd = 'tupleElement(seq[zi], 7)';
  } else {
    bd = 'tupleElement(seq[si], 7)';
    if (shape === 'start_to_end') hasEnd = 'zi > 0';
  }
  // With start and end, a path exists only when the end came within depth steps of the start.
  const hasPath = shape === 'start_to_end' ? `zi > 0 AND length(steps_all) <= ${depth}` : 'true';
  // Sessions that cannot count are dropped as early as possible: without start a session needs a step, with
  // start a start event, with only end an end event.
  const anchored = start !== undefined ? 'si > 0' : shape === 'to_end' ? 'zi > 0' : 'true';
  ctes.push(`ul_keys AS (
  SELECT seq, si, zi, arrayFilter(k -> k != '', ${raw}) AS keys
  FROM (SELECT seq, si, ${zi} AS zi FROM (SELECT seq, ${si} AS si${after} FROM ul_rows) WHERE ${anchored})
)`);
  ctes.push(`ul_sessions AS (
  SELECT bd, path, toInt64(length(steps_all)) AS steps, has_path, CAST(has_path AND length(steps_all) > length(path) AS Bool) AS more, has_end
  FROM (
    SELECT steps_all, ${path} AS path, ${bd} AS bd, CAST(${hasPath} AS Bool) AS has_path, CAST(${hasEnd} AS Bool) AS has_end
    FROM (SELECT seq, si, zi, ${collapsed} AS steps_all FROM ul_keys WHERE notEmpty(keys))
  )
)`);
  return ctes;
}

/** Session counts: the row of buildTotalsQuery. */
export function chPathsTotalsQuery(def: PathsDefinition, options: ScopeOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = sessionsCtes(def, options, params);
  const sql = `${chWithClause(ctes)}SELECT count() AS units, countIf(has_end) AS with_end, countIf(has_path) AS with_path,
  countIf(has_path AND more) AS truncated, countIf(has_end AND NOT has_path) AS end_beyond_depth
FROM ul_sessions`;
  return { sql, params: params.values };
}

/** Path lengths and whether the session had more steps (buildLengthsQuery's rows). */
export function chPathsLengthsQuery(def: PathsDefinition, options: ScopeOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = sessionsCtes(def, options, params);
  const sql = `${chWithClause(ctes)}SELECT toInt64(length(path)) AS length, more, count() AS n
FROM ul_sessions WHERE has_path GROUP BY length, more ORDER BY length, more`;
  return { sql, params: params.values };
}

/** The top paths, per breakdown value when `byBreakdown` (buildTopPathsQuery's rows and order). */
export function chPathsTopQuery(def: PathsDefinition, options: ScopeOptions, byBreakdown: boolean): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = sessionsCtes(def, options, params);
  const top = params.bind(def.top, 'UInt64');
  if (!byBreakdown) {
    // Arrays compare element by element, a prefix first, as DuckDB lists do.
    const sql = `${chWithClause(ctes)}SELECT CAST(NULL AS Nullable(String)) AS bd, path, n, count() OVER () AS distinct_paths, sum(n) OVER () AS sessions
FROM (SELECT path, count() AS n FROM ul_sessions WHERE has_path GROUP BY path)
ORDER BY n DESC, path ASC
LIMIT ${top}`;
    return { sql, params: params.values };
  }
  const sql = `${chWithClause(ctes)}SELECT bd, path, n, distinct_paths, sessions FROM (
  SELECT bd, path, n,
         row_number() OVER (PARTITION BY bd ORDER BY n DESC, path ASC) AS rank,
         count() OVER (PARTITION BY bd) AS distinct_paths,
         sum(n) OVER (PARTITION BY bd) AS sessions
  FROM (SELECT bd, path, count() AS n FROM ul_sessions WHERE has_path GROUP BY bd, path)
)
WHERE rank <= ${top}
ORDER BY sessions DESC, bd ASC NULLS LAST, rank ASC`;
  return { sql, params: params.values };
}

/** Transitions by position, the `top_transitions` largest (buildTransitionsQuery's rows and order). */
export function chPathsTransitionsQuery(def: PathsDefinition, options: ScopeOptions): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = sessionsCtes(def, options, params);
  const depth = params.bind(def.depth, 'Int64');
  const position = pathsShape(def) === 'to_end' ? `toInt64(i) + ${depth} - toInt64(length(path))` : 'toInt64(i)';
  const sql = `${chWithClause(ctes)}SELECT depth, src, dst, n, distinct_transitions, total FROM (
  SELECT depth, src, dst, n,
         row_number() OVER (ORDER BY n DESC, depth ASC, src ASC, dst ASC) AS rank,
         count() OVER () AS distinct_transitions,
         sum(n) OVER () AS total
  FROM (
    SELECT ${position} AS depth, path[i] AS src, path[i + 1] AS dst, sum(n) AS n
    FROM (SELECT path, count() AS n FROM ul_sessions WHERE has_path GROUP BY path)
    ARRAY JOIN arrayEnumerate(arrayPopBack(path)) AS i
    GROUP BY depth, src, dst
  )
)
WHERE rank <= ${params.bind(def.top_transitions, 'UInt64')}
ORDER BY depth ASC, n DESC, src ASC, dst ASC`;
  return { sql, params: params.values };
}
