/**
 * Colours of the report's charts: the Okabe-Ito palette (distinguishable with the common colour-vision
 * deficiencies), ordered so the first colours contrast best on white; yellow comes last because it is faint on
 * white. Heatmaps use a single-hue ramp, readable without telling hues apart.
 */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#56B4E9', '#CC79A7', '#000000', '#F0E442'] as const;

export const PRIMARY = OKABE_ITO[0];

/** A colour per adoption class, fixed so every report uses the same one. */
export const CLASS_COLOURS: Readonly<Record<string, string>> = {
  adopted: OKABE_ITO[2],
  emerging: OKABE_ITO[4],
  ignored: '#999999',
  frustrating: OKABE_ITO[3],
  insufficient_data: '#CCCCCC',
};

/** Sequential scheme for heatmaps (vega scheme name). */
export const HEATMAP_SCHEME = 'blues';

/** One font everywhere: text is measured without a canvas (by character count), so keep it plain. */
export const FONT = 'sans-serif';
