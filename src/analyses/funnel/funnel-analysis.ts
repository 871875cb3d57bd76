/**
 * Runs a funnel: one query groups the relevant events by unit (funnel-units-query.ts), each unit's events are
 * ordered and its best attempt found in TypeScript — by the backward chain where that is exact
 * (funnel-chain.ts), else by the state machine (funnel-unit-machine.ts) — then, for the units that dropped, one
 * query finds the event each did next (funnel-next-events.ts).
 */
import { UsageLabError } from '../../core/errors.js';
import { BoundParams } from '../../sql/bound-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type AnalysisSession, type EngineSession } from '../analysis-kind.js';
import { excludedSummary } from '../common/scope-sql.js';
import { assertTimezone } from '../common/run-support.js';
import { bestAttempt, type AttemptRules, type UnitOutcome } from './funnel-attempts.js';
import { ChainScratch, chainApplies, chainAttempt } from './funnel-chain.js';
import { evaluateOnClickhouse } from './funnel-clickhouse.js';
import { assertFunnelRules, parseFunnelDefinition, stepLabel, type FunnelDefinition } from './funnel-definition.js';
import { forEachUnit } from './funnel-event-stream.js';
import { droppedSummary, nextEvents, type DroppedUnit } from './funnel-next-events.js';
import { buildFunnelEventsQuery } from './funnel-query.js';
import { resolveFunnelDefinition, type FunnelBreakdownGroup, type FunnelResult } from './funnel-result.js';
import { parseWindowMicros } from './funnel-rules.js';
import { FunnelTally } from './funnel-tally.js';
import { forEachStoredUnit } from './funnel-stored-units.js';
import { forEachUnitEvents, type UnitEvents } from './funnel-unit-events.js';
import { MachineScratch, machineAttempt } from './funnel-unit-machine.js';
import { buildFunnelRowsQuery, buildFunnelUnitsQuery, storedOrderApplies, unitFields } from './funnel-units-query.js';

export interface FunnelRunOptions extends AnalysisRunOptions {
  /** Compute `dropped` (what dropped units did next). Default true. */
  nextEvents?: boolean;
  /** How many next events per step to list. Default 5. */
  topNextEvents?: number;
  /** List the ids of the units that dropped after this step (1-based) in `dropped_people`. */
  listDroppedAfter?: number;
  /**
   * auto (default): events grouped by unit, then the backward chain where it is exact (ordered, distinct step
   * events, no exclusions), else the typed state machine; typed-machine: grouped, always the typed state machine;
   * state-machine: the plain reference — events streamed in (unit, time, event id) order through
   * funnel-attempts.ts — that the differential test compares the others with.
   */
  engine?: 'auto' | 'typed-machine' | 'state-machine';
  /**
   * How the fast engines get each unit's events. auto (default): in stored order when the warehouse keeps each
   * unit's events together (funnel-stored-units.ts checks as it reads, and regroups when it does not), else
   * grouped by unit in DuckDB; grouped: always grouped. The reference engine always sorts.
   */
  stream?: 'auto' | 'grouped';
}

export interface FunnelEvaluation {
  readonly result: FunnelResult;
  /** How the units' events were read: stored order, grouped by unit, or sorted (the reference engine). */
  readonly stream: 'stored-order' | 'grouped' | 'sorted';
  /**
   * Ids of the units (person ids; session ids with unit: session) whose best attempt reached `step` (1-based)
   * but not step + 1, in id order.
   */
  droppedAfter(step: number): string[];
}

