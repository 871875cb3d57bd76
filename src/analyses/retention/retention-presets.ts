/**
 * Vendor presets: the retention settings each tool documents as its default, so a team can reproduce the numbers
 * its vendor UI shows. A preset only fills the keys a definition leaves out; docs/analyses/retention.md lists each
 * setting with its source (/work/shared/reference/analytics-semantics-and-user-needs.md §3.8 and §1 item 13).
 */
import type { CalendarInterval } from '../common/time-buckets.js';

export const RETENTION_PRESETS = ['posthog', 'mixpanel', 'amplitude'] as const;
export type RetentionPreset = (typeof RETENTION_PRESETS)[number];

export const COHORT_TYPES = ['recurring', 'first_time'] as const;
export type CohortType = (typeof COHORT_TYPES)[number];

/** `$any` as an event name means any event (reserved: an event actually named `$any` cannot be selected). */
export const ANY_EVENT = '$any';

/** The settings a preset may fill; `returning` is an event name. */
export interface PresetSettings {
  cohort?: CohortType;
  interval?: CalendarInterval;
  rolling?: boolean;
  round_to_hour?: boolean;
  cumulative?: boolean;
  returning?: string;
}

export const PRESET_SETTINGS: Readonly<Record<RetentionPreset, Readonly<PresetSettings>>> = {
  // Calendar periods in the project time zone (§3.8, §1 item 13); "on" interval counts, not "on or after".
  posthog: { rolling: false, cumulative: false },
  // "birth" cohorts; interval 0 is the 24 hours after the born event, so intervals are 24-hour windows
  // measured from it (§3.8); retention "is not a funnel": a later interval may exceed an earlier one.
  mixpanel: { cohort: 'first_time', interval: 'day', rolling: true, cumulative: false },
  // Rolling 24-hour windows with timestamps rounded down to the hour, day N = hours 24N..24(N+1); repeated start
  // events open multiple buckets; returning on any active event (§3.8).
  amplitude: { cohort: 'recurring', interval: 'day', rolling: true, round_to_hour: true, cumulative: false, returning: ANY_EVENT },
};

/** Our own defaults, used for whatever neither the definition nor its preset sets. */
export const RETENTION_DEFAULTS = {
  cohort: 'recurring' as CohortType,
  interval: 'week' as CalendarInterval,
  intervals: 8,
  cumulative: false,
  min_occurrences: 1,
  rolling: false,
  round_to_hour: false,
};
