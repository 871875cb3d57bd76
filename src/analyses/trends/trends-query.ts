/**
 * Trends as SQL (DuckDB dialect). Every query starts from one scan of `events` (`ul_keyed`): the in-scope events
 * of the read window, one row per event and series it matches, with its series key, local day and interval
 * start. Unique counts are always computed from person ids for the period asked (never summed across periods);
 * DAU/WAU/MAU come from a difference array over person-days, so a window of any length costs one pass.
 * Values are bound parameters; the statement text depends only on the shape of the definition.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import { ANY_EVENT } from './trends-options.js';
import { buildScope, withClause } from '../common/scope-sql.js';
import type { BuiltQuery } from '../common/run-support.js';
import { addIntervals, bucketStart, type CalendarInterval, type WeekStart } from '../common/time-buckets.js';
import type { SegmentDefinition } from '../segment/segment-definition.js';
import { filterCondition, parseEventField } from '../event-fields.js';
import type { TrendsDefinition, TrendsSeriesDefinition } from './trends-definition.js';

export interface TrendsQueryOptions {
  timezone: string;
  weekStart: WeekStart;
  segments?: ReadonlyMap<string, SegmentDefinition>;
}

/**
 * How an event becomes a series key: k = series index × stride + value index. One integer instead of (series,
 * value) keeps every grouping and window of the queries on a single small key. Without a breakdown, k = series.
 */
export interface KeyPlan {
  /** Series keys per definition series (breakdown values, "other" included). */
  stride: number;
  /** Kept non-null breakdown values and their index. */
  values: { value: string; index: number }[];
  /** Index of the absent value: its own when kept, else the "other" index. */
  nullIndex: number;
  /** Index of every value that was not kept. */
  otherIndex: number;
}

export const NO_BREAKDOWN: KeyPlan = { stride: 1, values: [], nullIndex: 0, otherIndex: 0 };

/** Local days whose events are read: from `from` to the day before `toExclusive`. */
export interface ReadWindow {
  from: string;
  toExclusive: string;
}

/** The instant local midnight of `day` starts, in the configured zone (DST-safe). */
function localMidnight(params: BoundParams, tz: string, day: string): string {
  return `timezone(${tz}, CAST(CAST(${params.bind(day)} AS DATE) AS TIMESTAMP))`;
}

const US_PER_HOUR = 3_600_000_000;
const US_PER_DAY = 86_400_000_000;

/**
 * The UTC offset (µs) of every hour of the read window in which it does not change. Converting each event with
 * ICU (timezone(tz, instant)) costs about six times the scan; instead an event's local day is computed from the
 * offset of its hour, which is exact wherever the offset is constant over the hour. Hours holding an offset change
 * (DST), and the first two days of 1970 (where integer division would round the wrong way), have no row: their
 * events are converted with ICU.
 */
function hourOffsetsCte(lo: string, hi: string, tz: string): string {
  const at = (us: string): string => `epoch_us(timezone(${tz}, make_timestamptz(${us}))) - (${us})`;
  return `ul_hours AS (
  SELECT h, CASE WHEN o0 = o1 THEN o0 END AS off
  FROM (
    SELECT h, ${at(`h * ${US_PER_HOUR}`)} AS o0, ${at(`h * ${US_PER_HOUR} + ${US_PER_HOUR - 1}`)} AS o1
    FROM range(greatest(48, epoch_us(${lo}) // ${US_PER_HOUR}), epoch_us(${hi}) // ${US_PER_HOUR} + 1) r(h)
  )
)`;
}

/** The local DATE of `instant` (a column of `events e` joined with `ul_hours hr`). */
function localDay(instant: string, tz: string): string {
  return `CASE WHEN hr.off IS NULL THEN CAST(timezone(${tz}, ${instant}) AS DATE)
              ELSE CAST(DATE '1970-01-01' + CAST((epoch_us(${instant}) + hr.off) // ${US_PER_DAY} AS INTEGER) AS DATE) END`;
}

/** Days from Monday to the configured first day of the week (as in time-buckets.ts, for a DATE instead of an instant). */
const WEEK_OFFSET_DAYS: Record<WeekStart, number> = { monday: 0, sunday: 6, saturday: 5 };

/** The first day of the interval holding the local DATE `day`. */
function dayBucket(interval: CalendarInterval, day: string, weekStart: WeekStart): string {
  if (interval === 'day') return day;
  if (interval === 'month') return `CAST(date_trunc('month', ${day}) AS DATE)`;
  const offset = WEEK_OFFSET_DAYS[weekStart];
  if (offset === 0) return `CAST(date_trunc('week', ${day}) AS DATE)`;
  return `CAST(date_trunc('week', ${day} - ${offset}) AS DATE) + ${offset}`;
}

