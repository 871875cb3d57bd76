/**
 * A team's own report layout (docs/reports.md#templates): a Markdown file whose text is kept, with
 * `{{month}}`-style values filled in, `{{section:ID}}` lines replaced by a built-in section, and ```usagelab query
 * blocks replaced by the result of a saved query run over the report month.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { Workspace } from '../library/workspace.js';
import { ANALYSIS_KINDS } from '../library/analysis-registry.js';
import { resolveQueryPath } from '../library/saved-query.js';
import { readYamlFile } from '../library/saved-segments.js';
import type { FunnelResult } from '../analyses/funnel/funnel-result.js';
import type { TrendsResult } from '../analyses/trends/trends-result.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import type { ReportData } from './report-data.js';
import { p, table, type Block, type ReportSection } from './report-document.js';
import { count } from './report-format.js';
import { funnelBlocks } from './report-sections/funnels-section.js';

const QUERY_BLOCK = /^```usagelab query[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/gm;
const SECTION_LINE = /^\{\{section:([a-z-]+)\}\}[ \t]*$/gm;

function templateError(code: string, message: string, file: string, hint: string): UsageLabError {
  return new UsageLabError(code, message, { place: { file }, hint, exitCode: EXIT.usage });
}

export function fillValues(text: string, data: ReportData): string {
  const values: Record<string, string> = { month: data.month.month, previous_month: data.month.previous.month, project: data.project, timezone: data.timezone, from: data.month.range.from, to: data.month.range.to };
  return text.replace(/\{\{(month|previous_month|project|timezone|from|to)\}\}/g, (_, key: string) => values[key]!);
}

function trendsBlocks(result: TrendsResult): Block[] {
  const rows = result.series.flatMap((s) =>
    (s.points as unknown as Record<string, unknown>[]).map((pt) => {
      const value = result.measure === 'events' ? pt.events : result.measure === 'lifecycle' ? pt.active : result.measure === 'stickiness' ? pt.average_dau : pt.people;
      return [s.breakdown_value === null ? s.label : `${s.label}: ${s.breakdown_value}`, String(pt.period_start), count(value as number)];
    }),
  );
  const measure = result.measure === 'events' ? 'events' : result.measure === 'stickiness' ? 'average DAU' : 'people';
  return rows.length === 0 ? [p('No data in the month.')] : [table(['series', 'period', { title: measure, align: 'right' }], rows)];
}

async function queryBlocks(ws: Workspace, yamlText: string, data: ReportData, file: string): Promise<Block[]> {
  let spec: unknown;
  try {
    spec = parse(yamlText);
  } catch (err) {
    throw templateError('report_template_block_invalid', `a usagelab query block is not valid YAML: ${(err as Error).message.split('\n')[0]}`, file, 'write `query: NAME` (a saved query in queries/)');
  }
  const name = (spec as { query?: unknown } | null)?.query;
  if (typeof name !== 'string' || name === '') {
    throw templateError('report_template_block_invalid', 'a usagelab query block needs `query: NAME`', file, 'name a saved query of queries/, e.g. query: activation-funnel');
  }
  const queryFile = resolveQueryPath(ws, name);
  const doc = readYamlFile(queryFile) as Record<string, unknown>;
  const input = { ...doc, date_range: { ...data.month.range } };
  if (doc.kind === 'funnel') {
    const analysis = ANALYSIS_KINDS.funnel!;
    const current = (await ws.runAnalysis(analysis, input, { nextEvents: true }, queryFile)) as FunnelResult;
    const previous = (await ws.runAnalysis(analysis, { ...doc, date_range: { ...data.month.previous.range } }, { nextEvents: false }, queryFile)) as FunnelResult;
    return funnelBlocks(data, { query: name, current, previous });
  }
  if (doc.kind === 'trends') return trendsBlocks(await ws.runAnalysis(trendsAnalysis, input, {}, queryFile));
  throw templateError('report_template_kind_unsupported', `query "${name}" has kind ${String(doc.kind)}; template blocks show funnel and trends queries`, file, 'use {{section:ID}} for the built-in sections of the other kinds');
}

/** The template as report sections: its own text (no heading of ours) around the filled-in parts. */
export async function applyTemplate(ws: Workspace, file: string, data: ReportData, builtIn: readonly ReportSection[]): Promise<ReportSection[]> {
  if (!existsSync(file)) throw templateError('report_template_missing', `the report template ${file} does not exist`, file, 'fix report.template in usagelab.yaml (a path relative to the workspace)');
  const text = readFileSync(file, 'utf8');
  const sections: ReportSection[] = [];
  const byId = new Map(builtIn.map((s) => [s.id, s]));
  const pieces = [...text.matchAll(new RegExp(`${QUERY_BLOCK.source}|${SECTION_LINE.source}`, 'gm'))];
  let at = 0;
  let n = 0;
  const pushText = (chunk: string): void => {
    if (chunk.trim() !== '') sections.push({ id: `template-${++n}`, title: '', blocks: [{ type: 'markdown', text: fillValues(chunk.trim(), data) }] });
  };
  for (const m of pieces) {
    pushText(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1] !== undefined) {
      sections.push({ id: `template-${++n}`, title: '', blocks: await queryBlocks(ws, m[1], data, file) });
    } else {
      const section = byId.get(m[2]!);
      if (section === undefined) throw templateError('report_template_section_unknown', `unknown section "${m[2]!}"`, file, `sections: ${[...byId.keys()].join(', ')}`);
      sections.push(section);
    }
  }
  pushText(text.slice(at));
  return sections;
}