/** Breakdown groups: most step-1 units first, then by value (null last). */
function breakdownGroups(groups: Map<string | null, FunnelTally>): FunnelBreakdownGroup[] {
  return [...groups]
    .sort(([va, a], [vb, b]) => b.first - a.first || (va === null ? 1 : vb === null ? -1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([value, tally]) => ({ value, steps: tally.steps() }));
}

/** The unit an outcome belongs to; its id is decoded only when asked for, and only inside the onOutcome call. */
interface UnitRef {
  id(): string;
}

/** Where outcomes go; `restart` discards everything added so far (the stored-order stream gave up midway). */
interface OutcomeSink {
  add(outcome: UnitOutcome, unit: UnitRef): void;
  restart(): void;
}

/**
 * Feeds `sink` each unit's best attempt (the outcome's `times` are valid only during the call) and says how the
 * events were read. `withIds`: the sink may ask for unit ids.
 */
async function forEachOutcome(
  session: AnalysisSession,
  definition: FunnelDefinition,
  rules: AttemptRules,
  options: FunnelRunOptions,
  withIds: boolean,
  sink: OutcomeSink,
): Promise<FunnelEvaluation['stream']> {
  if (options.engine === 'state-machine') {
    await forEachUnit(session, buildFunnelEventsQuery(definition, options), (unit, events) => {
      const outcome = bestAttempt(events, rules);
      if (outcome !== undefined) sink.add(outcome, { id: () => unit });
    });
    return 'sorted';
  }
  const fields = unitFields(definition);
  const chain = options.engine !== 'typed-machine' && chainApplies(definition) ? new ChainScratch(rules.stepCount) : null;
  const machine = new MachineScratch(rules.stepCount);
  const onUnit = (events: UnitEvents, unit: UnitRef): void => {
    const found = chain === null ? machineAttempt(events, rules, machine) : chainAttempt(events, rules, chain);
    // `found.times` is scratch reused by the next unit: the sink reads it before returning.
    if (found !== undefined) sink.add({ reached: found.reached, times: found.times, breakdown: events.breakdown(found.start) }, unit);
  };
  if (options.stream !== 'grouped' && storedOrderApplies(fields)) {
    if (await forEachStoredUnit(session, buildFunnelRowsQuery(definition, options, fields, withIds), fields, withIds, onUnit)) return 'stored-order';
    sink.restart();
  }
  await forEachUnitEvents(session, buildFunnelUnitsQuery(definition, options, fields), fields, onUnit);
  return 'grouped';
}

/**
 * The evaluation; with `keepDropped` false (a result without `dropped` or `dropped_people`) the ids of dropped
 * units are never decoded.
 */
async function evaluate(
  session: AnalysisSession,
  definition: FunnelDefinition,
  options: FunnelRunOptions,
  keepDropped: boolean,
): Promise<{ result: FunnelResult; dropped: DroppedUnit[]; stream: FunnelEvaluation['stream'] }> {
  assertFunnelRules(definition);
  assertTimezone(options.timezone, 'funnel');
  const n = definition.steps.length;
  const windowUs = parseWindowMicros(definition.window)!;
  const rules: AttemptRules = {
    stepCount: n,
    windowUs,
    order: definition.order,
    attempts: definition.attempts,
    exclusions: definition.exclusions.map((x) => ({ from: x.between?.[0] ?? 1, to: x.between?.[1] ?? n })),
  };
  const names = definition.steps.map(stepLabel);
  let total = new FunnelTally(names);
  const groups = new Map<string | null, FunnelTally>();
  const withBreakdown = definition.breakdown != null;
  const dropped: DroppedUnit[] = [];

  const stream = await forEachOutcome(session, definition, rules, options, keepDropped, {
    add(outcome, unit) {
      total.add(outcome);
      if (withBreakdown) {
        let tally = groups.get(outcome.breakdown);
        if (tally === undefined) groups.set(outcome.breakdown, (tally = new FunnelTally(names)));
        tally.add(outcome);
      }
      if (keepDropped && outcome.reached < n) {
        dropped.push({ unit: unit.id(), afterStep: outcome.reached, stepUs: outcome.times[outcome.reached - 1]!, limitUs: outcome.times[0]! + windowUs });
      }
    },
    restart() {
      total = new FunnelTally(names);
      groups.clear();
      dropped.length = 0;
    },
  });

  const result: FunnelResult = {
    kind: 'funnel',
    version: 1,
    name: definition.name,
    definition: resolveFunnelDefinition(definition, options.timezone),
    steps: total.steps(),
    excluded: await excludedSummary(session, definition, new BoundParams(), { ...options, kind: 'funnel' }),
  };
  if (withBreakdown) result.breakdown = breakdownGroups(groups);
  if (options.nextEvents !== false) {
    result.dropped = droppedSummary(names, dropped, await nextEvents(session, definition, dropped, options), options.topNextEvents ?? 5);
  }
  if (options.listDroppedAfter !== undefined) {
    result.dropped_people = { after_step: options.listDroppedAfter, unit: definition.unit, ids: droppedIds(dropped, options.listDroppedAfter, n) };
  }
  return { result, dropped, stream };
}

/** Ids of the units whose best attempt reached `step` but not step + 1, in id order. */
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

export async function evaluateFunnel(session: EngineSession, definition: FunnelDefinition, options: FunnelRunOptions): Promise<FunnelEvaluation> {
  // ClickHouse finds each unit's best attempt in SQL, its events grouped by unit there (funnel-clickhouse.ts).
  if (isClickhouse(session)) return { ...(await evaluateOnClickhouse(session, definition, options, 'all')), stream: 'grouped' };
  const { result, dropped, stream } = await evaluate(session, definition, options, true);
  return { result, stream, droppedAfter: (step) => droppedIds(dropped, step, definition.steps.length) };
}

/** Runs a funnel and returns its JSON result (docs/json-output.md#funnel). */
export async function runFunnel(session: EngineSession, definition: FunnelDefinition, options: FunnelRunOptions): Promise<FunnelResult> {
  if (isClickhouse(session)) return (await evaluateOnClickhouse(session, definition, options, options.listDroppedAfter ?? 'none')).result;
  const keepDropped = options.nextEvents !== false || options.listDroppedAfter !== undefined;
  return (await evaluate(session, definition, options, keepDropped)).result;
}

export const funnelAnalysis: AnalysisKind<FunnelDefinition, FunnelResult> = {
  kind: 'funnel',
  engines: ['duckdb', 'clickhouse'],
  parse: parseFunnelDefinition,
  run: runFunnel,
};

export { parseFunnelDefinition };
