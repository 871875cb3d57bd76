/**
 * The funnel in ClickHouse SQL. Unlike the DuckDB path, which ships each unit's events to TypeScript, the whole
 * per-unit state machine of funnel-attempts.ts runs inside ClickHouse, so a cluster computes it next to the data
 * (events are sharded by person) and only small aggregates reach Node:
 *
 * 1. `ul_units`: the relevant events (as in funnel-query.ts relevantEvents: step and exclusion matches, every
 *    event with order: strict) grouped by unit into one array, sorted by (time, event id as text — the order
 *    DuckDB gives UUIDs).
 * 2. `ul_attempts`: one row per possible start (ARRAY JOIN), each with the slice of its unit's events from the
 *    start's instant to the end of its window; the attempt is an arrayFold over the steps (ordered, strict) or
 *    over the slice's events (unordered: a bipartite matching kept as step → owner mask, grown by augmenting
 *    paths), with the exclusion check after it.
 * 3. `ul_outcomes`: per unit the best attempt (furthest, then earliest start) — or the first, with attempts: first.
 *
 * Statements read `ul_outcomes` once each (ClickHouse evaluates a CTE per reference): the tally (count, median
 * and mean per step and breakdown group), the next events of dropped units, and the dropped units' ids.
 *
 * ClickHouse's windowFunnel is not used: it returns only the deepest level (no step instants, so no times and no
 * breakdown of the attempt that counted), keeps one chain start per level that later step-1 events overwrite, leaves
 * the order of simultaneous events undefined, and has no exclusions, first-time steps or first-attempt-only; its
 * strict modes mean other things (docs/analyses.md#on-clickhouse). Every name and value is a bound parameter; the
 * statement text depends only on the definition's shape.
 */
