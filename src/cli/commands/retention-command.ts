/**
 * `usagelab retention <target> [--returning E] [--interval week] ...`: ad hoc retention with the same definition,
 * defaults and validation as a saved one, and the retention matrix as a terminal table or CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { retentionAnalysis } from '../../analyses/retention/retention-analysis.js';
import type { RetentionAverageCell, RetentionCohort, RetentionResult } from '../../analyses/retention/retention-result.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';
import { registerRetentionApplyCommand } from './retention-apply-command.js';

/** Rates padded to one width, so the left-aligned columns (blank = incomplete) still line up. */
const rate = (v: number | null): string => (v === null ? '' : percent(v).padStart(6));

function matrixRows(result: RetentionResult, cohorts: readonly RetentionCohort[], average: readonly RetentionAverageCell[]): Record<string, unknown>[] {
  const column = (k: number): string => `${result.definition.interval} ${k}`;
  const rows = cohorts.map((c) => {
    const row: Record<string, unknown> = { cohort: c.start, size: c.size };
    for (const cell of c.intervals) row[column(cell.k)] = rate(cell.rate);
    return row;
  });
  const total: Record<string, unknown> = { cohort: 'average', size: cohorts.reduce((s, c) => s + c.size, 0) };
  for (const cell of average) total[column(cell.k)] = rate(cell.rate);
  return [...rows, total];
}

function heading(result: RetentionResult): string {
  const d = result.definition;
  const target = d.target.event + (Object.keys(d.target.where).length > 0 ? ` ${JSON.stringify(d.target.where)}` : '');
  const returning = d.returning.event + (Object.keys(d.returning.where).length > 0 ? ` ${JSON.stringify(d.returning.where)}` : '');
  const parts = [
    `${target} → ${returning}`,
    `${d.cohort === 'first_time' ? 'first-time' : 'recurring'} cohorts`,
    d.rolling ? `rolling ${d.rolling_hours} h intervals${d.round_to_hour ? ' (hours rounded down)' : ''}` : `calendar ${d.interval}s${d.interval === 'week' ? ` from ${d.week_start}` : ''}`,
  ];
  if (d.cumulative) parts.push('cumulative (on or after)');
  if (d.min_occurrences > 1) parts.push(`at least ${d.min_occurrences} returning events`);
  if (d.preset !== null) parts.push(`preset ${d.preset}`);
  parts.push(`time zone ${d.timezone}`);
  const observed = result.observed_until === null ? 'no data' : `data observed until ${result.observed_until}`;
  return `${result.name}  (${parts.join(', ')})\n${observed}; a blank cell is an interval not over yet\n\n`;
}

export const retentionRenderer: ResultRenderer<RetentionResult> = {
  table(result) {
    let out = heading(result);
    out += formatTable(matrixRows(result, result.cohorts, result.average));
    for (const group of result.breakdown ?? []) {
      out += `\n${result.definition.breakdown} = ${group.value ?? '(none)'}\n${formatTable(matrixRows(result, group.cohorts, group.average))}`;
    }
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  csvRows(result) {
    const withGroup = result.breakdown !== undefined;
    const rows = (group: string | null, cohorts: readonly RetentionCohort[], average: readonly RetentionAverageCell[]): Record<string, unknown>[] => {
      const prefix = withGroup ? { breakdown: group } : {};
      return [
        ...cohorts.flatMap((c) =>
          c.intervals.map((cell) => ({ ...prefix, cohort: c.start, size: c.size, k: cell.k, count: cell.count, rate: cell.rate, complete: cell.complete, cohorts: null })),
        ),
        ...average.map((a) => ({ ...prefix, cohort: 'average', size: a.size, k: a.k, count: a.count, rate: a.rate, complete: null, cohorts: a.cohorts })),
      ];
    };
    if (!withGroup) return rows(null, result.cohorts, result.average);
    return result.breakdown!.flatMap((g) => rows(g.value, g.cohorts, g.average));
  },
};

interface RetentionFlags extends ScopeFlags {
  returning?: string;
  cohort?: string;
  interval?: string;
  intervals?: string;
  cumulative?: boolean;
  minOccurrences?: string;
  rolling?: boolean;
  roundToHour?: boolean;
  preset?: string;
}

/** A whole-number flag as a number; anything else is passed on as text for the definition's rules to refuse. */
const numberFlag = (value: string): number | string => (/^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value);

export function registerRetentionCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('retention')
    .description('ad hoc retention: of the people who did <target> in an interval, how many came back in each later one (docs/analyses/retention.md)')
    .argument('<target>', 'event that puts a person in a cohort ($any: any event)')
    .option('--returning <event>', 'event that counts as coming back (default: the target; $any: any event)')
    .option('--cohort <type>', 'recurring | first_time (default recurring)')
    .option('--interval <interval>', 'day | week | month (default week)')
    .option('--intervals <n>', 'intervals shown after interval 0 (default 8)')
    .option('--cumulative', 'count people who came back in an interval or any later one ("on or after")')
    .option('--no-cumulative', 'count only returns in the interval itself (overrides a preset)')
    .option('--min-occurrences <n>', 'returning events needed in an interval (default 1)')
    .option('--rolling', 'intervals of 24 h / 7 × 24 h / 30 × 24 h from each entry instead of calendar ones')
    .option('--no-rolling', 'calendar intervals (overrides a preset)')
    .option('--round-to-hour', 'with --rolling: round instants down to the hour first (Amplitude)')
    .option('--preset <tool>', 'posthog | mixpanel | amplitude defaults');
  // `retention apply` deletes old data (governance); any other first argument is the analysis's target event.
  registerRetentionApplyCommand(command, ctx);
  addScopeOptions(command).action(async (target: string, opts: RetentionFlags) => {
    ctx.setJson(opts.json === true);
    const input: Record<string, unknown> = { kind: 'retention', ...scopeFromFlags(opts), target };
    if (opts.returning !== undefined) input.returning = opts.returning;
    for (const key of ['cohort', 'interval', 'preset'] as const) if (opts[key] !== undefined) input[key] = opts[key];
    if (opts.intervals !== undefined) input.intervals = numberFlag(opts.intervals);
    if (opts.minOccurrences !== undefined) input.min_occurrences = numberFlag(opts.minOccurrences);
    if (opts.cumulative !== undefined) input.cumulative = opts.cumulative;
    if (opts.rolling !== undefined) input.rolling = opts.rolling;
    if (opts.roundToHour !== undefined) input.round_to_hour = opts.roundToHour;
    const ws = await openWorkspace(ctx.workspace());
    try {
      const result = await ws.runAnalysis(retentionAnalysis, input);
      printResult(ctx.io, result, retentionRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
