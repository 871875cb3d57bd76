/**
 * SQL for a funnel (DuckDB dialect). The warehouse only selects and labels the events that matter (relevantEvents);
 * TypeScript decides conversion per unit, because order, window, consumption and exclusion rules are easier to
 * get exactly right — and to verify — as plain code over one unit's ordered events. The run groups the relevant
 * events by unit (funnel-units-query.ts); buildFunnelEventsQuery streams them in (unit, time, event id) order
 * instead, for the reference state machine (funnel-attempts.ts) the differential test compares with.
 *
 * Every name and value is a bound parameter and every identifier goes through quoteIdent, so the statement
 * text depends only on the definition's shape.
 */
import { BoundParams, type BoundValue } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import { filterCondition, parseEventField } from '../event-fields.js';
import { buildScope, withClause, type ScopeOptions } from '../common/scope-sql.js';
import type { FunnelDefinition, FunnelWhere } from './funnel-definition.js';
import { parseWindowMicros } from './funnel-rules.js';

export interface BuiltQuery {
  sql: string;
  params: BoundValue[];
}

/** Columns of the events query, in order. */
export const FUNNEL_EVENT_COLUMNS = ['unit_id', 't_us', 'step_mask', 'exclusion_mask', 'in_range', 'breakdown'] as const;

const E = 'e';
const col = (name: string): string => `${E}.${quoteIdent(name)}`;

export function unitColumn(def: FunnelDefinition): string {
  return def.unit === 'session' ? 'session_id' : 'person_id';
}

function whereConditions(where: FunnelWhere | undefined, params: BoundParams): string[] {
  return Object.entries(where ?? {}).map(([name, value]) => filterCondition(parseEventField(name)!, value, params, E));
}

/**
 * `column` is one of `names`. Written as list_position rather than IN: DuckDB pushes this form into the scan as a
 * table filter, so the other columns are read only for the few matching rows (an IN list stays a separate filter
 * over every row of the table, several times slower on a large warehouse).
 */
function nameFilter(names: readonly string[], column: string, params: BoundParams): string {
  return `list_position([${names.map((n) => params.bind(n)).join(', ')}], ${column}) > 0`;
}

/** What an event must be to match a step or an exclusion: its name, plus conditions on other fields (may be none). */
interface Matcher {
  event: string;
  conditions: string[];
}

/**
 * Bit i set ⇔ the event matches matchers[i]; an event may match several. One lookup by name: with no conditions
 * beyond names, a constant mask per name picked by list_position (as cheap as the scan's own filter), else a
 * CASE on the name whose branch adds the bits of that name's matchers whose conditions hold.
 */
function maskExpression(matchers: readonly Matcher[], params: BoundParams): string {
  if (matchers.length === 0) return 'CAST(0 AS INTEGER)';
  const byName = new Map<string, number[]>();
  matchers.forEach((m, i) => byName.set(m.event, [...(byName.get(m.event) ?? []), i]));
  const names = [...byName.keys()];
  if (matchers.every((m) => m.conditions.length === 0)) {
    const masks = names.map((name) => byName.get(name)!.reduce((mask, i) => mask + 2 ** i, 0));
    return `CAST(COALESCE([${masks.join(', ')}][list_position([${names.map((n) => params.bind(n)).join(', ')}], ${col('event_name')})], 0) AS INTEGER)`;
  }
  const branches = names.map((name) => {
    const bits = byName.get(name)!.map((i) => {
      const conditions = matchers[i]!.conditions;
      return conditions.length === 0 ? `${2 ** i}` : `(CASE WHEN ${conditions.join(' AND ')} THEN ${2 ** i} ELSE 0 END)`;
    });
    return `WHEN ${params.bind(name)} THEN ${bits.join(' + ')}`;
  });
  return `CAST(CASE ${col('event_name')} ${branches.join(' ')} ELSE 0 END AS INTEGER)`;
}

/**
 * One row per relevant event of every unit — step matches and exclusion matches (all events with order: strict,
 * since any other event breaks a strict step) — ordered by (unit, time, event_id), with the time as epoch
 * microseconds, bit masks of the steps and exclusions it matches, whether it may start the funnel (date range),
 * and its breakdown value. The reference engine's input (engine: 'state-machine').
 */
export function buildFunnelEventsQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>): BuiltQuery {
  const params = new BoundParams();
  const { ctes, select } = relevantEvents(def, options, params);
  const sql = `${withClause(ctes)}SELECT unit_id, t_us, step_mask, exclusion_mask, in_range, breakdown FROM (${select})
ORDER BY unit_id, t_us, event_id`;
  return { sql, params: [...params.values] };
}

/**
 * The relevant events as a SELECT (unit_id, t_us, step_mask, exclusion_mask, in_range, breakdown, event_id) plus
 * the CTEs it needs, bound into `params`.
 */
