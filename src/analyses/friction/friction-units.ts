/**
 * The distinct units of one friction period (DuckDB): per page its sessions, and the period's sessions and people.
 * This is the costly part of friction (an exact distinct count of (page, session) pairs over every event in
 * scope), so it is its own statement, one per period, answered from the session's memo when asked again with the
 * same scope and bounds: inside a report, the friction section and the insights' page friction share it.
 */
import { BoundParams } from '../../sql/bound-params.js';
import type { AnalysisSession } from '../analysis-kind.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import { queryRows, type BuiltQuery } from '../common/run-support.js';
import { buildScope, memoized, withClause, type ScopeOptions } from '../common/scope-sql.js';
import type { FrictionBounds, PeriodUnitRow } from './friction-query.js';

/** g = 1: sessions of one page (page_path, null for events without a page); 3: all sessions; 2: all people. */
export interface UnitRow {
  page_path: string | null;
  g: 1 | 2 | 3;
  n: number;
}

/** The units of the events in scope with a session id in [lo, hi) (epoch microseconds; null: no bound). */
export function buildUnitsQuery(scope: AnalysisScope, options: ScopeOptions, lo: bigint | null, hi: bigint | null): BuiltQuery {
  const params = new BoundParams();
  // Only what decides which events count: the range is the bounds below, a breakdown does not change units.
  const built = buildScope({ ...scope, date_range: null, breakdown: null }, params, 'e', options);
  const at = (us: bigint): string => `make_timestamptz(CAST(${params.bind(us)} AS BIGINT))`;
  const conditions = [...built.conditions, 'e.session_id IS NOT NULL'];
  if (lo !== null) conditions.push(`e.occurred_at >= ${at(lo)}`);
  if (hi !== null) conditions.push(`e.occurred_at < ${at(hi)}`);
  // grouping() bits of (page_path, person_id): 1 = (page, session), 3 = (session), 2 = (person).
  const sql = `${withClause(built.ctes)}SELECT page_path, CAST(g AS INTEGER) AS g, count(*) AS n FROM (
  SELECT e.page_path, grouping(e.page_path, e.person_id) AS g
  FROM events e
  WHERE ${conditions.join('\n    AND ')}
  GROUP BY GROUPING SETS ((e.page_path, e.session_id), (e.session_id), (e.person_id))
) GROUP BY ALL`;
  return { sql, params: [...params.values] };
}

/** The units of one period, from the session's memo when the same statement ran before. */
export function periodUnits(session: AnalysisSession, scope: AnalysisScope, options: ScopeOptions, lo: bigint | null, hi: bigint | null): Promise<UnitRow[]> {
  const query = buildUnitsQuery(scope, options, lo, hi);
  return memoized(session, query, async () =>
    (await queryRows<{ page_path: string | null; g: number; n: unknown }>(session, query)).map((r) => ({ page_path: r.page_path, g: Number(r.g) as UnitRow['g'], n: Number(r.n) })),
  );
}

/** The units of a friction run: the range labelled 0, the comparison period (when there is one) labelled 1. */
export async function frictionUnits(session: AnalysisSession, scope: AnalysisScope, options: ScopeOptions, bounds: FrictionBounds | null): Promise<PeriodUnitRow[]> {
  const units = async (period: 0 | 1, lo: bigint | null, hi: bigint | null): Promise<PeriodUnitRow[]> =>
    (await periodUnits(session, scope, options, lo, hi)).map((r) => ({ ...r, period }));
  if (bounds === null) return units(0, null, null);
  const current = await units(0, bounds.lo, bounds.hi);
  return bounds.previousLo === null ? current : [...current, ...(await units(1, bounds.previousLo, bounds.lo))];
}
