/**
 * Adoption in ClickHouse SQL: the counterpart of adoption-query.ts, returning the rows of its usage, active-users
 * and retention statements so adoption-analysis.ts shapes both engines' rows alike.
 *
 * There are no temporary tables: the (event, feature) rows that DuckDB keeps in a table are derived by each
 * statement from one scan of `events`, each event fanned out by ARRAY JOIN into one row per feature it is a use of
 * or a signal on. Per-person numbers are aggregate states (uniqExactState) merged per feature, and retention is
 * array code per (feature, person): the intervals after the cohort in which the person used the feature again.
 * Every name and value is a bound parameter; features are referred to by their position in the plan.
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { chAddIntervals, chBucketStart, chIntervalsBetween, chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import type { CalendarInterval } from '../common/time-buckets.js';
import { chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import type { AdoptionSqlOptions } from './adoption-query.js';
import type { CatalogFeature, FeatureMatcher } from './feature-catalog.js';

const E = 'e';
/** page: matches views of the page, whatever the source calls the event. */
const VIEW_KINDS = ['page_view', 'screen_view'] as const;

const inList = (column: string, values: readonly string[], params: ClickhouseParams): string =>
  values.length === 1 ? `${column} = ${params.bind(values[0]!)}` : `${column} IN (${values.map((v) => params.bind(v)).join(', ')})`;

/** The event matches the matcher: every part it sets holds (three-valued, as matcherCondition). */
export function chMatcherCondition(m: FeatureMatcher, params: ClickhouseParams, alias: string): string {
  const parts: string[] = [];
  if (m.event !== null) parts.push(inList(`${alias}.event_name`, m.event, params));
  if (m.page !== null) {
    parts.push(inList(`${alias}.event_kind`, VIEW_KINDS, params));
    parts.push(inList(`${alias}.page_path`, m.page, params));
  }
  for (const [name, value] of Object.entries(m.where)) parts.push(chFilterCondition(parseEventField(name)!, value, params, alias));
  return parts.length === 0 ? 'false' : `(${parts.join(' AND ')})`;
}

/** Any of the matchers, never NULL. */
function anyMatcher(matchers: readonly FeatureMatcher[], params: ClickhouseParams): string {
  if (matchers.length === 0) return 'false';
  return `ifNull(${matchers.map((m) => chMatcherCondition(m, params, E)).join(' OR ')}, false)`;
}

/** The events some feature needs, as one condition the scan filters on first (adoption-query.ts relevantEvents). */
function relevantEvents(features: readonly CatalogFeature[], params: ClickhouseParams): string {
  const names = new Set<string>();
  const others: string[] = [];
  for (const f of features) {
    for (const m of f.match) {
      if (m.event !== null && m.page === null && Object.keys(m.where).length === 0) m.event.forEach((n) => names.add(n));
      else others.push(chMatcherCondition(m, params, E));
    }
  }
  const signals = features.flatMap((f) => f.signals.map((m) => chMatcherCondition(m, params, E)));
  const parts = [...(names.size === 0 ? [] : [inList(`${E}.event_name`, [...names], params)]), ...others];
  if (signals.length > 0) parts.push(`((${E}.rage_click OR ${E}.dead_click OR ${E}.error_click) AND (${signals.join(' OR ')}))`);
  return `ifNull(${parts.join('\n        OR ')}, false)`;
}

/**
 * Each feature's period as instant conditions on `t`: from local midnight of the later of date_range.from and
 * released, to local midnight after date_range.to (unbounded where the DuckDB table says ±infinity).
 */
function featureBounds(features: readonly CatalogFeature[], scope: AnalysisScope, timezone: string, params: ClickhouseParams): { lo: string | null; hi: string | null }[] {
  const range = scope.date_range ?? null;
  const needsZone = range !== null || features.some((f) => f.released !== null);
  const tz = needsZone ? params.bind(timezone) : '';
  const midnight = (date: string, plusDays = 0): string => {
    const day = params.bind(date, 'Date32');
    return chLocalMidnight(plusDays === 0 ? day : `addDays(${day}, ${plusDays})`, tz);
  };
  const rangeLo = range === null ? null : midnight(range.from);
  const hi = range === null ? null : midnight(range.to, 1);
  return features.map((f) => {
    const starts = [...(rangeLo === null ? [] : [rangeLo]), ...(f.released === null ? [] : [midnight(f.released)])];
    const lo = starts.length === 0 ? null : starts.length === 1 ? starts[0]! : `greatest(${starts.join(', ')})`;
    return { lo, hi };
  });
}

