/**
 * The reference engine's input: the relevant events streamed in (unit, time, event id) order
 * (funnel-query.ts buildFunnelEventsQuery), handed over as plain objects one unit at a time, for the state machine
 * of funnel-attempts.ts. Simple on purpose: it is what the differential test holds the fast path to.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AnalysisSession } from '../analysis-kind.js';
import { queryFailed } from '../common/run-support.js';
import type { UnitEvent } from './funnel-attempts.js';
import type { BuiltQuery } from './funnel-query.js';

/** Streams the query's rows in chunks and hands over each unit's events once the unit is complete. */
export async function forEachUnit(session: AnalysisSession, query: BuiltQuery, onUnit: (unit: string, events: UnitEvent[]) => void): Promise<void> {
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
