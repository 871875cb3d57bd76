/**
 * Calendar intervals as whole numbers, so "k intervals later" is a subtraction: day n is the n-th local day
 * since 1970-01-01, week n the n-th week (starting on the configured weekday) since the first such weekday of
 * 1970, month n the n-th month since January 1970. The SQL side computes them from local wall-clock
 * microseconds (local-time.ts); the JavaScript side turns them back into the local date that starts them.
 */
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';
import { floorDivSql } from './local-time.js';

const US_PER_DAY = 86_400_000_000;
const MS_PER_DAY = 86_400_000;

/** The day number (since 1970-01-01) of the first week start: 1970-01-05 was a Monday, 04 a Sunday, 03 a Saturday. */
const WEEK_ANCHOR_DAY: Record<WeekStart, number> = { monday: 4, sunday: 3, saturday: 2 };

/** SQL: the interval number holding local wall-clock time `localUs` (a BIGINT expression). */
export function bucketIndexSql(interval: CalendarInterval, localUs: string, weekStart: WeekStart): string {
  // One floor division each (weeks directly from microseconds): this runs once per event.
  if (interval === 'day') return `(${floorDivSql(localUs, US_PER_DAY)})`;
  if (interval === 'week') return `(${floorDivSql(`${localUs} - ${WEEK_ANCHOR_DAY[weekStart] * US_PER_DAY}`, 7 * US_PER_DAY)})`;
  // Month boundaries crossed since January 1970 = (year − 1970) · 12 + month − 1.
  return `date_diff('month', DATE '1970-01-01', DATE '1970-01-01' + CAST(${floorDivSql(localUs, US_PER_DAY)} AS INTEGER))`;
}

function dayNumber(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / MS_PER_DAY;
}

const dateOfDay = (n: number): string => new Date(n * MS_PER_DAY).toISOString().slice(0, 10);

/** The interval number of the interval holding a local date `YYYY-MM-DD`. */
export function bucketIndexOfDate(interval: CalendarInterval, date: string, weekStart: WeekStart): number {
  const day = dayNumber(date);
  if (interval === 'day') return day;
  if (interval === 'week') return Math.floor((day - WEEK_ANCHOR_DAY[weekStart]) / 7);
  return (Number(date.slice(0, 4)) - 1970) * 12 + Number(date.slice(5, 7)) - 1;
}

/** The local date `YYYY-MM-DD` that starts interval number `index`. */
export function bucketStartDate(interval: CalendarInterval, index: number, weekStart: WeekStart): string {
  if (interval === 'day') return dateOfDay(index);
  if (interval === 'week') return dateOfDay(WEEK_ANCHOR_DAY[weekStart] + 7 * index);
  const year = 1970 + Math.floor(index / 12);
  const month = index - Math.floor(index / 12) * 12;
  return dateOfDay(Date.UTC(year, month, 1) / MS_PER_DAY);
}

/** Length of a rolling interval in hours: 24 h, 7 × 24 h, 30 × 24 h (Amplitude's rolling week and month). */
export const ROLLING_HOURS: Record<CalendarInterval, number> = { day: 24, week: 168, month: 720 };
