/**
 * Runs a funnel: one ordered scan of the relevant events (streamed in chunks, one unit at a time through the
 * state machine), then — for the units that dropped — one query for the event each did next.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { UsageLabError } from '../../core/errors.js';
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import type { AnalysisKind, AnalysisRunOptions, AnalysisSession } from '../analysis-kind.js';
import { excludedSummary } from '../common/scope-sql.js';
import { assertTimezone, queryFailed } from '../common/run-support.js';
import { bestAttempt, type AttemptRules, type UnitEvent, type UnitOutcome } from './funnel-attempts.js';
import { assertFunnelRules, parseFunnelDefinition, stepLabel, type FunnelDefinition } from './funnel-definition.js';
import { buildFunnelEventsQuery, buildNextEventsQuery, DROPPED_TABLE_COLUMNS, type BuiltQuery } from './funnel-query.js';
import { asofFunnelApplies, buildAsofFunnelQuery } from './funnel-asof-query.js';
import { resolveFunnelDefinition, type FunnelBreakdownGroup, type FunnelDropped, type FunnelResult } from './funnel-result.js';
import { parseWindowMicros } from './funnel-rules.js';
import { FunnelTally } from './funnel-tally.js';

export interface FunnelRunOptions extends AnalysisRunOptions {
  /** Compute `dropped` (what dropped units did next). Default true. */
  nextEvents?: boolean;
  /** How many next events per step to list. Default 5. */
  topNextEvents?: number;
  /** List the ids of the units that dropped after this step (1-based) in `dropped_people`. */
  listDroppedAfter?: number;
  /**
   * auto (default): the ASOF-join query where it is exact (ordered, distinct step events, no exclusions), else the
   * state machine; state-machine: always the state machine (the reference the differential test compares with).
   */
  engine?: 'auto' | 'state-machine';
}

export interface FunnelEvaluation {
  readonly result: FunnelResult;
  /**
   * Ids of the units (person ids; session ids with unit: session) whose best attempt reached `step` (1-based)
   * but not step + 1, in id order.
   */
  droppedAfter(step: number): string[];
}

interface DroppedUnit {
  unit: string;
  afterStep: number;
  stepUs: number;
  limitUs: number;
}


/** Streams the query's rows in chunks and hands over each unit's events once the unit is complete. */
async function forEachUnit(session: AnalysisSession, query: BuiltQuery, onUnit: (unit: string, events: UnitEvent[]) => void): Promise<void> {
  let current: string | undefined;
  let events: UnitEvent[] = [];
  try {
    const result = await session.connection.stream(query.sql, query.params as DuckDBValue[]);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const [units, times, steps, exclusions, inRange, breakdowns] = [0, 1, 2, 3, 4, 5].map((i) => chunk.getColumnValues(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        const unit = units![r] as string;
        if (unit !== current) {
          if (current !== undefined) onUnit(current, events);
          current = unit;
          events = [];
        }
        events.push({
          t: Number(times![r] as bigint),
          steps: steps![r] as number,
          exclusions: exclusions![r] as number,
          inRange: inRange![r] as boolean,
          breakdown: (breakdowns![r] as string | null) ?? null,
        });
      }
    }
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
  if (current !== undefined) onUnit(current, events);
}

/** Streams the ASOF query's best attempts (one row per unit, in unit order) as outcomes. */
async function forEachAsofOutcome(session: AnalysisSession, query: BuiltQuery, steps: number, onOutcome: (unit: string, outcome: UnitOutcome) => void): Promise<void> {
  try {
    const result = await session.connection.stream(query.sql, query.params as DuckDBValue[]);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const columns = Array.from({ length: steps + 3 }, (_, i) => chunk.getColumnValues(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        const reached = columns[1]![r] as number;
        const times: number[] = [];
        for (let k = 0; k < reached; k++) times.push(Number(columns[2 + k]![r] as bigint));
        onOutcome(columns[0]![r] as string, { reached, times, breakdown: (columns[steps + 2]![r] as string | null) ?? null });
      }
    }
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
}

async function nextEvents(session: AnalysisSession, def: FunnelDefinition, dropped: readonly DroppedUnit[], options: FunnelRunOptions): Promise<Map<number, Map<string, number>>> {
  const byStep = new Map<number, Map<string, number>>();
  if (dropped.length === 0) return byStep;
  const table = `ul_funnel_dropped_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  const query = buildNextEventsQuery(def, table, options);
  const connection = session.connection;
  try {
    await connection.run(`CREATE TEMP TABLE ${quoteIdent(table)} ${DROPPED_TABLE_COLUMNS}`);
    try {
      const appender = await connection.createAppender(table, null, 'temp');
      for (const d of dropped) {
        appender.appendVarchar(d.unit);
        appender.appendInteger(d.afterStep);
        appender.appendBigInt(BigInt(d.stepUs));
        appender.appendBigInt(BigInt(d.limitUs));
        appender.endRow();
      }
      appender.flushSync();
      appender.closeSync();
      const rows = (await connection.runAndReadAll(query.sql, query.params as DuckDBValue[])).getRows();
      for (const [step, event, n] of rows) {
        const counts = byStep.get(Number(step)) ?? new Map<string, number>();
        counts.set(String(event), Number(n));
        byStep.set(Number(step), counts);
      }
    } finally {
      await connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(table)}`);
    }
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
  return byStep;
}

