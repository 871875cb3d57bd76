/**
 * The funnel's main query: the relevant events (funnel-query.ts `relevantEvents`) grouped by unit, one row per
 * unit with its events as one list. Grouping hashes; it does not sort: on a large warehouse a hash aggregate of
 * the few matching rows costs a fraction of ordering them by (unit, time, event_id), and each unit's handful of
 * events is ordered in TypeScript instead (funnel-unit-events.ts).
 *
 * The list is of structs, not one list per column, so an event's fields stay together whatever order the
 * aggregate collects rows in. (Packing each event into one DOUBLE, (t − base) · 2^bits + masks, was tried: no
 * measurable gain over the whole run.)
 */
import { BoundParams } from '../../sql/bound-params.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { withClause } from '../common/scope-sql.js';
import type { FunnelDefinition } from './funnel-definition.js';
import { relevantEvents, type BuiltQuery } from './funnel-query.js';

/** Which per-event fields a unit's events carry besides time and step mask. */
export interface UnitFields {
  /** Exclusion masks (the definition has exclusions). */
  exclusions: boolean;
  /** Whether each event lies in the date range (the definition has one). */
  inRange: boolean;
  /** The breakdown value of each event (the definition has a breakdown). */
  breakdown: boolean;
  /**
   * The event id, to order events at the same instant. Needed only where that order can change the outcome: the
   * breakdown value comes from the attempt's first event, and with one event matching several steps the state
   * machine's choice among simultaneous candidates follows it. Otherwise simultaneous events give the same
   * result in any order (the tie rules use instants only).
   */
  eventId: boolean;
}

export function unitFields(def: FunnelDefinition): UnitFields {
  const names = def.steps.map((s) => s.event);
  return {
    exclusions: def.exclusions.length > 0,
    inRange: def.date_range != null,
    breakdown: def.breakdown != null,
    eventId: def.breakdown != null || new Set(names).size !== names.length,
  };
}

function structElement(fields: UnitFields): string {
  const members = ['t: CAST(t_us AS DOUBLE)', 's: step_mask'];
  if (fields.exclusions) members.push('x: exclusion_mask');
  if (fields.inRange) members.push('r: in_range');
  if (fields.breakdown) members.push('b: breakdown');
  if (fields.eventId) members.push('id: event_id');
  return `{${members.join(', ')}}`;
}

/**
 * Whether the stored-order stream (buildFunnelRowsQuery, funnel-stored-units.ts) can carry the definition: it
 * copies each event's fields as it passes, so it leaves out those read lazily from the result (breakdown, event
 * id), and with them the definitions whose outcome depends on the order of simultaneous events.
 */
export function storedOrderApplies(fields: UnitFields): boolean {
  return !fields.breakdown && !fields.eventId;
}

/**
 * The relevant events one row each, in the order the table stores them (no ORDER BY, no GROUP BY): `h`, a 64-bit
 * hash of the unit id (compared as two 32-bit halves instead of a string per row), `t` (epoch µs as DOUBLE) and
 * `s` (step mask), then as the fields say `x` (exclusion mask) and `r` (1 = in range), and `unit_id` when the
 * run needs the ids of dropped units. Where the warehouse stores each unit's events together (clustered by
 * person and time), every unit arrives as one run of rows and neither DuckDB nor TypeScript has to regroup them;
 * funnel-stored-units.ts checks that, and the run falls back to buildFunnelUnitsQuery where it does not hold.
 */
export function buildFunnelRowsQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, fields: UnitFields, withIds: boolean): BuiltQuery {
  const params = new BoundParams();
  const { ctes, select } = relevantEvents(def, options, params);
  const columns = ['hash(unit_id) AS h', 'CAST(t_us AS DOUBLE) AS t', 'step_mask AS s'];
  if (fields.exclusions) columns.push('exclusion_mask AS x');
  if (fields.inRange) columns.push('CAST(coalesce(in_range, FALSE) AS UTINYINT) AS r');
  if (withIds) columns.push('unit_id');
  const sql = `${withClause(ctes)}SELECT ${columns.join(', ')}
FROM (${select})`;
  return { sql, params: [...params.values] };
}

/**
 * One row per unit (with a date range or strict order, only units that can start an attempt): `unit_id` and
 * `ev`, the list of its events, in no particular order. Struct members: t (epoch µs as DOUBLE, exact below
 * 2^53 µs, i.e. until year 2255), s (step mask), then as the fields say x (exclusion mask), r (in range),
 * b (breakdown), id (event id).
 */
export function buildFunnelUnitsQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, fields: UnitFields = unitFields(def)): BuiltQuery {
  const params = new BoundParams();
  const { ctes, select } = relevantEvents(def, options, params);
  const element = structElement(fields);
  // A unit without a possible first event (step 1 in range; any step when unordered) has no attempt. Leaving it
  // out here costs an aggregate over every row and saves shipping its events: worth it where such units are
  // likely many — outside a date range, or with strict order, where all of a unit's events are relevant.
  const starts = def.order === 'unordered' ? 'step_mask <> 0' : '(step_mask & 1) <> 0';
  const having = def.date_range != null || def.order === 'strict' ? `\nHAVING bool_or(in_range AND ${starts})` : '';
  const sql = `${withClause(ctes)}SELECT unit_id, list(${element}) AS ev
FROM (${select})
GROUP BY unit_id${having}`;
  return { sql, params: [...params.values] };
}
