/**
 * The monthly report end to end: collect the data (each analysis once), build the document from its sections,
 * render the charts, and write Markdown (and HTML) atomically under reports/.
 */
import { join } from 'node:path';
import type { Workspace } from '../library/workspace.js';
import type { ReportConfig } from '../core/report-config-schema.js';
import { renderSvg } from './charts/render-svg.js';
import { reportConfigOf } from './report-config.js';
import { collectReportData, type CollectOptions, type ReportData } from './report-data.js';
import { chartsOf, code, type ReportDocument, type ReportSection } from './report-document.js';
import { reportHtml } from './report-html.js';
import { reportMarkdown } from './report-markdown.js';
import { lastCompleteMonth } from './report-period.js';
import { activeSummary, activeUsersSection } from './report-sections/active-users-section.js';
import { definitionsSection } from './report-sections/definitions-section.js';
import { featuresSection } from './report-sections/features-section.js';
import { frictionSection } from './report-sections/friction-section.js';
import { funnelsSection } from './report-sections/funnels-section.js';
import { insightsSection } from './report-sections/insights-section.js';
import { qualitySection } from './report-sections/quality-section.js';
import { retentionSection } from './report-sections/retention-section.js';
import { segmentsSection } from './report-sections/segments-section.js';
import { sourcesSection } from './report-sections/sources-section.js';
import { summarySection } from './report-sections/summary-section.js';
import { usageSection } from './report-sections/usage-section.js';
import { applyTemplate } from './report-template.js';
import { writeReportFiles } from './write-report.js';

export interface MonthlyReportOptions {
  /** YYYY-MM; default: the last complete month in the workspace's time zone. */
  month?: string;
  /** Also write the HTML file (or report.html in usagelab.yaml). */
  html?: boolean;
  /** "Now" for the default month (tests). */
  now?: Date;
  /** Report settings instead of usagelab.yaml's `report:` section. */
  config?: ReportConfig;
  /** How the analyses run (connections side by side, a callback per run). */
  collect?: CollectOptions;
}

export interface MonthlyReport {
  month: string;
  markdownPath: string;
  htmlPath: string | null;
  chartPaths: string[];
  document: ReportDocument;
  data: ReportData;
}

/** The built-in sections in report order. */
export function buildSections(data: ReportData): ReportSection[] {
  const cur = activeSummary(data, data.month.range);
  const prev = activeSummary(data, data.month.previous.range);
  const sections: (ReportSection | null)[] = [
    summarySection(data, cur, prev),
    sourcesSection(data),
    activeUsersSection(data),
    usageSection(data, cur.monthly),
    funnelsSection(data),
    frictionSection(data),
    featuresSection(data),
    retentionSection(data),
    segmentsSection(data, cur.monthly),
    insightsSection(data.insights),
    qualitySection(data),
    definitionsSection(data),
  ];
  return sections.filter((s): s is ReportSection => s !== null);
}

export function buildDocument(data: ReportData, sections: ReportSection[]): ReportDocument {
  return {
    title: `${data.project}: usage report ${data.month.month}`,
    subtitle: [`${data.month.range.from} to ${data.month.range.to}, time zone `, code(data.timezone), ', compared with ', data.month.previous.month, '.'],
    sections,
  };
}

export async function renderCharts(doc: ReportDocument): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const chart of chartsOf(doc)) out.set(chart.file, await renderSvg(chart.spec, chart.file.replace(/\.svg$/, '')));
  return out;
}

export async function writeMonthlyReport(ws: Workspace, options: MonthlyReportOptions = {}): Promise<MonthlyReport> {
  const config = options.config ?? reportConfigOf(ws.config);
  const month = options.month ?? lastCompleteMonth(options.now ?? new Date(), ws.config.timezone);
  const data = await collectReportData(ws, month, config, options.collect);
  const builtIn = buildSections(data);
  const sections = config.template == null ? builtIn : await applyTemplate(ws, join(ws.root, config.template), data, builtIn);
  const document = buildDocument(data, sections);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const charts = await renderCharts(document);
  const used = process.cpuUsage(cpu);
  options.collect?.onRun?.(`charts (${charts.size}, vega-lite → SVG)`, (performance.now() - started) / 1000, (used.user + used.system) / 1e6);
  const reports = ws.paths.reports;
  const markdownPath = join(reports, `${month}-usage-report.md`);
  const html = options.html === true || config.html;
  const htmlPath = html ? join(reports, `${month}-usage-report.html`) : null;
  const written = writeReportFiles({
    markdown: { path: markdownPath, content: reportMarkdown(document, month) },
    ...(htmlPath === null ? {} : { html: { path: htmlPath, content: reportHtml(document, charts) } }),
    chartDir: join(reports, month),
    charts,
  });
  return { month, markdownPath, htmlPath, chartPaths: written.filter((p) => p.endsWith('.svg')), document, data };
}
