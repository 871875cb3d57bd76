/**
 * The report's calendar month: local days in the configured time zone, the month before it, and the default
 * (the last month that is over). Pure calendar arithmetic; instants of local midnights are left to SQL.
 */
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { DateRange } from '../analyses/common/definition-parts.js';

export interface ReportMonth {
  /** YYYY-MM */
  month: string;
  range: DateRange;
  previous: { month: string; range: DateRange };
  days: number;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function daysIn(year: number, month: number): number {
  const t = new Date(0);
  t.setUTCFullYear(year, month, 0);
  return t.getUTCDate();
}

function shift(year: number, month: number, by: number): [number, number] {
  const index = year * 12 + (month - 1) + by;
  return [Math.floor(index / 12), (index % 12) + 1];
}

function rangeOf(year: number, month: number): DateRange {
  return { from: `${pad(year, 4)}-${pad(month)}-01`, to: `${pad(year, 4)}-${pad(month)}-${pad(daysIn(year, month))}` };
}

export function reportMonth(month: string): ReportMonth {
  const m = MONTH.exec(month);
  if (m === null || Number(m[1]) < 1) {
    throw new UsageLabError('report_month_invalid', `"${month}" is not a month`, {
      place: { field: 'month' },
      hint: 'write the month as YYYY-MM, e.g. --month 2024-03',
      exitCode: EXIT.usage,
    });
  }
  const year = Number(m[1]);
  const mon = Number(m[2]);
  const [py, pm] = shift(year, mon, -1);
  return { month, range: rangeOf(year, mon), previous: { month: `${pad(py, 4)}-${pad(pm)}`, range: rangeOf(py, pm) }, days: daysIn(year, mon) };
}

/** The month before the one holding `now` in the time zone: the last complete month. */
export function lastCompleteMonth(now: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).formatToParts(now);
  const year = Number(parts.find((p) => p.type === 'year')!.value);
  const month = Number(parts.find((p) => p.type === 'month')!.value);
  const [y, m] = shift(year, month, -1);
  return `${pad(y, 4)}-${pad(m)}`;
}

/** Months back from `month` (inclusive of it), oldest first. */
export function monthsEndingWith(month: string, count: number): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const [yy, mm] = shift(y, m, i - count + 1);
    return `${pad(yy, 4)}-${pad(mm)}`;
  });
}

/** Calendar weeks (starting on weekStart) that overlap the range, each cut to it. */
export function weeksOf(range: DateRange, weekStart: 'monday' | 'sunday' | 'saturday'): DateRange[] {
  const startDay = { sunday: 0, monday: 1, saturday: 6 }[weekStart];
  const toDate = (s: string): Date => {
    const [y, m, d] = s.split('-').map(Number) as [number, number, number];
    const t = new Date(0);
    t.setUTCFullYear(y, m - 1, d);
    return t;
  };
  const iso = (t: Date): string => `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  const end = toDate(range.to);
  const out: DateRange[] = [];
  let cur = toDate(range.from);
  while (cur.getTime() <= end.getTime()) {
    const untilWeekEnd = (startDay + 6 - cur.getUTCDay() + 7) % 7;
    const weekEnd = new Date(cur.getTime() + untilWeekEnd * 86_400_000);
    const last = weekEnd.getTime() > end.getTime() ? end : weekEnd;
    out.push({ from: iso(cur), to: iso(last) });
    cur = new Date(last.getTime() + 86_400_000);
  }
  return out;
}