function seriesCondition(series: TrendsSeriesDefinition, params: BoundParams): string {
  const parts: string[] = [];
  if (series.event !== ANY_EVENT) parts.push(`e.event_name = ${params.bind(series.event)}`);
  for (const [name, value] of Object.entries(series.where ?? {})) parts.push(filterCondition(parseEventField(name)!, value, params, 'e'));
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

/**
 * The CTEs of the scan: `ul_keyed(k, bd, person, ts, day, bucket)`: `k` the series key, `bd` the raw breakdown
 * value (text), `day` the local date, `bucket` the first day of its interval.
 */
function scanCtes(def: TrendsDefinition, params: BoundParams, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan): string[] {
  const scope = buildScope({ ...def, date_range: null }, params, 'e', { kind: 'trends', timezone: options.timezone, segments: options.segments });
  const tz = params.bind(options.timezone);
  const lo = localMidnight(params, tz, window.from);
  const hi = localMidnight(params, tz, window.toExclusive);
  const conditions = [...scope.conditions, `e.occurred_at >= ${lo}`, `e.occurred_at < ${hi}`];
  const series = def.events.map((s) => seriesCondition(s, params));
  let seriesIndex: string;
  if (series.length === 1) {
    seriesIndex = '0';
    conditions.push(series[0]!);
  } else {
    // One row per series the event matches, from a single scan.
    seriesIndex = `unnest([${series.map((c, i) => `CASE WHEN ${c} THEN ${i} END`).join(', ')}])`;
    conditions.push(`(${series.join(' OR ')})`);
  }
  const int = (n: number): string => `CAST(${params.bind(n)} AS INTEGER)`;
  const ctes = [...scope.ctes, hourOffsetsCte(lo, hi, tz)];
  let key = 'm.s';
  let join = '';
  if (def.breakdown != null) {
    let kept = 'CAST(NULL AS INTEGER)';
    if (plan.values.length > 0) {
      ctes.push(`ul_values AS (SELECT * FROM (VALUES ${plan.values.map((v) => `(CAST(${params.bind(v.value)} AS VARCHAR), ${int(v.index)})`).join(', ')}) v(val, idx))`);
      join = ' LEFT JOIN ul_values v ON v.val = m.bd';
      kept = 'v.idx';
    }
    key = `m.s * ${int(plan.stride)} + COALESCE(${kept}, CASE WHEN m.bd IS NULL THEN ${int(plan.nullIndex)} ELSE ${int(plan.otherIndex)} END)`;
  }
  ctes.push(`ul_matched AS (
  SELECT ${seriesIndex} AS s, e.person_id AS person, e.occurred_at AS ts, ${scope.breakdown} AS bd,
         ${localDay('e.occurred_at', tz)} AS day
  FROM events e LEFT JOIN ul_hours hr ON hr.h = epoch_us(e.occurred_at) // ${US_PER_HOUR}
  WHERE ${conditions.join('\n    AND ')}
)`);
  ctes.push(`ul_keyed AS (
  SELECT ${key} AS k, m.bd, m.person, m.ts, m.day, ${dayBucket(def.interval, 'm.day', options.weekStart)} AS bucket
  FROM ul_matched m${join}
  WHERE m.s IS NOT NULL
)`);
  return ctes;
}

/** Local days of the first and last event in the warehouse (any event). */
export function buildDataSpanQuery(timezone: string): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(timezone);
  return {
    sql: `SELECT CAST(CAST(timezone(${tz}, min(occurred_at)) AS DATE) AS VARCHAR) AS first_day,
       CAST(CAST(timezone(${tz}, max(occurred_at)) AS DATE) AS VARCHAR) AS last_day
FROM events`,
    params: [...params.values],
  };
}

/**
 * Breakdown values of the events read, ranked by their matching events on the counted days (then by value,
 * absent last); `limit + 1` rows, so the caller knows whether any value is left over.
 */
export function buildBreakdownRankQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, counted: { from: string; to: string }, limit: number): BuiltQuery {
  const params = new BoundParams();
  const ctes = scanCtes(def, params, options, window, NO_BREAKDOWN);
  const sql = `${withClause(ctes)}SELECT bd AS value,
  count(*) FILTER (WHERE day >= CAST(${params.bind(counted.from)} AS DATE) AND day <= CAST(${params.bind(counted.to)} AS DATE)) AS events
FROM ul_keyed
GROUP BY bd
ORDER BY events DESC, value ASC NULLS LAST
LIMIT ${params.bind(limit + 1)}`;
  return { sql, params: [...params.values] };
}