export function relevantEvents(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, params: BoundParams): { ctes: string[]; select: string } {
  const windowUs = parseWindowMicros(def.window)!;
  const scope = buildScope(def, params, E, { ...options, kind: 'funnel' });
  const ctes = [...scope.ctes];

  const firstTimeNames = [...new Set(def.steps.filter((s) => s.first_time).map((s) => s.event))];
  if (firstTimeNames.length > 0) {
    // First-ever occurrence per person over all history, not just the date range; ties broken by event_id. A
    // grouped arg_min rather than row_number() over a window: hashing is much cheaper than sorting every event.
    ctes.push(`first_ever AS (
  SELECT arg_min(event_id, (occurred_at, event_id)) AS event_id
  FROM events
  WHERE person_id IS NOT NULL AND ${nameFilter(firstTimeNames, 'event_name', params)}
  GROUP BY person_id, event_name
)`);
  }

  const stepMatchers: Matcher[] = def.steps.map((step) => {
    const conditions = whereConditions(step.where, params);
    if (step.first_time) conditions.push(`${col('event_id')} IN (SELECT event_id FROM first_ever)`);
    return { event: step.event, conditions };
  });
  const exclusionMatchers: Matcher[] = def.exclusions.map((ex) => ({ event: ex.event, conditions: whereConditions(ex.where, params) }));
  const stepMask = maskExpression(stepMatchers, params);
  const exclusionMask = maskExpression(exclusionMatchers, params);

  const filters = [...scope.conditions];
  if (def.unit === 'session') filters.push(`${col('session_id')} IS NOT NULL`);
  if (scope.lo !== null && scope.hi !== null) {
    // Later steps may fall after the range, up to the window (inclusive) after its last instant.
    filters.push(`${col('occurred_at')} >= ${scope.lo}`, `${col('occurred_at')} <= ${scope.hi} + to_microseconds(CAST(${params.bind(BigInt(windowUs))} AS BIGINT))`);
  }
  const strict = def.order === 'strict';
  // Without conditions beyond names, every event the name filter lets through matches something.
  const nameDecides = [...stepMatchers, ...exclusionMatchers].every((m) => m.conditions.length === 0);
  if (!strict) {
    const names = [...new Set([...def.steps.map((s) => s.event), ...def.exclusions.map((x) => x.event)])];
    filters.push(nameFilter(names, col('event_name'), params));
  }

  const unit = quoteIdent(unitColumn(def));
  const select = `SELECT * FROM (
  SELECT ${E}.${unit} AS unit_id,
         CAST(epoch_us(${col('occurred_at')}) AS BIGINT) AS t_us,
         ${stepMask} AS step_mask,
         ${exclusionMask} AS exclusion_mask,
         ${scope.inRange} AS in_range,
         ${scope.breakdown} AS breakdown,
         ${col('event_id')} AS event_id
  FROM events ${E}
  WHERE ${filters.join('\n    AND ')}
)${strict || nameDecides ? '' : '\nWHERE step_mask <> 0 OR exclusion_mask <> 0'}`;
  return { ctes, select };
}

/**
 * Columns of the temporary table the dropped units are appended to (see buildNextEventsQuery). Instants are epoch
 * microseconds as DOUBLE (exact below 2^53 µs), which the driver appends without a BigInt per value.
 */
export const DROPPED_TABLE_COLUMNS = '(unit_id VARCHAR, after_step INTEGER, t_us DOUBLE, limit_us DOUBLE)';

/**
 * For each dropped unit (reached `after_step` but not the next step), the first event it did strictly after its
 * step event and within the window, counted by event name per step. Events at the same instant as the step
 * event are simultaneous, not "next". `bounds` (epoch µs) are the earliest step instant and the latest window
 * end over all dropped units: a constant range the scan can use to skip data no dropped unit can reach.
 */
export function buildNextEventsQuery(def: FunnelDefinition, droppedTable: string, options: Omit<ScopeOptions, 'kind'>, bounds: { fromUs: number; toUs: number }): BuiltQuery {
  const unit = quoteIdent(unitColumn(def));
  const params = new BoundParams();
  // Only the global filters apply here: the dropped units already passed segment and exclusions.
  const scope = buildScope({ ...def, breakdown: null, segment: null, exclude: [], date_range: null }, params, E, { ...options, kind: 'funnel' });
  const instant = (us: number): string => `make_timestamptz(CAST(${params.bind(BigInt(us))} AS BIGINT))`;
  const sql = `${withClause(scope.ctes)}SELECT after_step, event_name, count(*) AS n FROM (
  SELECT any_value(d.after_step) AS after_step,
         arg_min(${col('event_name')}, (${col('occurred_at')}, ${col('event_id')})) AS event_name
  FROM (
    SELECT unit_id, after_step,
           make_timestamptz(CAST(t_us AS BIGINT)) AS after_at,
           make_timestamptz(CAST(limit_us AS BIGINT)) AS limit_at
    FROM ${quoteIdent(droppedTable)}
  ) d
  JOIN events ${E} ON ${E}.${unit} = d.unit_id
  WHERE ${scope.conditions.join(' AND ')}
    AND ${col('occurred_at')} > ${instant(bounds.fromUs)}
    AND ${col('occurred_at')} <= ${instant(bounds.toUs)}
    AND ${col('occurred_at')} > d.after_at
    AND ${col('occurred_at')} <= d.limit_at
  GROUP BY d.unit_id
)
GROUP BY after_step, event_name
ORDER BY after_step, n DESC, event_name`;
  return { sql, params: [...params.values] };
}
