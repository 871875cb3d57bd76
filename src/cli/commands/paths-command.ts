/**
 * `usagelab paths [--start signup] [--end upgrade] [--depth 5] ...`: ad hoc paths with the same definition,
 * defaults and validation as a saved one (docs/analyses/paths.md), and the paths' terminal table / CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { pathsAnalysis } from '../../analyses/paths/paths-analysis.js';
import { stepText, type PathEntry, type PathsResult, type PathStep } from '../../analyses/paths/paths-result.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, listFlag, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';

const ARROW = ' → ';

const pathText = (steps: readonly PathStep[]): string => steps.map(stepText).join(ARROW);

function pathRows(paths: readonly PathEntry[]): Record<string, unknown>[] {
  return paths.map((p, i) => ({ '#': i + 1, path: pathText(p.steps), sessions: p.sessions, share: percent(p.share) }));
}

function anchorText(anchor: PathsResult['definition']['start']): string {
  if (anchor === null) return '';
  const what = anchor.event !== null ? `(${anchor.event})` : anchor.page!;
  const where = Object.keys(anchor.where).length === 0 ? '' : ` where ${JSON.stringify(anchor.where)}`;
  return `${what}${where}`;
}

function header(result: PathsResult): string {
  const d = result.definition;
  const parts = [`step ${d.step}`, `depth ${d.depth}`, d.collapse_repeats ? 'repeats collapsed' : 'repeats kept'];
  if (d.start !== null) parts.push(`from ${anchorText(d.start)}`);
  if (d.end !== null) parts.push(`to ${anchorText(d.end)}`);
  if (d.date_range !== null) parts.push(`${d.date_range.from} to ${d.date_range.to}`);
  parts.push(`time zone ${d.timezone}`);
  const s = result.sessions;
  const counts = [
    ...(s.with_start === null ? [] : [`with the start ${s.with_start.toLocaleString('en-US')}`]),
    ...(s.with_end === null ? [] : [`with the end ${s.with_end.toLocaleString('en-US')}`]),
    `with a path ${s.with_path.toLocaleString('en-US')}`,
    ...(s.end_beyond_depth === null ? [] : [`end beyond depth ${s.end_beyond_depth.toLocaleString('en-US')}`]),
    `cut at depth ${s.truncated.toLocaleString('en-US')}`,
  ];
  return `${result.name}  (${parts.join(', ')})\nsessions: ${counts.join(', ')}\n`;
}

const count = (n: number, noun: string): string => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

function othersLine(others: PathsResult['other_paths']): string {
  return others.paths === 0 ? '' : `(${count(others.paths, 'more path')}, ${count(others.sessions, 'session')})\n`;
}

export const pathsRenderer: ResultRenderer<PathsResult> = {
  table(result) {
    let out = `${header(result)}\n`;
    out += formatTable(pathRows(result.paths));
    out += othersLine(result.other_paths);
    for (const group of result.breakdown ?? []) {
      out += `\n${result.definition.breakdown} = ${group.value ?? '(none)'}  (${count(group.sessions, 'session')})\n`;
      out += formatTable(pathRows(group.paths));
      out += othersLine(group.other_paths);
    }
    if (result.transitions.length > 0) {
      const counted = result.aligned === 'end' ? 'positions counted so the end is at the last one' : 'positions from the first step';
      out += `\ntransitions (${counted})\n`;
      out += formatTable(result.transitions.map((t) => ({ depth: t.depth, from: stepText(t.from), to: stepText(t.to), sessions: t.count })));
      const o = result.other_transitions;
      if (o.transitions > 0) out += `(${count(o.transitions, 'more transition')}, ${count(o.count, 'session')})\n`;
    }
    if (result.drop_offs.some((d) => d.sessions > 0)) {
      out += `\ndrop-offs (sessions whose path ends at the step)\n`;
      out += formatTable(result.drop_offs.map((d) => ({ depth: d.depth, sessions: d.sessions, 'dropped off': d.dropped, share: percent(d.share) })));
    }
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  csvRows(result) {
    const depth = result.definition.depth;
    const row = (group: string | null, p: PathEntry, i: number): Record<string, unknown> => {
      const steps: Record<string, unknown> = {};
      for (let k = 0; k < depth; k++) steps[`step_${k + 1}`] = p.steps[k] === undefined ? null : stepText(p.steps[k]!);
      return {
        ...(result.breakdown === undefined ? {} : { breakdown: group }),
        rank: i + 1,
        path: pathText(p.steps),
        steps: p.steps.length,
        sessions: p.sessions,
        share: p.share,
        ...steps,
      };
    };
    if (result.breakdown === undefined) return result.paths.map((p, i) => row(null, p, i));
    return result.breakdown.flatMap((g) => g.paths.map((p, i) => row(g.value, p, i)));
  },
};

interface PathsFlags extends ScopeFlags {
  start?: string;
  startPage?: string;
  end?: string;
  endPage?: string;
  step?: string;
  includeEvents?: string;
  excludeEvents?: string;
  depth?: string;
  top?: string;
  topTransitions?: string;
  collapse?: boolean;
}

/** A number flag as a number when it reads as one; otherwise the text, so validation names the field. */
function numberFlag(value: string): number | string {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

function anchorFromFlags(event: string | undefined, page: string | undefined): Record<string, string> | undefined {
  if (event === undefined && page === undefined) return undefined;
  return { ...(event === undefined ? {} : { event }), ...(page === undefined ? {} : { page }) };
}

/** The definition keys the paths flags set (only those given, so the defaults apply to the rest). */
export function pathsInputFromFlags(opts: PathsFlags): Record<string, unknown> {
  const input: Record<string, unknown> = { kind: 'paths', ...scopeFromFlags(opts) };
  const start = anchorFromFlags(opts.start, opts.startPage);
  const end = anchorFromFlags(opts.end, opts.endPage);
  if (start !== undefined) input.start = start;
  if (end !== undefined) input.end = end;
  if (opts.step !== undefined) input.step = opts.step;
  if (opts.includeEvents !== undefined) input.include_events = listFlag(opts.includeEvents);
  if (opts.excludeEvents !== undefined) input.exclude_events = listFlag(opts.excludeEvents);
  if (opts.depth !== undefined) input.depth = numberFlag(opts.depth);
  if (opts.top !== undefined) input.top = numberFlag(opts.top);
  if (opts.topTransitions !== undefined) input.top_transitions = numberFlag(opts.topTransitions);
  if (opts.collapse === false) input.collapse_repeats = false;
  return input;
}

export function registerPathsCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('paths')
    .description('ad hoc paths: the most common sequences of pages/events per session, from a start or to an end (docs/analyses/paths.md)')
    .option('--start <event>', 'paths from the first occurrence of this event in each session')
    .option('--start-page <path>', 'paths from the first view of this cleaned page path (e.g. /settings/:id)')
    .option('--end <event>', 'paths leading to the first occurrence of this event in each session')
    .option('--end-page <path>', 'paths leading to the first view of this cleaned page path')
    .option('--step <mode>', 'page | event | page_and_event: what a step is (default page)')
    .option('--include-events <names>', 'only these events become event steps, comma-separated')
    .option('--exclude-events <names>', 'these events never become steps, comma-separated')
    .option('--depth <n>', 'steps per path, 2 to 20 (default 5)')
    .option('--top <n>', 'paths to list (default 20)')
    .option('--top-transitions <n>', 'transitions to list (default 100)')
    .option('--no-collapse', 'keep consecutive identical steps (default: they collapse into one)');
  addScopeOptions(command).action(async (opts: PathsFlags) => {
    ctx.setJson(opts.json === true);
    const input = pathsInputFromFlags(opts);
    const ws = await openWorkspace(ctx.workspace());
    try {
      const result = await ws.runAnalysis(pathsAnalysis, input);
      printResult(ctx.io, result, pathsRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