import { ClickhouseParams, type ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { quoteClickhouseIdent } from '../../sql/quote.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { buildClickhouseScope, chWithClause } from '../common/scope-sql-clickhouse.js';
import { chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import type { FunnelDefinition, FunnelWhere } from './funnel-definition.js';
import { unitColumn } from './funnel-query.js';
import { parseWindowMicros } from './funnel-rules.js';

const E = 'e';
const col = (name: string): string => `${E}.${quoteClickhouseIdent(name)}`;

/** What an event must be to match a step or an exclusion: its name, plus conditions on other fields. */
interface Matcher {
  event: string;
  conditions: string[];
}

function whereConditions(where: FunnelWhere | undefined, params: ClickhouseParams): string[] {
  return Object.entries(where ?? {}).map(([name, value]) => chFilterCondition(parseEventField(name)!, value, params, E));
}

/** Bit i set ⇔ the event matches matchers[i] (an event may match several), as UInt32. */
function maskExpression(matchers: readonly Matcher[], params: ClickhouseParams): string {
  if (matchers.length === 0) return 'toUInt32(0)';
  const byName = new Map<string, number[]>();
  matchers.forEach((m, i) => byName.set(m.event, [...(byName.get(m.event) ?? []), i]));
  const branches = [...byName].map(([name, indexes]) => {
    const bits = indexes.map((i) => {
      const conditions = matchers[i]!.conditions;
      // A condition may be NULL (three-valued, as in DuckDB): only a true one sets the bit.
      return conditions.length === 0 ? `${2 ** i}` : `if(ifNull(${conditions.join(' AND ')}, false), ${2 ** i}, 0)`;
    });
    return `${col('event_name')} = ${params.bind(name)}, ${bits.join(' + ')}`;
  });
  return `toUInt32(multiIf(${branches.join(', ')}, 0))`;
}

/** The relevant events of every unit, with the CTEs they need: unit_id, t (epoch µs), id, s, x, r, b. */
function relevantEvents(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, params: ClickhouseParams): { ctes: string[]; select: string; lo: string | null; hi: string | null } {
  const windowUs = parseWindowMicros(def.window)!;
  const scope = buildClickhouseScope(def, params, E, { ...options, kind: 'funnel' });
  const ctes = [...scope.ctes];
  const firstTimeNames = [...new Set(def.steps.filter((s) => s.first_time).map((s) => s.event))];
  if (firstTimeNames.length > 0) {
    // First-ever occurrence per person over all history, not just the date range; ties broken by event id.
    ctes.push(`ul_first_ever AS (
  SELECT argMin(event_id, (occurred_at, toString(event_id))) AS event_id
  FROM events
  WHERE person_id IS NOT NULL AND event_name IN (${firstTimeNames.map((n) => params.bind(n)).join(', ')})
  GROUP BY person_id, event_name
)`);
  }
  const stepMatchers: Matcher[] = def.steps.map((step) => {
    const conditions = whereConditions(step.where, params);
    if (step.first_time) conditions.push(`${col('event_id')} IN (SELECT event_id FROM ul_first_ever)`);
    return { event: step.event, conditions };
  });
  const exclusionMatchers: Matcher[] = def.exclusions.map((ex) => ({ event: ex.event, conditions: whereConditions(ex.where, params) }));
  const filters = [...scope.conditions];
  if (def.unit === 'session') filters.push(`${col('session_id')} IS NOT NULL`);
  if (scope.lo !== null && scope.hi !== null) {
    // Later steps may fall after the range, up to the window (inclusive) after its last instant.
    filters.push(`${col('occurred_at')} >= ${scope.lo}`, `${col('occurred_at')} <= addMicroseconds(${scope.hi}, ${params.bind(windowUs, 'Int64')})`);
  }
  const strict = def.order === 'strict';
  if (!strict) {
    const names = [...new Set([...def.steps.map((s) => s.event), ...def.exclusions.map((x) => x.event)])];
    filters.push(`${col('event_name')} IN (${names.map((n) => params.bind(n)).join(', ')})`);
  }
  const select = `SELECT ${col(unitColumn(def))} AS unit_id,
    toUnixTimestamp64Micro(${col('occurred_at')}) AS t,
    toString(${col('event_id')}) AS id,
    ${maskExpression(stepMatchers, params)} AS s,
    ${maskExpression(exclusionMatchers, params)} AS x,
    ${scope.inRange} AS r,
    ${scope.breakdown} AS b
  FROM events AS ${E}
  WHERE ${filters.join('\n    AND ')}`;
  return { ctes, select, lo: scope.lo, hi: scope.hi };
}

/** `arr` with element `index0` (0-based) replaced by `value`. */
const setAt = (arr: string, index0: string, value: string, n: number): string => `arrayMap((o, s) -> if(s = ${index0}, ${value}, o), ${arr}, range(${n}))`;

/**
 * `body` with `name` bound to the value of `value`, computed once: ClickHouse has no LET inside expressions, and
 * writing a subexpression twice makes the analyzer (and the lambdas) work twice — exponentially so when nested.
 */
const bind = (name: string, value: string, body: string): string => `arrayMap(${name} -> ${body}, [${value}])[1]`;

/**
 * The ordered (or strict) attempt from slice position `p0`, as the slice positions of its steps in step order:
 * step k is the earliest event at or after step k−1's instant (from the first event of that instant) matching
 * step k and not yet used by the attempt; among the simultaneous candidates the first one no later step needs;
 * with strict order no event may lie strictly between the two instants (funnel-attempts.ts orderedAttempt). The
 * candidate is the least (time, needed by a later step, position) of the eligible events (`wv` holds (time, step
 * mask, position) per event of the slice); the least of none is (0, false, 0), position 0: no candidate.
 * Lambda parameters are named unlike any column in scope: ClickHouse resolves a clash to the column.
 */
function orderedPath(n: number, strict: boolean): string {
  const all = 2 ** n - 1;
  // Bits of the steps after step k, for k = 1..n (index k).
  const later = `[${Array.from({ length: n }, (_v, i) => all - (2 ** (i + 1) - 1)).join(', ')}][sk]`;
  const bit = 'bitShiftLeft(toUInt32(1), sk - 1)';
  const eligible = `arrayFilter(v -> v.3 >= wf[chain[-1]] AND bitAnd(v.2, ${bit}) != 0 AND NOT has(chain, v.3), wv)`;
  const candidate = `arrayReduce('min', arrayMap(v -> (v.1, bitAnd(v.2, ${later}) != 0, v.3), ${eligible}))`;
  // Strict: the candidate's instant must be the previous step's or the next instant after it.
  const ok = strict ? 'c.3 > 0 AND (c.1 = wt[chain[-1]] OR wt[wn[chain[-1]]] = c.1)' : 'c.3 > 0';
  const step = bind('c', candidate, `if(${ok}, arrayPushBack(chain, c.3), chain)`);
  return `arrayFold((chain, sk) -> if(length(chain) < sk - 1, chain, ${step}), range(2, ${n + 1}), [toUInt32(p0)])`;
}

/**
 * The unordered attempt from slice position `p0`: the anchor, then the slice's events in order, each kept when it
 * can be matched to a step, possibly moving earlier events to other steps (an augmenting path). The state is
 * (owner mask per step, kept instants); owners are stored as masks because only which steps an event can take
 * matters for later events. The kept set is the greedy basis of funnel-attempts.ts unorderedAttempt (whatever
 * augmenting path is taken), and its instants are already in time order.
 */
function unorderedTimes(n: number): string {
  const u32 = (x: string): string => `toUInt32(${x})`;
  const owner = 'acc.1';
  const mj = 'wm[j]';
  // Breadth-first search from the event's steps through the owners' masks. State (reached, frontier, via): via[s]
  // = 1 + the step s was reached from (0: from the event itself).
  const frontierOwners = `bitAnd(arrayReduce('groupBitOr', arrayMap((o, s) -> if(bitTest(st.2, s), o, ${u32('0')}), ${owner}, range(${n}))), bitNot(st.1))`;
  const via = `arrayMap((v, s) -> if(bitTest(nb, s), toUInt8(arrayFirstIndex((o, s2) -> bitTest(st.2, s2) AND bitTest(o, s), ${owner}, range(${n}))), v), st.3, range(${n}))`;
  const search = `arrayFold((st, step) -> ${bind('nb', frontierOwners, `(bitOr(st.1, nb), nb, ${via})`)}, range(${n}), (${mj}, ${mj}, arrayWithConstant(${n}, toUInt8(0))))`;
  const freeSteps = `arrayReduce('groupBitOr', arrayMap((o, s) -> if(o = 0, bitShiftLeft(${u32('1')}, s), ${u32('0')}), ${owner}, range(${n})))`;
  // Walks back from the free step: each step on the path takes the owner of the step it was reached from. State:
  // (owners, current step, done).
  const from = 'bfs.3[fl.2 + 1]';
  const flip = `arrayFold((fl, step) -> if(fl.3 = 1, fl, if(${from} = 0, (${setAt('fl.1', 'fl.2', mj, n)}, fl.2, toUInt8(1)), (${setAt('fl.1', 'fl.2', `fl.1[${from}]`, n)}, toUInt8(${from} - 1), toUInt8(0)))), range(${n}), (${owner}, toUInt8(arrayFirstIndex(s -> bitTest(found, s), range(${n})) - 1), toUInt8(0)))`;
  const grow = bind('found', `bitAnd(bfs.1, ${freeSteps})`, `if(found = 0, acc, (${flip}.1, arrayPushBack(acc.2, wt[j])))`);
  const step = bind('bfs', search, grow);
  const order = 'arrayConcat([toUInt32(p0)], arrayFilter(j -> j != p0, arrayMap(j -> toUInt32(j), arrayEnumerate(wt))))';
  return `arrayFold((acc, j) -> ${step}, ${order}, (arrayWithConstant(${n}, ${u32('0')}), CAST([], 'Array(Int64)'))).2`;
}

/** Whether an exclusion drops the attempt (funnel-attempts.ts excluded): `times`, `reached`, `lim` are its columns. */
function excludedExpression(def: FunnelDefinition): string {
  const n = def.steps.length;
  const parts = def.exclusions.map((ex, x) => {
    const [from, to] = ex.between ?? [1, n];
    return `(reached >= ${from} AND arrayExists((t, xm) -> bitTest(xm, ${x}) AND t > times[${from}] AND if(reached >= ${to}, t < times[${to}], t <= lim), wt, wx))`;
  });
  return parts.length === 0 ? 'false' : parts.join(' OR ');
}

/** The CTEs ending in `ul_outcomes(unit_id, reached, times, bd)`: each unit's best attempt, bound into `params`. */
function outcomesCtes(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, params: ClickhouseParams): { ctes: string[]; lo: string | null; hi: string | null } {
  const n = def.steps.length;
  const { ctes, select, lo, hi } = relevantEvents(def, options, params);
  const window = params.bind(parseWindowMicros(def.window)!, 'Int64');
  const unordered = def.order === 'unordered';
  const starts = unordered ? 's != 0' : 'bitAnd(s, 1) != 0';
  const relevant = def.order === 'strict' ? '' : '\n  WHERE s != 0 OR x != 0';
  const startOf = unordered ? 'ms[i] != 0' : 'bitAnd(ms[i], 1) != 0';
  const allStarts = `arrayFilter(i -> rs[i] AND ${startOf}, arrayEnumerate(ts))`;
  const path = unordered ? unorderedTimes(n) : orderedPath(n, def.order === 'strict');
  return {
    lo,
    hi,
    ctes: [
      ...ctes,
      `ul_units AS (
  SELECT unit_id, arraySort(v -> (v.1, v.2), groupArray((t, id, s, x, r, b))) AS ev
  FROM (${select})${relevant}
  GROUP BY unit_id
  HAVING countIf(r AND ${starts}) > 0
)`,
      `ul_arrays AS (
  SELECT unit_id, arrayMap(v -> v.1, ev) AS ts, arrayMap(v -> v.3, ev) AS ms, arrayMap(v -> v.4, ev) AS xs, arrayMap(v -> v.5, ev) AS rs,
    arrayMap(v -> v.6, ev) AS bs,
    arrayFill(f -> f > 0, arrayMap((t, p, i) -> if(i = 1 OR t != p, i, 0), ts, arrayPushFront(arrayPopBack(ts), 0), arrayEnumerate(ts))) AS fst,
    arrayMap(f -> f + 1, arrayReverseFill(f -> f > 0, arrayMap((t, nx, i) -> if(i = length(ts) OR t != nx, i, 0), ts, arrayPushBack(arrayPopFront(ts), 0), arrayEnumerate(ts)))) AS nxt,
    ${def.attempts === 'first' ? `arraySlice(${allStarts}, 1, 1)` : allStarts} AS starts
  FROM ul_units
)`,
      // The slice of each start: from the first event of its instant to the last within its window (inclusive).
      `ul_attempts AS (
  SELECT unit_id, i, bs[i] AS bd, ts[i] + ${window} AS lim, fst[i] AS a, arrayCount(t -> t <= lim, ts) - a + 1 AS cnt,
    arraySlice(ts, a, cnt) AS wt, arraySlice(ms, a, cnt) AS wm, arraySlice(xs, a, cnt) AS wx,
    arrayMap(f -> f - a + 1, arraySlice(fst, a, cnt)) AS wf, arrayMap(f -> f - a + 1, arraySlice(nxt, a, cnt)) AS wn,
    arrayMap((t, m, j) -> (t, m, toUInt32(j)), wt, wm, arrayEnumerate(wt)) AS wv,
    i - a + 1 AS p0,
    ${unordered ? `${path} AS times` : `${path} AS path, arrayMap(j -> wt[j], path) AS times`},
    length(times) AS reached,
    ${excludedExpression(def)} AS excluded
  FROM ul_arrays ARRAY JOIN starts AS i
)`,
      // Attempts come in time order (i): the furthest wins, the earliest among equals.
      `ul_outcomes AS (
  SELECT unit_id, best.1 AS reached, best.2 AS times, best.3 AS bd FROM (
    SELECT unit_id, argMin((reached, times, bd), (-toInt64(reached), i)) AS best FROM ul_attempts WHERE NOT excluded GROUP BY unit_id
  )
)`,
    ],
  };
}

/** One row per (group, step): g 0 = all units (bd NULL), g 1 = the breakdown group bd. */
export interface FunnelTallyRow {
  g: number;
  value: string | null;
  k: number;
  units: number;
  median: number | null;
  mean: number | null;
}

/**
 * Per step k and group: the units whose best attempt reached k, and over them the seconds from step k−1 as
 * FunnelTally computes them: the median as the mean of the lower and upper middle values (exact quantiles; for an
 * odd count both are the middle one), the mean as the durations sorted, then summed left to right in Float64
 * (arrayCumSum), so that even the last bit agrees. One level of SELECT: each level re-plans the lambdas below it.
 */
export function chFunnelTallyQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes } = outcomesCtes(def, options, params);
  const groups = def.breakdown == null ? '[toUInt8(0)]' : '[toUInt8(0), toUInt8(1)]';
  const d = 'toFloat64(times[k] - times[k - 1]) / 1000000';
  const sql = `${chWithClause(ctes)}SELECT g, if(g = 0, NULL, bd) AS value, k, count() AS units,
  if(k = 1, NULL, (quantileExactLow(0.5)(${d}) + quantileExactHigh(0.5)(${d})) / 2) AS median,
  if(k = 1, NULL, arrayCumSum(arraySort(groupArray(${d})))[-1] / count()) AS mean
FROM ul_outcomes ARRAY JOIN range(1, reached + 1) AS k ARRAY JOIN ${groups} AS g
GROUP BY g, value, k`;
  return { sql, params: params.values };
}

