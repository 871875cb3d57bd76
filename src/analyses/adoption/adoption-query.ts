/**
 * SQL of the adoption analysis (DuckDB dialect). One scan of `events` keeps every event that matters to a feature
 * (a use, or a frustration signal on it) in a temporary table with a flag per feature; a second table splits it
 * into (event, feature) rows, and the numbers are grouped from that. Active users need a second scan of `events`
 * (every in-scope event counts).
 *
 * Every name and value is a bound parameter, tables go through quoteIdent, and features are referred to by their
 * position: the statement text depends only on the shape of the catalog and definition.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import type { SegmentDefinition } from '../segment/segment-definition.js';
import { filterCondition, parseEventField } from '../event-fields.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import type { BuiltQuery } from '../common/run-support.js';
import { buildScope, withClause } from '../common/scope-sql.js';
import { addIntervals, bucketStart, intervalsBetween, localMidnight, type CalendarInterval, type WeekStart } from '../common/time-buckets.js';
import type { CatalogFeature, FeatureMatcher } from './feature-catalog.js';

const E = 'e';
/** page: matches views of the page, whatever the source calls the event. */
const VIEW_KINDS = ['page_view', 'screen_view'] as const;
const NO_GROUP = 'CAST(NULL AS VARCHAR)';

export interface AdoptionSqlOptions {
  timezone: string;
  weekStart: WeekStart;
  /** The retention interval (the `b` column of the feature events); null when retention is not computed. */
  interval: CalendarInterval | null;
  segments?: ReadonlyMap<string, SegmentDefinition>;
}

/** The temporary tables one run uses (unique names, dropped after the run). */
export interface AdoptionTables {
  /** (f, lo, hi): each feature's period as instants, by position in the plan. */
  features: string;
  /** Events some feature needs, with a flag per feature: see buildMarkedEventsTable. */
  marked: string;
  /** (f, person_id, session_id, t, rage, dead, err, grp, used, signal, in_period, b): see buildFeatureEventsTable. */
  featureEvents: string;
}

const inList = (column: string, values: readonly string[], params: BoundParams): string =>
  values.length === 1 ? `${column} = ${params.bind(values[0]!)}` : `${column} IN (${values.map((v) => params.bind(v)).join(', ')})`;

/** The event matches the matcher: every part it sets holds. */
export function matcherCondition(m: FeatureMatcher, params: BoundParams, alias: string): string {
  const parts: string[] = [];
  if (m.event !== null) parts.push(inList(`${alias}.event_name`, m.event, params));
  if (m.page !== null) {
    parts.push(inList(`${alias}.event_kind`, VIEW_KINDS, params));
    parts.push(inList(`${alias}.page_path`, m.page, params));
  }
  for (const [name, value] of Object.entries(m.where)) parts.push(filterCondition(parseEventField(name)!, value, params, alias));
  // Catalog rules refuse an empty matcher; FALSE keeps a hand-built one from matching everything.
  return parts.length === 0 ? 'FALSE' : `(${parts.join(' AND ')})`;
}

/** Any of the matchers, as a never-NULL boolean (a JSON filter on a missing key is NULL, not FALSE). */
function anyMatcher(matchers: readonly FeatureMatcher[], params: BoundParams): string {
  if (matchers.length === 0) return 'FALSE';
  return `coalesce(${matchers.map((m) => matcherCondition(m, params, E)).join(' OR ')}, FALSE)`;
}

/**
 * Each feature's period as instants: from local midnight of the later of date_range.from and released, to local
 * midnight after date_range.to (±infinity when unbounded).
 */