/**
 * Events (and, when asked, distinct people) per series key and interval, and per series key over the whole read
 * window (`whole` = 1, `period` NULL): the whole-range people are counted, not summed.
 */
export function buildCountsQuery(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, people: boolean): BuiltQuery {
  const params = new BoundParams();
  const ctes = scanCtes(def, params, options, window, plan);
  const sql = `${withClause(ctes)}SELECT k, CAST(bucket AS VARCHAR) AS period, CAST(GROUPING(bucket) AS INTEGER) AS whole,
  count(*) AS events${people ? ', count(DISTINCT person) AS people' : ''}
FROM ul_keyed
GROUP BY GROUPING SETS ((k, bucket), (k))`;
  return { sql, params: [...params.values] };
}

/** CREATE TEMP TABLE of the distinct (series key, person, local day) of the events read. */
export function buildPersonDaysTable(table: string, def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan): BuiltQuery {
  const params = new BoundParams();
  const ctes = scanCtes(def, params, options, window, plan);
  const sql = `CREATE TEMP TABLE ${quoteIdent(table)} AS
${withClause(ctes)}SELECT DISTINCT k, person, day FROM ul_keyed`;
  return { sql, params: [...params.values] };
}

/**
 * DAU, WAU and MAU of every day from..to per series key, from the person-days table. A person active on day a,
 * whose previous active day was a − g, is in the W-day window of the days a + max(0, W − g) .. a + W − 1 (the
 * days before are already covered by the previous active day): +1 on the first, −1 the day after the last, and
 * a running sum over the days gives the distinct people of each window, each counted once however many active
 * days the window holds. Person-days are first counted by (day, gap capped at the longest window), so the
 * difference array is built from at most days × window rows per key, whatever the number of people.
 */
export function buildDailyActiveQuery(table: string, range: { from: string; to: string }, wau: number, mau: number): BuiltQuery {
  const params = new BoundParams();
  const from = `CAST(${params.bind(range.from)} AS DATE)`;
  const to = `CAST(${params.bind(range.to)} AS DATE)`;
  const longest = `CAST(${params.bind(Math.max(wau, mau))} AS INTEGER)`;
  const window = (w: number, column: string): string => {
    const n = `CAST(${params.bind(w)} AS INTEGER)`;
    const values = (v: string): string => ['dau', 'wau', 'mau'].map((c) => `${c === column ? v : '0'} AS ${c}`).join(', ');
    return `  SELECT k, day + greatest(0, ${n} - g) AS d, ${values('n')} FROM ul_gaps
  UNION ALL SELECT k, day + ${n} AS d, ${values('-n')} FROM ul_gaps`;
  };
  const t = quoteIdent(table);
  const sql = `WITH ul_gaps AS (
  SELECT k, day, least(coalesce(gap, ${longest}), ${longest}) AS g, count(*) AS n
  FROM (SELECT k, day, CAST(day - lag(day) OVER (PARTITION BY k, person ORDER BY day) AS INTEGER) AS gap FROM ${t})
  GROUP BY ALL
),
ul_delta AS (
${window(1, 'dau')}
  UNION ALL
${window(wau, 'wau')}
  UNION ALL
${window(mau, 'mau')}
  UNION ALL
  SELECT k.k, g.d, 0, 0, 0
  FROM (SELECT DISTINCT k FROM ul_gaps) k
  CROSS JOIN (SELECT CAST(unnest(generate_series(${from}, ${to}, INTERVAL 1 DAY)) AS DATE) AS d) g
),
ul_cum AS (
  SELECT k, d, sum(sum(dau)) OVER w AS dau, sum(sum(wau)) OVER w AS wau, sum(sum(mau)) OVER w AS mau
  FROM ul_delta
  GROUP BY k, d
  WINDOW w AS (PARTITION BY k ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT k, CAST(d AS VARCHAR) AS day, CAST(dau AS BIGINT) AS dau, CAST(wau AS BIGINT) AS wau, CAST(mau AS BIGINT) AS mau
FROM ul_cum
WHERE d >= ${from} AND d <= ${to}`;
  return { sql, params: [...params.values] };
}

/**
 * People by their number of active days, per series key and interval (`whole` 0) and over the whole range
 * (`whole` 1, `period` NULL), counting only the days from..to. Summed over `days`, it is the distinct people.
 */