/**
 * For each unit that dropped (reached `after_step` but not the next step), the first event it did strictly after
 * its step event and within the window — any event passing the global filters, ties broken by event id —
 * counted by event name per step (funnel-query.ts buildNextEventsQuery).
 */
export function chNextEventsQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>): ClickhouseQuery {
  const params = new ClickhouseParams();
  const n = def.steps.length;
  const { ctes, lo, hi } = outcomesCtes(def, options, params);
  const window = params.bind(parseWindowMicros(def.window)!, 'Int64');
  // Only the global filters apply here: the dropped units already passed segment and exclusions.
  const scope = buildClickhouseScope({ ...def, breakdown: null, segment: null, exclude: [], date_range: null }, params, E, { ...options, kind: 'funnel' });
  const t = `toUnixTimestamp64Micro(${col('occurred_at')})`;
  const conditions = [...scope.conditions, `${t} > d.step_us`, `${t} <= d.limit_us`];
  // A constant span for the scan: steps start in the range and end within the window after it.
  if (lo !== null && hi !== null) conditions.push(`${col('occurred_at')} >= ${lo}`, `${col('occurred_at')} <= addMicroseconds(${hi}, ${window})`);
  const sql = `${chWithClause([...ctes, ...scope.ctes])}SELECT after_step, event_name, count() AS n FROM (
  SELECT d.unit_id AS unit, any(d.after_step) AS after_step, argMin(toString(${col('event_name')}), (${col('occurred_at')}, toString(${col('event_id')}))) AS event_name
  FROM events AS ${E}
  INNER JOIN (SELECT unit_id, reached AS after_step, times[reached] AS step_us, times[1] + ${window} AS limit_us FROM ul_outcomes WHERE reached < ${n}) AS d
    ON ${col(unitColumn(def))} = d.unit_id
  WHERE ${conditions.join('\n    AND ')}
  GROUP BY d.unit_id
)
GROUP BY after_step, event_name`;
  return { sql, params: params.values };
}

/** The units whose best attempt stopped before the last step (only those after step `onlyStep` when given). */
export function chDroppedUnitsQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>, onlyStep?: number): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes } = outcomesCtes(def, options, params);
  const window = params.bind(parseWindowMicros(def.window)!, 'Int64');
  const which = onlyStep === undefined ? `reached < ${def.steps.length}` : `reached = ${params.bind(onlyStep, 'UInt64')}`;
  const sql = `${chWithClause(ctes)}SELECT unit_id, reached AS after_step, times[reached] AS step_us, times[1] + ${window} AS limit_us FROM ul_outcomes WHERE ${which}`;
  return { sql, params: params.values };
}

/** Each unit's best attempt (unit_id, reached, times as epoch µs, bd): what the other statements aggregate; for tests. */
export function chFunnelOutcomesQuery(def: FunnelDefinition, options: Omit<ScopeOptions, 'kind'>): ClickhouseQuery {
  const params = new ClickhouseParams();
  const { ctes } = outcomesCtes(def, options, params);
  return { sql: `${chWithClause(ctes)}SELECT unit_id, reached, times, bd FROM ul_outcomes`, params: params.values };
}
