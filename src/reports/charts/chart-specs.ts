/**
 * The report's chart types as vega-lite specifications with inline data. Sizes, label limits and paddings are
 * explicit because text is measured without a canvas: labels are cut (with …) in code before they reach the
 * chart, so nothing is cut off by the renderer. No temporal scales: dates are ordinal text, so the output does
 * not depend on the process time zone.
 */
import { contrastRatio, hexOf, type Rgb } from './colour-vision.js';
import { CLASS_COLOURS, FONT, HEAT_HIGH, HEAT_LOW, OKABE_ITO, PRIMARY } from './palette.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const LABEL_CHARS = 42;

/** Labels longer than the chart can show are cut here, deterministically. */
export function chartLabel(text: string, max = LABEL_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const baseConfig = {
  font: FONT,
  background: 'white',
  padding: 12,
  view: { stroke: null },
  axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, titleFontSize: 12, labelColor: '#333', titleColor: '#333', gridColor: '#e6e6e6' },
  legend: { labelFont: FONT, titleFont: FONT, labelFontSize: 11, titleFontSize: 12, labelLimit: 300, orient: 'bottom' },
  title: { font: FONT, fontSize: 14, anchor: 'start' },
  text: { font: FONT },
};

/** Title characters per line before it wraps (a long funnel name would otherwise widen the chart). */
const TITLE_CHARS = 64;

/** Splits text into lines of at most `max` characters at spaces (a longer word is cut with …). */
export function wrapWords(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length <= max) line = next;
    else {
      if (line !== '') lines.push(line);
      line = chartLabel(word, max);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function base(title: string, extra: object): object {
  const lines = wrapWords(title, TITLE_CHARS);
  return { $schema: SCHEMA, title: lines.length === 1 ? title : { text: lines }, config: baseConfig, ...extra };
}

/**
 * The smallest round number ≥ value on the tick grid d3 uses for about 5 ticks (steps of 1, 2 or 5 × 10^k), so
 * a value axis ends on a labelled tick instead of an unlabelled stub.
 */
export function niceCeil(value: number, ticks = 5): number {
  if (!(value > 0)) return 1;
  const raw = value / ticks;
  let step = 10 ** Math.floor(Math.log10(raw));
  const error = raw / step;
  if (error >= Math.sqrt(50)) step *= 10;
  else if (error >= Math.sqrt(10)) step *= 5;
  else if (error >= Math.sqrt(2)) step *= 2;
  // Rounded so 0.1 + 0.2-style float noise cannot add a step.
  return Number((Math.ceil(Number((value / step).toFixed(9))) * step).toPrecision(12));
}

export interface BarDatum {
  /** The row's label; several lines (e.g. an element and its page) are each cut to fit. */
  label: string | readonly string[];
  value: number;
  /** Text shown at the end of the bar (default: the value). */
  text?: string;
  /** Colour group (e.g. an adoption class). */
  group?: string;
}

export interface BarOptions {
  title: string;
  valueTitle: string;
  /** d3 format of the value axis, e.g. ",d" or ".0%". */
  format: string;
  /** Colours by `group`, with a legend. */
  groups?: { domain: string[]; range: string[]; title: string };
  /** Domain maximum, e.g. 1 for shares. */
  max?: number;
}

/** Horizontal bars, one per row in the given order, with the value written after each bar. */
export function horizontalBars(data: readonly BarDatum[], o: BarOptions): object {
  const lines = (d: BarDatum): string[] => (typeof d.label === 'string' ? [d.label] : [...d.label]).map((l) => chartLabel(l));
  const rows = Math.max(1, ...data.map((d) => lines(d).length));
  // Lines are joined with a newline in the data and split again by the axis, so each row stays one category.
  const values = data.map((d, i) => ({ order: i, label: lines(d).join('\n'), value: d.value, text: d.text ?? String(d.value), group: d.group ?? '' }));
  const top = Math.max(0, ...values.map((v) => v.value));
  // Room after the longest bar for its text label, rounded up to a tick so the axis ends on a labelled value.
  const domainMax = niceCeil(o.max ?? (top === 0 ? 1 : top * 1.25));
  const colour = o.groups === undefined
    ? { value: PRIMARY }
    : { field: 'group', type: 'nominal', title: o.groups.title, scale: { domain: o.groups.domain, range: o.groups.range }, legend: { orient: 'right' } };
  return base(o.title, {
    width: 420,
    height: { step: rows === 1 ? 24 : 12 + 14 * rows },
    data: { values },
    encoding: {
      y: {
        field: 'label',
        type: 'nominal',
        sort: { field: 'order', op: 'min', order: 'ascending' },
        title: null,
        axis: { labelLimit: 400, labelPadding: 6, ...(rows === 1 ? {} : { labelExpr: "split(datum.value, '\\n')", labelLineHeight: 14 }) },
      },
      x: { field: 'value', type: 'quantitative', title: o.valueTitle, scale: { domain: [0, domainMax], nice: false }, axis: { format: o.format, tickCount: 5 } },
    },
    layer: [
      { mark: { type: 'bar', height: 16 }, encoding: { color: colour } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: '#333' }, encoding: { text: { field: 'text' } } },
    ],
  });
}

