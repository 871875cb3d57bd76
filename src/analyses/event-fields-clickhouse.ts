/**
 * Event fields (event-fields.ts) in ClickHouse SQL, with the same meaning: a canonical column or one top-level key
 * of properties / user_properties, compared by meaning (5 matches 5, 5.0 and "5"; true matches "true"), NULL for
 * unknown. Values are bound parameters.
 */
import type { ClickhouseParams } from '../sql/clickhouse/clickhouse-params.js';
import { chJsonText, chTryDouble } from '../sql/clickhouse/clickhouse-json.js';
import { quoteClickhouseIdent } from '../sql/quote.js';
import type { EventField, FilterScalar, FilterValue } from './event-fields.js';

const qualified = (alias: string, column: string): string => `${alias}.${quoteClickhouseIdent(column)}`;

/** The field's value as text (NULL when absent), e.g. for a breakdown. */
export function chFieldTextExpression(field: EventField, params: ClickhouseParams, alias: string): string {
  if (field.kind === 'json') return chJsonText(qualified(alias, field.column), params.bind(field.key));
  // Bool renders as 'true' / 'false', as DuckDB's CAST(… AS VARCHAR) does; LowCardinality is dropped so that text
  // from different columns and CASE branches has one type.
  return field.type === 'bool' ? `toString(${qualified(alias, field.column)})` : `CAST(${qualified(alias, field.column)} AS Nullable(String))`;
}

function scalarCondition(field: EventField, value: FilterScalar, params: ClickhouseParams, alias: string): string {
  if (value === null) return `${chFieldTextExpression(field, params, alias)} IS NULL`;
  if (field.kind === 'column') {
    const col = qualified(alias, field.column);
    return field.type === 'bool' ? `${col} = ${params.bind(value as boolean, 'Bool')}` : `${col} = ${params.bind(String(value))}`;
  }
  const text = chFieldTextExpression(field, params, alias);
  if (typeof value === 'number') return `${chTryDouble(text)} = ${params.bind(value, 'Float64')}`;
  return `${text} = ${params.bind(String(value))}`;
}

/** A boolean condition (three-valued, as in DuckDB): the field equals the value (a list means any of its values). */
export function chFilterCondition(field: EventField, value: FilterValue, params: ClickhouseParams, alias: string): string {
  if (Array.isArray(value)) return `(${value.map((v) => `(${scalarCondition(field, v, params, alias)})`).join(' OR ')})`;
  return `(${scalarCondition(field, value as FilterScalar, params, alias)})`;
}