const scopeOptions = (options: AdoptionSqlOptions) => ({ kind: 'adoption', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) });

/**
 * `ul_fe(f, used, signal, in_period, person_id, session_id, t, rage, dead, err, grp, b)`: buildFeatureEventsTable's
 * rows, from one scan. Uses are read from the start of the date range with no end (retention follows users).
 */
function featureEventsCtes(features: readonly CatalogFeature[], scope: AnalysisScope, options: AdoptionSqlOptions, params: ClickhouseParams, byGroup: boolean): string[] {
  const built = buildClickhouseScope(byGroup ? scope : { ...scope, breakdown: null }, params, E, scopeOptions(options));
  const bounds = featureBounds(features, scope, options.timezone, params);
  const sig = `(${E}.rage_click OR ${E}.dead_click OR ${E}.error_click)`;
  const marks = features.map((f, i) => {
    const used = anyMatcher(f.match, params);
    const onIt = anyMatcher(f.signals, params);
    const b = bounds[i]!;
    const inPeriod = [...(b.lo === null ? [] : [`${E}.occurred_at >= ${b.lo}`]), ...(b.hi === null ? [] : [`${E}.occurred_at < ${b.hi}`])];
    return `(toUInt32(${i}), ${used}, ${sig} AND (${used} OR ${onIt}), ${inPeriod.length === 0 ? 'true' : inPeriod.join(' AND ')})`;
  });
  const where = [...built.conditions];
  if (built.lo !== null) where.push(`${E}.occurred_at >= ${built.lo}`);
  where.push(relevantEvents(features, params));
  const bucket = options.interval === null ? 'CAST(NULL AS Nullable(Date32))' : chBucketStart(options.interval, `${E}.occurred_at`, params.bind(options.timezone), options.weekStart);
  return [
    ...built.ctes,
    `ul_fe AS (
  SELECT tupleElement(m, 1) AS f, tupleElement(m, 2) AS used, tupleElement(m, 3) AS signal, tupleElement(m, 4) AS in_period,
         person_id, session_id, t, rage, dead, err, grp, b
  FROM (
    SELECT ${E}.person_id AS person_id, ${E}.session_id AS session_id, ${E}.occurred_at AS t,
           ${E}.rage_click AS rage, ${E}.dead_click AS dead, ${E}.error_click AS err, ${built.breakdown} AS grp, ${bucket} AS b,
           arrayFilter(x -> tupleElement(x, 2) OR tupleElement(x, 3), [${marks.join(',\n             ')}]) AS marks
    FROM events AS ${E}
    WHERE ${where.join('\n      AND ')}
  )
  ARRAY JOIN marks AS m
)`,
  ];
}

/** Per feature (and breakdown value): buildUsageQuery's rows. Sessions are merged from per-person sets. */
export function chUsageQuery(features: readonly CatalogFeature[], scope: AnalysisScope, options: AdoptionSqlOptions, byGroup: boolean): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = featureEventsCtes(features, scope, options, params, byGroup);
  ctes.push(`ul_person AS (
  SELECT f, grp, person_id, countIf(used) AS n_uses,
         uniqExactState(session_id) AS s_all, uniqExactStateIf(session_id, signal) AS s_frustrated,
         uniqExactStateIf(session_id, signal AND rage) AS s_rage, uniqExactStateIf(session_id, signal AND dead) AS s_dead, uniqExactStateIf(session_id, signal AND err) AS s_err
  FROM ul_fe WHERE in_period GROUP BY f, grp, person_id
)`);
  // DuckDB's median interpolates between the two middle values: quantileExactInclusive(0.5) does the same.
  const sql = `${chWithClause(ctes)}SELECT f, grp, countIf(n_uses > 0) AS users, toInt64(sum(n_uses)) AS uses,
  if(countIf(n_uses > 0) = 0, NULL, quantileExactInclusiveIf(0.5)(n_uses, n_uses > 0)) AS median_uses,
  uniqExactMerge(s_all) AS sessions, uniqExactMerge(s_frustrated) AS frustrated,
  uniqExactMerge(s_rage) AS rage, uniqExactMerge(s_dead) AS dead, uniqExactMerge(s_err) AS err
FROM ul_person GROUP BY f, grp`;
  return { sql, params: params.values };
}

