/**
 * The retention JSON result (docs/analyses/retention.md#json-output). Version 1: fields may be added, never
 * renamed or retyped, without a version bump.
 */
import { resolveScope, type ResolvedScope } from '../common/definition-parts.js';
import type { ExcludedSummary } from '../common/scope-sql.js';
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import { ROLLING_HOURS } from './retention-buckets.js';
import type { RetentionDefinition } from './retention-definition.js';
import type { CohortType, RetentionPreset } from './retention-presets.js';
import type { ResolvedEventRef, RetentionSettings } from './retention-settings.js';

/** The definition as run: every default (and preset value) filled in, so a result says exactly what it counted. */
export interface ResolvedRetentionDefinition extends ResolvedScope {
  name: string;
  target: ResolvedEventRef;
  returning: ResolvedEventRef;
  cohort: CohortType;
  interval: CalendarInterval;
  intervals: number;
  cumulative: boolean;
  min_occurrences: number;
  rolling: boolean;
  /** Length of a rolling interval in hours (24, 168, 720); null with calendar intervals. */
  rolling_hours: number | null;
  round_to_hour: boolean;
  week_start: WeekStart;
  preset: RetentionPreset | null;
  /** Keys whose value came from the preset. */
  from_preset: string[];
}

export interface RetentionCell {
  /** 0 = the cohort's own interval. */
  k: number;
  /** Cohort entries retained in interval k (cumulative: in k or a later interval shown); null while incomplete. */
  count: number | null;
  /** count ÷ cohort size; null while incomplete or when the cohort is empty. */
  rate: number | null;
  /** The interval has ended for every entry of the cohort by `observed_until`. */
  complete: boolean;
}

export interface RetentionCohort {
  /** Local date (configured time zone) that starts the cohort's interval. */
  start: string;
  /** Cohort entries: people who entered in this interval (each person at most once per cohort). */
  size: number;
  intervals: RetentionCell[];
}

export interface RetentionAverageCell {
  k: number;
  /** Σ count over the cohorts whose interval k is complete. */
  count: number;
  /** Σ size over the same cohorts. */
  size: number;
  /** count ÷ size; null when size is 0. */
  rate: number | null;
  /** How many cohorts that is. */
  cohorts: number;
}

export interface RetentionGroup {
  /** The breakdown value on the cohort-entry event (segment breakdown: the segment name or "not NAME"); null when absent. */
  value: string | null;
  /** Σ cohort sizes in the group. */
  size: number;
  cohorts: RetentionCohort[];
  average: RetentionAverageCell[];
}

export interface RetentionResult {
  kind: 'retention';
  version: 1;
  name: string;
  definition: ResolvedRetentionDefinition;
  /** The instant up to which data is considered complete: the latest event in the warehouse (never after now); null when empty. */
  observed_until: string | null;
  cohorts: RetentionCohort[];
  average: RetentionAverageCell[];
  breakdown?: RetentionGroup[];
  excluded: ExcludedSummary;
}

export function resolveRetentionDefinition(def: RetentionDefinition, settings: RetentionSettings, timezone: string, weekStart: WeekStart): ResolvedRetentionDefinition {
  return {
    name: def.name,
    target: settings.target,
    returning: settings.returning,
    cohort: settings.cohort,
    interval: settings.interval,
    intervals: settings.intervals,
    cumulative: settings.cumulative,
    min_occurrences: settings.min_occurrences,
    rolling: settings.rolling,
    rolling_hours: settings.rolling ? ROLLING_HOURS[settings.interval] : null,
    round_to_hour: settings.round_to_hour,
    week_start: weekStart,
    preset: settings.preset,
    from_preset: [...settings.from_preset],
    ...resolveScope(def, timezone),
  };
}
