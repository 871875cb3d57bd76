/**
 * Calendar months and day ranges for insights, as YYYY-MM / YYYY-MM-DD text in the configured time zone (the
 * analyses turn local days into instants). Pure date arithmetic on UTC calendar fields: the process TZ plays no part.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';

export interface DayRange {
  from: string;
  to: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function assertMonth(month: string): void {
  if (!MONTH.test(month)) {
    throw new UsageLabError('insights_month_invalid', `"${month}" is not a month written YYYY-MM`, {
      place: { field: 'month' },
      hint: 'e.g. --month 2024-03',
      exitCode: EXIT.usage,
    });
  }
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function dayMs(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

export function monthRange(month: string): DayRange {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return { from: `${month}-01`, to: day(Date.UTC(y, m, 0)) };
}

export function previousMonth(month: string): string {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return day(Date.UTC(y, m - 2, 1)).slice(0, 7);
}

export function addDays(date: string, days: number): string {
  return day(dayMs(date) + days * 86_400_000);
}

/**
 * The part of `range` whose days have data and, with `completeDays`, whose cohorts had the whole window to
 * convert before the data ends (last day ≤ data_through − completeDays); null when nothing is left.
 */
export function usableRange(range: DayRange, data: { from: string; through: string }, completeDays = 0): DayRange | null {
  const from = range.from < data.from ? data.from : range.from;
  const last = addDays(data.through, -completeDays);
  const to = range.to > last ? last : range.to;
  return from > to ? null : { from, to };
}