function droppedSummary(names: readonly string[], dropped: readonly DroppedUnit[], next: Map<number, Map<string, number>>, top: number): FunnelDropped[] {
  return names.slice(0, -1).map((stepName, i) => {
    const step = i + 1;
    const count = dropped.filter((d) => d.afterStep === step).length;
    const events = [...(next.get(step) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const withNext = events.reduce((sum, [, n]) => sum + n, 0);
    return {
      after_step: step,
      step_name: stepName,
      count,
      next_events: events.slice(0, top).map(([event, n]) => ({ event, count: n })),
      no_next_event: count - withNext,
    };
  });
}

/** Breakdown groups: most step-1 units first, then by value (null last). */
function breakdownGroups(groups: Map<string | null, FunnelTally>): FunnelBreakdownGroup[] {
  return [...groups]
    .sort(([va, a], [vb, b]) => b.first - a.first || (va === null ? 1 : vb === null ? -1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([value, tally]) => ({ value, steps: tally.steps() }));
}

export async function evaluateFunnel(session: AnalysisSession, definition: FunnelDefinition, options: FunnelRunOptions): Promise<FunnelEvaluation> {
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
  const total = new FunnelTally(names);
  const groups = new Map<string | null, FunnelTally>();
  const withBreakdown = definition.breakdown != null;
  const dropped: DroppedUnit[] = [];

  const onOutcome = (unit: string, outcome: UnitOutcome): void => {
    total.add(outcome);
    if (withBreakdown) {
      let tally = groups.get(outcome.breakdown);
      if (tally === undefined) groups.set(outcome.breakdown, (tally = new FunnelTally(names)));
      tally.add(outcome);
    }
    if (outcome.reached < n) {
      dropped.push({ unit, afterStep: outcome.reached, stepUs: outcome.times[outcome.reached - 1]!, limitUs: outcome.times[0]! + windowUs });
    }
  };
  if (options.engine !== 'state-machine' && asofFunnelApplies(definition)) {
    await forEachAsofOutcome(session, buildAsofFunnelQuery(definition, options), n, onOutcome);
  } else {
    await forEachUnit(session, buildFunnelEventsQuery(definition, options), (unit, events) => {
      const outcome = bestAttempt(events, rules);
      if (outcome !== undefined) onOutcome(unit, outcome);
    });
  }

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

  const droppedAfter = (step: number): string[] => {
    if (!Number.isInteger(step) || step < 1 || step >= n) {
      throw new UsageLabError('funnel_step_out_of_range', `step ${step} is not a step followed by another (1..${n - 1})`, {
        hint: 'steps are numbered from 1; the last step has no drop-off',
        place: { field: 'people' },
      });
    }
    return dropped.filter((d) => d.afterStep === step).map((d) => d.unit).sort();
  };
  if (options.listDroppedAfter !== undefined) {
    result.dropped_people = { after_step: options.listDroppedAfter, unit: definition.unit, ids: droppedAfter(options.listDroppedAfter) };
  }
  return { result, droppedAfter };
}

/** Runs a funnel and returns its JSON result (docs/json-output.md#funnel). */
export async function runFunnel(session: AnalysisSession, definition: FunnelDefinition, options: FunnelRunOptions): Promise<FunnelResult> {
  return (await evaluateFunnel(session, definition, options)).result;
}

export const funnelAnalysis: AnalysisKind<FunnelDefinition, FunnelResult> = {
  kind: 'funnel',
  parse: parseFunnelDefinition,
  run: runFunnel,
};

export { parseFunnelDefinition };