/** Active users overall (f = -1) and per feature (last in-range event at or after its start): buildActiveUsersQuery's rows. */
export function chActiveUsersQuery(features: readonly CatalogFeature[], scope: AnalysisScope, options: AdoptionSqlOptions, byGroup: boolean): ClickhouseQuery {
  const params = new ClickhouseParams();
  const built = buildClickhouseScope(byGroup ? scope : { ...scope, breakdown: null }, params, E, scopeOptions(options));
  const bounds = featureBounds(features, scope, options.timezone, params);
  const perFeature = bounds.map((b, i) => (b.lo === null ? `toInt32(${i})` : `if(last_t >= ${b.lo}, toInt32(${i}), toInt32(-1))`));
  const sql = `${chWithClause(built.ctes)}SELECT f, grp, count() AS active
FROM (
  SELECT ${E}.person_id AS person_id, ${built.breakdown} AS grp, max(${E}.occurred_at) AS last_t
  FROM events AS ${E}
  WHERE ${[...built.conditions, built.inRange].join('\n    AND ')}
  GROUP BY person_id, grp
)
ARRAY JOIN arrayConcat([toInt32(-1)], arrayFilter(x -> x >= 0, [${perFeature.join(', ')}])) AS f
GROUP BY f, grp`;
  return { sql, params: params.values };
}

/**
 * Retention of feature users: buildRetentionQuery's rows. Per (feature, person): the cohort (the interval of the
 * first use in the period) and the distinct intervals 1..n after it with a use; per (feature, cohort, k): cohort
 * size and retained; summed over cohorts whose interval k is complete (its last day on or before `through`, the
 * local date of the warehouse's last event) or pending.
 */
export function chRetentionQuery(features: readonly CatalogFeature[], scope: AnalysisScope, options: AdoptionSqlOptions & { interval: CalendarInterval }, intervals: number, through: string): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = featureEventsCtes(features, scope, options, params, false);
  const n = params.bind(intervals, 'Int64');
  const interval = options.interval;
  // The interval of the first use (argMin on the instant, not min(b): a local date can step back where DST ends at
  // midnight). No lambda captures a column: the cohort is zipped in as an array of its own.
  ctes.push(`ul_cohort AS (
  SELECT f, person_id, c,
         arrayDistinct(arrayFilter(k -> k >= 1 AND k <= ${n},
           arrayMap((x, cc) -> if(x > cc, toInt64(${chIntervalsBetween(interval, 'cc', 'x')}), toInt64(0)), bs, arrayWithConstant(length(bs), c)))) AS ks
  FROM (
    SELECT f, person_id, argMinIf(b, t, used AND in_period) AS c, groupArrayIf(b, used) AS bs
    FROM ul_fe
    GROUP BY f, person_id
    HAVING countIf(used AND in_period) > 0
  )
)`);
  ctes.push(`ul_cells AS (
  SELECT f, c, k, count() AS cell_size, countIf(has(ks, k)) AS cell_retained
  FROM ul_cohort
  ARRAY JOIN arrayMap(i -> toInt64(i), range(1, toUInt64(${n}) + 1)) AS k
  GROUP BY f, c, k
)`);
  const sql = `${chWithClause(ctes)}SELECT f, k,
  toInt64(sumIf(cell_size, complete)) AS users, toInt64(sumIf(cell_retained, complete)) AS retained, toInt64(sumIf(cell_size, NOT complete)) AS pending
FROM (
  SELECT f, k, cell_size, cell_retained, ${chAddIntervals(interval, 'c', 'k + 1')} <= addDays(${params.bind(through, 'Date32')}, 1) AS complete
  FROM ul_cells
)
GROUP BY f, k
ORDER BY f, k`;
  return { sql, params: params.values };
}

/** Local dates of the warehouse's first and last event (buildDataBoundsQuery's row; NULLs when empty). */
export function chDataBoundsQuery(timezone: string): ClickhouseQuery {
  const params = new ClickhouseParams();
  const tz = params.bind(timezone);
  return {
    sql: `SELECT if(count() = 0, NULL, toString(toDate32(min(occurred_at), ${tz}))) AS data_from,
       if(count() = 0, NULL, toString(toDate32(max(occurred_at), ${tz}))) AS data_through
FROM events`,
    params: params.values,
  };
}
