/**
 * The choices a trends definition offers and their defaults, and how the measure-specific options resolve (an
 * option a measure does not use resolves to null, so a result never shows a setting that had no effect).
 */

export const TRENDS_MEASURES = ['events', 'people', 'active_users', 'stickiness', 'lifecycle'] as const;
export type TrendsMeasure = (typeof TRENDS_MEASURES)[number];

/** How lifecycle decides who is new: first matching event ever (default), or first event of any kind (PostHog). */
export const LIFECYCLE_NEW = ['first_activity', 'first_seen'] as const;
export type LifecycleNew = (typeof LIFECYCLE_NEW)[number];

/** The series event that matches every event (the event name is then not filtered). */
export const ANY_EVENT = '$any';

export const TRENDS_DEFAULTS = {
  measure: 'events',
  interval: 'day',
  /** WAU: the 7 local days ending on the day; MAU: the 30 local days ending on the day (PostHog and Mixpanel). */
  wau: 7,
  mau: 30,
  lifecycleNew: 'first_activity',
  breakdownLimit: 25,
} as const;

export const MAX_WINDOW_DAYS = 365;
export const MAX_BREAKDOWN_LIMIT = 1000;
export const MAX_SERIES = 20;
/** Ten years of days: the longest date range a trend takes. */
export const MAX_RANGE_DAYS = 3660;

export interface TrendsOptionInput {
  measure: TrendsMeasure;
  active_windows?: { wau?: number | undefined; mau?: number | undefined } | undefined;
  lifecycle_new?: LifecycleNew | undefined;
  breakdown_limit?: number | undefined;
  breakdown?: string | null | undefined;
}

export interface ResolvedWindows {
  /** Days in the WAU window (active_users only; null for stickiness, which uses MAU alone). */
  wau: number | null;
  mau: number;
}

/** The trailing windows the measure uses; null for measures without them. */
export function resolveWindows(def: TrendsOptionInput): ResolvedWindows | null {
  if (def.measure === 'active_users') return { wau: def.active_windows?.wau ?? TRENDS_DEFAULTS.wau, mau: def.active_windows?.mau ?? TRENDS_DEFAULTS.mau };
  if (def.measure === 'stickiness') return { wau: null, mau: def.active_windows?.mau ?? TRENDS_DEFAULTS.mau };
  return null;
}

export function resolveLifecycleNew(def: TrendsOptionInput): LifecycleNew | null {
  return def.measure === 'lifecycle' ? (def.lifecycle_new ?? TRENDS_DEFAULTS.lifecycleNew) : null;
}

export function resolveBreakdownLimit(def: TrendsOptionInput): number | null {
  return def.breakdown == null ? null : (def.breakdown_limit ?? TRENDS_DEFAULTS.breakdownLimit);
}
