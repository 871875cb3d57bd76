/**
 * Calendar intervals in the configured time zone, in SQL (DESIGN.md §4: buckets are computed in SQL, DST-safe).
 * An instant is first turned into local wall-clock time with timezone(tz, instant), then truncated, so a day is
 * the local calendar day whatever its length (23 or 25 hours on DST changes).
 */
import type { BoundParams } from '../../sql/bound-params.js';

export const INTERVALS = ['day', 'week', 'month'] as const;
export type CalendarInterval = (typeof INTERVALS)[number];

export const WEEK_STARTS = ['monday', 'sunday', 'saturday'] as const;
export type WeekStart = (typeof WEEK_STARTS)[number];

/** Days from Monday to the configured first day of the week. */
const WEEK_OFFSET_DAYS: Record<WeekStart, number> = { monday: 0, sunday: 6, saturday: 5 };

/** Local wall-clock TIMESTAMP of an instant expression; `tz` is a bound placeholder. */
export function localTime(instant: string, tz: string): string {
  return `timezone(${tz}, ${instant})`;
}

/** The local DATE that starts the interval holding `instant`. */
export function bucketStart(interval: CalendarInterval, instant: string, tz: string, weekStart: WeekStart): string {
  const local = localTime(instant, tz);
  if (interval === 'day') return `CAST(${local} AS DATE)`;
  if (interval === 'month') return `CAST(date_trunc('month', ${local}) AS DATE)`;
  const offset = WEEK_OFFSET_DAYS[weekStart];
  if (offset === 0) return `CAST(date_trunc('week', ${local}) AS DATE)`;
  // date_trunc('week') starts on Monday; shift so the configured weekday lands on a Monday, then shift back.
  return `CAST(date_trunc('week', CAST(${local} AS DATE) - ${offset}) AS DATE) + ${offset}`;
}

/** Whole intervals from bucket start `from` to bucket start `to` (both DATEs from bucketStart). */
export function intervalsBetween(interval: CalendarInterval, from: string, to: string): string {
  if (interval === 'day') return `date_diff('day', ${from}, ${to})`;
  if (interval === 'week') return `(date_diff('day', ${from}, ${to}) // 7)`;
  return `date_diff('month', ${from}, ${to})`;
}

/** The local DATE bucket start as an instant: local midnight of that date in `tz` (DST-safe). */
export function bucketInstant(date: string, tz: string): string {
  return `timezone(${tz}, CAST(${date} AS TIMESTAMP))`;
}

/** Local midnight (`tz`, a bound placeholder) of the date `date` plus `plusDays`, as an instant; `date` is bound here. */
export function localMidnight(date: string, params: BoundParams, tz: string, plusDays = 0): string {
  return bucketInstant(`CAST(${params.bind(date)} AS DATE)${plusDays === 0 ? '' : ` + ${plusDays}`}`, tz);
}

/** Adds n intervals to a bucket-start DATE. */
export function addIntervals(interval: CalendarInterval, date: string, n: string): string {
  if (interval === 'day') return `CAST(${date} + to_days(CAST(${n} AS INTEGER)) AS DATE)`;
  if (interval === 'week') return `CAST(${date} + to_days(CAST(7 * (${n}) AS INTEGER)) AS DATE)`;
  return `CAST(${date} + to_months(CAST(${n} AS INTEGER)) AS DATE)`;
}
