/**
 * The trends JSON result (docs/analyses/trends.md#json-output). Version 1: fields may be added, never renamed or
 * retyped, without a version bump. One series per definition series (and per breakdown value); one point per
 * calendar interval; each measure has its own point and total shape, told apart by `measure`.
 */
import type { ResolvedScope } from '../common/definition-parts.js';
import type { ExcludedSummary } from '../common/scope-sql.js';
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import type { FilterValue } from '../event-fields.js';
import type { DataSpan } from './trends-calendar.js';
import { seriesLabel, type TrendsDefinition } from './trends-definition.js';
import { resolveBreakdownLimit, resolveLifecycleNew, resolveWindows, type LifecycleNew, type ResolvedWindows, type TrendsMeasure } from './trends-options.js';

export interface ResolvedTrendsSeries {
  event: string;
  name: string;
  where: Record<string, FilterValue>;
}

/** The definition as run: every default filled in, so a result says exactly what it counted. */
export interface ResolvedTrendsDefinition extends ResolvedScope {
  name: string;
  description: string | null;
  measure: TrendsMeasure;
  events: ResolvedTrendsSeries[];
  interval: CalendarInterval;
  week_start: WeekStart;
  /** True when the definition gave no date_range and the default one was used. */
  date_range_default: boolean;
  active_windows: ResolvedWindows | null;
  lifecycle_new: LifecycleNew | null;
  breakdown_limit: number | null;
}

/** What every point carries: its interval and how far its numbers can be trusted. */
export interface TrendsPointBase {
  /** First and last local day of the calendar interval. */
  period_start: string;
  period_end: string;
  /** The days counted: the interval cut to the date range (lifecycle: always the whole interval). */
  first_day: string;
  last_day: string;
  /** The numbers may be incomplete: the interval is cut by the date range, or a day it counts or looks back on lies outside the data. */
  partial: boolean;
  /** None of the counted days lies within the data: zeros here mean "no data", not "no activity". */
  no_data: boolean;
}

export interface EventsPoint extends TrendsPointBase {
  events: number;
}

export interface PeoplePoint extends TrendsPointBase {
  people: number;
}

export interface ActiveUsersPoint extends TrendsPointBase {
  /** Distinct people active on any counted day of the interval. */
  people: number;
  /** Mean of the daily DAU over the counted days. */
  average_dau: number;
  /** As of `last_day`: people active that day, in the wau days ending that day, in the mau days ending that day. */
  dau: number;
  wau: number;
  mau: number;
  /** The WAU / MAU window of `last_day` starts before the first day of data. */
  wau_partial: boolean;
  mau_partial: boolean;
}

export interface ActiveDaysCount {
  /** Number of distinct active days ... */
  days: number;
  /** ... and how many people were active on exactly that many days. */
  people: number;
}

export interface StickinessPoint extends TrendsPointBase {
  /** Mean over the counted days of DAU ÷ MAU (days with MAU 0 left out); null when every day has MAU 0. */
  dau_mau: number | null;
  average_dau: number;
  average_mau: number;
  /** Distinct people active in the counted days. */
  people: number;
  /** People by the number of counted days they were active on (only counts above 0, by days ascending). */
  active_days: ActiveDaysCount[];
  /** The MAU window of the first counted day starts before the first day of data. */
  mau_partial: boolean;
}

export interface LifecyclePoint extends TrendsPointBase {
  new: number;
  returning: number;
  resurrecting: number;
  /** People active in the previous interval and not in this one, as a negative number. */
  dormant: number;
  /** new + returning + resurrecting: everyone active in the interval. */
  active: number;
}

export interface EventsTotal {
  events: number;
}

export interface PeopleTotal {
  /** Distinct people over the whole range (not a sum of the points). */
  people: number;
}

export interface ActiveUsersTotal {
  people: number;
  /** Means over every day of the range. */
  average_dau: number;
  average_wau: number;
  average_mau: number;
}

export interface StickinessTotal {
  people: number;
  dau_mau: number | null;
  /** People by the number of days of the whole range they were active on (PostHog's stickiness). */
  active_days: ActiveDaysCount[];
}

export interface LifecycleTotal {
  /** Sums over the points: person-intervals, not distinct people. */
  new: number;
  returning: number;
  resurrecting: number;
  dormant: number;
}

export interface TrendsSeries<P, T> {
  /** The series label (its `name`, else its event). */
  label: string;
  /** 0-based index into definition.events. */
  series_index: number;
  event: string;
  /** The breakdown value as text (null: the field is absent, or no breakdown). */
  breakdown_value: string | null;
  /** This series merges every breakdown value beyond breakdown_limit. */
  breakdown_other: boolean;
  total: T;
  points: P[];
}

interface TrendsResultBase {
  kind: 'trends';
  version: 1;
  name: string;
  definition: ResolvedTrendsDefinition;
  /** Local days of the first and last event in the warehouse (any event, unfiltered); null when it is empty. */
  data_span: DataSpan | null;
  excluded: ExcludedSummary;
}

export type TrendsResult = TrendsResultBase &
  (
    | { measure: 'events'; series: TrendsSeries<EventsPoint, EventsTotal>[] }
    | { measure: 'people'; series: TrendsSeries<PeoplePoint, PeopleTotal>[] }
    | { measure: 'active_users'; series: TrendsSeries<ActiveUsersPoint, ActiveUsersTotal>[] }
    | { measure: 'stickiness'; series: TrendsSeries<StickinessPoint, StickinessTotal>[] }
    | { measure: 'lifecycle'; series: TrendsSeries<LifecyclePoint, LifecycleTotal>[] }
  );

export function resolveTrendsDefinition(
  def: TrendsDefinition,
  scope: ResolvedScope,
  weekStart: WeekStart,
  range: { from: string; to: string } | null,
): ResolvedTrendsDefinition {
  return {
    name: def.name,
    description: def.description ?? null,
    measure: def.measure,
    events: def.events.map((s) => ({ event: s.event, name: seriesLabel(s), where: { ...(s.where ?? {}) } })),
    interval: def.interval,
    week_start: weekStart,
    ...scope,
    date_range: range === null ? null : { ...range },
    date_range_default: def.date_range == null,
    active_windows: resolveWindows(def),
    lifecycle_new: resolveLifecycleNew(def),
    breakdown_limit: resolveBreakdownLimit(def),
  };
}
