/**
 * Retention in ClickHouse SQL: the counterpart of retention-query.ts, returning the same rows (bounds, interval
 * starts, and (cohort, breakdown value, pattern, count, max_base)) so retention-tally.ts adds up both engines'
 * rows alike. Differences of means, not of meaning:
 *
 * - No zone-offset table: ClickHouse converts each instant to its local day itself (toDate32 in the zone), which
 *   is cheap there, so interval numbers come straight from the local date.
 * - One scan of `events` per statement (ClickHouse evaluates a CTE once per reference): the per-(person,
 *   interval) rows are regrouped per person into arrays, and each cohort entry's pattern is read from its
 *   person's arrays after an ARRAY JOIN, where DuckDB joins materialized CTEs.
 * - Everything per person stays in one GROUP BY person_id, so on a cluster (events sharded by person) the work is
 *   shard-local until the final count by pattern.
 *
 * Every name and value is a bound parameter; the statement text depends only on the definition's shape.
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { chAddIntervals, chBucketStart, chDateText, chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { SEGMENT_PREFIX } from '../common/scope-rules.js';
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import { chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import { US_PER_HOUR } from './local-time.js';
import { ROLLING_HOURS } from './retention-buckets.js';
import { ANY_EVENT } from './retention-presets.js';
import type { RetentionPlan } from './retention-query.js';
import type { ResolvedEventRef, RetentionSettings } from './retention-settings.js';

const E = 'e';
/** Alias of the per-person rows that person-level conditions (segment, exclude) apply to. */
const P = 'c';

/** Day number (since 1970-01-01) of the first week start: 1970-01-05 was a Monday (retention-buckets.ts). */
const WEEK_ANCHOR_DAY: Record<WeekStart, number> = { monday: 4, sunday: 3, saturday: 2 };

/** The plan without DuckDB's zone offsets, which ClickHouse does not need. */
export type ClickhouseRetentionPlan = Omit<RetentionPlan, 'offsets'>;

const int64 = (params: ClickhouseParams, value: number): string => params.bind(value, 'Int64');

/** Instant of epoch microseconds (an Int64 expression) as DateTime64(6, 'UTC'). */
const instantOf = (us: string): string => `fromUnixTimestamp64Micro(${us}, 'UTC')`;

/**
 * The interval number (retention-buckets.ts) of an instant: day n since 1970-01-01 local, week n since the first
 * configured weekday of 1970, month n since January 1970. Floors, also before 1970 (the offset keeps intDiv's
 * dividend positive).
 */
function bucketIndex(interval: CalendarInterval, instant: string, tz: string, weekStart: WeekStart): string {
  const day = `toInt64(toDate32(${instant}, ${tz}))`;
  if (interval === 'day') return day;
  if (interval === 'week') return `(intDiv(${day} - ${WEEK_ANCHOR_DAY[weekStart]} + 7000000, 7) - 1000000)`;
  return `((toYear(toDate32(${instant}, ${tz})) - 1970) * 12 + toMonth(toDate32(${instant}, ${tz})) - 1)`;
}

/** buildBoundsQuery (retention-query.ts) on ClickHouse: lo_us, hi_us, emax_us, first_date, last_date; no row when there is nothing to count. */
export function chBoundsQuery(scope: AnalysisScope, interval: CalendarInterval, timezone: string, weekStart: WeekStart): ClickhouseQuery {
  const params = new ClickhouseParams();
  const tz = params.bind(timezone);
  const range = scope.date_range ?? null;
  const micros = (instant: string): string => `toUnixTimestamp64Micro(${instant})`;
  const lo = range === null ? 'emin' : micros(chLocalMidnight(params.bind(range.from, 'Date32'), tz));
  const hi = range === null ? 'emax + 1' : micros(chLocalMidnight(`addDays(${params.bind(range.to, 'Date32')}, 1)`, tz));
  const sql = `SELECT lo AS lo_us, hi AS hi_us, emax AS emax_us,
  ${chDateText(chBucketStart(interval, instantOf('lo'), tz, weekStart))} AS first_date,
  ${chDateText(chBucketStart(interval, instantOf('hi - 1'), tz, weekStart))} AS last_date
FROM (
  SELECT ${lo} AS lo, ${hi} AS hi, emax FROM (
    SELECT minOrNull(toUnixTimestamp64Micro(occurred_at)) AS emin, maxOrNull(toUnixTimestamp64Micro(occurred_at)) AS emax FROM events
  )
)
WHERE lo IS NOT NULL`;
  return { sql, params: params.values };
}