export function buildFeaturesTable(table: string, features: readonly CatalogFeature[], scope: AnalysisScope, timezone: string): BuiltQuery {
  const params = new BoundParams();
  const range = scope.date_range ?? null;
  // Bound only when used: a statement must use every parameter it is given.
  const needsZone = range !== null || features.some((f) => f.released !== null);
  const tz = needsZone ? params.bind(timezone) : '';
  const rows = features.map((f, i) => {
    const starts: string[] = [];
    if (range !== null) starts.push(localMidnight(range.from, params, tz));
    if (f.released !== null) starts.push(localMidnight(f.released, params, tz));
    const lo = starts.length === 0 ? `CAST('-infinity' AS TIMESTAMPTZ)` : starts.length === 1 ? starts[0]! : `greatest(${starts.join(', ')})`;
    const hi = range === null ? `CAST('infinity' AS TIMESTAMPTZ)` : localMidnight(range.to, params, tz, 1);
    return `(${i}, ${lo}, ${hi})`;
  });
  const sql = `CREATE TEMP TABLE ${quoteIdent(table)} AS
SELECT CAST(f AS INTEGER) AS f, CAST(lo AS TIMESTAMPTZ) AS lo, CAST(hi AS TIMESTAMPTZ) AS hi
FROM (VALUES ${rows.join(', ')}) v(f, lo, hi)`;
  return { sql, params: [...params.values] };
}

/**
 * The events any feature needs (a use of one, or a signal on one), as one condition the scan can filter on before
 * any flag is computed: plain event matchers of every feature become a single event_name IN (...).
 */
function relevantEvents(features: readonly CatalogFeature[], params: BoundParams): string {
  const names = new Set<string>();
  const others: string[] = [];
  for (const f of features) {
    for (const m of f.match) {
      if (m.event !== null && m.page === null && Object.keys(m.where).length === 0) m.event.forEach((n) => names.add(n));
      else others.push(matcherCondition(m, params, E));
    }
  }
  const signals = features.flatMap((f) => f.signals.map((m) => matcherCondition(m, params, E)));
  const parts = [...(names.size === 0 ? [] : [inList(`${E}.event_name`, [...names], params)]), ...others];
  if (signals.length > 0) parts.push(`((${E}.rage_click OR ${E}.dead_click OR ${E}.error_click) AND (${signals.join(' OR ')}))`);
  return `(${parts.join('\n        OR ')})`;
}

/**
 * Step 1 of the feature events: every in-scope event some feature needs, once, with one use flag (u<i>) and one
 * signals-matcher flag (x<i>) per feature, and `b`, the local start (DATE) of the retention interval holding it.
 * Uses are kept from the start of the date range with no end when retention is measured (it follows users past
 * the range), else up to the range's end.
 *
 * A table rather than a materialized CTE: DuckDB would push the per-feature filters of step 2 back into the scan as
 * one large OR of flag expressions, which costs more than the whole scan.
 */
export function buildMarkedEventsTable(tables: AdoptionTables, features: readonly CatalogFeature[], scope: AnalysisScope, options: AdoptionSqlOptions): BuiltQuery {
  const params = new BoundParams();
  const built = buildScope(scope, params, E, { kind: 'adoption', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) });
  const marks = features.map((f, i) => `${anyMatcher(f.match, params)} AS u${i},\n       ${anyMatcher(f.signals, params)} AS x${i}`);
  const where = [...built.conditions];
  if (built.lo !== null) where.push(`${E}.occurred_at >= ${built.lo}`);
  // Without retention (no interval) only uses in the period count: nothing after the range is read.
  if (options.interval === null && built.hi !== null) where.push(`${E}.occurred_at < ${built.hi}`);
  where.push(relevantEvents(features, params));
  const bucket = options.interval === null ? 'CAST(NULL AS DATE)' : bucketStart(options.interval, `${E}.occurred_at`, params.bind(options.timezone), options.weekStart);
  const sql = `CREATE TEMP TABLE ${quoteIdent(tables.marked)} AS
${withClause(built.ctes)}SELECT ${E}.person_id, ${E}.session_id, ${E}.occurred_at AS t,
       ${E}.rage_click AS rage, ${E}.dead_click AS dead, ${E}.error_click AS err,
       (${E}.rage_click OR ${E}.dead_click OR ${E}.error_click) AS sig,
       ${built.breakdown} AS grp,
       ${bucket} AS b,
       ${marks.join(',\n       ')}
FROM events ${E}
WHERE ${where.join('\n  AND ')}`;
  return { sql, params: [...params.values] };
}

