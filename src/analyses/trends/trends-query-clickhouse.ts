/**
 * Trends in ClickHouse SQL: the counterpart of trends-query.ts, returning rows with the same columns and meaning
 * so trends-points.ts shapes both engines' rows alike. ClickHouse evaluates a CTE once per reference, so each
 * statement reads `ul_keyed` (one scan of events) exactly once; where the DuckDB side UNIONs two readings of one
 * CTE, this side fans rows out with ARRAY JOIN or groups by GROUPING SETS instead. There is no temp table of
 * person-days: each statement that needs it derives it from its own scan. Distinct counts are uniqExact.
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { chAddIntervals, chBucketStart, chDayBucket, chLocalDay, chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import { chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import type { TrendsDefinition, TrendsSeriesDefinition } from './trends-definition.js';
import { ANY_EVENT } from './trends-options.js';
import { NO_BREAKDOWN, type KeyPlan, type ReadWindow, type TrendsQueryOptions } from './trends-query.js';

function seriesCondition(series: TrendsSeriesDefinition, params: ClickhouseParams): string {
  const parts: string[] = [];
  if (series.event !== ANY_EVENT) parts.push(`e.event_name = ${params.bind(series.event)}`);
  for (const [name, value] of Object.entries(series.where ?? {})) parts.push(chFilterCondition(parseEventField(name)!, value, params, 'e'));
  return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
}

/**
 * The CTEs of the scan: `ul_keyed(k, bd, person, ts, day, bucket)` as in trends-query.ts: `k` the series key, `bd`
 * the breakdown value (Nullable(String)), `day` the local Date, `bucket` the first day of its interval.
 */
function scanCtes(def: TrendsDefinition, params: ClickhouseParams, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan): string[] {
  const scope = buildClickhouseScope({ ...def, date_range: null }, params, 'e', { kind: 'trends', timezone: options.timezone, segments: options.segments });
  const tz = params.bind(options.timezone);
  const lo = chLocalMidnight(params.bind(window.from, 'Date32'), tz);
  const hi = chLocalMidnight(params.bind(window.toExclusive, 'Date32'), tz);
  const conditions = [...scope.conditions, `e.occurred_at >= ${lo}`, `e.occurred_at < ${hi}`];
  const series = def.events.map((s) => seriesCondition(s, params));
  let seriesIndex: string;
  if (series.length === 1) {
    seriesIndex = '0';
    conditions.push(series[0]!);
  } else {
    // One row per series the event matches, from a single scan (an unknown condition matches no series).
    seriesIndex = `arrayJoin(arrayFilter(x -> x >= 0, [${series.map((c, i) => `if(${c}, ${i}, -1)`).join(', ')}]))`;
    conditions.push(`(${series.join(' OR ')})`);
  }
  let key = 'm.s';
  if (def.breakdown != null) {
    const values = params.bind(plan.values.map((v) => v.value), 'Array(String)');
    const indexes = params.bind(plan.values.map((v) => v.index), 'Array(Int64)');
    const int = (n: number): string => params.bind(n, 'Int64');
    key = `m.s * ${int(plan.stride)} + multiIf(m.bd IS NULL, ${int(plan.nullIndex)}, has(${values}, m.bd), arrayElement(${indexes}, indexOf(${values}, m.bd)), ${int(plan.otherIndex)})`;
  }
  return [
    ...scope.ctes,
    `ul_matched AS (
  SELECT ${seriesIndex} AS s, e.person_id AS person, e.occurred_at AS ts, ${scope.breakdown} AS bd, ${chLocalDay('e.occurred_at', tz)} AS day
  FROM events AS e
  WHERE ${conditions.join('\n    AND ')}
)`,
    `ul_keyed AS (
  SELECT toInt64(${key}) AS k, m.bd AS bd, m.person AS person, m.ts AS ts, m.day AS day, ${chDayBucket(def.interval, 'm.day', options.weekStart)} AS bucket
  FROM ul_matched AS m
)`,
  ];
}

/** Local days of the first and last event in the warehouse (NULL when it is empty). */
export function chDataSpanQuery(timezone: string): ClickhouseQuery {
  const params = new ClickhouseParams();
  const tz = params.bind(timezone);
  return {
    sql: `SELECT if(count() = 0, NULL, toString(toDate32(min(occurred_at), ${tz}))) AS first_day,
       if(count() = 0, NULL, toString(toDate32(max(occurred_at), ${tz}))) AS last_day
FROM events`,
    params: params.values,
  };
}

