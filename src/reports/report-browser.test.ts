/**
 * The report as a person sees it: rendered in headless Chromium, every chart measured from the DOM (text inside the
 * chart, no overlapping labels, fonts ≥ 10 px, sensible ticks, colours apart for colour-blind readers, readable
 * values on cells) and screenshotted to PNG; the Markdown's charts loaded the way GitHub shows them (<img>).
 *
 * Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it): skipped without it.
 * USAGELAB_CHART_SCREENSHOTS=DIR keeps the PNGs; USAGELAB_REPORT_BROWSER_DIR (+ _MONTH) checks an existing workspace
 * (e.g. a `usagelab demo`) instead of the generated demo-like one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace, type Workspace } from '../library/workspace.js';
import { demoLikeWorkspace, DEMO_LIKE_MONTH } from '../test-support/demo-like-workspace.js';
import { chromiumAvailable, CHROMIUM_PATH, imageSizes, measureCharts, openBrowser, screenshotCharts, type Browser, type MeasuredChart } from '../test-support/chart-browser.js';
import { auditChart, axisTicks, confusableColours, lowContrastText, overlappingTexts, smallText, textOutsideBox } from '../test-support/chart-audit.js';
import { tempWorkspace } from '../test-support/temp-workspace.js';
import { writeMonthlyReport, type MonthlyReport } from './monthly-report.js';
import { chartsOf, type ReportDocument } from './report-document.js';
import { reportHtml } from './report-html.js';
import { renderSvg } from './charts/render-svg.js';

const RUN = chromiumAvailable();
if (!RUN) console.warn(`report-browser.test.ts skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium; .ci/run installs it)`);

const EXISTING = process.env.USAGELAB_REPORT_BROWSER_DIR;

let browser: Browser;
let report: MonthlyReport;
let charts: MeasuredChart[];
let scratch: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  if (!RUN) return;
  let ws: Workspace;
  if (EXISTING === undefined) {
    const like = await demoLikeWorkspace();
    ws = like.ws;
    cleanups.push(like.cleanup);
  } else {
    ws = await openWorkspace(EXISTING, { env: {} });
    cleanups.push(() => ws.close());
  }
  const scratchWs = tempWorkspace();
  cleanups.push(scratchWs.cleanup);
  scratch = scratchWs.dir;
  report = await writeMonthlyReport(ws, { month: EXISTING === undefined ? DEMO_LIKE_MONTH : (process.env.USAGELAB_REPORT_BROWSER_MONTH ?? undefined), html: true });
  browser = await openBrowser();
  await browser.open(report.htmlPath!);
  charts = await measureCharts(browser.page);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const c of cleanups.reverse()) c();
});

describe.skipIf(!RUN)('the HTML report in Chromium', () => {
  it('lays out every chart readably: nothing cut off or overlapping, fonts ≥ 10 px, sensible ticks, colour-blind-safe colours', () => {
    expect(charts.map((c) => c.file)).toEqual(chartsOf(report.document).map((c) => c.file));
    expect(charts.length).toBeGreaterThanOrEqual(9);
    expect(charts.flatMap(auditChart)).toEqual([]);
    // The checks saw what they check: axes with labels, text on the heatmap's cells, categorical legends.
    expect(charts.find((c) => c.file === 'retention.svg')!.texts.filter((t) => t.role === 'mark').length).toBeGreaterThan(20);
    expect(charts.find((c) => c.file === 'active-users.svg')!.legendColours).toHaveLength(3);
    expect(charts.find((c) => c.file === 'features.svg')!.legendColours.length).toBeGreaterThanOrEqual(2);
    for (const c of charts) expect(c.axes.length, c.file).toBe(2);
  });

  it('fits the page: no sideways scrolling at 1100 px', async () => {
    const [scroll, client] = (await browser.page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')) as [number, number];
    expect(scroll).toBeLessThanOrEqual(client);
  });

  it('screenshots every chart to PNG at its laid-out size', async () => {
    const dir = process.env.USAGELAB_CHART_SCREENSHOTS ?? join(scratch, 'screenshots');
    mkdirSync(dir, { recursive: true });
    const files = await screenshotCharts(browser.page, dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(charts.map((c) => c.file.replace(/\.svg$/, '.png')));
    for (const [i, file] of files.entries()) {
      const png = readFileSync(file);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      // IHDR: width and height, big-endian, at bytes 16..24 (±1 px: the box may sit at a fractional offset).
      expect(Math.abs(png.readUInt32BE(16) - charts[i]!.svg.width), file).toBeLessThanOrEqual(1);
      expect(Math.abs(png.readUInt32BE(20) - charts[i]!.svg.height), file).toBeLessThanOrEqual(1);
    }
  });

  it('writes Markdown that GitHub renders: relative chart links that load as images, whole tables, working contents links', async () => {
    const md = readFileSync(report.markdownPath, 'utf8');
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toHaveLength(charts.length);
    for (const l of links) {
      expect(isAbsolute(l) || /^[a-z]+:/i.test(l), l).toBe(false);
      expect(existsSync(resolve(dirname(report.markdownPath), l)), l).toBe(true);
    }
    const sizes = await imageSizes(browser, join(scratch, 'images.html'), links.map((l) => resolve(dirname(report.markdownPath), l)));
    for (const s of sizes) expect(s.width * s.height, s.file).toBeGreaterThan(0);
    // Every table row has as many cells as its header (escaped pipes are text).
    const cells = (line: string): number => line.replace(/\\\|/g, '').split('|').length - 2;
    const lines = md.split('\n');
    lines.forEach((line, i) => {
      if (line.startsWith('| ') && lines[i - 1]?.startsWith('|') !== true) {
        for (let j = i; lines[j]?.startsWith('|') === true; j++) expect(cells(lines[j]!), `line ${j + 1}: ${lines[j]}`).toBe(cells(line));
      }
    });
    const headings = new Set([...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s/g, '-')));
    for (const anchor of [...md.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!)) expect(headings.has(anchor), anchor).toBe(true);
    expect(md).not.toMatch(/\bNaN\b|\bundefined\b|\[object Object\]|Infinity/);
  });
});

/** A chart with every fault the checks look for, so the checks are shown to fail when they should. */
describe.skipIf(!RUN)('the chart checks', () => {
  it('catch cut-off, overlapping and tiny labels, crowded axes and red/green colours', async () => {
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 160,
      height: 100,
      padding: 0,
      autosize: { type: 'none' },
      data: { values: Array.from({ length: 12 }, (_, i) => ({ x: `category number ${i}`, y: i * 37, g: i % 2 === 0 ? 'red' : 'green' })) },
      mark: 'bar',
      encoding: {
        x: { field: 'x', type: 'nominal', axis: { labelAngle: 0, labelFontSize: 8, labelOverlap: false } },
        y: { field: 'y', type: 'quantitative', axis: { tickCount: 20, labelLimit: 400 } },
        color: { field: 'g', type: 'nominal', scale: { domain: ['red', 'green'], range: ['#d62728', '#2ca02c'] } },
      },
    };
    const doc: ReportDocument = { title: 't', subtitle: [], sections: [{ id: 's', title: 'S', blocks: [{ type: 'chart', file: 'bad.svg', alt: 'bad', spec }] }] };
    const file = join(scratch, 'bad.html');
    writeFileSync(file, reportHtml(doc, new Map([['bad.svg', await renderSvg(spec, 'bad')]])));
    await browser.open(file);
    const [bad] = await measureCharts(browser.page);
    expect(textOutsideBox(bad!).length).toBeGreaterThan(0);
    expect(overlappingTexts(bad!).length).toBeGreaterThan(0);
    expect(smallText(bad!)).toHaveLength(12);
    expect(axisTicks(bad!).some((p) => p.includes('labelled ticks'))).toBe(true);
    expect(confusableColours(bad!)).toEqual([expect.stringMatching(/^bad\.svg: #d62728 and #2ca02c are 4\.6 ΔE00 apart under deuteranopia/)]);
    expect(lowContrastText(bad!)).toEqual([]);
  });
});
