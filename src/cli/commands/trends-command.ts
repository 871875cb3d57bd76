/**
 * `usagelab trends [events...] [--measure people] [--interval week] ...`: an ad hoc trend with the same
 * definition, defaults and validation as a saved one, and the trend's terminal table / CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { trendsAnalysis } from '../../analyses/trends/trends-analysis.js';
import type { ActiveDaysCount, TrendsPointBase, TrendsResult } from '../../analyses/trends/trends-result.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';

type Row = Record<string, unknown>;
type AnySeries = TrendsResult['series'][number];

/** "1d:2 3d:1": people by active days, compact enough for a table cell. */
const activeDays = (counts: readonly ActiveDaysCount[]): string => counts.map((c) => `${c.days}d:${c.people}`).join(' ');

function flags(p: TrendsPointBase & { wau_partial?: boolean; mau_partial?: boolean }): string {
  if (p.no_data) return 'no data';
  const out: string[] = [];
  if (p.partial) out.push('partial');
  if (p.wau_partial === true) out.push('wau window partial');
  if (p.mau_partial === true) out.push('mau window partial');
  return out.join(', ');
}

interface Section {
  series: AnySeries;
  rows: Row[];
  total: string;
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Per series: the measure's values of each point as table columns (numbers stay numbers), and its total. */
function sections(result: TrendsResult): Section[] {
  const byDay = result.definition.interval === 'day';
  const period = (p: TrendsPointBase): Row => ({ period: p.period_start });
  switch (result.measure) {
    case 'events':
      return result.series.map((series) => ({
        series,
        rows: series.points.map((p) => ({ ...period(p), events: p.events, note: flags(p) })),
        total: `total: ${fmt(series.total.events)} events`,
      }));
    case 'people':
      return result.series.map((series) => ({
        series,
        rows: series.points.map((p) => ({ ...period(p), people: p.people, note: flags(p) })),
        total: `total: ${fmt(series.total.people)} distinct people over the range (not the sum of the rows)`,
      }));
    case 'active_users':
      return result.series.map((series) => ({
        series,
        rows: series.points.map((p) => ({
          ...period(p),
          ...(byDay ? {} : { people: p.people, 'mean dau': p.average_dau }),
          dau: p.dau,
          wau: p.wau,
          mau: p.mau,
          note: flags(p),
        })),
        total: `total: ${fmt(series.total.people)} distinct people; daily means: DAU ${fmt(series.total.average_dau)}, WAU ${fmt(series.total.average_wau)}, MAU ${fmt(series.total.average_mau)}`,
      }));
    case 'stickiness':
      return result.series.map((series) => ({
        series,
        rows: series.points.map((p) => ({
          ...period(p),
          'dau/mau': percent(p.dau_mau),
          'mean dau': p.average_dau,
          'mean mau': p.average_mau,
          people: p.people,
          'active days': activeDays(p.active_days),
          note: flags(p),
        })),
        total: `total: ${fmt(series.total.people)} distinct people; mean DAU/MAU ${percent(series.total.dau_mau) || '-'}; active days over the range: ${activeDays(series.total.active_days) || '-'}`,
      }));
    case 'lifecycle':
      return result.series.map((series) => ({
        series,
        rows: series.points.map((p) => ({ ...period(p), new: p.new, returning: p.returning, resurrecting: p.resurrecting, dormant: p.dormant, note: flags(p) })),
        total: `total (person-intervals): new ${fmt(series.total.new)}, returning ${fmt(series.total.returning)}, resurrecting ${fmt(series.total.resurrecting)}, dormant ${fmt(series.total.dormant)}`,
      }));
  }
}

function seriesTitle(result: TrendsResult, series: AnySeries): string {
  if (result.definition.breakdown === null) return series.label;
  const value = series.breakdown_other ? '(other values)' : (series.breakdown_value ?? '(none)');
  return `${series.label} — ${result.definition.breakdown} = ${value}`;
}

function header(result: TrendsResult): string {
  const d = result.definition;
  const range = d.date_range === null ? 'no date range (the warehouse is empty)' : `${d.date_range.from} to ${d.date_range.to}${d.date_range_default ? ' (default)' : ''}`;
  const parts = [`measure ${d.measure}`, `interval ${d.interval}${d.interval === 'week' ? ` from ${d.week_start}` : ''}`, range, `time zone ${d.timezone}`];
  if (d.active_windows !== null) parts.push(d.active_windows.wau === null ? `mau ${d.active_windows.mau}d` : `wau ${d.active_windows.wau}d, mau ${d.active_windows.mau}d`);
  if (d.lifecycle_new !== null) parts.push(`new = ${d.lifecycle_new}`);
  return `${result.name}  (${parts.join(', ')})\n`;
}

export const trendsRenderer: ResultRenderer<TrendsResult> = {
  table(result) {
    let out = header(result);
    if (result.series.length === 0) out += '\n(no breakdown values: nothing matched)\n';
    for (const { series, rows, total } of sections(result)) {
      out += `\n${seriesTitle(result, series)}\n${formatTable(rows)}${total}\n`;
    }
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  csvRows(result) {
    const withBreakdown = result.definition.breakdown !== null;
    return result.series.flatMap((series) =>
      (series.points as unknown as (TrendsPointBase & Row)[]).map((p) => {
        const { period_start, period_end, first_day, last_day, partial, no_data, ...values } = p;
        return {
          series: series.label,
          event: series.event,
          ...(withBreakdown ? { breakdown_value: series.breakdown_value, breakdown_other: series.breakdown_other } : {}),
          period_start,
          period_end,
          first_day,
          last_day,
          ...values,
          partial,
          no_data,
        };
      }),
    );
  },
};

interface TrendsFlags extends ScopeFlags {
  measure?: string;
  interval?: string;
  wau?: string;
  mau?: string;
  newBy?: string;
  breakdownLimit?: string;
}

/** The definition keys of the trends-specific flags (only those given, so the defaults apply to the rest). */
export function trendsFromFlags(events: readonly string[], opts: TrendsFlags): Record<string, unknown> {
  const input: Record<string, unknown> = { kind: 'trends', ...scopeFromFlags(opts) };
  if (events.length > 0) input.events = [...events];
  if (opts.measure !== undefined) input.measure = opts.measure;
  if (opts.interval !== undefined) input.interval = opts.interval;
  // The definition checks the numbers: NaN (not a number) is a wrong shape, 0 or 2.5 days break a rule.
  if (opts.wau !== undefined || opts.mau !== undefined) {
    input.active_windows = { ...(opts.wau === undefined ? {} : { wau: Number(opts.wau) }), ...(opts.mau === undefined ? {} : { mau: Number(opts.mau) }) };
  }
  if (opts.newBy !== undefined) input.lifecycle_new = opts.newBy;
  if (opts.breakdownLimit !== undefined) input.breakdown_limit = Number(opts.breakdownLimit);
  return input;
}

export function registerTrendsCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('trends')
    .description('ad hoc trend: events, people, DAU/WAU/MAU, stickiness or lifecycle per day, week or month (docs/analyses/trends.md)')
    .argument('[events...]', 'event names, one series each ($any = every event; default $any)')
    .option('--measure <measure>', 'events | people | active_users | stickiness | lifecycle (default events)')
    .option('--interval <interval>', 'day | week | month (default day)')
    .option('--wau <days>', 'active_users: days in the WAU window (default 7)')
    .option('--mau <days>', 'active_users, stickiness: days in the MAU window (default 30)')
    .option('--new-by <mode>', 'lifecycle: first_activity | first_seen (default first_activity)')
    .option('--breakdown-limit <n>', 'with --breakdown: values with their own series (default 25; the rest are merged)');
  addScopeOptions(command).action(async (events: string[], opts: TrendsFlags) => {
    ctx.setJson(opts.json === true);
    const input = trendsFromFlags(events, opts);
    const ws = await openWorkspace(ctx.workspace());
    try {
      const result = await ws.runAnalysis(trendsAnalysis, input);
      printResult(ctx.io, result, trendsRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
