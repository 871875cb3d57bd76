/**
 * Active users: average DAU and WAU, MAU, stickiness, new / returning people, against the previous month, with a
 * daily chart. Every number comes from two trends runs (daily active_users, monthly lifecycle).
 */
import type { ActiveUsersPoint, LifecyclePoint } from '../../analyses/trends/trends-result.js';
import type { DateRange } from '../../analyses/common/definition-parts.js';
import { lineChart } from '../charts/chart-specs.js';
import { p, table, type ReportSection } from '../report-document.js';
import { count, pct, ppChange, relChange } from '../report-format.js';
import type { ReportData } from '../report-data.js';
import { historyNote } from './retention-section.js';

export interface ActiveSummary {
  /**
   * Mean over the month's days of DAU / WAU (7 days) / MAU (30 days ending that day). WAU and MAU (and stickiness)
   * leave out days whose window starts before the first day of data (its count would be too low): null when
   * every day does.
   */
  dau: number;
  wau: number | null;
  mau30: number | null;
  /** Days left out of the WAU / MAU averages for that reason. */
  partialDays: number;
  /** Distinct people active in the calendar month. */
  monthly: number;
  /** Mean over the month's days of DAU ÷ MAU (days with MAU 0 left out); null without such days. */
  stickiness: number | null;
  new: number;
  returning: number;
  resurrecting: number;
  dormant: number;
  days: number;
}

const inRange = (day: string, range: DateRange): boolean => day >= range.from && day <= range.to;
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const meanOrNull = (xs: number[]): number | null => (xs.length === 0 ? null : mean(xs));

export function activeSummary(data: ReportData, range: DateRange): ActiveSummary {
  const days = (data.activeDaily.series[0]?.points ?? []).filter((pt: ActiveUsersPoint) => inRange(pt.first_day, range));
  const full = days.filter((d) => !d.mau_partial);
  const ratios = full.filter((d) => d.mau > 0).map((d) => d.dau / d.mau);
  const life: LifecyclePoint | undefined = data.lifecycle.series[0]?.points.find((pt) => pt.period_start === range.from);
  return {
    dau: mean(days.map((d) => d.dau)),
    wau: meanOrNull(days.filter((d) => !d.wau_partial).map((d) => d.wau)),
    mau30: meanOrNull(full.map((d) => d.mau)),
    partialDays: days.length - full.length,
    monthly: life?.active ?? 0,
    stickiness: ratios.length === 0 ? null : mean(ratios),
    new: life?.new ?? 0,
    returning: life?.returning ?? 0,
    resurrecting: life?.resurrecting ?? 0,
    dormant: life?.dormant ?? 0,
    days: days.length,
  };
}

export function activeUsersSection(data: ReportData): ReportSection {
  const cur = activeSummary(data, data.month.range);
  const prev = activeSummary(data, data.month.previous.range);
  const row = (label: string, a: number | null, b: number | null, digits = 0): string[] => [label, count(a, digits), count(b, digits), relChange(a, b)];
  const points = (data.activeDaily.series[0]?.points ?? []).filter((pt) => inRange(pt.first_day, data.month.range));
  const chartPoints = points.flatMap((pt) => [
    { x: pt.first_day.slice(5), series: 'DAU', value: pt.dau },
    { x: pt.first_day.slice(5), series: `WAU (7 days)`, value: pt.wau },
    { x: pt.first_day.slice(5), series: `MAU (30 days)`, value: pt.mau },
  ]);
  const windows = data.activeDaily.definition.active_windows;
  return {
    id: 'active-users',
    title: 'Active users',
    blocks: [
      table(
        ['', { title: data.month.month, align: 'right' }, { title: data.month.previous.month, align: 'right' }, { title: 'change', align: 'right' }],
        [
          row('People active in the month', cur.monthly, prev.monthly),
          row('Average DAU', cur.dau, prev.dau, 1),
          row(`Average WAU (${windows?.wau ?? 7} days)`, cur.wau, prev.wau, 1),
          row(`Average MAU (${windows?.mau ?? 30} days)`, cur.mau30, prev.mau30, 1),
          ['Stickiness (DAU ÷ MAU)', pct(cur.stickiness), pct(prev.stickiness), ppChange(cur.stickiness, prev.stickiness)],
          row('New people', cur.new, prev.new),
          row('Returning from the previous month', cur.returning, prev.returning),
          row('Resurrected (back after a gap)', cur.resurrecting, prev.resurrecting),
          row('Dormant (active the month before, not this one)', -cur.dormant, -prev.dormant),
        ],
      ),
      p(
        'New people had their first event ever in the month; returning people were also active the month before; resurrected people were active earlier but not the month before. ',
        'New + returning + resurrected = people active in the month.',
      ),
      ...historyNote(data, data.month.range.from, 'some of the "new" people may have been active before it, and "resurrected" people can only be recognised within it.'),
      ...(cur.partialDays + prev.partialDays === 0
        ? []
        : [p(`WAU, MAU and stickiness leave out days whose window starts before the first day of data (${data.month.month}: ${cur.partialDays} days, ${data.month.previous.month}: ${prev.partialDays} days): their counts would be too low.`)]),
      ...(points.every((pt) => pt.dau === 0 && pt.mau === 0)
        ? [p('No activity in the month.')]
        : [
            {
              type: 'chart' as const,
              file: 'active-users.svg',
              alt: `Daily active users in ${data.month.month}: DAU, WAU and MAU per day`,
              spec: lineChart(chartPoints, { title: `Active users per day, ${data.month.month}`, yTitle: 'people', xTitle: 'day (MM-DD)', format: ',d', labelEvery: 7 }),
            },
          ]),
    ],
  };
}
