/**
 * The report's "frustration rate by week": per calendar week of the month (cut to it), the sessions and the sessions
 * with a frustration signal, counted exactly as the friction analysis counts its totals (same scope: filters,
 * segment, exclusions; a session counts in every week it has events in) — in one grouped pass instead of one
 * friction run per week. weekly-friction.test.ts checks it against per-week friction runs.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AnalysisSession } from '../analyses/analysis-kind.js';
import type { DateRange } from '../analyses/common/definition-parts.js';
import { queryRows } from '../analyses/common/run-support.js';
import { buildScope, withClause, type ScopeOptions } from '../analyses/common/scope-sql.js';
import { localMidnight } from '../analyses/common/time-buckets.js';
import { SIGNAL_COLUMNS, type FrictionDefinition } from '../analyses/friction/friction-definition.js';
import { BoundParams } from '../sql/bound-params.js';
import { quoteIdent } from '../sql/quote.js';

export interface WeeklyFriction {
  range: DateRange;
  sessions: number;
  sessions_with_signal: number;
  /** null for a week without sessions. */
  share_of_sessions: number | null;
}

export async function weeklyFriction(session: AnalysisSession, def: FrictionDefinition, weeks: readonly DateRange[], options: ScopeOptions): Promise<WeeklyFriction[]> {
  if (weeks.length === 0) return [];
  const params = new BoundParams();
  const scope = buildScope({ ...def, date_range: null }, params, 'e', options);
  const tz = params.bind(options.timezone);
  const col = (name: string): string => `e.${quoteIdent(name)}`;
  const signal = def.signals.map((s) => col(SIGNAL_COLUMNS[s])).join(' OR ');
  // The week from constant instants (each week's end, a local midnight; folded once), not a per-row time-zone
  // conversion: ICU costs about a microsecond a row, most of this query's time.
  const week = `CASE ${weeks.map((w, i) => `WHEN ${col('occurred_at')} < ${localMidnight(w.to, params, tz, 1)} THEN ${i}`).join(' ')} END`;
  const sql = `${withClause(scope.ctes)}SELECT week, count(DISTINCT session_id) AS sessions, count(DISTINCT session_id) FILTER (WHERE sig) AS sessions_with_signal
FROM (
  SELECT ${col('session_id')} AS session_id, (${signal}) AS sig, ${week} AS week
  FROM events e
  WHERE ${[...scope.conditions, `${col('session_id')} IS NOT NULL`, `${col('occurred_at')} >= ${localMidnight(weeks[0]!.from, params, tz)}`, `${col('occurred_at')} < ${localMidnight(weeks[weeks.length - 1]!.to, params, tz, 1)}`].join('\n    AND ')}
)
GROUP BY week`;
  const rows = await queryRows<{ week: number; sessions: number; sessions_with_signal: number }>(session, { sql, params: params.values as DuckDBValue[] as never });
  return weeks.map((range, i) => {
    const r = rows.find((x) => Number(x.week) === i);
    const sessions = Number(r?.sessions ?? 0);
    const withSignal = Number(r?.sessions_with_signal ?? 0);
    return { range, sessions, sessions_with_signal: withSignal, share_of_sessions: sessions === 0 ? null : withSignal / sessions };
  });
}
