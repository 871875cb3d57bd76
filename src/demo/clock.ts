/**
 * The demo's time window and the timestamp spellings the six tools use. All instants are epoch milliseconds in
 * UTC plus, where a tool records microseconds, a separate 0..999 µs part, so no float arithmetic touches time.
 */
import { UsageLabError } from '../core/errors.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export interface DemoWindow {
  /** First instant (inclusive), 00:00 UTC of the first day. */
  readonly start: number;
  /** Last instant (exclusive), 00:00 UTC after the last day. */
  readonly end: number;
  /** "YYYY-MM" of each calendar month the window touches, in order. */
  readonly months: readonly string[];
}

function addMonthsUtc(t: number, months: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
}

/**
 * The window: `months` calendar months starting at `start` (YYYY-MM-DD) when given, else the `months` complete
 * calendar months (UTC) that end before `now`.
 */
export function demoWindow(options: { start?: string; months: number; now: Date }): DemoWindow {
  if (!Number.isInteger(options.months) || options.months < 1 || options.months > 24) {
    throw new UsageLabError('demo_option_invalid', `months must be an integer from 1 to 24, got ${options.months}`, {
      hint: 'use --months 3 (the default)',
    });
  }
  let start: number;
  if (options.start !== undefined) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(options.start);
    start = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== options.start) {
      throw new UsageLabError('demo_option_invalid', `start must be a date YYYY-MM-DD, got "${options.start}"`, {
        hint: 'for example --start 2026-01-01',
      });
    }
  } else {
    const now = options.now;
    if (Number.isNaN(now.getTime())) {
      throw new UsageLabError('demo_option_invalid', 'now is not a valid date', { hint: 'pass a valid Date' });
    }
    const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    start = addMonthsUtc(end, -options.months);
  }
  const end = addMonthsUtc(start, options.months);
  const months: string[] = [];
  const first = new Date(start);
  for (let t = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1); t < end; t = addMonthsUtc(t, 1)) months.push(monthOf(t));
  return { start, end, months };
}

export function monthOf(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

/** Index of the window month holding t (0-based), or -1 outside. */
export function monthIndex(window: DemoWindow, t: number): number {
  return window.months.indexOf(monthOf(t));
}

export function dayStart(t: number): number {
  return t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
}

const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

// Formatting is a large share of the writers' cost: the date part is cached per day and the time of day is
// built with arithmetic instead of a Date per instant.
const dayPrefixes = new Map<number, string>();
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
function secondPrefix(t: number): string {
  const day = Math.floor(t / DAY_MS);
  let date = dayPrefixes.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    dayPrefixes.set(day, date);
  }
  const secs = Math.floor((t - day * DAY_MS) / 1000);
  return `${date}T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
}
const msPart = (t: number): string => pad3(((t % 1000) + 1000) % 1000);

/** RFC 3339 with milliseconds and Z (FullStory, GA-style ISO). */
export function isoMs(t: number): string {
  return `${secondPrefix(t)}.${msPart(t)}Z`;
}

/** "2026-08-01T12:34:56.123456Z" (PostHog). */
export function isoMicros(t: number, us: number): string {
  return `${secondPrefix(t)}.${msPart(t)}${pad3(us)}Z`;
}

/** "2026-08-01 12:34:56.123456" — Amplitude's naive UTC form. */
export function amplitudeTime(t: number, us = 0): string {
  const p = secondPrefix(t);
  return `${p.slice(0, 10)} ${p.slice(11)}.${msPart(t)}${pad3(us)}`;
}

let lastDay = Number.NaN;
let lastDate = '';
/** "YYYY-MM-DD" of a UTC instant. */
export function utcDate(t: number): string {
  const day = Math.floor(t / DAY_MS);
  if (day !== lastDay) {
    lastDay = day;
    lastDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  return lastDate;
}

/**
 * Calendar dates in an IANA zone (GA4 daily tables are cut by the property's zone). Offsets change at most
 * hourly, so one Intl lookup per hour is enough.
 */
export class ZoneCalendar {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, { date: string; offsetMs: number }>();

  constructor(readonly zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
  }

  private hourInfo(t: number): { date: string; offsetMs: number } {
    const hour = Math.floor(t / HOUR_MS);
    let info = this.cache.get(hour);
    if (info === undefined) {
      const at = hour * HOUR_MS;
      const parts: Record<string, string> = {};
      for (const p of this.format.formatToParts(new Date(at))) parts[p.type] = p.value;
      const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
      info = { date: `${parts.year}${parts.month}${parts.day}`, offsetMs: local - at };
      this.cache.set(hour, info);
    }
    return info;
  }

  /** "YYYYMMDD" of t in the zone. */
  dateKey(t: number): string {
    return this.hourInfo(t).date;
  }

  /** The UTC instant at which the zone's day holding t ends. */
  dayEnd(t: number): number {
    const { offsetMs } = this.hourInfo(t);
    const localMidnight = dayStart(t + offsetMs) + DAY_MS;
    // The offset at the end of the day may differ (DST change that day); one correction step settles it.
    let end = localMidnight - offsetMs;
    end = localMidnight - this.hourInfo(end - 1).offsetMs;
    return end;
  }
}
