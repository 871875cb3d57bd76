/**
 * The adoption JSON result (docs/analyses/adoption.md#json-output). Version 1: fields may be added, never renamed
 * or retyped, without a version bump.
 */
import type { ResolvedScope } from '../common/definition-parts.js';
import type { ExcludedSummary } from '../common/scope-sql.js';
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import type { AdoptionThresholds } from './adoption-thresholds.js';
import type { CatalogFeature } from './feature-catalog.js';

export const ADOPTION_CLASSES = ['insufficient_data', 'frustrating', 'adopted', 'ignored', 'emerging'] as const;
export type AdoptionClass = (typeof ADOPTION_CLASSES)[number];

/** Which rule decided the class (a threshold name, or why there is nothing to judge). */
export type ClassRule = 'no_data' | 'not_released' | 'min_users' | 'frustrating_min_rate' | 'adopted_min_share' | 'ignored_max_share' | 'between_thresholds';

export interface ClassReason {
  rule: ClassRule;
  /** The comparison in words, e.g. "share 25.0% ≥ adopted_min_share 20.0%". */
  text: string;
}

/** The definition as run: every default filled in, the features with their matchers, the merged thresholds. */
export interface ResolvedAdoptionDefinition extends ResolvedScope {
  name: string;
  features: CatalogFeature[];
  interval: CalendarInterval;
  retention_intervals: number;
  thresholds: AdoptionThresholds;
  week_start: WeekStart;
  /** The catalog file the features came from (null when passed in code). */
  catalog_file: string | null;
}

/** The days a feature is measured over: date range ∩ [released, …) ∩ the days the warehouse has data for. */
export interface FeaturePeriod {
  from: string;
  to: string;
  days: number;
}

export interface FeatureFrequency {
  /** uses ÷ users; null without users. */
  uses_per_user_mean: number | null;
  /** Median of the users' use counts (mean of the two middle ones for an even count); null without users. */
  uses_per_user_median: number | null;
  /** uses ÷ (period days ÷ 7); null without a period. */
  uses_per_week: number | null;
  /** uses_per_week ÷ users; null without users. */
  uses_per_user_per_week: number | null;
}

export interface RetentionInterval {
  /** 1 = the interval after the one holding the user's first use. */
  interval: number;
  /** Feature users whose interval N is complete (its last day ≤ data_through): the denominator. */
  users: number;
  /** Of those, the ones with a use in interval N. */
  retained: number;
  /** retained ÷ users; null when no user's interval N is complete yet (never a made-up 0). */
  share: number | null;
  /** Feature users whose interval N is not complete yet: left out of users and retained. */
  pending_users: number;
  /** pending_users = 0: the number will not change as more data arrives. */
  complete: boolean;
}

export interface FeatureFrustration {
  /** Feature sessions: sessions with a use, or with a signal on the feature, in the period. */
  sessions: number;
  /** Feature sessions with a frustration signal on the feature. */
  frustrated_sessions: number;
  /** frustrated_sessions ÷ sessions; null without sessions. */
  rate: number | null;
  /** Feature sessions with a rage click / dead click / error on the feature (a session may have several). */
  rage_sessions: number;
  dead_sessions: number;
  error_sessions: number;
}

/** The numbers of one feature that classification needs (also per breakdown group). */
export interface FeatureCore {
  key: string;
  name: string;
  /** null when the feature's period is empty (released after it, or no data in it). */
  period: FeaturePeriod | null;
  /** People with any in-scope event in the period. */
  active_users: number;
  /** People with ≥ 1 use in the period. */
  users: number;
  /** users ÷ active_users; null without active users. */
  share: number | null;
  /** Matching events (uses) in the period. */
  uses: number;
  frustration: FeatureFrustration;
  class: AdoptionClass;
  reason: ClassReason;
}

export interface FeatureAdoption extends FeatureCore {
  frequency: FeatureFrequency;
  retention: RetentionInterval[];
}

export interface AdoptionBreakdownGroup {
  /** The breakdown value (as text) on the events counted in this group; null when absent. */
  value: string | null;
  /** People with an in-scope event in the date range carrying this value. */
  active_users: number;
  features: FeatureCore[];
}

export interface AdoptionResult {
  kind: 'adoption';
  version: 1;
  name: string;
  definition: ResolvedAdoptionDefinition;
  /** Local dates (configured time zone) of the first and last event in the warehouse; null when it is empty. */
  data_from: string | null;
  data_through: string | null;
  /** People with any in-scope event in the date range (features' release days aside). */
  active_users: number;
  features: FeatureAdoption[];
  breakdown?: AdoptionBreakdownGroup[];
  excluded: ExcludedSummary;
}