/**
 * Step 2: one row per (marked event, feature) where the event is a use of the feature (matches `match`) or a
 * frustration signal on it (carries rage/dead/error and matches `match` or `signals`); `in_period` says whether it
 * lies in the feature's period.
 */
export function buildFeatureEventsTable(tables: AdoptionTables, features: readonly CatalogFeature[]): BuiltQuery {
  const perFeature = features.map(
    (_f, i) => `SELECT CAST(${i} AS INTEGER) AS f, m.person_id, m.session_id, m.t, m.rage, m.dead, m.err, m.grp,
       m.u${i} AS used, m.sig AND (m.u${i} OR m.x${i}) AS signal, (m.t >= ft.lo AND m.t < ft.hi) AS in_period, m.b
FROM ${quoteIdent(tables.marked)} m CROSS JOIN (SELECT lo, hi FROM ${quoteIdent(tables.features)} WHERE f = ${i}) ft
WHERE m.u${i} OR (m.sig AND m.x${i})`,
  );
  return { sql: `CREATE TEMP TABLE ${quoteIdent(tables.featureEvents)} AS\n${perFeature.join('\nUNION ALL\n')}`, params: [] };
}

/**
 * Active users: people with an in-scope event in the date range (f = -1), and per feature those with one in its
 * period (their last in-range event is at or after the feature's start). Per breakdown value with `byGroup`.
 */
export function buildActiveUsersQuery(tables: AdoptionTables, scope: AnalysisScope, options: AdoptionSqlOptions, byGroup: boolean): BuiltQuery {
  const params = new BoundParams();
  // Without byGroup the breakdown is left out of the scope: its parameters would be bound but unused.
  const built = buildScope(byGroup ? scope : { ...scope, breakdown: null }, params, E, {
    kind: 'adoption',
    timezone: options.timezone,
    ...(options.segments === undefined ? {} : { segments: options.segments }),
  });
  const sql = `${withClause([
    ...built.ctes,
    `ul_people AS (
  SELECT ${E}.person_id, ${built.breakdown} AS grp, max(${E}.occurred_at) AS last_t
  FROM events ${E}
  WHERE ${[...built.conditions, built.inRange].join('\n    AND ')}
  GROUP BY 1, 2
)`,
  ])}SELECT -1 AS f, grp, count(*) AS active FROM ul_people GROUP BY grp
UNION ALL
SELECT ft.f, p.grp, count(*) AS active FROM ul_people p JOIN ${quoteIdent(tables.features)} ft ON p.last_t >= ft.lo GROUP BY ft.f, p.grp`;
  return { sql, params: [...params.values] };
}

/** Per feature (and breakdown value): users, uses, the median uses per user, and the frustration counts. */
export function buildUsageQuery(tables: AdoptionTables, byGroup: boolean): BuiltQuery {
  const g = byGroup ? 'grp' : NO_GROUP;
  const fe = quoteIdent(tables.featureEvents);
  const sql = `WITH ul_person AS (
  SELECT f, ${g} AS grp, person_id, count(*) FILTER (WHERE used) AS uses
  FROM ${fe} WHERE in_period GROUP BY 1, 2, 3
),
ul_usage AS (
  SELECT f, grp, count(*) FILTER (WHERE uses > 0) AS users, CAST(coalesce(sum(uses), 0) AS BIGINT) AS uses,
         median(uses) FILTER (WHERE uses > 0) AS median_uses
  FROM ul_person GROUP BY f, grp
),
ul_frustration AS (
  SELECT f, ${g} AS grp,
         count(DISTINCT session_id) AS sessions,
         count(DISTINCT session_id) FILTER (WHERE signal) AS frustrated,
         count(DISTINCT session_id) FILTER (WHERE signal AND rage) AS rage,
         count(DISTINCT session_id) FILTER (WHERE signal AND dead) AS dead,
         count(DISTINCT session_id) FILTER (WHERE signal AND err) AS err
  FROM ${fe} WHERE in_period AND session_id IS NOT NULL GROUP BY 1, 2
)
SELECT u.f, u.grp, u.users, u.uses, u.median_uses,
       coalesce(r.sessions, 0) AS sessions, coalesce(r.frustrated, 0) AS frustrated,
       coalesce(r.rage, 0) AS rage, coalesce(r.dead, 0) AS dead, coalesce(r.err, 0) AS err
FROM ul_usage u LEFT JOIN ul_frustration r ON r.f = u.f AND r.grp IS NOT DISTINCT FROM u.grp`;
  return { sql, params: [] };
}