/** buildIntervalStartsQuery on ClickHouse: the instant (epoch µs) each of `count` intervals starts at, from local date `firstDate`. */
export function chIntervalStartsQuery(interval: CalendarInterval, firstDate: string, count: number, timezone: string): ClickhouseQuery {
  const params = new ClickhouseParams();
  const tz = params.bind(timezone);
  const date = chAddIntervals(interval, params.bind(firstDate, 'Date32'), 'toInt64(number)');
  const sql = `SELECT number AS n, toUnixTimestamp64Micro(${chLocalMidnight(date, tz)}) AS start_us
FROM numbers(${params.bind(count, 'UInt64')}) ORDER BY n`;
  return { sql, params: params.values };
}

function eventCondition(ref: ResolvedEventRef, params: ClickhouseParams): string {
  const parts = ref.event === ANY_EVENT ? [] : [`${E}.event_name = ${params.bind(ref.event)}`];
  for (const [name, value] of Object.entries(ref.where)) parts.push(chFilterCondition(parseEventField(name)!, value, params, E));
  return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
}

export interface ClickhouseRetentionInput {
  scope: AnalysisScope;
  settings: RetentionSettings;
  plan: ClickhouseRetentionPlan;
  weekStart: WeekStart;
  scopeOptions: ScopeOptions;
}

interface Pieces {
  params: ClickhouseParams;
  ctes: string[];
  /** One row per event that may matter: person_id, t (epoch µs), b (interval number), tgt, ret, bd, id. */
  scan: string;
  personConditions: string[];
  /** The breakdown value of a cohort entry: of the per-person row `c` (segment) or of the entry (`row.4`). */
  breakdown: string;
  lo: string;
  hi: string;
}

function pieces(input: ClickhouseRetentionInput): Pieces {
  const { scope, settings, plan } = input;
  const params = new ClickhouseParams();
  const segmentBreakdown = scope.breakdown != null && scope.breakdown.startsWith(SEGMENT_PREFIX);
  const fieldBreakdown = scope.breakdown != null && !segmentBreakdown;
  // Event-level: global filters and a field breakdown (its value on the cohort-entry event).
  const events = buildClickhouseScope({ where: scope.where ?? null, exclude: [], breakdown: fieldBreakdown ? scope.breakdown! : null }, params, E, input.scopeOptions);
  // Person-level: segment, exclusions and a segment breakdown, applied to per-person rows.
  const people = buildClickhouseScope({ segment: scope.segment ?? null, exclude: scope.exclude, breakdown: segmentBreakdown ? scope.breakdown! : null }, params, P, input.scopeOptions);
  const firstTime = settings.cohort === 'first_time';
  const tz = params.bind(input.scopeOptions.timezone);
  const lo = int64(params, plan.loUs);
  const hi = int64(params, plan.hiUs);
  const t = `toUnixTimestamp64Micro(${E}.occurred_at)`;
  const at = `${E}.occurred_at`;
  const loTs = instantOf(lo);
  const hiTs = instantOf(hi);
  const target = eventCondition(settings.target, params);
  const returning = eventCondition(settings.returning, params);
  // Recurring cohorts enter only in the range; a first-time cohort is the first target event ever, checked later.
  const tgt = firstTime ? target : `(${target} AND ${at} >= ${loTs} AND ${at} < ${hiTs})`;
  const where = [...events.conditions, `${at} < ${instantOf(int64(params, plan.scanHiUs))}`, firstTime ? `(${at} >= ${loTs} OR ${target})` : `${at} >= ${loTs}`];
  if (target !== 'true' && returning !== 'true') where.push(`(${target} OR ${returning})`);
  const scan = `SELECT ${E}.person_id AS person_id, ${t} AS t, ${bucketIndex(settings.interval, at, tz, input.weekStart)} AS b,
    ${tgt} AS tgt, (${returning} AND ${at} >= ${loTs}) AS ret,
    ${fieldBreakdown ? events.breakdown : 'CAST(NULL AS Nullable(String))'} AS bd, ${fieldBreakdown ? `toString(${E}.event_id)` : "''"} AS id
  FROM events AS ${E}
  WHERE ${where.join('\n    AND ')}`;
  return {
    params,
    ctes: [...events.ctes, ...people.ctes],
    scan,
    personConditions: people.conditions,
    breakdown: segmentBreakdown ? people.breakdown : fieldBreakdown ? 'row.4' : 'CAST(NULL AS Nullable(String))',
    lo,
    hi,
  };
}

/**
 * Which of a person's cohort rows are cohort entries: recurring, every interval with a target event in the range;
 * first-time, the interval of the person's first target event ever, if it lies in the range.
 */
function entryCondition(settings: RetentionSettings, p: Pieces): string {
  const entry = 'row.2';
  if (settings.cohort === 'recurring') return `${entry} IS NOT NULL`;
  return `${entry} IS NOT NULL AND ${entry} = ${P}.first_ever AND ${entry} >= ${p.lo} AND ${entry} < ${p.hi}`;
}

