/**
 * The reference the funnel benchmark is held against: ClickHouse's own windowFunnel over the same steps and
 * window, on the bench's ClickHouse copy of the events (a MergeTree ordered by person and time). windowFunnel
 * counts differently from usagelab's funnel (whole seconds, its own rules for repeated and simultaneous steps),
 * so its levels are shown beside the funnel's counts, not held to be equal; only its time is compared.
 */
import type { ClickhouseExecutor } from '../warehouse/clickhouse/clickhouse-executor.js';
import { quoteClickhouseLiteral } from '../sql/quote.js';

/** windowFunnel over the steps (window in seconds): people per furthest level, level 1 = reached step 1. */
export async function windowFunnelLevels(ch: ClickhouseExecutor, steps: readonly string[], windowSeconds: number): Promise<number[]> {
  const names = steps.map(quoteClickhouseLiteral);
  const conditions = names.map((s) => `event_name = ${s}`).join(', ');
  const rows = await ch.query<{ level: number; people: number }>(`SELECT level, count() AS people FROM (
      SELECT person_id, windowFunnel(${windowSeconds})(toDateTime(occurred_at), ${conditions}) AS level
      FROM events WHERE person_id IS NOT NULL AND event_name IN (${names.join(', ')}) GROUP BY person_id
    ) GROUP BY level ORDER BY level`);
  return steps.map((_s, i) => rows.filter((r) => Number(r.level) >= i + 1).reduce((sum, r) => sum + Number(r.people), 0));
}
