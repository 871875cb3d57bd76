/**
 * SQL for retention (DuckDB dialect). Three small queries fix the plan — the cohort range and the data's last
 * instant, the zone's offsets over the scanned span, and the instants that start each calendar interval — then
 * one grouped pass over the events computes, per cohort entry, a pattern of '0'/'1' (one character per interval
 * k = 0..intervals: retained or not), counted by (cohort, breakdown value, pattern). TypeScript only adds up
 * those few rows (retention-tally.ts).
 *
 * Every name and value is a bound parameter; the statement text depends only on the definition's shape (and on the
 * number of DST changes in the span read).
 */
import { BoundParams } from '../../sql/bound-params.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import type { BuiltQuery } from '../common/run-support.js';
import { buildScope, withClause, type ScopeOptions } from '../common/scope-sql.js';
import { SEGMENT_PREFIX } from '../common/scope-rules.js';
import { addIntervals, bucketStart, type CalendarInterval, type WeekStart } from '../common/time-buckets.js';
import { filterCondition, parseEventField } from '../event-fields.js';
import { bigintParam, floorDivSql, localMicrosSql, US_PER_HOUR, type ZoneOffsets } from './local-time.js';
import { bucketIndexSql, ROLLING_HOURS } from './retention-buckets.js';
import { ANY_EVENT } from './retention-presets.js';
import type { ResolvedEventRef, RetentionSettings } from './retention-settings.js';

const E = 'e';
/** Alias of the per-(person, interval) rows that person-level conditions (segment, exclude) apply to. */
const P = 'c';

/** What the three planning queries found; all instants are epoch microseconds. */
export interface RetentionPlan {
  /** Cohort entries must fall in [loUs, hiUs). */
  loUs: number;
  hiUs: number;
  /** Interval numbers (retention-buckets.ts) of the first and last cohort. */
  firstBucket: number;
  lastBucket: number;
  /** Events at or after this instant cannot be in any interval shown. */
  scanHiUs: number;
  offsets: ZoneOffsets;
}

/** Columns of the main query's rows. */
export interface PatternRow {
  b: number;
  bd: string | null;
  pattern: string;
  n: number;
  /** Latest instant an interval of these entries is measured from (rolling: the entry, hour-rounded or not). */
  max_base: number;
}

/**
 * The cohort range and the data's extent: [lo, hi) from date_range (local midnights), else from the first event
 * to just after the last; the local dates starting the first and last cohort intervals; the latest event.
 */
export function buildBoundsQuery(scope: AnalysisScope, interval: CalendarInterval, timezone: string, weekStart: WeekStart): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(timezone);
  const range = scope.date_range ?? null;
  const lo = range === null ? 'emin' : `epoch_us(timezone(${tz}, CAST(CAST(${params.bind(range.from)} AS DATE) AS TIMESTAMP)))`;
  const hi = range === null ? 'emax + 1' : `epoch_us(timezone(${tz}, CAST(CAST(${params.bind(range.to)} AS DATE) + 1 AS TIMESTAMP)))`;
  const sql = `WITH span AS (SELECT epoch_us(min(occurred_at)) AS emin, epoch_us(max(occurred_at)) AS emax FROM events),
r AS (SELECT ${lo} AS lo, ${hi} AS hi, emax FROM span)
SELECT lo AS lo_us, hi AS hi_us, emax AS emax_us,
       CAST(${bucketStart(interval, 'make_timestamptz(lo)', tz, weekStart)} AS VARCHAR) AS first_date,
       CAST(${bucketStart(interval, 'make_timestamptz(hi - 1)', tz, weekStart)} AS VARCHAR) AS last_date
FROM r WHERE lo IS NOT NULL`;
  return { sql, params: [...params.values] };
}

