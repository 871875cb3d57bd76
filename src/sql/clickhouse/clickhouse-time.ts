/**
 * Calendar intervals in the configured time zone, in ClickHouse SQL (the counterpart of
 * analyses/common/time-buckets.ts). An instant is turned into its local Date in the zone first and every further
 * step is Date arithmetic, so a day is the local calendar day whatever its length (23 or 25 hours on DST changes).
 * `tz` is always a bound `{pN:String}` placeholder: ClickHouse takes a query parameter as a constant zone.
 */
import type { CalendarIntervalName, WeekStartName } from '../calendar-names.js';

/** ISO weekday (Monday 1 … Sunday 7) each configured week start falls on. */
const WEEK_START_ISO: Record<WeekStartName, number> = { monday: 1, sunday: 7, saturday: 6 };

/**
 * The local date of an instant (DateTime64) in `tz`, as Date32: ClickHouse's Date starts at 1970-01-01 and would
 * clamp earlier days, Date32 covers 1900-01-01 … 2299-12-31 (bind date parameters as Date32 too).
 */
export function chLocalDay(instant: string, tz: string): string {
  return `toDate32(${instant}, ${tz})`;
}

/** The first day of the interval holding the Date `day`. */
export function chDayBucket(interval: CalendarIntervalName, day: string, weekStart: WeekStartName): string {
  if (interval === 'day') return day;
  // Not toStartOfMonth: it returns Date (clamped at 1970) even for a Date32.
  if (interval === 'month') return `subtractDays(${day}, toDayOfMonth(${day}) - 1)`;
  // toStartOfWeek knows Monday and Sunday only; this works for any first weekday.
  return `subtractDays(${day}, (toDayOfWeek(${day}) + ${7 - WEEK_START_ISO[weekStart]}) % 7)`;
}

/** The local Date that starts the interval holding `instant`. */
export function chBucketStart(interval: CalendarIntervalName, instant: string, tz: string, weekStart: WeekStartName): string {
  return chDayBucket(interval, chLocalDay(instant, tz), weekStart);
}

/**
 * The instant local midnight of the Date `day` starts in `tz`, as DateTime64(6, 'UTC'). Where midnight does not
 * exist (a DST jump at 00:00) it is the first local instant of the day, as in DuckDB.
 */
export function chLocalMidnight(day: string, tz: string): string {
  return `toTimeZone(toDateTime64(${day}, 6, ${tz}), 'UTC')`;
}

/** Whole intervals from bucket start `from` to bucket start `to` (both Dates from chDayBucket). */
export function chIntervalsBetween(interval: CalendarIntervalName, from: string, to: string): string {
  if (interval === 'day') return `dateDiff('day', ${from}, ${to})`;
  if (interval === 'week') return `intDiv(dateDiff('day', ${from}, ${to}), 7)`;
  return `dateDiff('month', ${from}, ${to})`;
}

/** Adds n intervals to a bucket-start Date. */
export function chAddIntervals(interval: CalendarIntervalName, date: string, n: string): string {
  if (interval === 'day') return `addDays(${date}, ${n})`;
  if (interval === 'week') return `addDays(${date}, 7 * (${n}))`;
  return `addMonths(${date}, ${n})`;
}

/** A Date (or Nullable(Date)) as 'YYYY-MM-DD' text, NULL staying NULL. */
export function chDateText(date: string): string {
  return `toString(${date})`;
}
