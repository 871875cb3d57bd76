/**
 * Friction on ClickHouse: runs the statements of friction-query-clickhouse.ts and assembles the one row the DuckDB
 * statement returns (FrictionQueryRow), so friction-analysis.ts shapes both engines' results with the same code.
 */
import type { ClickhouseAnalysisSession } from '../analysis-kind.js';
import { chQueryRows } from '../common/run-support.js';
import type { FrictionDefinition } from './friction-definition.js';
import { chFrictionBreakdownQuery, chFrictionHotspotsQuery, chFrictionPagesQuery, type ChFrictionOptions, type ChHotspotRow, type ChPageRow } from './friction-query-clickhouse.js';
import type { BreakdownRow, ErrorPageRow, FrictionQueryRow, HotspotRow, PageRow, TotalsRow } from './friction-query.js';

/** The overall row's numbers of one period (`p_` columns for the previous one). */
function totalsOf(row: ChPageRow, period: 0 | 1): TotalsRow {
  const v = (name: string): number => (row as unknown as Record<string, number>)[period === 0 ? name : `p_${name}`]!;
  return {
    period,
    sessions: v('sessions'),
    people: v('people'),
    sessions_with_signal: v('sessions_with_signal'),
    people_with_signal: v('people_with_signal'),
    signal_events: v('signal_events'),
    rage: v('rage'),
    dead: v('dead'),
    errc: v('errc'),
    error_events: v('error_events'),
    sessions_with_error: v('sessions_with_error'),
    visits: v('visits'),
    u_turns: v('u_turns'),
    u_turn_sessions: v('u_turn_sessions'),
  };
}

/** A page of the previous period had a row there when it had any event then (every event has a session). */
const prev = (row: ChPageRow, value: number): number | null => (row.p_sessions === 0 ? null : value);

function pageRow(row: ChPageRow): PageRow {
  return {
    rank: row.page_rank,
    page_path: row.page_path,
    sessions: row.sessions,
    sessions_with_signal: row.sessions_with_signal,
    signal_events: row.signal_events,
    rage: row.rage,
    dead: row.dead,
    errc: row.errc,
    error_events: row.error_events,
    sessions_with_error: row.sessions_with_error,
    visits: row.visits,
    u_turns: row.u_turns,
    u_turn_sessions: row.u_turn_sessions,
    prev_sessions: prev(row, row.p_sessions),
    prev_sessions_with_signal: prev(row, row.p_sessions_with_signal),
    prev_signal_events: prev(row, row.p_signal_events),
    prev_u_turns: prev(row, row.p_u_turns),
  };
}

function errorPageRow(row: ChPageRow): ErrorPageRow {
  return { rank: row.error_rank, page_path: row.page_path, sessions: row.sessions, sessions_with_error: row.sessions_with_error, error_events: row.error_events };
}

function hotspotRow(row: ChHotspotRow): HotspotRow {
  const { meets: _meets, candidates: _candidates, meeting: _meeting, ...rest } = row;
  return rest;
}

export async function chFrictionQueryRow(session: ClickhouseAnalysisSession, def: FrictionDefinition, options: ChFrictionOptions): Promise<FrictionQueryRow> {
  const pages = await chQueryRows<ChPageRow>(session, chFrictionPagesQuery(def, options));
  const hotspots = await chQueryRows<ChHotspotRow>(session, chFrictionHotspotsQuery(def, options));
  const breakdown = def.breakdown == null ? null : await chQueryRows<BreakdownRow>(session, chFrictionBreakdownQuery(def, options));
  const overall = pages.find((r) => r.lvl === 1);
  const listed = (flag: 'page_listed' | 'error_listed', rank: 'page_rank' | 'error_rank'): ChPageRow[] =>
    pages.filter((r) => r.lvl === 0 && r[flag]).sort((a, b) => a[rank] - b[rank]);
  const totals: TotalsRow[] = [];
  if (overall !== undefined) {
    // DuckDB has a totals row for each period with events in scope; a missing one reads as zeros.
    if (overall.sessions > 0) totals.push(totalsOf(overall, 0));
    if (overall.p_sessions > 0) totals.push(totalsOf(overall, 1));
  }
  const first = hotspots[0];
  return {
    totals,
    hotspots: hotspots.filter((h) => h.meets).map(hotspotRow),
    pages: listed('page_listed', 'page_rank').map(pageRow),
    error_pages: listed('error_listed', 'error_rank').map(errorPageRow),
    breakdown,
    hotspot_counts: { candidates: first?.candidates ?? 0, meeting: first?.meeting ?? 0 },
    page_counts: { candidates: overall?.page_candidates ?? 0, meeting: overall?.page_meeting ?? 0 },
    error_page_counts: { candidates: overall?.error_candidates ?? 0, meeting: overall?.error_meeting ?? 0 },
  };
}
