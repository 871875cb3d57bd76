/**
 * The comparison period: the same number of calendar days immediately before the date range. Pure calendar
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
