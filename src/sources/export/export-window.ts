/**
 * Export windows: half-open UTC ranges [start, end) on a source's grid (whole hours, or whole days in a time
 * zone), what the CLI's --from/--to mean, and file-safe names. Every instant is epoch milliseconds; the process
 * time zone is never consulted (calendar maths goes through Intl with an explicit zone).
 */
import { UsageLabError } from '../../core/errors.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * Where window boundaries fall. `hours`: every `size` hours counted from a UTC midnight (size divides 24, or is a
 * multiple of 24). `days`: local midnights of `timezone` (so a window is 23 or 25 hours long on DST days).
 */
export type WindowGrid = { readonly kind: 'hours'; readonly size: number } | { readonly kind: 'days'; readonly timezone: string };

export interface ExportWindow {
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
  /** File-safe, sortable: `20240310T0000Z_20240311T0000Z`. */
  readonly key: string;
  /** For people: `2024-03-10` (day grids) or `2024-03-10T00:00Z/2024-03-11T00:00Z`. */
  readonly label: string;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `20240310T0530Z`: sortable, no characters that file systems refuse. */
export function compactInstant(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
}

/** `2024-03-10T05:30Z`. */
export function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

const partsCache = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = partsCache.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsCache.set(timezone, f);
  }
  return f;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localTime(ms: number, timezone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** The local calendar date of an instant, `YYYY-MM-DD`. */
export function localDate(ms: number, timezone: string): string {
  const t = localTime(ms, timezone);
  return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
}

function offsetAt(ms: number, timezone: string): number {
  const t = localTime(ms, timezone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The first instant whose local date in `timezone` is year-month-day (its local midnight, or the first instant
 * after a midnight that a DST jump skipped).
 */
export function startOfLocalDay(year: number, month: number, day: number, timezone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall - offsetAt(wall, timezone);
  guess = wall - offsetAt(guess, timezone);
  // A zone that jumps over midnight has no 00:00: step back to the previous day's last instant, then find the
  // jump by bisection (the answer lies within the last 3 hours before guess).
  const target = `${year}-${pad(month)}-${pad(day)}`;
  if (localDate(guess, timezone) === target && localDate(guess - 1, timezone) !== target) return guess;
  let lo = guess - 3 * HOUR_MS;
  let hi = guess + 3 * HOUR_MS;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (localDate(mid, timezone) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

function nextLocalMidnight(ms: number, timezone: string): number {
  const t = localTime(ms, timezone);
  const next = new Date(Date.UTC(t.year, t.month - 1, t.day + 1));
  return startOfLocalDay(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timezone);
}

/** The grid boundary at or before `ms`. */
export function floorToGrid(ms: number, grid: WindowGrid): number {
  if (grid.kind === 'hours') return Math.floor(ms / (grid.size * HOUR_MS)) * grid.size * HOUR_MS;
  const t = localTime(ms, grid.timezone);
  return startOfLocalDay(t.year, t.month, t.day, grid.timezone);
}

/** The first grid boundary strictly after `ms`. */
export function nextGridBoundary(ms: number, grid: WindowGrid): number {
  if (grid.kind === 'hours') return floorToGrid(ms, grid) + grid.size * HOUR_MS;
  return nextLocalMidnight(ms, grid.timezone);
}

export function makeWindow(start: number, end: number, grid: WindowGrid): ExportWindow {
  const key = `${compactInstant(start)}_${compactInstant(end)}`;
  const wholeDay = grid.kind === 'days' && floorToGrid(start, grid) === start && nextGridBoundary(start, grid) === end;
  return { start, end, key, label: wholeDay && grid.kind === 'days' ? localDate(start, grid.timezone) : `${isoMinute(start)}/${isoMinute(end)}` };
}

/** The grid's windows covering [from, to): whole grid cells, clipped at both ends. */
export function planWindows(from: number, to: number, grid: WindowGrid): ExportWindow[] {
  const out: ExportWindow[] = [];
  let start = from;
  while (start < to) {
    const end = Math.min(nextGridBoundary(start, grid), to);
    out.push(makeWindow(start, end, grid));
    start = end;
  }
  return out;
}

/** Splits a range into two at a whole hour near its middle; undefined when it is one hour or less. */
export function bisectHours(start: number, end: number): [number, number, number] | undefined {
  const hours = Math.ceil((end - start) / HOUR_MS);
  if (hours <= 1) return undefined;
  const mid = Math.floor(start / HOUR_MS) * HOUR_MS + Math.floor(hours / 2) * HOUR_MS;
  return mid <= start || mid >= end ? undefined : [start, mid, end];
}

/** A --from / --to value: `YYYY-MM-DD` or `YYYY-MM-DDTHH` (also with `:MM`, optional `Z`). */
export interface RangeBoundary {
  readonly date: { year: number; month: number; day: number };
  /** Undefined for a whole day. */
  readonly hour: number | undefined;
}

const BOUNDARY = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::00)?Z?)?$/;

export function parseRangeBoundary(text: string, flag: string): RangeBoundary {
  const m = BOUNDARY.exec(text.trim());
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  const day = Number(m?.[3]);
  const hour = m?.[4] === undefined ? undefined : Number(m[4]);
  const valid =
    m !== null &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day &&
    (hour === undefined || hour <= 23);
  if (!valid) {
    throw new UsageLabError('export_range_invalid', `${flag} "${text}" is not a date (YYYY-MM-DD) or a UTC hour (YYYY-MM-DDTHH)`, {
      place: { field: flag },
      hint: `e.g. ${flag} 2024-03-10 or ${flag} 2024-03-10T05 (hours are UTC; both --from and --to are included)`,
    });
  }
  return { date: { year, month, day }, hour };
}

/** The first instant a boundary covers: a day's first instant on the grid, or the UTC hour. */
export function boundaryStart(b: RangeBoundary, grid: WindowGrid, flag: string): number {
  if (b.hour !== undefined) {
    if (grid.kind === 'days') {
      throw new UsageLabError('export_range_invalid', `${flag}: this source exports whole days; give a date (YYYY-MM-DD), not an hour`, {
        place: { field: flag },
      });
    }
    return Date.UTC(b.date.year, b.date.month - 1, b.date.day, b.hour);
  }
  const tz = grid.kind === 'days' ? grid.timezone : 'UTC';
  return startOfLocalDay(b.date.year, b.date.month, b.date.day, tz);
}

/** The instant after the last one a boundary covers (--to is inclusive: its whole day or hour). */
export function boundaryEnd(b: RangeBoundary, grid: WindowGrid, flag: string): number {
  if (b.hour !== undefined) return boundaryStart(b, grid, flag) + HOUR_MS;
  const next = new Date(Date.UTC(b.date.year, b.date.month - 1, b.date.day + 1));
  return boundaryStart({ date: { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, hour: undefined }, grid, flag);
}