export function buildActiveDaysQuery(table: string, range: { from: string; to: string }, interval: CalendarInterval, weekStart: WeekStart): BuiltQuery {
  const params = new BoundParams();
  const inRange = `day >= CAST(${params.bind(range.from)} AS DATE) AND day <= CAST(${params.bind(range.to)} AS DATE)`;
  // Daily: each person-day row is already one person with one active day in its interval (no grouping needed).
  const personPeriod =
    interval === 'day'
      ? `SELECT k, day AS bucket, person, 1 AS n FROM ${quoteIdent(table)} WHERE ${inRange}`
      : `SELECT k, ${dayBucket(interval, 'day', weekStart)} AS bucket, person, count(*) AS n FROM ${quoteIdent(table)} WHERE ${inRange} GROUP BY ALL`;
  const sql = `WITH ul_person_period AS ${interval === 'day' ? 'NOT MATERIALIZED' : 'MATERIALIZED'} (
  ${personPeriod}
)
SELECT k, CAST(bucket AS VARCHAR) AS period, 0 AS whole, n AS days, count(*) AS people
FROM ul_person_period
GROUP BY k, bucket, n
UNION ALL
SELECT k, NULL AS period, 1 AS whole, n AS days, count(*) AS people
FROM (SELECT k, person, sum(n) AS n FROM ul_person_period GROUP BY k, person)
GROUP BY k, n`;
  return { sql, params: [...params.values] };
}

/**
 * Lifecycle status counts per series key and interval, for the intervals starting firstStart..lastStart. Reads
 * from `readFrom` (the first day of data: all history) to the end of lastStart's interval: the person's first
 * interval ever (with first_seen: of any event) decides "new"; activity in the interval before firstStart decides
 * the first interval's statuses. A row per (key, period, status) with its number of people; dormant counts are
 * positive here.
 */
export function buildLifecycleQuery(
  def: TrendsDefinition,
  options: TrendsQueryOptions,
  periods: { firstStart: string; lastStart: string; previousStart: string; endExclusive: string },
  readFrom: string,
  plan: KeyPlan,
  newBy: 'first_activity' | 'first_seen',
): BuiltQuery {
  const params = new BoundParams();
  const ctes = scanCtes(def, params, options, { from: readFrom, toExclusive: periods.endExclusive }, plan);
  const interval = def.interval;
  const prevOf = addIntervals(interval, 'q.bucket', '-1');
  const nextOf = addIntervals(interval, 'q.bucket', '1');
  ctes.push(`ul_act AS (
  -- Activity before the previous interval only matters through the first interval ever: one row per person.
  SELECT k, person, CASE WHEN bucket >= CAST(${params.bind(periods.previousStart)} AS DATE) THEN bucket END AS bucket, min(bucket) AS first_bucket
  FROM ul_keyed
  GROUP BY ALL
)`);
  ctes.push(`ul_seq AS (
  SELECT k, person, bucket,
         min(first_bucket) OVER (PARTITION BY k, person) AS first_bucket,
         lag(bucket) OVER p AS prev, lead(bucket) OVER p AS next
  FROM ul_act
  WINDOW p AS (PARTITION BY k, person ORDER BY bucket NULLS FIRST)
)`);
  let firstRef = 'q.first_bucket';
  let join = '';
  if (newBy === 'first_seen') {
    const tz = params.bind(options.timezone);
    ctes.push(`ul_first_seen AS (
  SELECT person_id AS person, ${bucketStart(interval, 'min(occurred_at)', tz, options.weekStart)} AS first_bucket
  FROM events WHERE person_id IS NOT NULL GROUP BY person_id
)`);
    firstRef = 'f.first_bucket';
    join = ' LEFT JOIN ul_first_seen f ON f.person = q.person';
  }
  ctes.push(`ul_status AS (
  SELECT q.k, q.bucket AS period,
         CASE WHEN q.bucket = ${firstRef} THEN 'new' WHEN q.prev = ${prevOf} THEN 'returning' ELSE 'resurrecting' END AS status
  FROM ul_seq q${join}
  WHERE q.bucket IS NOT NULL
  UNION ALL
  SELECT q.k, ${nextOf} AS period, 'dormant' AS status
  FROM ul_seq q
  WHERE q.bucket IS NOT NULL AND (q.next IS NULL OR q.next <> ${nextOf})
)`);
  const sql = `${withClause(ctes)}SELECT k, CAST(period AS VARCHAR) AS period, status, count(*) AS people
FROM ul_status
WHERE period >= CAST(${params.bind(periods.firstStart)} AS DATE) AND period <= CAST(${params.bind(periods.lastStart)} AS DATE)
GROUP BY k, period, status`;
  return { sql, params: [...params.values] };
}
