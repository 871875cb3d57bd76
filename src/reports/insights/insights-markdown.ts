/**
 * The insights of a month as Markdown (data-insights/YYYY-MM-insights.md): one section per insight with what
 * changed, by how much, the evidence and the query that shows it, then how they were found.
 */
import type { Insight, InsightsResult } from './insight-result.js';
import { pct } from './insight-candidates.js';

function pValue(p: number): string {
  if (p < 0.0001) return p === 0 ? '< 1e-15' : p.toExponential(1);
  return p.toFixed(4);
}

/** Markdown text must not start a heading, list or table by accident, nor close our inline code. */
function inline(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/([\\`*_[\]<>|])/g, '\\$1');
}

function evidence(i: Insight): string {
  const side = (s: Insight['current']): string => (s.x === null || s.n === null ? `${s.label} ${pct(s.value)}` : `${s.label}: ${s.x} of ${s.n} (${pct(s.value)})`);
  const what = i.comparison === 'against_threshold' ? 'share (95% Wilson interval)' : 'difference (95% Newcombe interval)';
  const value = i.comparison === 'against_threshold' ? pct(i.current.value) : `${i.effect.absolute >= 0 ? '+' : '−'}${pct(Math.abs(i.effect.absolute))}`;
  return [
    `- **Numbers:** ${inline(side(i.current))} against ${inline(side(i.baseline))}`,
    `- **Effect:** ${what} ${value} [${pct(i.interval.low)}, ${pct(i.interval.high)}]${i.effect.relative === null ? '' : `, relative ${i.effect.relative >= 0 ? '+' : '−'}${pct(Math.abs(i.effect.relative))}`}, Cohen's h ${i.effect.cohens_h.toFixed(2)}`,
    `- **Test:** ${i.test.name}, z = ${i.test.statistic.toFixed(2)}, p = ${pValue(i.test.p_value)}, q (Benjamini-Hochberg) = ${pValue(i.test.q_value)}, n = ${i.n}`,
    `- **Query:** \`${i.query.replace(/`/g, "'")}\``,
  ].join('\n');
}

export function insightsMarkdown(result: InsightsResult): string {
  const s = result.settings;
  const lines: string[] = [`# Insights for ${result.month}`, ''];
  lines.push(
    `Compared with ${result.previous_month}, and each group with the rest (time zone ${result.timezone}; data ${result.data_from ?? '—'} … ${result.data_through ?? '—'}).`,
    `${result.tested} comparisons tested, ${result.significant} stand out (q ≤ ${s.fdr}, |h| ≥ ${s.min_effect_h} between groups); the top ${Math.min(s.top, result.insights.length)} are listed.`,
    '',
  );
  if (result.insights.length === 0) lines.push('Nothing stands out this month.', '');
  for (const i of result.insights) {
    lines.push(`## ${i.rank}. ${inline(i.title)}`, '', inline(i.detail), '', evidence(i), '');
  }
  if (result.skipped.length > 0) {
    lines.push('## Not compared', '');
    for (const k of result.skipped) lines.push(`- ${inline(k.what)}: ${inline(k.reason)}`);
    lines.push('');
  }
  lines.push(
    '## Method',
    '',
    `Two-proportion z-tests (months, groups, pages) and one-proportion z-tests against the feature catalog's thresholds; each side needs ${s.min_sample} units and ${s.min_outcomes} outcomes with and without (${result.below_min_sample} comparisons were too small to test). p-values are adjusted with Benjamini-Hochberg over all ${result.tested} comparisons; insights are ranked by effect size (Cohen's h), then q. See docs/insights.md.`,
    '',
  );
  return lines.join('\n');
}
