/**
 * Calendar arithmetic on local dates written YYYY-MM-DD: which intervals a date range spans, the default range,
 * and whether a point's days lie within the data. Pure date arithmetic (no instants, no time zone): the SQL side
 * turns instants into local dates (time-buckets.ts); here both sides agree on what those dates mean.
 */
import type { CalendarInterval, WeekStart } from '../common/time-buckets.js';

const MS_PER_DAY = 86_400_000;

/** JavaScript weekday numbers (Sunday 0) of the configured first day of the week. */
const WEEK_START_DOW: Record<WeekStart, number> = { monday: 1, sunday: 0, saturday: 6 };

function dayNumber(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / MS_PER_DAY;
}

function fromDayNumber(n: number): string {
  return new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return fromDayNumber(dayNumber(day) + n);
}

/** Days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** The first day of the month `n` months after the month of `day`. */
function addMonths(day: string, n: number): string {
  const months = Number(day.slice(0, 4)) * 12 + Number(day.slice(5, 7)) - 1 + n;
  return fromDayNumber(Date.UTC(Math.floor(months / 12), months % 12, 1) / MS_PER_DAY);
}

/** The first day of the interval holding `day`. */
export function intervalStart(interval: CalendarInterval, day: string, weekStart: WeekStart): string {
  if (interval === 'day') return day;
  if (interval === 'month') return `${day.slice(0, 8)}01`;
  const dow = new Date(dayNumber(day) * MS_PER_DAY).getUTCDay();
  return addDays(day, -((dow - WEEK_START_DOW[weekStart] + 7) % 7));
}

/** The first day of the interval `n` intervals after the one starting on `start`. */
export function shiftInterval(interval: CalendarInterval, start: string, n: number): string {
  if (interval === 'day') return addDays(start, n);
  if (interval === 'week') return addDays(start, 7 * n);
  return addMonths(start, n);
}

export interface Period {
  /** First and last day of the calendar interval. */
  start: string;
  end: string;
  /** First and last day counted: the interval cut to the date range (the whole interval when not cut). */
  first: string;
  last: string;
}

/** The calendar intervals that overlap the range, in order; `clip` cuts the first and last to the range. */
export function periodsOf(range: { from: string; to: string }, interval: CalendarInterval, weekStart: WeekStart, clip: boolean): Period[] {
  const out: Period[] = [];
  for (let start = intervalStart(interval, range.from, weekStart); start <= range.to; start = shiftInterval(interval, start, 1)) {
    const end = addDays(shiftInterval(interval, start, 1), -1);
    out.push({ start, end, first: clip && start < range.from ? range.from : start, last: clip && end > range.to ? range.to : end });
  }
  return out;
}

/**
 * The range used when a definition has none, ending on the local day of the latest event: the last 30 days
 * (interval day), the last 12 calendar weeks (week) or the last 12 calendar months (month), the current
 * interval included.
 */
export function defaultRange(lastDay: string, interval: CalendarInterval, weekStart: WeekStart): { from: string; to: string } {
  if (interval === 'day') return { from: addDays(lastDay, -29), to: lastDay };
  return { from: shiftInterval(interval, intervalStart(interval, lastDay, weekStart), -11), to: lastDay };
}

/** Local days of the first and last event in the warehouse. */
export interface DataSpan {
  first_day: string;
  last_day: string;
}

/** Whether the days from..to lie wholly within the data span. */
export function coveredBy(span: DataSpan | null, from: string, to: string): boolean {
  return span !== null && from >= span.first_day && to <= span.last_day;
}

/** Whether none of the days from..to lies within the data span. */
export function outsideOf(span: DataSpan | null, from: string, to: string): boolean {
  return span === null || to < span.first_day || from > span.last_day;
}

/** Every day from..to, both included. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let n = dayNumber(from), end = dayNumber(to); n <= end; n++) out.push(fromDayNumber(n));
  return out;
}
