/**
 * A funnel on ClickHouse: the best attempt of every unit is found inside ClickHouse (funnel-query-clickhouse.ts),
 * which returns per step and breakdown group the count, median and mean only; the rates, the breakdown order, the
 * `dropped` list and the result shape are those of the DuckDB path (funnel-analysis.ts), so both engines' results
 * are equal field for field.
 */
import { UsageLabError } from '../../core/errors.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import type { ClickhouseAnalysisSession } from '../analysis-kind.js';
import { assertTimezone, chQueryRows } from '../common/run-support.js';
import { chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import type { FunnelRunOptions } from './funnel-analysis.js';
import { assertFunnelRules, stepLabel, type FunnelDefinition } from './funnel-definition.js';
import { droppedSummaryOfCounts, type DroppedUnit } from './funnel-next-events.js';
import { chDroppedUnitsQuery, chFunnelTallyQuery, chNextEventsQuery, type FunnelTallyRow } from './funnel-query-clickhouse.js';
import { resolveFunnelDefinition, type FunnelBreakdownGroup, type FunnelResult, type FunnelStepResult } from './funnel-result.js';

/** A group's rows as step results, with the rates of funnel-tally.ts. */
function stepResults(names: readonly string[], rows: readonly FunnelTallyRow[]): FunnelStepResult[] {
  const byStep = new Map(rows.map((r) => [Number(r.k), r]));
  const count = (k: number): number => Number(byStep.get(k)?.units ?? 0);
  const first = count(1);
  return names.map((name, i) => {
    const k = i + 1;
    const n = count(k);
    const previous = k === 1 ? n : count(k - 1);
    const row = byStep.get(k);
    return {
      name,
      count: n,
      conversion_from_previous: previous === 0 ? null : n / previous,
      conversion_from_first: first === 0 ? null : n / first,
      drop_off: previous - n,
      median_seconds_from_previous: k === 1 ? null : (row?.median ?? null),
      mean_seconds_from_previous: k === 1 ? null : (row?.mean ?? null),
    };
  });
}

/** Breakdown groups: most step-1 units first, then by value (null last), as funnel-analysis.ts sorts them. */
function breakdownGroups(names: readonly string[], rows: readonly FunnelTallyRow[]): FunnelBreakdownGroup[] {
  const byValue = new Map<string | null, FunnelTallyRow[]>();
  for (const row of rows) byValue.set(row.value, [...(byValue.get(row.value) ?? []), row]);
  return [...byValue]
    .map(([value, groupRows]) => ({ value, steps: stepResults(names, groupRows) }))
    .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || (a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/** Ids of the units that reached `step` but not step + 1, in id order; refuses a step without a next one. */
function droppedIds(dropped: readonly DroppedUnit[], step: number, stepCount: number): string[] {
  if (!Number.isInteger(step) || step < 1 || step >= stepCount) {
    throw new UsageLabError('funnel_step_out_of_range', `step ${step} is not a step followed by another (1..${stepCount - 1})`, {
      hint: 'steps are numbered from 1; the last step has no drop-off',
      place: { field: 'people' },
    });
  }
  return dropped
    .filter((d) => d.afterStep === step)
    .map((d) => d.unit)
    .sort();
}

interface DroppedRow {
  unit_id: string;
  after_step: number;
  step_us: number;
  limit_us: number;
}

/**
 * The funnel on ClickHouse. `ids`: which dropped units to list — all (evaluateFunnel), those after one step
 * (runFunnel with listDroppedAfter), or none.
 */
export async function evaluateOnClickhouse(
  session: ClickhouseAnalysisSession,
  definition: FunnelDefinition,
  options: FunnelRunOptions,
  ids: 'all' | 'none' | number,
): Promise<{ result: FunnelResult; droppedAfter(step: number): string[] }> {
  assertFunnelRules(definition);
  assertTimezone(options.timezone, 'funnel');
  const n = definition.steps.length;
  const names = definition.steps.map(stepLabel);
  const rows = await chQueryRows<FunnelTallyRow>(session, chFunnelTallyQuery(definition, options));
  const steps = stepResults(
    names,
    rows.filter((r) => Number(r.g) === 0),
  );
  const result: FunnelResult = {
    kind: 'funnel',
    version: 1,
    name: definition.name,
    definition: resolveFunnelDefinition(definition, options.timezone),
    steps,
    excluded: await chExcludedSummary(session, definition, new ClickhouseParams(), { ...options, kind: 'funnel' }),
  };
  if (definition.breakdown != null) result.breakdown = breakdownGroups(names, rows.filter((r) => Number(r.g) === 1));
  if (options.nextEvents !== false) {
    const next = new Map<number, Map<string, number>>();
    for (const row of await chQueryRows<{ after_step: number; event_name: string; n: number }>(session, chNextEventsQuery(definition, options))) {
      const counts = next.get(Number(row.after_step)) ?? new Map<string, number>();
      counts.set(row.event_name, Number(row.n));
      next.set(Number(row.after_step), counts);
    }
    // Units that reached step k but not k + 1.
    const droppedCounts = steps.slice(0, -1).map((s, i) => s.count - steps[i + 1]!.count);
    result.dropped = droppedSummaryOfCounts(names, droppedCounts, next, options.topNextEvents ?? 5);
  }
  let dropped: DroppedUnit[] = [];
  if (ids !== 'none') {
    // An out-of-range step is refused before the query.
    if (typeof ids === 'number') droppedIds([], ids, n);
    const listed = await chQueryRows<DroppedRow>(session, chDroppedUnitsQuery(definition, options, typeof ids === 'number' ? ids : undefined));
    dropped = listed.map((r) => ({ unit: r.unit_id, afterStep: Number(r.after_step), stepUs: Number(r.step_us), limitUs: Number(r.limit_us) }));
  }
  if (options.listDroppedAfter !== undefined) {
    result.dropped_people = { after_step: options.listDroppedAfter, unit: definition.unit, ids: droppedIds(dropped, options.listDroppedAfter, n) };
  }
  return { result, droppedAfter: (step) => droppedIds(dropped, step, n) };
}
