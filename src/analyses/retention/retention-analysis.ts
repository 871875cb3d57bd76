/**
 * Runs a retention analysis: plan (cohort range, interval starts; on DuckDB also the zone's offsets), one grouped
 * query that counts cohort entries by retention pattern, then the matrices and averages in TypeScript. On
 * ClickHouse the same plan and pattern rows come from retention-query-clickhouse.ts; the tally is shared.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type EngineSession } from '../analysis-kind.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, chQueryRows, queryRows } from '../common/run-support.js';
import { buildClickhouseScope, chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import { buildScope, excludedSummary, type ScopeOptions } from '../common/scope-sql.js';
import type { WeekStart } from '../common/time-buckets.js';
import { US_PER_HOUR, zoneOffsetsFromRows, zoneOffsetsQuery } from './local-time.js';
import { bucketIndexOfDate, bucketStartDate, ROLLING_HOURS } from './retention-buckets.js';
import { parseRetentionDefinition, type RetentionDefinition } from './retention-definition.js';
import { buildBoundsQuery, buildCalendarQuery, buildIntervalStartsQuery, buildRollingQuery, type PatternRow } from './retention-query.js';
import { chBoundsQuery, chCalendarQuery, chIntervalStartsQuery, chRollingQuery, type ClickhouseRetentionPlan } from './retention-query-clickhouse.js';
import { resolveRetentionDefinition, type RetentionResult } from './retention-result.js';
import { retentionRules } from './retention-rules.js';
import { retentionSettings, type RetentionSettings } from './retention-settings.js';
import { averageOf, tallyPatterns, type TallyLayout } from './retention-tally.js';

export interface RetentionRunOptions extends AnalysisRunOptions {
  /** "Today" for completeness: intervals ending after it are incomplete even if later events exist. Default: the clock. */
  now?: Date;
}

interface Bounds {
  lo_us: number;
  hi_us: number;
  emax_us: number | null;
  first_date: string;
  last_date: string;
}

/** ISO instant of epoch microseconds (to the millisecond). */
const isoOf = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

/** What a run needs before its main query: the settings, the cohort range and offsets, the interval starts. */
export interface RetentionPlanning {
  settings: RetentionSettings;
  weekStart: WeekStart;
  scopeOptions: ScopeOptions;
  /** min(latest event, now) in epoch µs; null when the warehouse is empty. */
  observedUs: number | null;
  /** Undefined when there is nothing to count (an empty warehouse and no date range). The zone's offsets, which
   * only the DuckDB query needs, are looked up by runRetention. */
  plan?: ClickhouseRetentionPlan;
  /** Instant starting each calendar interval from plan.firstBucket on. */
  startsUs: number[];
}

export async function planRetention(session: EngineSession, definition: RetentionDefinition, options: RetentionRunOptions): Promise<RetentionPlanning> {
  assertRules(retentionRules(definition));
  assertTimezone(options.timezone, 'retention');
  const settings = retentionSettings(definition);
  const weekStart = options.weekStart ?? 'monday';
  const scopeOptions: ScopeOptions = { kind: 'retention', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) };
  // Unknown segment names fail here, before any query, also when there is no data to run on.
  if (isClickhouse(session)) buildClickhouseScope(definition, new ClickhouseParams(), 'e', scopeOptions);
  else buildScope(definition, new BoundParams(), 'e', scopeOptions);
  const nowUs = (options.now ?? new Date()).getTime() * 1000;
  const [bounds] = isClickhouse(session)
    ? await chQueryRows<Bounds>(session, chBoundsQuery(definition, settings.interval, options.timezone, weekStart))
    : await queryRows<Bounds>(session, buildBoundsQuery(definition, settings.interval, options.timezone, weekStart));
  const observedUs = bounds?.emax_us == null ? null : Math.min(Number(bounds.emax_us), nowUs);
  if (bounds === undefined) return { settings, weekStart, scopeOptions, observedUs, startsUs: [] };

  const firstBucket = bucketIndexOfDate(settings.interval, bounds.first_date, weekStart);
  const lastBucket = bucketIndexOfDate(settings.interval, bounds.last_date, weekStart);
  // Calendar: starts up to the end of the last cohort's interval `intervals`; rolling: the end of the last cohort.
  const count = lastBucket - firstBucket + (settings.rolling ? 2 : settings.intervals + 2);
  const firstDate = bucketStartDate(settings.interval, firstBucket, weekStart);
  const starts = isClickhouse(session)
    ? await chQueryRows<{ start_us: number }>(session, chIntervalStartsQuery(settings.interval, firstDate, count, options.timezone))
    : await queryRows<{ start_us: number }>(session, buildIntervalStartsQuery(settings.interval, firstDate, count, options.timezone));
  const startsUs = starts.map((r) => Number(r.start_us));
  const loUs = Number(bounds.lo_us);
  const hiUs = Number(bounds.hi_us);
  const scanHiUs = settings.rolling ? hiUs + (settings.intervals + 1) * ROLLING_HOURS[settings.interval] * US_PER_HOUR : startsUs[startsUs.length - 1]!;
  return { settings, weekStart, scopeOptions, observedUs, plan: { loUs, hiUs, firstBucket, lastBucket, scanHiUs }, startsUs };
}

