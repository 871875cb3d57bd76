/**
 * Fields a definition may filter or break down by: a canonical column of `events`, or one top-level key of its
 * `properties` / `user_properties` JSON (`properties.<key>`; everything after the first dot is the key, dots
 * included, because vendor property names often contain dots). Values are always bound parameters.
 */
import { EVENT_COLUMNS } from '../events/canonical-event.js';
import { quoteIdent } from '../sql/quote.js';
import type { BoundParams } from '../sql/bound-params.js';

export type EventField =
  | { readonly kind: 'column'; readonly column: string; readonly type: 'text' | 'bool' }
  | { readonly kind: 'json'; readonly column: 'properties' | 'user_properties'; readonly key: string };

export type FilterScalar = string | number | boolean | null;
export type FilterValue = FilterScalar | readonly (string | number | boolean)[];

/** Columns that make sense to compare with a value: text and flags (not instants, JSON or the numeric lineage). */
export const FILTERABLE_COLUMNS: ReadonlyMap<string, 'text' | 'bool'> = new Map(
  EVENT_COLUMNS.filter((c) => c.type === 'string' || c.type === 'text' || c.type === 'bool').map((c) => [
    c.name,
    c.type === 'bool' ? ('bool' as const) : ('text' as const),
  ]),
);

const JSON_PREFIXES = ['properties.', 'user_properties.'] as const;

/** Parses a field reference; undefined when it names neither a filterable column nor a JSON key. */
export function parseEventField(field: string): EventField | undefined {
  for (const prefix of JSON_PREFIXES) {
    if (field.startsWith(prefix) && field.length > prefix.length) {
      return { kind: 'json', column: prefix.slice(0, -1) as 'properties' | 'user_properties', key: field.slice(prefix.length) };
    }
  }
  const type = FILTERABLE_COLUMNS.get(field);
  return type === undefined ? undefined : { kind: 'column', column: field, type };
}

/** RFC 6901 JSON Pointer to one top-level key: DuckDB reads it without any quoting rules of its own. */
function jsonPointer(key: string): string {
  return '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
}

const qualified = (alias: string, column: string): string => `${alias}.${quoteIdent(column)}`;

/** The field's value as text (NULL when absent), e.g. for a breakdown. */
export function fieldTextExpression(field: EventField, params: BoundParams, alias: string): string {
  if (field.kind === 'json') return `json_extract_string(${qualified(alias, field.column)}, ${params.bind(jsonPointer(field.key))})`;
  return field.type === 'bool' ? `CAST(${qualified(alias, field.column)} AS VARCHAR)` : qualified(alias, field.column);
}

/** Why a value cannot be compared with the field, or undefined when it can. */
export function filterValueProblem(field: EventField, value: FilterValue): string | undefined {
  const values = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) return 'an empty list matches nothing';
  for (const v of values) {
    if (field.kind === 'column' && field.type === 'bool' && typeof v !== 'boolean' && v !== null) {
      return `${field.column} is true/false; got ${JSON.stringify(v)}`;
    }
    if (field.kind === 'column' && field.type === 'text' && typeof v === 'boolean') {
      return `${field.column} is text; got ${String(v)} (quote it to compare text)`;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return `not a finite number: ${String(v)}`;
  }
  return undefined;
}

function scalarCondition(field: EventField, value: FilterScalar, params: BoundParams, alias: string): string {
  if (value === null) return `${fieldTextExpression(field, params, alias)} IS NULL`;
  if (field.kind === 'column') {
    const col = qualified(alias, field.column);
    return field.type === 'bool' ? `${col} = CAST(${params.bind(value)} AS BOOLEAN)` : `${col} = ${params.bind(String(value))}`;
  }
  const text = fieldTextExpression(field, params, alias);
  // Vendors send numbers and flags as JSON strings as often as not, so compare by meaning, not by JSON type:
  // 5 matches 5, 5.0 and "5"; true matches true and "true".
  if (typeof value === 'number') return `TRY_CAST(${text} AS DOUBLE) = CAST(${params.bind(value)} AS DOUBLE)`;
  return `${text} = ${params.bind(String(value))}`;
}

/** A boolean SQL condition: the field equals the value (a list means any of its values). */
export function filterCondition(field: EventField, value: FilterValue, params: BoundParams, alias: string): string {
  if (Array.isArray(value)) return `(${value.map((v) => `(${scalarCondition(field, v, params, alias)})`).join(' OR ')})`;
  return `(${scalarCondition(field, value as FilterScalar, params, alias)})`;
}