/**
 * Retention of feature users: each user's cohort is the calendar interval (configured zone and week start) of
 * their first use in the period; interval k counts when they use the feature in cohort + k. An interval is
 * complete when its last day is at or before the local day of the warehouse's last event; users whose interval k
 * is not complete are counted apart (pending), never as not retained. Needs `b` (buildFeatureEventsTable with an
 * interval).
 */
export function buildRetentionQuery(tables: AdoptionTables, interval: CalendarInterval, intervals: number, options: AdoptionSqlOptions): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(options.timezone);
  const fe = quoteIdent(tables.featureEvents);
  const n = params.bind(intervals);
  // The interval of the first use (arg_min, not min(b): a local date can step back where DST ends at midnight).
  const sql = `WITH ul_through AS (SELECT CAST(timezone(${tz}, max(occurred_at)) AS DATE) AS d FROM events),
ul_cohort AS (
  SELECT f, person_id, arg_min(b, t) AS c FROM ${fe} WHERE used AND in_period GROUP BY f, person_id
),
ul_size AS (SELECT f, c, count(*) AS n FROM ul_cohort GROUP BY f, c),
ul_return AS (
  SELECT f, c, k, count(*) AS n FROM (
    SELECT DISTINCT u.f, u.c, u.person_id, ${intervalsBetween(interval, 'u.c', 'x.b')} AS k
    FROM ul_cohort u JOIN ${fe} x ON x.f = u.f AND x.person_id = u.person_id
    WHERE x.used AND x.b > u.c
  ) WHERE k BETWEEN 1 AND ${n}
  GROUP BY f, c, k
),
ul_k AS (SELECT CAST(k AS BIGINT) AS k FROM range(1, ${n} + 1) r(k)),
ul_cell AS (
  SELECT s.f, ul_k.k, s.n AS size, coalesce(r.n, 0) AS retained,
         (${addIntervals(interval, 's.c', 'ul_k.k + 1')} <= ul_through.d + 1) AS complete
  FROM ul_size s CROSS JOIN ul_k CROSS JOIN ul_through
  LEFT JOIN ul_return r ON r.f = s.f AND r.c = s.c AND r.k = ul_k.k
)
SELECT f, k,
       CAST(coalesce(sum(size) FILTER (WHERE complete), 0) AS BIGINT) AS users,
       CAST(coalesce(sum(retained) FILTER (WHERE complete), 0) AS BIGINT) AS retained,
       CAST(coalesce(sum(size) FILTER (WHERE NOT complete), 0) AS BIGINT) AS pending
FROM ul_cell GROUP BY f, k ORDER BY f, k`;
  return { sql, params: [...params.values] };
}

/** Local dates of the warehouse's first and last event (any event: how far the data reaches). */
export function buildDataBoundsQuery(timezone: string): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(timezone);
  return {
    sql: `SELECT CAST(CAST(timezone(${tz}, min(occurred_at)) AS DATE) AS VARCHAR) AS data_from,
       CAST(CAST(timezone(${tz}, max(occurred_at)) AS DATE) AS VARCHAR) AS data_through
FROM events`,
    params: [...params.values],
  };
}
