/** Writes data-insights/YYYY-MM-insights.md and .json (each to a temporary name first, then renamed). */
import { join } from 'node:path';
import { writeAtomic } from '../write-report.js';
import type { InsightsResult } from './insight-result.js';
import { insightsMarkdown } from './insights-markdown.js';

export function writeInsightsFiles(dir: string, result: InsightsResult): { markdown: string; json: string } {
  const markdown = join(dir, `${result.month}-insights.md`);
  const json = join(dir, `${result.month}-insights.json`);
  writeAtomic(markdown, insightsMarkdown(result));
  writeAtomic(json, `${JSON.stringify(result, null, 2)}\n`);
  return { markdown, json };
}