/** Breakdown values ranked by their events on the counted days, then by value, absent last; `limit + 1` rows. */
export function chBreakdownRankQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, counted: { from: string; to: string }, limit: number): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = scanCtes(def, params, options, window, NO_BREAKDOWN);
  const sql = `${chWithClause(ctes)}SELECT bd AS value, countIf(day >= ${params.bind(counted.from, 'Date32')} AND day <= ${params.bind(counted.to, 'Date32')}) AS events
FROM ul_keyed
GROUP BY bd
ORDER BY events DESC, value ASC NULLS LAST
LIMIT ${params.bind(limit + 1, 'UInt64')}`;
  return { sql, params: params.values };
}

/** Events (and distinct people) per series key and interval, and per key over the whole read window (`whole` 1). */
export function chCountsQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, people: boolean): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = scanCtes(def, params, options, window, plan);
  // grouping() is 1 for the set without bucket, where ClickHouse fills bucket with a default, not NULL.
  const sql = `${chWithClause(ctes)}SELECT k, if(grouping(bucket) = 1, NULL, toString(bucket)) AS period, toInt32(grouping(bucket)) AS whole,
  count() AS events${people ? ', uniqExact(person) AS people' : ''}
FROM ul_keyed
GROUP BY GROUPING SETS ((k, bucket), (k))`;
  return { sql, params: params.values };
}

/** The distinct (series key, person, local day) of the events read. */
function personDaysCte(): string {
  return `ul_person_days AS (SELECT DISTINCT k, person, day FROM ul_keyed)`;
}

/**
 * DAU, WAU and MAU of every day from..to per series key: the difference array of trends-query.ts
 * buildDailyActiveQuery (same gaps, same +n / −n rows, same running sums), with the delta rows of a person-day
 * group fanned out by ARRAY JOIN and the running sums read back for each day of the range from one sorted array
 * per key (the last sum at or before the day; none yet means zero).
 */
export function chDailyActiveQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, range: { from: string; to: string }, wau: number, mau: number): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = scanCtes(def, params, options, window, plan);
  const from = params.bind(range.from, 'Date32');
  const to = params.bind(range.to, 'Date32');
  const longest = params.bind(Math.max(wau, mau), 'Int64');
  const delta = (w: number, slot: 0 | 1 | 2): string[] => {
    const n = params.bind(w, 'Int64');
    const tuple = (d: string, v: string): string => `(${d}, ${[0, 1, 2].map((i) => (i === slot ? v : 'toInt64(0)')).join(', ')})`;
    return [tuple(`addDays(day, greatest(0, ${n} - g))`, 'toInt64(n)'), tuple(`addDays(day, ${n})`, '-toInt64(n)')];
  };
  const deltas = [...delta(1, 0), ...delta(wau, 1), ...delta(mau, 2)];
  ctes.push(personDaysCte());
  ctes.push(`ul_gaps AS (
  SELECT k, day, least(ifNull(gap, ${longest}), ${longest}) AS g, count() AS n
  FROM (
    SELECT k, day, dateDiff('day', lagInFrame(toNullable(day)) OVER (PARTITION BY k, person ORDER BY day ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), day) AS gap
    FROM ul_person_days
  )
  GROUP BY k, day, g
)`);
  ctes.push(`ul_delta AS (
  SELECT k, t.1 AS d, t.2 AS dau, t.3 AS wau, t.4 AS mau
  FROM ul_gaps
  ARRAY JOIN [${deltas.join(', ')}] AS t
)`);
  ctes.push(`ul_cum AS (
  SELECT k, d, sum(sum(dau)) OVER w AS cdau, sum(sum(wau)) OVER w AS cwau, sum(sum(mau)) OVER w AS cmau
  FROM ul_delta
  GROUP BY k, d
  WINDOW w AS (PARTITION BY k ORDER BY d ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)`);
  ctes.push(`ul_points AS (
  SELECT k, arraySort(groupArray((d, cdau, cwau, cmau))) AS pts
  FROM ul_cum
  WHERE d <= ${to}
  GROUP BY k
)`);
  const sql = `${chWithClause(ctes)}SELECT k, toString(day) AS day, toInt64(p.2) AS dau, toInt64(p.3) AS wau, toInt64(p.4) AS mau
FROM (
  SELECT k, day, arrayElement(pts, arrayLastIndex(x -> x.1 <= day, pts)) AS p
  FROM ul_points
  ARRAY JOIN arrayMap(i -> addDays(${from}, i), range(toUInt32(dateDiff('day', ${from}, ${to}) + 1))) AS day
)`;
  return { sql, params: params.values };
}

