/**
 * The warehouse-side funnel for the common case: ordered steps with distinct event names and no exclusions.
 * There the state machine's rules reduce to a chain of ASOF joins — step k is the unit's earliest step-k event at
 * or after step k-1's instant, within the window from step 1 — because an event can match only one step (its
 * name decides), so consumption and the same-instant tie rule never come into play. Each step-1 event in range is
 * an attempt; the best one per unit (furthest, then earliest) comes back as one row, and the same tally as the
 * state machine turns those rows into the result. A differential test checks both paths agree on random data.
 */
import { BoundParams } from '../../sql/bound-params.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { withClause } from '../common/scope-sql.js';
import type { FunnelDefinition } from './funnel-definition.js';
import { relevantEvents, type BuiltQuery } from './funnel-query.js';
import { parseWindowMicros } from './funnel-rules.js';

/** True when the ASOF chain gives exactly the state machine's answer for this definition. */
export function asofFunnelApplies(def: FunnelDefinition): boolean {
  const names = def.steps.map((s) => s.event);
  return def.order === 'ordered' && def.exclusions.length === 0 && new Set(names).size === names.length;
}

/**
 * One row per unit with an attempt: unit_id, reached (1..n), t1..tn (epoch µs, NULL past `reached`), breakdown.
 * Ordered by unit_id so that dropped-unit lists come out in id order.
 */
export function buildAsofFunnelQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>): BuiltQuery {
  const params = new BoundParams();
  const n = def.steps.length;
  const windowUs = params.bind(BigInt(parseWindowMicros(def.window)!));
  const { ctes, select } = relevantEvents(def, options, params);
  const parts = [...ctes, `rel AS (${select})`];
  parts.push(`a1 AS (SELECT unit_id, t_us AS t1, event_id AS id1, breakdown FROM rel WHERE step_mask = 1 AND in_range)`);
  for (let k = 2; k <= n; k++) {
    parts.push(`s${k} AS (SELECT unit_id, t_us FROM rel WHERE step_mask = ${2 ** (k - 1)})`);
    // The chain stops at the first missed step. The explicit NULL test matters: DuckDB's ASOF join may match a
    // NULL inequality key (seen on large inputs), so a missed step must not let a later one through.
    parts.push(`a${k} AS (
  SELECT a.*, CASE WHEN a.t${k - 1} IS NOT NULL AND s.t_us <= a.t1 + ${windowUs} THEN s.t_us END AS t${k}
  FROM a${k - 1} a ASOF LEFT JOIN s${k} s ON a.unit_id = s.unit_id AND s.t_us >= a.t${k - 1}
)`);
  }
  const times = Array.from({ length: n }, (_, i) => `t${i + 1}`);
  const reached = `1${times.slice(1).map((t) => ` + (${t} IS NOT NULL)::INTEGER`).join('')}`;
  const ranking = def.attempts === 'first' ? 't1, id1' : `${reached} DESC, t1, id1`;
  const sql = `${withClause(parts)}SELECT unit_id,
  first(${reached} ORDER BY ${ranking}) AS reached,
  ${times.map((t) => `first(${t} ORDER BY ${ranking}) AS ${t}`).join(',\n  ')},
  first(breakdown ORDER BY ${ranking}) AS breakdown
FROM a${n}
GROUP BY unit_id
ORDER BY unit_id`;
  return { sql, params: [...params.values] };
}
