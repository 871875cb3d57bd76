/**
 * Validation rules of a funnel definition, each with a stable code (docs/analyses.md#funnel lists them).
 * Field paths are dotted and 0-based like the YAML structure (`steps.2.where.device_type`); messages speak of
 * 1-based step numbers, as `between` does.
 */
import type { RuleViolation } from '../analysis-kind.js';
import { filterValueProblem, parseEventField, FILTERABLE_COLUMNS, type FilterValue } from '../event-fields.js';
import type { FunnelDefinition } from './funnel-definition.js';

export const FUNNEL_MAX_STEPS = 20;
export const FUNNEL_MAX_EXCLUSIONS = 20;
const MAX_WINDOW_DAYS = 365;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const US_PER_SECOND = 1_000_000;

/** A window like "14d" in microseconds; undefined when it is not <positive integer><s|m|h|d|w>. */
export function parseWindowMicros(window: string | number): number | undefined {
  if (typeof window !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(window);
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2]!]! * US_PER_SECOND;
}

const FIELD_HINT = `use a column (${[...FILTERABLE_COLUMNS.keys()].join(', ')}) or properties.<key> / user_properties.<key>`;

function whereViolations(where: Record<string, FilterValue> | undefined | null, base: string): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const [name, value] of Object.entries(where ?? {})) {
    const field = `${base}.where.${name}`;
    const parsed = parseEventField(name);
    if (parsed === undefined) {
      out.push({ code: 'funnel_field_unknown', field, message: `unknown field "${name}"`, hint: FIELD_HINT });
      continue;
    }
    const problem = filterValueProblem(parsed, value);
    if (problem !== undefined) {
      out.push({ code: 'funnel_filter_value_invalid', field, message: problem, hint: 'compare text columns with text, flags with true/false; a list means any of its values' });
    }
  }
  return out;
}

function eventViolation(event: string, field: string, what: string): RuleViolation[] {
  return event.trim() === ''
    ? [{ code: 'funnel_event_missing', field, message: `${what} has an empty event name`, hint: 'name the event exactly as it is stored (usagelab sql "SELECT DISTINCT event_name FROM events")' }]
    : [];
}

function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

/** Every broken rule, in definition order (empty when the definition is valid). */
export function checkFunnelRules(def: FunnelDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  const n = def.steps.length;
  if (n < 2) {
    out.push({ code: 'funnel_too_few_steps', field: 'steps', message: `a funnel needs at least 2 steps; got ${n}`, hint: 'list the events in the order users should do them' });
  }
  if (n > FUNNEL_MAX_STEPS) {
    out.push({ code: 'funnel_too_many_steps', field: 'steps', message: `a funnel takes at most ${FUNNEL_MAX_STEPS} steps; got ${n}`, hint: 'split it into several funnels' });
  }
  def.steps.forEach((step, i) => {
    out.push(...eventViolation(step.event, `steps.${i}.event`, `step ${i + 1}`));
    out.push(...whereViolations(step.where, `steps.${i}`));
  });

  const windowUs = parseWindowMicros(def.window);
  if (windowUs === undefined || windowUs <= 0 || windowUs > MAX_WINDOW_DAYS * 86_400 * US_PER_SECOND) {
    out.push({
      code: 'funnel_window_invalid',
      field: 'window',
      message: `window ${JSON.stringify(def.window)} is not a duration between 1s and ${MAX_WINDOW_DAYS}d`,
      hint: 'write a whole number with a unit: 30m, 24h, 14d, 2w (a day is 24 hours)',
    });
  }

  if (def.exclusions.length > FUNNEL_MAX_EXCLUSIONS) {
    out.push({ code: 'funnel_too_many_exclusions', field: 'exclusions', message: `at most ${FUNNEL_MAX_EXCLUSIONS} exclusions; got ${def.exclusions.length}`, hint: 'merge exclusions of the same steps with a list value in where' });
  }
  if (def.order === 'unordered' && def.exclusions.length > 0) {
    out.push({ code: 'funnel_exclusion_unordered', field: 'exclusions', message: 'exclusions need ordered steps; this funnel is unordered', hint: 'use order: ordered or strict, or remove the exclusions' });
  }
  def.exclusions.forEach((ex, i) => {
    out.push(...eventViolation(ex.event, `exclusions.${i}.event`, `exclusion ${i + 1}`));
    out.push(...whereViolations(ex.where, `exclusions.${i}`));
    const [from, to] = ex.between ?? [1, n];
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > n || from >= to) {
      out.push({
        code: 'funnel_exclusion_range',
        field: `exclusions.${i}.between`,
        message: `between: [${from}, ${to}] is not two steps i < j within 1..${n}`,
        hint: 'steps are numbered from 1; [1, 2] excludes the event between the first and the second step',
      });
    }
  });

  if (def.breakdown !== undefined && def.breakdown !== null && parseEventField(def.breakdown) === undefined) {
    out.push({ code: 'funnel_field_unknown', field: 'breakdown', message: `unknown breakdown field "${def.breakdown}"`, hint: FIELD_HINT });
  }

  if (def.date_range !== undefined && def.date_range !== null) {
    const { from, to } = def.date_range;
    for (const [key, value] of [['from', from], ['to', to]] as const) {
      if (!isCalendarDate(value)) {
        out.push({ code: 'funnel_date_range_invalid', field: `date_range.${key}`, message: `${JSON.stringify(value)} is not a date YYYY-MM-DD`, hint: 'write dates as YYYY-MM-DD (a day in the configured time zone)' });
      }
    }
    if (isCalendarDate(from) && isCalendarDate(to) && from > to) {
      out.push({ code: 'funnel_date_range_invalid', field: 'date_range', message: `from ${from} is after to ${to}`, hint: 'swap the dates; both days are included' });
    }
  }
  return out;
}
