/**
 * Colours of the report's charts: the Okabe-Ito palette (distinguishable with the common colour-vision
 * deficiencies), ordered so the first colours contrast best on white; yellow comes last because it is faint on
 * white. Heatmaps use a single-hue ramp, readable without telling hues apart.
 */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#56B4E9', '#CC79A7', '#000000', '#F0E442'] as const;

export const PRIMARY = OKABE_ITO[0];

/**
 * A colour per adoption class, fixed so every report uses the same one. The greys are picked so that every pair
 * stays ≥ 12 ΔE00 apart under normal vision and simulated protanopia, deuteranopia and tritanopia (tested).
 */
export const CLASS_COLOURS: Readonly<Record<string, string>> = {
  adopted: OKABE_ITO[2],
  emerging: OKABE_ITO[4],
  ignored: '#AAAAAA',
  frustrating: OKABE_ITO[3],
  insufficient_data: '#DDDDDD',
};

/**
 * The heatmap's single-hue ramp, from 0 % to 100 % (interpolated in sRGB): the light and dark ends of d3's
 * "blues". Cell text is black or white by the cell's fill (chart-specs.ts textOn).
 */
export const HEAT_LOW: readonly [number, number, number] = [0xf7, 0xfb, 0xff];
export const HEAT_HIGH: readonly [number, number, number] = [0x08, 0x30, 0x6b];

/** One font everywhere: text is measured without a canvas (by character count), so keep it plain. */
export const FONT = 'sans-serif';
