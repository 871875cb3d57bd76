/**
 * A segment in ClickHouse SQL (the counterpart of segment-query.ts, same meaning): one grouped pass over events,
 * each condition an aggregate over the person's events. The latest value of a property breaks ties on the same
 * instant by the event id as text, which orders as DuckDB orders UUIDs (ClickHouse's own UUID order differs).
 */
import type { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { chTryDouble } from '../../sql/clickhouse/clickhouse-json.js';
import { chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import { chFieldTextExpression, chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import type { DateRange, WhereFilter } from '../common/definition-parts.js';
import type { SegmentDefinition } from './segment-definition.js';

const A = 's';

/** occurred_at within the local days of the range (both included). */
export function chRangeCondition(range: DateRange, params: ClickhouseParams, tz: string, column: string): string {
  const lo = chLocalMidnight(params.bind(range.from, 'Date32'), tz);
  const hi = chLocalMidnight(`addDays(${params.bind(range.to, 'Date32')}, 1)`, tz);
  return `(${column} >= ${lo} AND ${column} < ${hi})`;
}

function whereParts(where: WhereFilter | undefined, params: ClickhouseParams): string[] {
  return Object.entries(where ?? {}).map(([name, value]) => chFilterCondition(parseEventField(name)!, value, params, A));
}

/** The latest value (text) compared as filters compare: a list is any of, numbers by meaning, null = unknown. */
function propertyCondition(latest: string, value: WhereFilter[string], params: ClickhouseParams): string {
  const one = (v: string | number | boolean | null): string => {
    if (v === null) return `(${latest}) IS NULL`;
    if (typeof v === 'number') return `${chTryDouble(latest)} = ${params.bind(v, 'Float64')}`;
    return `(${latest}) = ${params.bind(String(v))}`;
  };
  if (Array.isArray(value)) return `(${value.map((v) => one(v as string | number | boolean)).join(' OR ')})`;
  return `(${one(value as string | number | boolean | null)})`;
}

/** SELECT person_id of the segment's members (placeholders bound into `params`). */
export function chSegmentMembersSql(def: SegmentDefinition, params: ClickhouseParams, timezone: string): string {
  let tzPlaceholder: string | undefined;
  const tz = (): string => (tzPlaceholder ??= params.bind(timezone));
  const having: string[] = [];
  for (const [name, value] of Object.entries(def.properties ?? {})) {
    const text = chFieldTextExpression(parseEventField(name)!, params, A);
    // The person's latest known value: events without the field do not erase it.
    const latest = `argMaxIf(${text}, (${A}.occurred_at, toString(${A}.event_id)), (${text}) IS NOT NULL)`;
    having.push(propertyCondition(latest, value, params));
  }
  const behaviour = (event: string, where: WhereFilter | undefined, range: DateRange | undefined): string => {
    const parts = [`${A}.event_name = ${params.bind(event)}`, ...whereParts(where, params)];
    if (range !== undefined) parts.push(chRangeCondition(range, params, tz(), `${A}.occurred_at`));
    // countIf counts rows whose condition is true; NULL (unknown) is not counted, as with FILTER in DuckDB.
    return `countIf(ifNull(${parts.join(' AND ')}, false))`;
  };
  for (const b of def.did) {
    const n = behaviour(b.event, b.where, b.date_range);
    having.push(`${n} >= ${params.bind(b.at_least)}`);
    if (b.at_most !== undefined) having.push(`${n} <= ${params.bind(b.at_most)}`);
  }
  for (const b of def.did_not) having.push(`${behaviour(b.event, b.where, b.date_range)} = 0`);
  if (def.first_seen !== undefined) having.push(chRangeCondition(def.first_seen, params, tz(), `min(${A}.occurred_at)`));
  return `SELECT ${A}.person_id AS person_id FROM events AS ${A} WHERE ${A}.person_id IS NOT NULL GROUP BY ${A}.person_id HAVING ${having.length === 0 ? 'true' : having.join(' AND ')}`;
}
