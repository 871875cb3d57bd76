/**
 * Validation rules of the shared keys (definition-parts.ts). Codes are prefixed with the kind
 * (`funnel_field_unknown`, `retention_date_range_invalid`, ...) so an error says which definition broke it.
 */
import type { RuleViolation } from '../analysis-kind.js';
import { filterValueProblem, parseEventField, FILTERABLE_COLUMNS, type FilterValue } from '../event-fields.js';
import type { AnalysisScope } from './definition-parts.js';
import { isCalendarDate } from './durations.js';

export const FIELD_HINT = `use a column (${[...FILTERABLE_COLUMNS.keys()].join(', ')}) or properties.<key> / user_properties.<key>`;

export const SEGMENT_PREFIX = 'segment:';

/** Every broken rule of a `where` map at `base` (e.g. `steps.2` → `steps.2.where.<field>`). */
export function whereViolations(kind: string, where: Record<string, FilterValue> | undefined | null, base: string): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const [name, value] of Object.entries(where ?? {})) {
    const field = base === '' ? `where.${name}` : `${base}.where.${name}`;
    const parsed = parseEventField(name);
    if (parsed === undefined) {
      out.push({ code: `${kind}_field_unknown`, field, message: `unknown field "${name}"`, hint: FIELD_HINT });
      continue;
    }
    const problem = filterValueProblem(parsed, value);
    if (problem !== undefined) {
      out.push({ code: `${kind}_filter_value_invalid`, field, message: problem, hint: 'compare text columns with text, flags with true/false; a list means any of its values' });
    }
  }
  return out;
}

export function eventNameViolations(kind: string, event: string, field: string, what: string): RuleViolation[] {
  return event.trim() === ''
    ? [{ code: `${kind}_event_missing`, field, message: `${what} has an empty event name`, hint: 'name the event exactly as it is stored (usagelab sql "SELECT DISTINCT event_name FROM events")' }]
    : [];
}

export function dateRangeViolations(kind: string, range: { from: string; to: string } | null | undefined, base = 'date_range'): RuleViolation[] {
  if (range == null) return [];
  const out: RuleViolation[] = [];
  const code = `${kind}_date_range_invalid`;
  for (const key of ['from', 'to'] as const) {
    if (!isCalendarDate(range[key])) {
      out.push({ code, field: `${base}.${key}`, message: `${JSON.stringify(range[key])} is not a date YYYY-MM-DD`, hint: 'write dates as YYYY-MM-DD (a day in the configured time zone)' });
    }
  }
  if (isCalendarDate(range.from) && isCalendarDate(range.to) && range.from > range.to) {
    out.push({ code, field: base, message: `from ${range.from} is after to ${range.to}`, hint: 'swap the dates; both days are included' });
  }
  return out;
}

/** Rules of date_range, where, segment, breakdown and exclude. */
export function scopeViolations(kind: string, scope: AnalysisScope): RuleViolation[] {
  const out: RuleViolation[] = [...whereViolations(kind, scope.where, '')];
  const breakdown = scope.breakdown;
  if (breakdown != null) {
    if (breakdown.startsWith(SEGMENT_PREFIX)) {
      if (breakdown.slice(SEGMENT_PREFIX.length).trim() === '') {
        out.push({ code: `${kind}_segment_missing`, field: 'breakdown', message: 'segment: needs a segment name', hint: 'write breakdown: segment:NAME with NAME a saved segment in queries/' });
      }
    } else if (parseEventField(breakdown) === undefined) {
      out.push({ code: `${kind}_field_unknown`, field: 'breakdown', message: `unknown breakdown field "${breakdown}"`, hint: `${FIELD_HINT}, or segment:NAME` });
    }
  }
  if (scope.segment != null && scope.segment.trim() === '') {
    out.push({ code: `${kind}_segment_missing`, field: 'segment', message: 'segment is empty', hint: 'name a saved segment (queries/NAME.yaml with kind: segment) or remove the key' });
  }
  scope.exclude.forEach((name, i) => {
    if (name.trim() === '') {
      out.push({ code: `${kind}_segment_missing`, field: `exclude.${i}`, message: 'an empty name in exclude', hint: 'list the tags internal / bot or saved segment names; exclude: [] includes everyone' });
    }
  });
  out.push(...dateRangeViolations(kind, scope.date_range));
  return out;
}
