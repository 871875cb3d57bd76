/**
 * SQL for a funnel (DuckDB dialect). The warehouse only selects and labels the events that matter; the per-unit
 * state machine (funnel-attempts.ts) decides conversion, because order, window, consumption and exclusion rules
 * are easier to get exactly right — and to verify — as plain code over one unit's ordered events.
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

function maskExpression(conditions: string[]): string {
  if (conditions.length === 0) return 'CAST(0 AS INTEGER)';
  // Bit k-1 set ⇔ the event matches step (or exclusion) k; an event may match several.
  return `CAST(${conditions.map((c, i) => `(CASE WHEN ${c} THEN ${2 ** i} ELSE 0 END)`).join(' + ')} AS INTEGER)`;
}

/**
 * One row per relevant event of every unit — step matches and exclusion matches (all events with order: strict,
 * since any other event breaks a strict step) — ordered by (unit, time, event_id), with the time as epoch
 * microseconds, bit masks of the steps and exclusions it matches, whether it may start the funnel (date range),
 * and its breakdown value.
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
    // First-ever occurrence per person over all history, not just the date range; ties broken by event_id.
    ctes.push(`first_ever AS (
  SELECT event_id FROM (
    SELECT event_id, row_number() OVER (PARTITION BY person_id, event_name ORDER BY occurred_at, event_id) AS rn
    FROM events
    WHERE person_id IS NOT NULL AND event_name IN (${firstTimeNames.map((n) => params.bind(n)).join(', ')})
  ) WHERE rn = 1
)`);
  }

  const stepConditions = def.steps.map((step) => {
    const parts = [`${col('event_name')} = ${params.bind(step.event)}`, ...whereConditions(step.where, params)];
    if (step.first_time) parts.push(`${col('event_id')} IN (SELECT event_id FROM first_ever)`);
    return parts.join(' AND ');
  });
  const exclusionConditions = def.exclusions.map((ex) =>
    [`${col('event_name')} = ${params.bind(ex.event)}`, ...whereConditions(ex.where, params)].join(' AND '),
  );

  const filters = [...scope.conditions];
  if (def.unit === 'session') filters.push(`${col('session_id')} IS NOT NULL`);
  if (scope.lo !== null && scope.hi !== null) {
    // Later steps may fall after the range, up to the window (inclusive) after its last instant.
    filters.push(`${col('occurred_at')} >= ${scope.lo}`, `${col('occurred_at')} <= ${scope.hi} + to_microseconds(CAST(${params.bind(BigInt(windowUs))} AS BIGINT))`);
  }
  const strict = def.order === 'strict';
  if (!strict) {
    const names = [...new Set([...def.steps.map((s) => s.event), ...def.exclusions.map((x) => x.event)])];
    filters.push(`${col('event_name')} IN (${names.map((n) => params.bind(n)).join(', ')})`);
  }

  const unit = quoteIdent(unitColumn(def));
  const select = `SELECT * FROM (
  SELECT ${E}.${unit} AS unit_id,
         CAST(epoch_us(${col('occurred_at')}) AS BIGINT) AS t_us,
         ${maskExpression(stepConditions)} AS step_mask,
         ${maskExpression(exclusionConditions)} AS exclusion_mask,
         ${scope.inRange} AS in_range,
         ${scope.breakdown} AS breakdown,
         ${col('event_id')} AS event_id
  FROM events ${E}
  WHERE ${filters.join('\n    AND ')}
)${strict ? '' : '\nWHERE step_mask <> 0 OR exclusion_mask <> 0'}`;
  return { ctes, select };
}

/** Name of the temporary table the dropped units are appended to (see buildNextEventsQuery). */
export const DROPPED_TABLE_COLUMNS = '(unit_id VARCHAR, after_step INTEGER, t_us BIGINT, limit_us BIGINT)';

/**
 * For each dropped unit (reached `after_step` but not the next step), the first event it did strictly after its
 * step event and within the window, counted by event name per step. Events at the same instant as the step
 * event are simultaneous, not "next".
 */
export function buildNextEventsQuery(def: FunnelDefinition, droppedTable: string, options: Omit<ScopeOptions, 'kind'>): BuiltQuery {
  const unit = quoteIdent(unitColumn(def));
  const params = new BoundParams();
  // Only the global filters apply here: the dropped units already passed segment and exclusions.
  const scope = buildScope({ ...def, breakdown: null, segment: null, exclude: [], date_range: null }, params, E, { ...options, kind: 'funnel' });
  const sql = `${withClause(scope.ctes)}SELECT after_step, event_name, count(*) AS n FROM (
  SELECT any_value(d.after_step) AS after_step,
         arg_min(${col('event_name')}, (${col('occurred_at')}, ${col('event_id')})) AS event_name
  FROM ${quoteIdent(droppedTable)} d
  JOIN events ${E} ON ${E}.${unit} = d.unit_id
  WHERE ${scope.conditions.join(' AND ')}
    AND ${col('occurred_at')} > make_timestamptz(d.t_us)
    AND ${col('occurred_at')} <= make_timestamptz(d.limit_us)
  GROUP BY d.unit_id
)
GROUP BY after_step, event_name
ORDER BY after_step, n DESC, event_name`;
  return { sql, params: [...params.values] };
}