export interface LinePoint {
  /** YYYY-MM-DD or another ordered label. */
  x: string;
  series: string;
  value: number;
}

/** Lines over ordinal x labels (dates as text), every `labelEvery`-th label shown. */
export function lineChart(points: readonly LinePoint[], o: { title: string; yTitle: string; format: string; xTitle: string; labelEvery?: number; max?: number }): object {
  const xs = [...new Set(points.map((p) => p.x))];
  const every = o.labelEvery ?? 1;
  const shown = xs.filter((_, i) => i % every === 0);
  const series = [...new Set(points.map((p) => p.series))];
  return base(o.title, {
    width: Math.max(300, Math.min(620, xs.length * 18)),
    height: 220,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'ordinal', sort: xs, title: o.xTitle, axis: { values: shown, labelAngle: 0, labelLimit: 90 } },
      y: { field: 'value', type: 'quantitative', title: o.yTitle, axis: { format: o.format, tickCount: 5 }, ...(o.max === undefined ? {} : { scale: { domain: [0, o.max] } }) },
      // One series needs no legend (the title says what it is); several get one beside the plot.
      color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: OKABE_ITO.slice(0, series.length) }, legend: series.length > 1 ? { orient: 'right' } : null },
    },
  });
}

export interface HeatCell {
  row: string;
  column: string;
  /** 0..1; null for an empty (incomplete) cell. */
  value: number | null;
  text: string;
}

/** The heatmap's fill for a value in 0..1: straight-line interpolation in sRGB, as vega's "rgb" interpolation does. */
export function heatColour(value: number): Rgb {
  const v = Math.min(1, Math.max(0, value));
  return [0, 1, 2].map((i) => Math.round(HEAT_LOW[i]! + (HEAT_HIGH[i]! - HEAT_LOW[i]!) * v)) as unknown as Rgb;
}

/**
 * Black or white, whichever contrasts more with the cell: one of the two always reaches WCAG AA (4.5) on any fill,
 * which no single text colour, and no fixed cut-off between two, guarantees along a light-to-dark ramp.
 */
export function textOn(fill: Rgb): '#000000' | '#ffffff' {
  return contrastRatio(fill, [0, 0, 0]) >= contrastRatio(fill, [255, 255, 255]) ? '#000000' : '#ffffff';
}

/** A heatmap with the value written in each cell, in black or white by the cell's fill. */
export function heatmap(cells: readonly HeatCell[], o: { title: string; rowTitle: string; columnTitle: string; rows: string[]; columns: string[]; legendTitle: string }): object {
  const values = cells.map((c) => ({ ...c, ink: c.value === null ? '#000000' : textOn(heatColour(c.value)) }));
  return base(o.title, {
    width: { step: 46 },
    height: { step: 24 },
    data: { values },
    encoding: {
      x: { field: 'column', type: 'ordinal', sort: o.columns, title: o.columnTitle, axis: { labelAngle: 0, orient: 'top' } },
      y: { field: 'row', type: 'ordinal', sort: o.rows, title: o.rowTitle, axis: { labelLimit: 200 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            condition: { test: 'datum.value === null', value: '#f2f2f2' },
            field: 'value',
            type: 'quantitative',
            title: o.legendTitle,
            scale: { domain: [0, 1], range: [hexOf(HEAT_LOW), hexOf(HEAT_HIGH)], interpolate: 'rgb' },
            legend: { format: '.0%', orient: 'right', gradientLength: 120 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'text' },
          color: { condition: { test: "datum.ink === '#ffffff'", value: '#ffffff' }, value: '#000000' },
        },
      },
    ],
  });
}

export const adoptionGroups = (classes: string[]): { domain: string[]; range: string[]; title: string } => ({
  domain: classes,
  range: classes.map((c) => CLASS_COLOURS[c] ?? '#999999'),
  title: 'class',
});