/** The main query's rows: cohort entries counted by (cohort, breakdown value, pattern). */
async function patternRows(session: EngineSession, planning: RetentionPlanning & { plan: ClickhouseRetentionPlan }, definition: RetentionDefinition, timezone: string): Promise<PatternRow[]> {
  const { settings, plan, weekStart, scopeOptions } = planning;
  if (isClickhouse(session)) {
    const input = { scope: definition, settings, plan, weekStart, scopeOptions };
    return chQueryRows<PatternRow>(session, settings.rolling ? chRollingQuery(input) : chCalendarQuery(input));
  }
  const offsets = zoneOffsetsFromRows(await queryRows(session, zoneOffsetsQuery(timezone, plan.loUs, plan.scanHiUs)));
  const input = { scope: definition, settings, plan: { ...plan, offsets }, weekStart, scopeOptions };
  return queryRows<PatternRow>(session, settings.rolling ? buildRollingQuery(input) : buildCalendarQuery(input));
}

export async function runRetention(session: EngineSession, definition: RetentionDefinition, options: RetentionRunOptions): Promise<RetentionResult> {
  const planning = await planRetention(session, definition, options);
  const { settings, weekStart, scopeOptions, observedUs, plan, startsUs } = planning;
  let cohorts: RetentionResult['cohorts'] = [];
  let groups: NonNullable<RetentionResult['breakdown']> = [];
  if (plan !== undefined) {
    const rows = await patternRows(session, { ...planning, plan }, definition, options.timezone);
    const lengthUs = ROLLING_HOURS[settings.interval] * US_PER_HOUR;
    const startOf = (b: number): number => startsUs[b - plan.firstBucket]!;
    const layout: TallyLayout = {
      firstBucket: plan.firstBucket,
      lastBucket: plan.lastBucket,
      intervals: settings.intervals,
      cumulative: settings.cumulative,
      startDate: (b) => bucketStartDate(settings.interval, b, weekStart),
      complete(b, k, maxBase) {
        if (observedUs === null) return false;
        // Calendar: interval k ends where interval b + k + 1 starts. Rolling: k ends (k + 1)·L after the latest
        // entry's base; an empty cohort is judged by the end of its calendar interval.
        const end = settings.rolling ? (maxBase ?? startOf(b + 1)) + (k + 1) * lengthUs : startOf(b + k + 1);
        return end <= observedUs;
      },
    };
    ({ cohorts, groups } = tallyPatterns(rows, layout));
  }

  const result: RetentionResult = {
    kind: 'retention',
    version: 1,
    name: definition.name,
    definition: resolveRetentionDefinition(definition, settings, options.timezone, weekStart),
    observed_until: observedUs === null ? null : isoOf(observedUs),
    cohorts,
    average: averageOf(cohorts, settings.intervals),
    excluded: isClickhouse(session)
      ? await chExcludedSummary(session, definition, new ClickhouseParams(), scopeOptions)
      : await excludedSummary(session, definition, new BoundParams(), scopeOptions),
  };
  if (definition.breakdown != null) result.breakdown = groups;
  return result;
}

export const retentionAnalysis: AnalysisKind<RetentionDefinition, RetentionResult> = {
  kind: 'retention',
  engines: ['duckdb', 'clickhouse'],
  parse: parseRetentionDefinition,
  run: runRetention,
};

export { parseRetentionDefinition };
