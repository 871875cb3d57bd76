/**
 * `usagelab insights [--month YYYY-MM] [--top N]`: what stood out in a month (docs/insights.md). Writes
 * data-insights/YYYY-MM-insights.md and .json, and prints the ranked list (or the JSON result with --json).
 */
import type { Command } from 'commander';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { computeInsights } from '../../reports/insights/insights.js';
import { writeInsightsFiles } from '../../reports/insights/write-insights.js';
import type { InsightsResult } from '../../reports/insights/insight-result.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../output.js';
import { percent, printResult, type ResultRenderer } from '../result-output.js';

interface InsightsFlags {
  month?: string;
  top?: string;
  json?: boolean;
  csv?: boolean;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${percent(Math.abs(v))}`;
}

export const insightsRenderer: ResultRenderer<InsightsResult & { files?: { markdown: string; json: string } }> = {
  table(result) {
    const head = `Insights for ${result.month} (against ${result.previous_month}): ${result.tested} comparisons tested, ${result.significant} stand out.`;
    const rows = result.insights.map((i) => ({
      '#': i.rank,
      insight: i.title,
      now: percent(i.current.value),
      against: `${percent(i.baseline.value)} (${i.baseline.label})`,
      change: signed(i.effect.absolute),
      q: i.test.q_value < 0.001 ? '<0.001' : i.test.q_value.toFixed(3),
    }));
    const files = result.files === undefined ? '' : `\nWritten: ${result.files.markdown}, ${result.files.json}`;
    const skipped = result.skipped.map((s) => `\nNot compared: ${s.what} — ${s.reason}`).join('');
    return `${head}\n\n${rows.length === 0 ? 'Nothing stands out.' : formatTable(rows)}${skipped}${files}\n`;
  },
  csvRows(result) {
    return result.insights.map((i) => ({
      rank: i.rank,
      id: i.id,
      kind: i.kind,
      comparison: i.comparison,
      title: i.title,
      metric: i.metric,
      current: i.current.value,
      current_x: i.current.x,
      current_n: i.current.n,
      baseline_label: i.baseline.label,
      baseline: i.baseline.value,
      baseline_x: i.baseline.x,
      baseline_n: i.baseline.n,
      effect_absolute: i.effect.absolute,
      effect_relative: i.effect.relative,
      cohens_h: i.effect.cohens_h,
      test: i.test.name,
      statistic: i.test.statistic,
      p_value: i.test.p_value,
      q_value: i.test.q_value,
      interval_low: i.interval.low,
      interval_high: i.interval.high,
      n: i.n,
      query: i.query,
    }));
  },
};

export function registerInsightsCommand(program: Command, ctx: CommandContext): void {
  program
    .command('insights')
    .description('what stood out in a month: conversion, friction and adoption against the previous month and the rest, with tests (docs/insights.md)')
    .option('--month <YYYY-MM>', 'the month (configured time zone; default: the month of the last event)')
    .option('--top <n>', 'insights to list (default 10)')
    .option('--json', 'print the documented JSON result (docs/insights.md#json-output)')
    .option('--csv', 'print the insights as CSV')
    .action(async (opts: InsightsFlags) => {
      ctx.setJson(opts.json === true);
      let top: number | undefined;
      if (opts.top !== undefined) {
        if (!/^\s*\d+\s*$/.test(opts.top) || Number(opts.top) < 1) {
          throw new UsageLabError('insights_top_invalid', `--top ${opts.top} is not a whole number ≥ 1`, { place: { field: 'top' }, hint: 'e.g. --top 20', exitCode: EXIT.usage });
        }
        top = Number(opts.top);
      }
      const ws = await openWorkspace(ctx.workspace());
      try {
        const result = await computeInsights(ws, { ...(opts.month === undefined ? {} : { month: opts.month }), ...(top === undefined ? {} : { settings: { top } }) });
        const { markdown, json } = writeInsightsFiles(ws.paths.insights, result);
        printResult(ctx.io, opts.json === true ? result : { ...result, files: { markdown, json } }, insightsRenderer, opts);
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
}
