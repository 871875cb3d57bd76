/**
 * `usagelab funnel --steps a,b,c [--window 7d] ...`: an ad hoc funnel with the same definition, defaults and
 * validation as a saved one, and the funnel's terminal table / CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { funnelAnalysis } from '../../analyses/funnel/funnel-analysis.js';
import type { FunnelResult, FunnelStepResult } from '../../analyses/funnel/funnel-result.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { duration, percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, listFlag, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';

function stepRows(steps: readonly FunnelStepResult[]): Record<string, unknown>[] {
  return steps.map((s, i) => ({
    step: `${i + 1}. ${s.name}`,
    count: s.count,
    'from previous': percent(s.conversion_from_previous),
    'from first': percent(s.conversion_from_first),
    'drop-off': s.drop_off,
    'median time': duration(s.median_seconds_from_previous),
  }));
}

export const funnelRenderer: ResultRenderer<FunnelResult> = {
  table(result) {
    const d = result.definition;
    let out = `${result.name}  (window ${d.window}, order ${d.order}, unit ${d.unit}${d.preset === null ? '' : `, preset ${d.preset}`}, time zone ${d.timezone})\n\n`;
    out += formatTable(stepRows(result.steps));
    for (const group of result.breakdown ?? []) {
      out += `\n${d.breakdown} = ${group.value ?? '(none)'}\n${formatTable(stepRows(group.steps))}`;
    }
    for (const drop of result.dropped ?? []) {
      if (drop.next_events.length === 0) continue;
      out += `\ndropped after step ${drop.after_step} (${drop.count}) did next: ${drop.next_events.map((e) => `${e.event} (${e.count})`).join(', ')}\n`;
    }
    if (result.dropped_people !== undefined) {
      const p = result.dropped_people;
      out += `\n${p.ids.length} ${p.unit === 'person' ? 'people' : 'sessions'} dropped after step ${p.after_step}:\n${p.ids.join('\n')}${p.ids.length > 0 ? '\n' : ''}`;
    }
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  csvRows(result) {
    const row = (group: string | null, s: FunnelStepResult, i: number): Record<string, unknown> => ({
      ...(result.breakdown === undefined ? {} : { breakdown: group }),
      step: i + 1,
      name: s.name,
      count: s.count,
      conversion_from_previous: s.conversion_from_previous,
      conversion_from_first: s.conversion_from_first,
      drop_off: s.drop_off,
      median_seconds_from_previous: s.median_seconds_from_previous,
      mean_seconds_from_previous: s.mean_seconds_from_previous,
    });
    if (result.breakdown === undefined) return result.steps.map((s, i) => row(null, s, i));
    return result.breakdown.flatMap((g) => g.steps.map((s, i) => row(g.value, s, i)));
  },
};

interface FunnelFlags extends ScopeFlags {
  steps: string;
  window?: string;
  order?: string;
  unit?: string;
  preset?: string;
  attempts?: string;
  excludeEvent?: string[];
  people?: string;
}

/** `--people N` → run option: who dropped after step N. */
export function peopleOption(value: string | undefined): { listDroppedAfter?: number } {
  if (value === undefined) return {};
  return { listDroppedAfter: Number(value) };
}

export function registerFunnelCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('funnel')
    .description('ad hoc funnel: how many people go through the steps, in order, within the window (docs/analyses.md#funnel)')
    .requiredOption('--steps <events>', 'comma-separated event names, in order (at least 2)')
    .option('--window <duration>', 'conversion window from step 1: 30m, 24h, 14d, 2w (default 14d)')
    .option('--order <order>', 'ordered | strict | unordered (default ordered)')
    .option('--unit <unit>', 'person | session (default person)')
    .option('--attempts <mode>', 'best | first (default best)')
    .option('--preset <tool>', 'posthog | mixpanel | amplitude defaults')
    .option('--exclude-event <event>', 'drop attempts with this event between the first and last step (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--people <step>', 'list who dropped after this step (1-based)');
  addScopeOptions(command).action(async (opts: FunnelFlags) => {
    ctx.setJson(opts.json === true);
    const input: Record<string, unknown> = { kind: 'funnel', ...scopeFromFlags(opts), steps: listFlag(opts.steps) };
    for (const key of ['window', 'order', 'unit', 'preset', 'attempts'] as const) if (opts[key] !== undefined) input[key] = opts[key];
    if (opts.excludeEvent !== undefined) input.exclusions = opts.excludeEvent.map((event) => ({ event }));
    const ws = await openWorkspace(ctx.workspace());
    try {
      const result = await ws.runAnalysis(funnelAnalysis, input, peopleOption(opts.people));
      printResult(ctx.io, result, funnelRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