/** The breakdown value of the target event with the least (time, event id) among a group's rows (NULL kept). */
const ENTRY_BREAKDOWN = 'argMinIf(tuple(bd), (t, id), tgt).1';

/**
 * Calendar intervals (buildCalendarQuery): per (person, interval) the first target event and the returning events;
 * per person the intervals with ≥ N returning events. An entry in interval b is retained in k ≥ 1 when interval
 * b + k is among them, and in k = 0 when N returning events fall at or after the entry instant within b.
 */
export function chCalendarQuery(input: ClickhouseRetentionInput): ClickhouseQuery {
  const { settings } = input;
  const p = pieces(input);
  const { params } = p;
  const n = params.bind(settings.min_occurrences, 'UInt64');
  const k = params.bind(settings.intervals, 'UInt64');
  // The N-th latest returning instant of the interval: interval 0 is retained when it is at or after the entry.
  const sql = `${chWithClause(p.ctes)}SELECT b, bd, pattern, count() AS n, max(entry) AS max_base FROM (
  SELECT row.1 AS b, row.2 AS entry, ${p.breakdown} AS bd,
    concat(if(ifNull(row.3 >= row.2, false), '1', '0'), arrayStringConcat(arrayMap(j -> if(has(${P}.returned, row.1 + j), '1', '0'), range(1, ${k} + 1)))) AS pattern
  FROM (
    SELECT person_id, groupArray((b, entry, k0_t, entry_bd)) AS rows, groupArrayIf(b, n_ret >= ${n}) AS returned, min(entry) AS first_ever
    FROM (
      SELECT person_id, b, minIfOrNull(t, tgt) AS entry, ${ENTRY_BREAKDOWN} AS entry_bd, countIf(ret) AS n_ret,
        if(n_ret >= ${n}, -arrayElement(groupArraySortedIf(${n})(-t, ret), ${n}), NULL) AS k0_t
      FROM (${p.scan})
      GROUP BY person_id, b
    )
    GROUP BY person_id
  ) AS ${P}
  ARRAY JOIN ${P}.rows AS row
  WHERE ${p.personConditions.join(' AND ')}
    AND ${entryCondition(settings, p)}
)
GROUP BY b, bd, pattern`;
  return { sql, params: params.values };
}

/**
 * Rolling intervals (buildRollingQuery): interval k of an entry is [base + k·L, base + (k+1)·L) with base the
 * entry instant (or its hour with round_to_hour) and L = 24 h, 7 × 24 h or 30 × 24 h; only returning events at or
 * after the entry count. Each entry is compared with its person's returning instants (one array per person).
 */
export function chRollingQuery(input: ClickhouseRetentionInput): ClickhouseQuery {
  const { settings } = input;
  const p = pieces(input);
  const { params } = p;
  const lengthUs = ROLLING_HOURS[settings.interval] * US_PER_HOUR;
  const length = int64(params, lengthUs);
  const k = params.bind(settings.intervals, 'UInt64');
  const n = params.bind(settings.min_occurrences, 'UInt64');
  const hour = int64(params, US_PER_HOUR);
  // Amplitude rounds the entry down to the (UTC) hour; with t ≥ entry, floor((t − hour(entry)) / L) is its interval.
  const base = settings.round_to_hour ? `(row.2 - ((row.2 % ${hour}) + ${hour}) % ${hour})` : 'row.2';
  const sql = `${chWithClause(p.ctes)}SELECT b, bd, pattern, count() AS n, max(base) AS max_base FROM (
  SELECT row.1 AS b, row.2 AS entry, ${base} AS base, ${p.breakdown} AS bd,
    arrayMap(j -> intDiv(j - base, ${length}), arrayFilter(j -> j >= entry AND j < base + (${k} + 1) * ${length}, ${P}.returning)) AS hits,
    arrayStringConcat(arrayMap(j -> if(countEqual(hits, j) >= ${n}, '1', '0'), range(0, ${k} + 1))) AS pattern
  FROM (
    SELECT person_id, groupArrayIf((b, entry, CAST(NULL AS Nullable(Int64)), entry_bd), entry IS NOT NULL) AS rows,
      arrayFlatten(groupArray(ret_t)) AS returning, min(entry) AS first_ever
    FROM (
      SELECT person_id, b, minIfOrNull(t, tgt) AS entry, ${ENTRY_BREAKDOWN} AS entry_bd, groupArrayIf(t, ret) AS ret_t
      FROM (${p.scan})
      GROUP BY person_id, b
    )
    GROUP BY person_id
  ) AS ${P}
  ARRAY JOIN ${P}.rows AS row
  WHERE ${p.personConditions.join(' AND ')}
    AND ${entryCondition(settings, p)}
)
GROUP BY b, bd, pattern`;
  return { sql, params: params.values };
}
