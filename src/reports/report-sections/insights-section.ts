/**
 * Insights: the ranked findings of src/reports/insights (tested comparisons, docs/insights.md), each with its
 * numbers and the query that shows it. This section only renders them.
 */
import type { InsightsResult } from '../insights/insight-result.js';
import { code, p, strong, type Inline, type ReportSection } from '../report-document.js';
import { count, pct } from '../report-format.js';

export function insightsSection(result: InsightsResult): ReportSection {
  const s = result.settings;
  const items: Inline[][] = result.insights.map((i) => [
    strong(`${i.rank}. ${i.title}`),
    ` ${i.detail} `,
    `(${i.current.label} ${pct(i.current.value)} against ${i.baseline.label} ${pct(i.baseline.value)}; n = ${count(i.n)}; q ${i.test.q_value < 0.0001 ? '< 0.0001' : `= ${i.test.q_value.toFixed(4)}`}) `,
    'Query: ',
    code(i.query),
  ]);
  return {
    id: 'insights',
    title: 'Insights',
    blocks: [
      p(`${count(result.tested)} comparisons tested, ${count(result.significant)} stand out (q ≤ ${s.fdr} after Benjamini-Hochberg, effect |h| ≥ ${s.min_effect_h}).`),
      items.length === 0 ? p('Nothing stands out this month.') : { type: 'list', items },
      ...(result.skipped.length === 0 ? [] : [p('Not compared: ', result.skipped.map((k) => `${k.what} (${k.reason})`).join('; '), '.')]),
    ],
  };
}
