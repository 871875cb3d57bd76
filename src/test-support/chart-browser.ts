/**
 * Test helper: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) that opens a report and
 * measures every chart as the browser lays it out: where each text lands against its SVG box, font sizes, axis
 * labels and ticks, the colours of the marks. The checks themselves live in the tests; this file only measures.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.USAGELAB_CHROMIUM ?? '/usr/bin/chromium';

/** A quiet, isolated browser: no network side traffic, no GPU, no sandbox (containers), a fresh profile. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM_PATH);

export interface Browser {
  page: Page;
  /** Opens a local file and waits until it is laid out. */
  open(file: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1100, height: 900 }): Promise<Browser> {
  // The profile folder is passed as launchPersistentContext's userDataDir, which becomes --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'usagelab-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, viewport, deviceScaleFactor: 1 });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      page,
      open: async (file) => {
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      },
      close: async () => {
        await context?.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MeasuredText {
  text: string;
  box: Box;
  fontSize: number;
  fill: string;
  /** The vega role of the group holding the text: axis-label, axis-title, legend-label, title-text, mark, … */
  role: string;
}

export interface MeasuredAxis {
  /** vega's description, e.g. "X-axis titled 'people' for a linear scale with values from 0 to 1,000". */
  aria: string;
  /** "linear", "discrete", … as read from the description. */
  scale: string;
  orient: 'x' | 'y';
  labels: MeasuredText[];
  ticks: number;
}

export interface MeasuredCell {
  box: Box;
  fill: string;
}

export interface MeasuredChart {
  file: string;
  alt: string;
  svg: Box;
  /** The width the figure has in the page (a wider chart would scroll sideways). */
  figureWidth: number;
  texts: MeasuredText[];
  axes: MeasuredAxis[];
  /** Fill / stroke of the legend's symbols (categorical legends). */
  legendColours: string[];
  /** Fill / stroke of the data marks (bars, lines, points, cells). */
  markColours: string[];
  /** A continuous colour legend (heatmaps): marks' colours are a ramp, not categories. */
  gradientLegend: boolean;
  /** Filled rectangles of rect marks (heatmap cells, bars), to check the text written on them. */
  cells: MeasuredCell[];
}

/**
 * Runs in the page (plain JavaScript: the project's TypeScript has no DOM types, and a serialised function would
 * carry the transpiler's helpers). Reads every `figure[data-chart] svg` of the report.
 */
const MEASURE = `(() => {
  const box = (r) => ({ x: r.x, y: r.y, width: r.width, height: r.height });
  const roleOf = (el) => {
    for (let g = el.parentElement; g; g = g.parentElement) {
      const m = /(?:^|\\s)role-([a-z-]+)/.exec(g.getAttribute('class') || '');
      if (m) return m[1];
    }
    return 'none';
  };
  const colour = (el) => {
    const s = getComputedStyle(el);
    const fill = el.getAttribute('fill');
    const stroke = el.getAttribute('stroke');
    const out = [];
    if (fill && fill !== 'none' && !fill.startsWith('url(') && s.fillOpacity !== '0') out.push(s.fill);
    if (stroke && stroke !== 'none' && s.strokeOpacity !== '0') out.push(s.stroke);
    return out;
  };
  return [...document.querySelectorAll('figure[data-chart]')].map((figure) => {
    const svg = figure.querySelector('svg');
    const textOf = (t) => ({
      text: t.textContent,
      box: box(t.getBoundingClientRect()),
      fontSize: parseFloat(getComputedStyle(t).fontSize),
      fill: getComputedStyle(t).fill,
      role: roleOf(t),
    });
    const texts = [...svg.querySelectorAll('text')].filter((t) => (t.textContent || '').trim() !== '').map(textOf);
    // Grid lines are drawn by a second, unlabelled axis group without a description: only described axes count.
    const axes = [...svg.querySelectorAll('g.role-axis')].filter((g) => (g.getAttribute('aria-label') || '') !== '').map((g) => {
      const aria = g.getAttribute('aria-label') || '';
      const scale = (/for an? ([a-z]+) scale/.exec(aria) || [])[1] || 'unknown';
      return {
        aria,
        scale,
        orient: /^Y-axis/.test(aria) ? 'y' : 'x',
        labels: [...g.querySelectorAll('g.role-axis-label text')].filter((t) => (t.textContent || '').trim() !== '').map(textOf),
        ticks: g.querySelectorAll('g.role-axis-tick line, g.role-axis-tick path').length,
      };
    });
    const legendColours = [...svg.querySelectorAll('g.role-legend-symbol path')].flatMap(colour);
    const markEls = [...svg.querySelectorAll('g.role-mark')].filter((g) => !/mark-text/.test(g.getAttribute('class') || ''));
    const markColours = markEls.flatMap((g) => [...g.querySelectorAll('path, line, rect')].flatMap(colour));
    const cells = [...svg.querySelectorAll('g.mark-rect.role-mark path')].map((p) => ({ box: box(p.getBoundingClientRect()), fill: getComputedStyle(p).fill }));
    return {
      file: figure.getAttribute('data-chart'),
      alt: figure.getAttribute('aria-label') || '',
      svg: box(svg.getBoundingClientRect()),
      figureWidth: figure.getBoundingClientRect().width,
      texts,
      axes,
      legendColours: [...new Set(legendColours)],
      markColours: [...new Set(markColours)],
      gradientLegend: svg.querySelector('g.role-legend-gradient') !== null,
      cells,
    };
  });
})()`;

export async function measureCharts(page: Page): Promise<MeasuredChart[]> {
  return (await page.evaluate(MEASURE)) as MeasuredChart[];
}

/** Screenshots each chart's figure to DIR/NAME.png; returns the files. */
export async function screenshotCharts(page: Page, dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const figure of await page.locator('figure[data-chart]').all()) {
    const name = (await figure.getAttribute('data-chart'))!.replace(/\.svg$/, '.png');
    const path = join(dir, name);
    await figure.locator('svg').screenshot({ path });
    files.push(path);
  }
  return files;
}

/**
 * Loads SVG files through <img> tags, as GitHub shows the Markdown report's charts: their natural sizes (0 = broken).
 * The page is written to `htmlFile` (beside the images: a file:// page may load file:// images, about:blank may not).
 */
export async function imageSizes(browser: Browser, htmlFile: string, files: readonly string[]): Promise<{ file: string; width: number; height: number }[]> {
  writeFileSync(htmlFile, `<!doctype html><body>${files.map((f) => `<img src="${pathToFileURL(f).href}">`).join('')}</body>`);
  await browser.open(htmlFile);
  const sizes = (await browser.page.evaluate(`[...document.images].map((i) => [i.naturalWidth, i.naturalHeight])`)) as [number, number][];
  return files.map((file, i) => ({ file, width: sizes[i]![0], height: sizes[i]![1] }));
}
