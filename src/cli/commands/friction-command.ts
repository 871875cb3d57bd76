/**
 * `usagelab friction [--signals rage,dead] [--min-sessions 3] ...`: frustration hotspots by page and element,
 * with the same definition, defaults and validation as a saved `kind: friction` query, and its terminal tables
 * and CSV rows.
 */
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { frictionAnalysis } from '../../analyses/friction/friction-analysis.js';
import type { FrictionDelta, FrictionResult } from '../../analyses/friction/friction-result.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';
import { addScopeOptions, listFlag, scopeFromFlags, type ScopeFlags } from '../scope-flags.js';

const LABEL_MAX = 40;

/** One line, at most `max` characters: element texts may hold newlines and whole paragraphs. */
function label(text: string | null, max = LABEL_MAX): string {
  if (text === null) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

function element(selector: string | null, text: string | null): string {
  if (selector === null && text === null) return '(no element)';
  if (text === null) return label(selector);
  if (selector === null) return `"${label(text)}"`;
  return `${label(selector)} "${label(text, 24)}"`;
}

const page = (p: string | null): string => (p === null ? '(no page)' : label(p, 60));
const count = (v: number | null): string => (v === null ? '–' : v.toLocaleString('en-US'));
const share = (v: number | null): string => (v === null ? '–' : percent(v));

/** "+3 (+50.0%)", "−1 (−25.0%)", "+2" when the previous value was 0. */
function change(d: FrictionDelta | undefined, isNew = false): string {
  if (d === undefined) return '';
  if (isNew) return 'new';
  if (d.change === null) return '';
  const sign = d.change > 0 ? '+' : d.change < 0 ? '−' : '±';
  const rel = d.relative === null ? '' : ` (${sign}${percent(Math.abs(d.relative))})`;
  return `${sign}${Math.abs(d.change).toLocaleString('en-US')}${rel}`;
}

/** A change in a share, in percentage points. */
function pointChange(d: FrictionDelta | undefined): string {
  if (d === undefined || d.change === null) return '';
  const points = d.change * 100;
  return `${points > 0 ? '+' : points < 0 ? '−' : '±'}${Math.abs(points).toFixed(1)} pt`;
}

function header(result: FrictionResult): string {
  const d = result.definition;
  const range = d.date_range === null ? 'all data' : `${d.date_range.from} to ${d.date_range.to}`;
  const compared = result.previous.compared && result.previous.date_range !== null
    ? `compared with ${result.previous.date_range.from} to ${result.previous.date_range.to}`
    : `no comparison (${result.previous.reason ?? ''})`;
  return `${result.name}  (${range}, time zone ${d.timezone}; signals ${d.signals.join(', ')}; ${compared})\n`;
}

function overallText(result: FrictionResult): string {
  const o = result.overall;
  const c = o.change;
  const withChange = (text: string, delta: string): string => (delta === '' ? text : `${text} [${delta}]`);
  const lines = [
    withChange(`sessions with a signal: ${count(o.sessions_with_signal)} of ${count(o.sessions)} (${share(o.share_of_sessions)})`, pointChange(c?.share_of_sessions)),
    `people with a signal: ${count(o.people_with_signal)} of ${count(o.people)}`,
    withChange(`signal events: ${count(o.signal_events)} (rage ${count(o.rage_clicks)}, dead ${count(o.dead_clicks)}, error ${count(o.error_clicks)})`, change(c?.signal_events)),
    withChange(`sessions with an error: ${count(o.sessions_with_error)} (${count(o.error_events)} error events)`, change(c?.sessions_with_error)),
    withChange(`U-turns: ${count(o.u_turns)} of ${count(o.visits)} page visits (${share(o.u_turn_share)}) in ${count(o.u_turn_sessions)} sessions`, change(c?.u_turns)),
  ];
  return lines.join('\n') + '\n';
}

function hotspotRows(result: FrictionResult): Record<string, unknown>[] {
  const compared = result.previous.compared;
  return result.hotspots.map((h) => ({
    '#': h.rank,
    page: page(h.page),
    element: element(h.selector, h.text),
    sessions: h.sessions,
    'of page': percent(h.share_of_page_sessions),
    people: h.people,
    rage: count(h.rage_clicks),
    dead: count(h.dead_clicks),
    error: count(h.error_clicks),
    ...(compared ? { 'vs previous': change(h.change?.sessions, h.change?.new) } : {}),
  }));
}

function pageRows(result: FrictionResult): Record<string, unknown>[] {
  const compared = result.previous.compared;
  return result.pages.map((p) => ({
    '#': p.rank,
    page: page(p.page),
    sessions: p.sessions,
    'with signal': p.sessions_with_signal,
    share: percent(p.share_of_sessions),
    ...(compared ? { 'share vs previous': p.change?.new === true ? 'new' : pointChange(p.change?.share_of_sessions) } : {}),
    rage: count(p.rage_clicks),
    dead: count(p.dead_clicks),
    error: count(p.error_clicks),
    'U-turns': p.u_turns,
    'U-turn share': percent(p.u_turn_share),
  }));
}

function errorPageRows(result: FrictionResult): Record<string, unknown>[] {
  return result.error_pages.map((p) => ({
    '#': p.rank,
    page: page(p.page),
    sessions: p.sessions,
    'with error': p.sessions_with_error,
    'error rate': percent(p.error_rate),
    'error events': p.error_events,
  }));
}

function section(title: string, rows: Record<string, unknown>[], counts: FrictionResult['lists']['hotspots'], minSessions: number): string {
  const cut = [
    counts.below_min_sessions > 0 ? `${counts.below_min_sessions} below min_sessions ${minSessions}` : '',
    counts.beyond_top > 0 ? `${counts.beyond_top} more beyond top` : '',
  ].filter((s) => s !== '');
  return `\n${title}${cut.length === 0 ? '' : `  (not listed: ${cut.join(', ')})`}\n${formatTable(rows)}`;
}

export const frictionRenderer: ResultRenderer<FrictionResult> = {
  table(result) {
    const min = result.definition.min_sessions;
    let out = header(result) + '\n' + overallText(result);
    out += section('hotspots (sessions with a signal on the element)', hotspotRows(result), result.lists.hotspots, min);
    out += section('pages', pageRows(result), result.lists.pages, min);
    out += section('error pages', errorPageRows(result), result.lists.error_pages, min);
    if (result.breakdown !== undefined) {
      out += `\nby ${result.definition.breakdown ?? 'breakdown'} (each session by its first event)\n`;
      out += formatTable(
        result.breakdown.map((g) => ({
          value: g.value ?? '(none)',
          sessions: g.sessions,
          'with signal': g.sessions_with_signal,
          share: percent(g.share_of_sessions),
          'signal events': g.signal_events,
        })),
      );
    }
    if (result.excluded.people > 0) out += `\nexcluded (${result.excluded.by.join(', ')}): ${result.excluded.people} people, ${percent(result.excluded.share_of_events)} of events\n`;
    return out;
  },
  /** One row per line of every table, told apart by `section` (overall, hotspot, page, error_page, breakdown). */
  csvRows(result) {
    const o = result.overall;
    const rows: Record<string, unknown>[] = [
      {
        section: 'overall',
        sessions: o.sessions,
        sessions_with_signal: o.sessions_with_signal,
        share: o.share_of_sessions,
        people: o.people,
        people_with_signal: o.people_with_signal,
        signal_events: o.signal_events,
        rage_clicks: o.rage_clicks,
        dead_clicks: o.dead_clicks,
        error_clicks: o.error_clicks,
        error_events: o.error_events,
        sessions_with_error: o.sessions_with_error,
        visits: o.visits,
        u_turns: o.u_turns,
        u_turn_share: o.u_turn_share,
        previous_sessions_with_signal: o.change?.sessions_with_signal.previous ?? null,
        previous_share: o.change?.share_of_sessions.previous ?? null,
      },
    ];
    for (const h of result.hotspots) {
      rows.push({
        section: 'hotspot',
        rank: h.rank,
        page: h.page,
        selector: h.selector,
        text: h.text,
        sessions: h.sessions,
        page_sessions: h.page_sessions,
        share: h.share_of_page_sessions,
        people: h.people,
        signal_events: h.signal_events,
        rage_clicks: h.rage_clicks,
        dead_clicks: h.dead_clicks,
        error_clicks: h.error_clicks,
        previous_sessions: h.change?.sessions.previous ?? null,
        sessions_change: h.change?.sessions.change ?? null,
        sessions_change_relative: h.change?.sessions.relative ?? null,
        new: h.change?.new ?? null,
      });
    }
    for (const p of result.pages) {
      rows.push({
        section: 'page',
        rank: p.rank,
        page: p.page,
        sessions: p.sessions,
        sessions_with_signal: p.sessions_with_signal,
        share: p.share_of_sessions,
        signal_events: p.signal_events,
        rage_clicks: p.rage_clicks,
        dead_clicks: p.dead_clicks,
        error_clicks: p.error_clicks,
        error_events: p.error_events,
        sessions_with_error: p.sessions_with_error,
        visits: p.visits,
        u_turns: p.u_turns,
        u_turn_share: p.u_turn_share,
        previous_sessions_with_signal: p.change?.sessions_with_signal.previous ?? null,
        previous_share: p.change?.share_of_sessions.previous ?? null,
        new: p.change?.new ?? null,
      });
    }
    for (const p of result.error_pages) {
      rows.push({ section: 'error_page', rank: p.rank, page: p.page, sessions: p.sessions, sessions_with_error: p.sessions_with_error, share: p.error_rate, error_events: p.error_events });
    }
    for (const g of result.breakdown ?? []) {
      rows.push({
        section: 'breakdown',
        value: g.value,
        sessions: g.sessions,
        sessions_with_signal: g.sessions_with_signal,
        share: g.share_of_sessions,
        signal_events: g.signal_events,
        rage_clicks: g.rage_clicks,
        dead_clicks: g.dead_clicks,
        error_clicks: g.error_clicks,
      });
    }
    return rows;
  },
};

interface FrictionFlags extends ScopeFlags {
  signals?: string;
  element?: string;
  minSessions?: string;
  top?: string;
  uTurnSeconds?: string;
  compare?: string;
}

/** A whole number stays a number; anything else goes on as text, for the definition's rules to name. */
const numberFlag = (value: string): number | string => (/^\s*\d+\s*$/.test(value) ? Number(value) : value);

export function registerFrictionCommand(program: Command, ctx: CommandContext): void {
  const command = program
    .command('friction')
    .description('frustration hotspots: rage, dead and error clicks by page and element, error pages, U-turns (docs/analyses/friction.md)')
    .option('--signals <list>', 'rage, dead, error, comma-separated (default all three)')
    .option('--element <key>', 'how an element is identified: selector | text | text_and_selector (default selector)')
    .option('--min-sessions <n>', 'list only rows affecting at least n sessions (default 5)')
    .option('--top <n>', 'rows per list (default 20)')
    .option('--u-turn-seconds <n>', 'a return within n seconds of leaving a page is a U-turn (default 10)')
    .option('--compare <mode>', 'previous_period | previous_month | none (default previous_period; needs --from/--to; previous_month needs whole months)');
  addScopeOptions(command).action(async (opts: FrictionFlags) => {
    ctx.setJson(opts.json === true);
    const input: Record<string, unknown> = { kind: 'friction', ...scopeFromFlags(opts) };
    if (opts.signals !== undefined) input.signals = listFlag(opts.signals);
    if (opts.element !== undefined) input.element = opts.element;
    if (opts.compare !== undefined) input.compare = opts.compare;
    if (opts.minSessions !== undefined) input.min_sessions = numberFlag(opts.minSessions);
    if (opts.top !== undefined) input.top = numberFlag(opts.top);
    if (opts.uTurnSeconds !== undefined) input.u_turn_seconds = numberFlag(opts.uTurnSeconds);
    const ws = await openWorkspace(ctx.workspace());
    try {
      const result = await ws.runAnalysis(frictionAnalysis, input);
      printResult(ctx.io, result, frictionRenderer, opts);
      ctx.setExitCode(EXIT.ok);
    } finally {
      ws.close();
    }
  });
}
