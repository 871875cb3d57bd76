import { describe, expect, it } from 'vitest';
import { closestPairs, contrastRatio, deltaE2000, hexOf, MIN_CATEGORICAL_DELTA_E, parseColour, rgbToLab, simulate } from './colour-vision.js';
import { CLASS_COLOURS, OKABE_ITO } from './palette.js';
import { heatColour, niceCeil, textOn } from './chart-specs.js';

describe('colour difference and colour-vision simulation', () => {
  it('computes CIEDE2000 as in Sharma, Wu & Dalal (2005), table 1', () => {
    expect(deltaE2000([50, 2.6772, -79.7751], [50, 0, -82.7485])).toBeCloseTo(2.0425, 4);
    expect(deltaE2000([50, 2.5, 0], [73, 25, -18])).toBeCloseTo(27.1492, 4);
    expect(deltaE2000([2.0776, 0.0795, -1.135], [0.9033, -0.0636, -0.5514])).toBeCloseTo(0.9082, 4);
    expect(deltaE2000([50, 0, 0], [50, 0, 0])).toBe(0);
  });

  it('converts sRGB to CIELAB (D65)', () => {
    const white = rgbToLab([255, 255, 255]);
    expect(white[0]).toBeCloseTo(100, 3);
    expect(white[1]).toBeCloseTo(0, 3);
    expect(rgbToLab([0, 0, 0])).toEqual([0, 0, 0]);
  });

  it('simulates complete protanopia and deuteranopia with the Machado matrices', () => {
    // Pure red, linear (1, 0, 0) → the first column of each matrix, back to sRGB (the negative channel clips to 0).
    expect(simulate([255, 0, 0], 'protanopia').map((c) => Math.round(c))).toEqual([109, 95, 0]);
    expect(hexOf(simulate([255, 0, 0], 'deuteranopia'))).toBe('#a39000');
    expect(hexOf(simulate([255, 255, 255], 'deuteranopia'))).toBe('#ffffff');
    expect(simulate([12, 34, 56], 'normal')).toEqual([12, 34, 56]);
  });

  it('reads the colour forms a browser and vega write', () => {
    expect(parseColour('#0072B2')).toEqual([0, 114, 178]);
    expect(parseColour('#fff')).toEqual([255, 255, 255]);
    expect(parseColour('rgb(0, 158, 115)')).toEqual([0, 158, 115]);
    expect(parseColour('rgba(0, 0, 0, 0)')).toBeNull();
    expect(parseColour('url(#g)')).toBeNull();
  });

  it('flags red and green that deuteranopes cannot tell apart, and passes the report palettes', () => {
    // d3's category10 red and green: 71.8 apart normally, 4.6 under deuteranopia.
    const redGreen = closestPairs(['#d62728', '#2ca02c']);
    expect(redGreen.find((p) => p.vision === 'normal')!.deltaE).toBeCloseTo(71.83, 2);
    expect(redGreen.find((p) => p.vision === 'deuteranopia')!.deltaE).toBeCloseTo(4.61, 2);
    for (const p of closestPairs([...OKABE_ITO])) expect(p.deltaE, `${p.vision} ${p.a}/${p.b}`).toBeGreaterThanOrEqual(MIN_CATEGORICAL_DELTA_E);
    for (const p of closestPairs(Object.values(CLASS_COLOURS))) expect(p.deltaE, `${p.vision} ${p.a}/${p.b}`).toBeGreaterThanOrEqual(12);
  });

  it('computes WCAG contrast', () => {
    expect(contrastRatio([255, 255, 255], [0, 0, 0])).toBeCloseTo(21, 6);
    expect(contrastRatio([0x77, 0x77, 0x77], [255, 255, 255])).toBeCloseTo(4.48, 2);
  });
});

describe('chart helpers', () => {
  it('rounds a value axis up to a labelled tick', () => {
    expect([384, 1510, 0.82, 7, 1, 345, 12.5, 0.3].map((v) => niceCeil(v))).toEqual([400, 1600, 1, 7, 1, 350, 14, 0.3]);
    expect(niceCeil(0)).toBe(1);
  });

  it('writes heatmap values in black or white, whichever reaches 4.5:1 on the cell', () => {
    expect(hexOf(heatColour(0))).toBe('#f7fbff');
    expect(hexOf(heatColour(1))).toBe('#08306b');
    expect(hexOf(heatColour(0.5))).toBe('#8096b5');
    for (let v = 0; v <= 1; v += 0.01) {
      const fill = heatColour(v);
      const ink = textOn(fill) === '#000000' ? ([0, 0, 0] as const) : ([255, 255, 255] as const);
      expect(contrastRatio(fill, ink), `value ${v.toFixed(2)}`).toBeGreaterThanOrEqual(4.5);
    }
    expect(textOn(heatColour(0.6))).toBe('#000000');
    expect(textOn(heatColour(0.9))).toBe('#ffffff');
  });
});
