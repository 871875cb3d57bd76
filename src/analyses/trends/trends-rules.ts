/**
 * Validation rules of a trends definition, each with a stable code (docs/analyses/trends.md lists them). Field
 * paths are dotted and 0-based like the YAML (`events.1.where.device_type`); messages speak of 1-based series.
 */
import type { RuleViolation } from '../analysis-kind.js';
import { isCalendarDate } from '../common/durations.js';
import { eventNameViolations, scopeViolations, whereViolations } from '../common/scope-rules.js';
import { daysBetween } from './trends-calendar.js';
import type { TrendsDefinition } from './trends-definition.js';
import { MAX_BREAKDOWN_LIMIT, MAX_RANGE_DAYS, MAX_SERIES, MAX_WINDOW_DAYS, TRENDS_DEFAULTS } from './trends-options.js';

const K = 'trends';

const isWholeIn = (n: number, lo: number, hi: number): boolean => Number.isInteger(n) && n >= lo && n <= hi;

function windowViolations(def: TrendsDefinition): RuleViolation[] {
  const windows = def.active_windows;
  if (windows === undefined) return [];
  const out: RuleViolation[] = [];
  const usesWindows = def.measure === 'active_users' || def.measure === 'stickiness';
  if (!usesWindows) {
    return [{ code: 'trends_option_unused', field: 'active_windows', message: `active_windows is not used by measure ${def.measure}`, hint: 'active_windows applies to measure active_users (wau, mau) and stickiness (mau); remove it' }];
  }
  if (def.measure === 'stickiness' && windows.wau !== undefined) {
    out.push({ code: 'trends_option_unused', field: 'active_windows.wau', message: 'stickiness uses only the mau window', hint: 'remove active_windows.wau (stickiness is DAU ÷ MAU)' });
  }
  for (const key of ['wau', 'mau'] as const) {
    const n = windows[key];
    if (n !== undefined && !isWholeIn(n, 1, MAX_WINDOW_DAYS)) {
      out.push({ code: 'trends_window_invalid', field: `active_windows.${key}`, message: `${key} ${n} is not a whole number of days from 1 to ${MAX_WINDOW_DAYS}`, hint: `write a number of days, e.g. wau: ${TRENDS_DEFAULTS.wau}, mau: ${TRENDS_DEFAULTS.mau} (or 28)` });
    }
  }
  const wau = windows.wau ?? TRENDS_DEFAULTS.wau;
  const mau = windows.mau ?? TRENDS_DEFAULTS.mau;
  if (def.measure === 'active_users' && isWholeIn(wau, 1, MAX_WINDOW_DAYS) && isWholeIn(mau, 1, MAX_WINDOW_DAYS) && wau > mau) {
    out.push({ code: 'trends_window_invalid', field: 'active_windows', message: `the wau window (${wau} days) is longer than the mau window (${mau} days)`, hint: 'the weekly window must not be longer than the monthly one' });
  }
  return out;
}

function optionViolations(def: TrendsDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (def.lifecycle_new !== undefined && def.measure !== 'lifecycle') {
    out.push({ code: 'trends_option_unused', field: 'lifecycle_new', message: `lifecycle_new is not used by measure ${def.measure}`, hint: 'lifecycle_new applies to measure: lifecycle; remove it' });
  }
  if (def.breakdown_limit !== undefined) {
    if (def.breakdown == null) {
      out.push({ code: 'trends_option_unused', field: 'breakdown_limit', message: 'breakdown_limit without a breakdown', hint: 'add a breakdown or remove breakdown_limit' });
    } else if (!isWholeIn(def.breakdown_limit, 1, MAX_BREAKDOWN_LIMIT)) {
      out.push({ code: 'trends_breakdown_limit_invalid', field: 'breakdown_limit', message: `breakdown_limit ${def.breakdown_limit} is not a whole number from 1 to ${MAX_BREAKDOWN_LIMIT}`, hint: `the default is ${TRENDS_DEFAULTS.breakdownLimit}; values beyond the limit are merged into one series` });
    }
  }
  return out;
}

/** Every broken rule, in definition order (empty when the definition is valid). */
export function trendsRules(def: TrendsDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (def.events.length === 0) {
    out.push({ code: 'trends_series_missing', field: 'events', message: 'events is empty', hint: 'list at least one event, or leave events out to count every event ($any)' });
  }
  if (def.events.length > MAX_SERIES) {
    out.push({ code: 'trends_too_many_series', field: 'events', message: `a trend takes at most ${MAX_SERIES} series; got ${def.events.length}`, hint: 'split it into several trends' });
  }
  def.events.forEach((series, i) => {
    out.push(...eventNameViolations(K, series.event, `events.${i}.event`, `series ${i + 1}`));
    out.push(...whereViolations(K, series.where, `events.${i}`));
  });
  out.push(...windowViolations(def), ...optionViolations(def));
  out.push(...scopeViolations(K, def));
  const range = def.date_range;
  if (range != null && isCalendarDate(range.from) && isCalendarDate(range.to) && daysBetween(range.from, range.to) + 1 > MAX_RANGE_DAYS) {
    out.push({ code: 'trends_range_too_long', field: 'date_range', message: `the date range has ${daysBetween(range.from, range.to) + 1} days; at most ${MAX_RANGE_DAYS}`, hint: 'shorten the range (a trend shows at most ten years)' });
  }
  return out;
}
