/**
 * The comparison period: the same number of calendar days immediately before the date range, or for a range of
 * whole calendar months, the same number of months before it. Pure calendar
 * arithmetic on YYYY-MM-DD dates; the instants of local midnights (23- or 25-hour DST days) are left to SQL.
 */
import type { DateRange } from '../common/definition-parts.js';

const DAY_MS = 86_400_000;

function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const t = new Date(0);
  t.setUTCFullYear(y!, m! - 1, d!);
  return Math.round(t.getTime() / DAY_MS);
}

function dateOf(day: number): string | undefined {
  const t = new Date(day * DAY_MS);
  // A definition's dates are years 0001–9999.
  const year = t.getUTCFullYear();
  return year < 1 || year > 9999 ? undefined : t.toISOString().slice(0, 10);
}

/** Days in the range, both ends included. */
export function rangeDays(range: DateRange): number {
  return dayNumber(range.to) - dayNumber(range.from) + 1;
}

/** The period of equal length ending the day before `range.from`; undefined when it would fall before year 1. */
export function previousPeriod(range: DateRange): DateRange | undefined {
  const from = dayNumber(range.from);
  const length = rangeDays(range);
  const prevFrom = dateOf(from - length);
  const prevTo = dateOf(from - 1);
  return prevFrom === undefined || prevTo === undefined ? undefined : { from: prevFrom, to: prevTo };
}

/** Year and month (1–12) of a YYYY-MM-DD date. */
function yearMonth(date: string): { y: number; m: number } {
  const [y, m] = date.split('-').map(Number);
  return { y: y!, m: m! };
}

/** The first day of the month `offset` months after (year, month), or undefined outside years 1–9999. */
function monthStart(y: number, m: number, offset: number): string | undefined {
  const index = y * 12 + (m - 1) + offset;
  const year = Math.floor(index / 12);
  if (year < 1 || year > 9999) return undefined;
  return `${String(year).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}-01`;
}

/** Whether the range starts on the first day of a month and ends on the last day of a month. */
export function isWholeMonths(range: DateRange): boolean {
  const { y, m } = yearMonth(range.to);
  const next = monthStart(y, m, 1);
  return range.from.endsWith('-01') && (next === undefined ? range.to.endsWith('-12-31') : dateOf(dayNumber(next) - 1) === range.to);
}

/**
 * The same number of whole calendar months right before a range of whole months (2024-03-01..31 →
 * 2024-02-01..29; 2024-04-01..06-30 → 2024-01-01..03-31); undefined when the range is not whole months or the
 * period would start before year 1.
 */
export function previousMonths(range: DateRange): DateRange | undefined {
  if (!isWholeMonths(range)) return undefined;
  const from = yearMonth(range.from);
  const to = yearMonth(range.to);
  const months = (to.y - from.y) * 12 + (to.m - from.m) + 1;
  const prevFrom = monthStart(from.y, from.m, -months);
  const prevTo = dateOf(dayNumber(range.from) - 1);
  return prevFrom === undefined || prevTo === undefined ? undefined : { from: prevFrom, to: prevTo };
}