/** The instant (epoch µs) at which each of `count` consecutive calendar intervals starts, from local date `firstDate`. */
export function buildIntervalStartsQuery(interval: CalendarInterval, firstDate: string, count: number, timezone: string): BuiltQuery {
  const params = new BoundParams();
  const tz = params.bind(timezone);
  const date = addIntervals(interval, `CAST(${params.bind(firstDate)} AS DATE)`, 'n');
  const sql = `SELECT n, epoch_us(timezone(${tz}, CAST(${date} AS TIMESTAMP))) AS start_us
FROM range(0, ${bigintParam(params, count)}) r(n) ORDER BY n`;
  return { sql, params: [...params.values] };
}

/**
 * bitstring_agg over small whole numbers: the bounds must be constants of the argument's type, and a JS number
 * binds as INTEGER (a bigint would make it HUGEINT, several times slower per row).
 */
function bitsOf(value: string, max: number, params: BoundParams): string {
  return `bitstring_agg(CAST(${value} AS INTEGER), 0, ${params.bind(max)})`;
}

function eventCondition(ref: ResolvedEventRef, params: BoundParams): string {
  const parts = ref.event === ANY_EVENT ? [] : [`${E}.event_name = ${params.bind(ref.event)}`];
  for (const [name, value] of Object.entries(ref.where)) parts.push(filterCondition(parseEventField(name)!, value, params, E));
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

export interface RetentionQueryInput {
  scope: AnalysisScope;
  settings: RetentionSettings;
  plan: RetentionPlan;
  weekStart: WeekStart;
  scopeOptions: ScopeOptions;
}

interface Pieces {
  params: BoundParams;
  ctes: string[];
  /** The `ev` CTE: one row per event that may matter, with its instant, target/returning flags and breakdown value. */
  ev: string;
  /** The grouping keys of `pb`: person, (first-time: whether before the range,) interval number. */
  keys: string;
  fieldBreakdown: boolean;
  personConditions: string[];
  breakdown: string;
  lo: string;
  hi: string;
}

function pieces(input: RetentionQueryInput): Pieces {
  const { scope, settings, plan } = input;
  const params = new BoundParams();
  const segmentBreakdown = scope.breakdown != null && scope.breakdown.startsWith(SEGMENT_PREFIX);
  // Event-level: global filters and a field breakdown (its value on the cohort-entry event).
  const events = buildScope({ where: scope.where ?? null, exclude: [], breakdown: segmentBreakdown ? null : (scope.breakdown ?? null) }, params, E, input.scopeOptions);
  // Person-level: segment, exclusions and a segment breakdown, applied to per-person rows (fewer than events).
  const people = buildScope({ segment: scope.segment ?? null, exclude: scope.exclude, breakdown: segmentBreakdown ? scope.breakdown : null }, params, P, input.scopeOptions);
  const firstTime = settings.cohort === 'first_time';
  const lo = bigintParam(params, plan.loUs);
  const hi = bigintParam(params, plan.hiUs);
  const t = `epoch_us(${E}.occurred_at)`;
  // Instants compared as TIMESTAMPTZ on the column itself, so the scan can skip row groups by their min/max.
  const at = `${E}.occurred_at`;
  const loTs = `make_timestamptz(${lo})`;
  const hiTs = `make_timestamptz(${hi})`;
  const target = eventCondition(settings.target, params);
  const returning = eventCondition(settings.returning, params);
  // Recurring cohorts enter only in the range; a first-time cohort is the first target event ever, checked later.
  const tgt = firstTime ? target : `(${target} AND ${at} >= ${loTs} AND ${at} < ${hiTs})`;
  const fieldBreakdown = scope.breakdown != null && !segmentBreakdown;
  const where = [...events.conditions, `${at} < make_timestamptz(${bigintParam(params, plan.scanHiUs)})`, firstTime ? `(${at} >= ${loTs} OR ${target})` : `${at} >= ${loTs}`];
  if (target !== 'TRUE' && returning !== 'TRUE') where.push(`(${target} OR ${returning})`);
  // Never materialized: rolling reads it twice (target events, returning events), and a pass over the table is
  // cheaper than writing and reading every event back.
  const ev = `ev AS NOT MATERIALIZED (
  SELECT ${E}.person_id AS person_id, ${t} AS t, ${tgt} AS tgt, (${returning} AND ${at} >= ${loTs}) AS ret${firstTime ? `, ${at} < ${loTs} AS early` : ''}${
    fieldBreakdown ? `,\n         CASE WHEN ${tgt} THEN ${events.breakdown} END AS bd, ${E}.event_id AS id` : ''
  }
  FROM events ${E}
  WHERE ${where.join('\n    AND ')}
)`;
  const bucket = bucketIndexSql(settings.interval, localMicrosSql('t', plan.offsets, params), input.weekStart);
  // First-time cohorts also read target events before the range (to find the first ever); they are grouped apart
  // (`early`), since their interval number is not needed and the offsets only cover the range.
  const keys = `person_id, ${firstTime ? 'early, ' : ''}${bucket} AS b`;
  return {
    params,
    ctes: [...events.ctes, ...people.ctes],
    ev,
    keys,
    fieldBreakdown,
    personConditions: people.conditions,
    breakdown: segmentBreakdown ? people.breakdown : fieldBreakdown ? `${P}.bd` : 'CAST(NULL AS VARCHAR)',
    lo,
    hi,
  };
}

/** Cohort entries: `g` holds per-(person, interval) rows of people in scope, with `entry` = first target event. */
function cohortCte(settings: RetentionSettings, p: Pieces): string {
  if (settings.cohort === 'recurring') return `coh AS (SELECT * FROM g ${P} WHERE ${P}.entry IS NOT NULL)`;
  // First-time: the person's earliest target event over all history, if it falls in the range.
  return `coh AS (
  SELECT ${P}.* FROM g ${P} JOIN (SELECT person_id, min(entry) AS first_ever FROM g GROUP BY person_id) f ON f.person_id = ${P}.person_id
  WHERE ${P}.entry = f.first_ever AND ${P}.entry >= ${p.lo} AND ${P}.entry < ${p.hi}
)`;
}

function entryBreakdown(p: Pieces, filter: string): string {
  return p.fieldBreakdown ? `,\n    arg_min_null(bd, {'t': t, 'id': id}) ${filter} AS bd` : '';
}

/**
 * Calendar intervals: per (person, interval) the first target event, the number of returning
 * events and the latest (or N-th latest) returning instant; per person a bitstring of the intervals with ≥ N
 * returning events. A cohort entry in interval b is retained in k ≥ 1 when bit b + k is set, and in k = 0 when N
 * returning events fall at or after the entry instant within b.
 */
export function buildCalendarQuery(input: RetentionQueryInput): BuiltQuery {
  const { settings, plan } = input;
  const p = pieces(input);
  const { params } = p;
  const n = settings.min_occurrences;
  const k = bigintParam(params, settings.intervals);
  const first = bigintParam(params, plan.firstBucket);
  // k0_t: the latest (N-th latest) returning instant of the interval; interval 0 is retained when it is at or after
  // the entry. With N = 1 it also tells whether the interval has a returning event at all.
  const k0 = n === 1 ? 'max(t) FILTER (WHERE ret) AS k0_t' : `count(*) FILTER (WHERE ret) AS n_ret,
    list_extract(max(t, ${bigintParam(params, n)}) FILTER (WHERE ret), ${bigintParam(params, n)}) AS k0_t`;
  const returned = n === 1 ? 'k0_t IS NOT NULL' : `n_ret >= ${bigintParam(params, n)}`;
  const span = plan.lastBucket + settings.intervals - plan.firstBucket;
  const ctes = [
    ...p.ctes,
    p.ev,
    `pb AS (
  SELECT ${p.keys},
    min(t) FILTER (WHERE tgt) AS entry${entryBreakdown(p, 'FILTER (WHERE tgt)')},
    ${k0}
  FROM ev GROUP BY ALL
)`,
    `g AS MATERIALIZED (SELECT * FROM pb ${P} WHERE ${p.personConditions.join(' AND ')})`,
    `masks AS (
  SELECT person_id, CAST(${bitsOf(`b - ${first}`, span, params)} AS VARCHAR) AS m
  FROM g WHERE ${returned} GROUP BY person_id
)`,
    cohortCte(settings, p),
  ];
  const sql = `${withClause(ctes)}SELECT ${P}.b AS b, ${p.breakdown} AS bd,
  (CASE WHEN ${P}.k0_t >= ${P}.entry THEN '1' ELSE '0' END) || coalesce(substr(m.m, ${P}.b - ${first} + 2, ${k}), repeat('0', ${k})) AS pattern,
  count(*) AS n, max(${P}.entry) AS max_base
FROM coh ${P} LEFT JOIN masks m ON m.person_id = ${P}.person_id
GROUP BY ALL`;
  return { sql, params: [...params.values] };
}

/**
 * Rolling intervals: interval k of an entry is [base + k·L, base + (k+1)·L) with base the entry instant (or its
 * hour with round_to_hour) and L = 24 h, 7 × 24 h or 30 × 24 h; only returning events at or after the entry count.
 * Returning events are joined to the entries whose span they can fall in through an equality on L-long slots,
 * so each event meets at most a few entries of its person.
 */
export function buildRollingQuery(input: RetentionQueryInput): BuiltQuery {
  const { settings } = input;
  const p = pieces(input);
  const { params } = p;
  const lengthUs = ROLLING_HOURS[settings.interval] * US_PER_HOUR;
  const length = bigintParam(params, lengthUs);
  const k = bigintParam(params, settings.intervals);
  // Amplitude rounds both instants down to the hour; with t ≥ entry, floor((t − hour(entry)) / L) is its interval.
  const base = settings.round_to_hour ? `(${floorDivSql(`${P}.entry`, US_PER_HOUR)}) * ${US_PER_HOUR}` : `${P}.entry`;
  const ctes = [
    ...p.ctes,
    p.ev,
    `pb AS (
  SELECT ${p.keys}, min(t) AS entry${entryBreakdown(p, '')}
  FROM ev WHERE tgt GROUP BY ALL
)`,
    `g AS MATERIALIZED (SELECT * FROM pb ${P} WHERE ${p.personConditions.join(' AND ')})`,
    cohortCte(settings, p),
    `based AS (SELECT ${P}.*, ${base} AS base FROM coh ${P})`,
    `hits AS (
  SELECT x.person_id, x.b, ${floorDivSql('r.t - x.base', lengthUs)} AS k
  FROM (SELECT based.*, ${floorDivSql('base', lengthUs)} + j AS slot FROM based CROSS JOIN range(0, ${k} + 2) s(j)) x
  JOIN (SELECT person_id, t, ${floorDivSql('t', lengthUs)} AS slot FROM ev WHERE ret) r ON r.person_id = x.person_id AND r.slot = x.slot
  WHERE r.t >= x.entry AND r.t < x.base + (${k} + 1) * ${length}
  GROUP BY ALL HAVING count(*) >= ${bigintParam(params, settings.min_occurrences)}
)`,
    `patterns AS (SELECT person_id, b, CAST(${bitsOf('k', settings.intervals, params)} AS VARCHAR) AS pattern FROM hits GROUP BY ALL)`,
  ];
  const sql = `${withClause(ctes)}SELECT ${P}.b AS b, ${p.breakdown} AS bd,
  coalesce(x.pattern, repeat('0', ${k} + 1)) AS pattern, count(*) AS n, max(${P}.base) AS max_base
FROM based ${P} LEFT JOIN patterns x ON x.person_id = ${P}.person_id AND x.b = ${P}.b
GROUP BY ALL`;
  return { sql, params: [...params.values] };
}
