/**
 * Test helper: what a careful reader would object to in a chart, checked on the browser's layout of it
 * (chart-browser.ts). Each check returns readable problems ("top-events.svg: axis label "…" overlaps …"), so a
 * failing test lists every fault at once.
 */
import { closestPairs, contrastRatio, hexOf, MIN_CATEGORICAL_DELTA_E, parseColour } from '../reports/charts/colour-vision.js';
import type { Box, MeasuredChart, MeasuredText } from './chart-browser.js';

/** Smallest readable text in a chart, in CSS pixels. */
export const MIN_FONT_PX = 10;
/** WCAG AA for normal text: values written on heatmap cells and bars. */
export const MIN_TEXT_CONTRAST = 4.5;
/** A quantitative axis with fewer ticks cannot be read off; with more, its labels crowd. */
export const LINEAR_TICKS = { min: 3, max: 11 } as const;
/** Labels on a discrete x axis before they crowd (dates are thinned to every 7th day). */
export const MAX_DISCRETE_X_LABELS = 12;

/** Sub-pixel slack: glyph boxes are rounded by the layout engine. */
const SLACK = 0.5;

const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x - SLACK && inner.y >= outer.y - SLACK && inner.x + inner.width <= outer.x + outer.width + SLACK && inner.y + inner.height <= outer.y + outer.height + SLACK;

/** Overlap area of two boxes (0 when they only touch). */
function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > SLACK && h > SLACK ? w * h : 0;
}

const quote = (t: MeasuredText): string => `"${t.text.length > 40 ? `${t.text.slice(0, 39)}…` : t.text}" (${t.role})`;

/** Every text (labels, titles, legend, values on marks) lies inside the chart's SVG box: nothing is cut off. */
export function textOutsideBox(c: MeasuredChart): string[] {
  return c.texts.filter((t) => !inside(t.box, c.svg)).map((t) => `${c.file}: ${quote(t)} extends past the chart's edge`);
}

/** No two texts of a chart overlap (axis labels with each other, with titles, with the legend or with values). */
export function overlappingTexts(c: MeasuredChart): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.texts.length; i++) {
    for (let j = i + 1; j < c.texts.length; j++) {
      // Glyph boxes include line spacing: a few square pixels of box overlap between stacked lines is not visible.
      if (overlap(c.texts[i]!.box, c.texts[j]!.box) > 4) out.push(`${c.file}: ${quote(c.texts[i]!)} overlaps ${quote(c.texts[j]!)}`);
    }
  }
  return out;
}

export function smallText(c: MeasuredChart): string[] {
  return c.texts.filter((t) => t.fontSize < MIN_FONT_PX).map((t) => `${c.file}: ${quote(t)} is ${t.fontSize}px (< ${MIN_FONT_PX}px)`);
}

/** Quantitative axes have 3–11 labelled ticks; a discrete x axis at most 12 labels. */
export function axisTicks(c: MeasuredChart): string[] {
  return c.axes.flatMap((a) => {
    const n = a.labels.length;
    if (a.scale === 'linear' && (n < LINEAR_TICKS.min || n > LINEAR_TICKS.max)) return [`${c.file}: ${a.orient} axis has ${n} labelled ticks (want ${LINEAR_TICKS.min}–${LINEAR_TICKS.max}): ${a.aria}`];
    if (a.scale !== 'linear' && a.orient === 'x' && n > MAX_DISCRETE_X_LABELS) return [`${c.file}: x axis shows ${n} labels (at most ${MAX_DISCRETE_X_LABELS})`];
    if (n === 0) return [`${c.file}: ${a.orient} axis has no labels`];
    return [];
  });
}

/**
 * Categorical colours (the legend's, else the marks') stay ≥ MIN_CATEGORICAL_DELTA_E apart under normal vision and
 * simulated protanopia, deuteranopia and tritanopia. Heatmaps (a continuous legend) are one ramp, checked by contrast.
 */
export function confusableColours(c: MeasuredChart): string[] {
  if (c.gradientLegend) return [];
  const colours = (c.legendColours.length > 0 ? c.legendColours : c.markColours).filter((x) => !isNeutral(x)).map((x) => hexOf(parseColour(x)!));
  return closestPairs(colours)
    .filter((p) => p.deltaE < MIN_CATEGORICAL_DELTA_E)
    .map((p) => `${c.file}: ${p.a} and ${p.b} are ${p.deltaE.toFixed(1)} ΔE00 apart under ${p.vision} (want ≥ ${MIN_CATEGORICAL_DELTA_E})`);
}

/** White backgrounds and the light grey of gridlines / empty cells are not categories. */
function isNeutral(colour: string): boolean {
  const rgb = parseColour(colour);
  return rgb === null || (rgb[0] === rgb[1] && rgb[1] === rgb[2] && rgb[0] >= 0xe6);
}

/** Text written on a filled cell or bar reaches WCAG AA contrast against that fill. */
export function lowContrastText(c: MeasuredChart): string[] {
  return c.texts
    .filter((t) => t.role === 'mark')
    .flatMap((t) => {
      const cx = t.box.x + t.box.width / 2;
      const cy = t.box.y + t.box.height / 2;
      const cell = c.cells.find((r) => cx >= r.box.x && cx <= r.box.x + r.box.width && cy >= r.box.y && cy <= r.box.y + r.box.height);
      const fg = parseColour(t.fill);
      const bg = parseColour(cell?.fill ?? 'rgb(255, 255, 255)');
      if (fg === null || bg === null) return [];
      const ratio = contrastRatio(fg, bg);
      return ratio < MIN_TEXT_CONTRAST ? [`${c.file}: ${quote(t)} has contrast ${ratio.toFixed(2)} on ${cell?.fill ?? 'white'} (want ≥ ${MIN_TEXT_CONTRAST})`] : [];
    });
}

/** A chart wider than its place in the page scrolls sideways. */
export function tooWide(c: MeasuredChart): string[] {
  return c.svg.width > c.figureWidth + SLACK ? [`${c.file}: ${c.svg.width}px wide in a ${c.figureWidth}px column`] : [];
}

export function auditChart(c: MeasuredChart): string[] {
  return [...textOutsideBox(c), ...overlappingTexts(c), ...smallText(c), ...axisTicks(c), ...confusableColours(c), ...lowContrastText(c), ...tooWide(c)];
}
