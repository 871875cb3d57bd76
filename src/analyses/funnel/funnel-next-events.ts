/**
 * What the units that dropped did next: the dropped units go into a temporary table, and one query finds each
 * one's first event after its last step, within the window (funnel-query.ts buildNextEventsQuery).
 */
import { DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { quoteIdent } from '../../sql/quote.js';
import type { AnalysisSession } from '../analysis-kind.js';
import type { ScopeOptions } from '../common/scope-sql.js';
import { queryFailed } from '../common/run-support.js';
import type { FunnelDefinition } from './funnel-definition.js';
import { buildNextEventsQuery, DROPPED_TABLE_COLUMNS } from './funnel-query.js';
import type { FunnelDropped } from './funnel-result.js';

/** Rows per data chunk appended (DuckDB's vector size). */
const DROPPED_CHUNK_ROWS = 2048;

/** A unit whose best attempt stopped before the last step. */
export interface DroppedUnit {
  unit: string;
  /** 1-based: the last step reached. */
  afterStep: number;
  /** That step's instant and the window's end, epoch µs. */
  stepUs: number;
  limitUs: number;
}

/** Appends the dropped units to `table` (DROPPED_TABLE_COLUMNS) in data chunks: one native call per column and chunk. */
async function appendDropped(connection: DuckDBConnection, table: string, dropped: readonly DroppedUnit[]): Promise<void> {
  const appender = await connection.createAppender(table, null, 'temp');
  for (let offset = 0; offset < dropped.length; offset += DROPPED_CHUNK_ROWS) {
    const part = dropped.slice(offset, offset + DROPPED_CHUNK_ROWS);
    const chunk = DuckDBDataChunk.create([VARCHAR, INTEGER, DOUBLE, DOUBLE], part.length);
    chunk.setColumnValues(0, part.map((d) => d.unit));
    chunk.setColumnValues(1, part.map((d) => d.afterStep));
    chunk.setColumnValues(2, part.map((d) => d.stepUs));
    chunk.setColumnValues(3, part.map((d) => d.limitUs));
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
}

/** Next-event counts by event name, per step the units dropped after. */
export async function nextEvents(session: AnalysisSession, def: FunnelDefinition, dropped: readonly DroppedUnit[], options: Omit<ScopeOptions, 'kind'>): Promise<Map<number, Map<string, number>>> {
  const byStep = new Map<number, Map<string, number>>();
  if (dropped.length === 0) return byStep;
  const table = `ul_funnel_dropped_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  let fromUs = Infinity;
  let toUs = -Infinity;
  for (const d of dropped) {
    fromUs = Math.min(fromUs, d.stepUs);
    toUs = Math.max(toUs, d.limitUs);
  }
  const query = buildNextEventsQuery(def, table, options, { fromUs, toUs });
  const connection = session.connection;
  try {
    await connection.run(`CREATE TEMP TABLE ${quoteIdent(table)} ${DROPPED_TABLE_COLUMNS}`);
    try {
      await appendDropped(connection, table, dropped);
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

/** The result's `dropped` list: per step but the last, how many dropped there and their top next events. */
export function droppedSummary(names: readonly string[], dropped: readonly DroppedUnit[], next: Map<number, Map<string, number>>, top: number): FunnelDropped[] {
  const counts = names.slice(0, -1).map((_name, i) => dropped.filter((d) => d.afterStep === i + 1).length);
  return droppedSummaryOfCounts(names, counts, next, top);
}

/** droppedSummary from the number of units that dropped after each step (index 0: after step 1). */
export function droppedSummaryOfCounts(names: readonly string[], droppedCounts: readonly number[], next: Map<number, Map<string, number>>, top: number): FunnelDropped[] {
  return names.slice(0, -1).map((stepName, i) => {
    const step = i + 1;
    const count = droppedCounts[i]!;
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
