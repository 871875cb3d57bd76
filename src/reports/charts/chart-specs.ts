/**
 * The report's chart types as vega-lite specifications with inline data. Sizes, label limits and paddings are
 * explicit because text is measured without a canvas: labels are cut (with …) in code before they reach the
 * chart, so nothing is cut off by the renderer. No temporal scales: dates are ordinal text, so the output does
 * not depend on the process time zone.
 */
import { CLASS_COLOURS, FONT, HEATMAP_SCHEME, OKABE_ITO, PRIMARY } from './palette.js';

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

function base(title: string, extra: object): object {
  return { $schema: SCHEMA, title, config: baseConfig, ...extra };
}

export interface BarDatum {
  label: string;
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
  const values = data.map((d, i) => ({ order: i, label: chartLabel(d.label), value: d.value, text: d.text ?? String(d.value), group: d.group ?? '' }));
  const top = Math.max(0, ...values.map((v) => v.value));
  // Room after the longest bar for its text label.
  const domainMax = o.max ?? (top === 0 ? 1 : top * 1.25);
  const colour = o.groups === undefined
    ? { value: PRIMARY }
    : { field: 'group', type: 'nominal', title: o.groups.title, scale: { domain: o.groups.domain, range: o.groups.range } };
  return base(o.title, {
    width: 420,
    height: { step: 24 },
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: { field: 'order', op: 'min', order: 'ascending' }, title: null, axis: { labelLimit: 400, labelPadding: 6 } },
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
      color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: OKABE_ITO.slice(0, series.length) } },
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

/** A heatmap with the value written in each cell (white on dark cells). */
export function heatmap(cells: readonly HeatCell[], o: { title: string; rowTitle: string; columnTitle: string; rows: string[]; columns: string[]; legendTitle: string }): object {
  const values = cells.map((c) => ({ ...c, dark: c.value !== null && c.value > 0.55 }));
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
            scale: { scheme: HEATMAP_SCHEME, domain: [0, 1] },
            legend: { format: '.0%', orient: 'right', gradientLength: 120 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'text' },
          color: { condition: { test: 'datum.dark', value: 'white' }, value: '#222' },
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