/**
 * People by their number of active days, per series key and interval (`whole` 0) and over the range (`whole` 1,
 * `period` NULL), counting only the days from..to: buildActiveDaysQuery's rows, from one pass (each person's
 * intervals and range total fanned out by ARRAY JOIN).
 */
export function chActiveDaysQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, range: { from: string; to: string }, interval: CalendarInterval, weekStart: WeekStart): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = scanCtes(def, params, options, window, plan);
  ctes.push(personDaysCte());
  ctes.push(`ul_person_period AS (
  SELECT k, person, ${chDayBucket(interval, 'day', weekStart)} AS period_start, count() AS n
  FROM ul_person_days
  WHERE day >= ${params.bind(range.from, 'Date32')} AND day <= ${params.bind(range.to, 'Date32')}
  GROUP BY k, person, period_start
)`);
  ctes.push(`ul_person AS (
  SELECT k, person, groupArray((toNullable(toString(period_start)), toUInt8(0), toUInt64(n))) AS per, sum(n) AS total
  FROM ul_person_period
  GROUP BY k, person
)`);
  const sql = `${chWithClause(ctes)}SELECT k, t.1 AS period, toInt32(t.2) AS whole, toInt64(t.3) AS days, count() AS people
FROM ul_person
ARRAY JOIN arrayConcat(per, [(CAST(NULL AS Nullable(String)), toUInt8(1), toUInt64(total))]) AS t
GROUP BY k, period, whole, days`;
  return { sql, params: params.values };
}

/** Lifecycle statuses per series key and interval: buildLifecycleQuery's rows and rules. */
export function chLifecycleQuery(
  def: TrendsDefinition,
  options: TrendsQueryOptions,
  periods: { firstStart: string; lastStart: string; previousStart: string; endExclusive: string },
  readFrom: string,
  plan: KeyPlan,
  newBy: 'first_activity' | 'first_seen',
): ClickhouseQuery {
  const params = new ClickhouseParams();
  const ctes = scanCtes(def, params, options, { from: readFrom, toExclusive: periods.endExclusive }, plan);
  const interval = def.interval;
  const prevOf = chAddIntervals(interval, 'q.bucket', '-1');
  const nextOf = chAddIntervals(interval, 'q.bucket', '1');
  ctes.push(`ul_act AS (
  SELECT k, person, if(bucket >= ${params.bind(periods.previousStart, 'Date32')}, toNullable(bucket), NULL) AS recent, min(bucket) AS first_recent
  FROM ul_keyed
  GROUP BY k, person, recent
)`);
  ctes.push(`ul_seq AS (
  SELECT k, person, recent AS bucket,
         min(first_recent) OVER (PARTITION BY k, person) AS first_bucket,
         lagInFrame(recent) OVER p AS prev, leadInFrame(recent) OVER p AS next
  FROM ul_act
  WINDOW p AS (PARTITION BY k, person ORDER BY recent ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)`);
  let firstRef = 'q.first_bucket';
  let join = '';
  if (newBy === 'first_seen') {
    const tz = params.bind(options.timezone);
    ctes.push(`ul_first_seen AS (
  SELECT person_id AS fs_person, ${chBucketStart(interval, 'min(occurred_at)', tz, options.weekStart)} AS fs_bucket
  FROM events WHERE person_id IS NOT NULL GROUP BY person_id
)`);
    firstRef = 'f.fs_bucket';
    join = ' LEFT JOIN ul_first_seen AS f ON f.fs_person = q.person';
  }
  // Each interval a person was active gives its status, and a dormant row for the next interval when the person
  // is not active in it: both from one reading of ul_seq.
  ctes.push(`ul_status AS (
  SELECT k, t.1 AS pd, t.2 AS status
  FROM (
    SELECT q.k AS k,
           arrayConcat([(q.bucket, multiIf(q.bucket = ${firstRef}, 'new', q.prev = ${prevOf}, 'returning', 'resurrecting'))],
                       if(q.next IS NULL OR q.next != ${nextOf}, [(${nextOf}, 'dormant')], [])) AS rows
    FROM ul_seq AS q${join}
    WHERE q.bucket IS NOT NULL
  )
  ARRAY JOIN rows AS t
)`);
  const sql = `${chWithClause(ctes)}SELECT k, toString(pd) AS period, status, count() AS people
FROM ul_status
WHERE pd >= ${params.bind(periods.firstStart, 'Date32')} AND pd <= ${params.bind(periods.lastStart, 'Date32')}
GROUP BY k, pd, status`;
  return { sql, params: params.values };
}
