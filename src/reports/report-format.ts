/**
 * Number and change formatting for the report: fixed rules (no locale), so the same numbers always give the
 * same bytes.
 */

/** 12345 → "12,345"; non-integers keep `digits` decimals. */
export function count(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const fixed = Math.abs(value).toFixed(digits);
  const [whole, frac] = fixed.split('.') as [string, string | undefined];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value < 0 && Number(fixed) !== 0 ? '-' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

/** 0.1234 → "12.3%"; null → "–". */
export function pct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(digits)}%`;
}

/** Relative change as "+12.5%" / "-3.0%"; "–" when the previous value is 0 or missing. */
export function relChange(current: number | null | undefined, previous: number | null | undefined): string {
  const r = relative(current, previous);
  return r === null ? '–' : `${r >= 0 ? '+' : ''}${(r * 100).toFixed(1)}%`;
}

export function relative(current: number | null | undefined, previous: number | null | undefined): number | null {
  if (current === null || current === undefined || previous === null || previous === undefined || previous === 0) return null;
  return (current - previous) / previous;
}

/** Difference of two shares in percentage points: "+2.1 pp". */
export function ppChange(current: number | null | undefined, previous: number | null | undefined): string {
  if (current === null || current === undefined || previous === null || previous === undefined) return '–';
  const d = (current - previous) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)} pp`;
}

/** Seconds as a short duration. */
export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value < 120) return `${value.toFixed(0)} s`;
  if (value < 7200) return `${(value / 60).toFixed(1)} min`;
  if (value < 172_800) return `${(value / 3600).toFixed(1)} h`;
  return `${(value / 86_400).toFixed(1)} d`;
}

/** A file-name-safe slug: lower-case letters, digits and dashes. */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return s === '' ? 'item' : s;
}

const UNIT_WORDS: Readonly<Record<string, string>> = { ms: 'millisecond', s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };

/** A window such as "14d" in words ("14 days"); anything else as it is. */
export function windowWords(window: string): string {
  const m = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(window.trim());
  if (m === null) return window;
  const n = Number(m[1]);
  return `${n} ${UNIT_WORDS[m[2]!]!}${n === 1 ? '' : 's'}`;
}

/** Whole days from one YYYY-MM-DD to another (calendar arithmetic, no time zone). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
