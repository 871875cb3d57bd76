/**
 * A segment as SQL: one grouped pass over events, each condition an aggregate over the person's events, so a
 * segment costs one scan however many conditions it has. Values are bound; names go through quoteIdent.
 */
import type { BoundParams } from '../../sql/bound-params.js';
import { fieldTextExpression, filterCondition, parseEventField } from '../event-fields.js';
import type { DateRange, WhereFilter } from '../common/definition-parts.js';
import type { SegmentDefinition } from './segment-definition.js';

const A = 's';

function whereParts(where: WhereFilter | undefined, params: BoundParams): string[] {
  return Object.entries(where ?? {}).map(([name, value]) => filterCondition(parseEventField(name)!, value, params, A));
}

/** occurred_at within the local days of the range (both included), as an inline condition. */
export function rangeCondition(range: DateRange, params: BoundParams, tz: string, column: string): string {
  return `(${column} >= timezone(${tz}, CAST(CAST(${params.bind(range.from)} AS DATE) AS TIMESTAMP)) AND ${column} < timezone(${tz}, CAST(CAST(${params.bind(range.to)} AS DATE) + 1 AS TIMESTAMP)))`;
}

/** SELECT person_id of the segment's members (the statement's placeholders are bound into `params`). */
export function segmentMembersSql(def: SegmentDefinition, params: BoundParams, timezone: string): string {
  // Bound on first use only: DuckDB refuses a parameter the statement never references.
  let tzPlaceholder: string | undefined;
  const tz = (): string => (tzPlaceholder ??= params.bind(timezone));
  const having: string[] = [];
  for (const [name, value] of Object.entries(def.properties ?? {})) {
    const field = parseEventField(name)!;
    const text = fieldTextExpression(field, params, A);
    // The person's latest known value: events without the field do not erase it.
    const latest = `arg_max(${text}, (${A}.occurred_at, ${A}.event_id)) FILTER (WHERE ${text} IS NOT NULL)`;
    having.push(propertyCondition(latest, value, params));
  }
  const behaviour = (event: string, where: WhereFilter | undefined, range: DateRange | undefined): string => {
    const parts = [`${A}.event_name = ${params.bind(event)}`, ...whereParts(where, params)];
    if (range !== undefined) parts.push(rangeCondition(range, params, tz(), `${A}.occurred_at`));
    return `count(*) FILTER (WHERE ${parts.join(' AND ')})`;
  };
  for (const b of def.did) {
    const n = behaviour(b.event, b.where, b.date_range);
    having.push(`${n} >= ${params.bind(b.at_least)}`);
    if (b.at_most !== undefined) having.push(`${n} <= ${params.bind(b.at_most)}`);
  }
  for (const b of def.did_not) having.push(`${behaviour(b.event, b.where, b.date_range)} = 0`);
  if (def.first_seen !== undefined) {
    having.push(rangeCondition(def.first_seen, params, tz(), `min(${A}.occurred_at)`));
  }
  return `SELECT ${A}.person_id FROM events ${A} WHERE ${A}.person_id IS NOT NULL GROUP BY ${A}.person_id HAVING ${having.length === 0 ? 'TRUE' : having.join(' AND ')}`;
}

/** The latest value (text) compared as filters compare: a list is any of, numbers by meaning, null = unknown. */
function propertyCondition(latest: string, value: WhereFilter[string], params: BoundParams): string {
  const one = (v: string | number | boolean | null): string => {
    if (v === null) return `(${latest}) IS NULL`;
    if (typeof v === 'number') return `TRY_CAST(${latest} AS DOUBLE) = CAST(${params.bind(v)} AS DOUBLE)`;
    return `(${latest}) = ${params.bind(String(v))}`;
  };
  if (Array.isArray(value)) return `(${value.map((v) => one(v as string | number | boolean)).join(' OR ')})`;
  return `(${one(value as string | number | boolean | null)})`;
}
