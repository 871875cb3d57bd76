/** Durations in definitions: a whole number with a unit, s m h d w (a day is 24 hours, a week 7 days). */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
export const US_PER_SECOND = 1_000_000;

/** A duration like "14d" in microseconds; undefined when it is not <positive integer><s|m|h|d|w>. */
export function parseDurationMicros(text: string | number): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2]!]! * US_PER_SECOND;
}

/** A real calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return false;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}
