/**
 * Runs a friction analysis: the units of each period (friction-units.ts), then one statement computes every
 * section (friction-query.ts); this file turns its rows
 * into the documented result — rates, the comparison with the previous period, labels — and adds what the
 * exclusions left out.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type AnalysisSession, type EngineSession } from '../analysis-kind.js';
import { resolveScope, type DateRange } from '../common/definition-parts.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, queryRows } from '../common/run-support.js';
import { excludedSummary, type ExcludedSummary } from '../common/scope-sql.js';
import { chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import { chFrictionQueryRow } from './friction-clickhouse.js';
import { parseFrictionDefinition, type FrictionDefinition, type FrictionSignal } from './friction-definition.js';
import { previousMonths, previousPeriod } from './friction-periods.js';
import {
  buildFrictionQuery,
  periodBoundsQuery,
  type BreakdownRow,
  type FrictionBounds,
  type ErrorPageRow,
  type FrictionQueryRow,
  type HotspotRow,
  type ListCountsRow,
  type PageRow,
  type TotalsRow,
} from './friction-query.js';
import {
  delta,
  ratio,
  resolveFrictionDefinition,
  type FrictionBreakdownGroup,
  type FrictionErrorPage,
  type FrictionHotspot,
  type FrictionListCounts,
  type FrictionPage,
  type FrictionPrevious,
  type FrictionResult,
  type FrictionSignalCounts,
  type FrictionTotals,
} from './friction-result.js';
import { frictionRules } from './friction-rules.js';
import { frictionUnits } from './friction-units.js';

/** Element texts can be a whole container's innerText; results keep a readable label. */
export const ELEMENT_TEXT_MAX = 200;

export function truncateText(text: string | null, max = ELEMENT_TEXT_MAX): string | null {
  if (text === null) return null;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const EMPTY_TOTALS: Omit<TotalsRow, 'period'> = {
  sessions: 0,
  people: 0,
  sessions_with_signal: 0,
  people_with_signal: 0,
  signal_events: 0,
  rage: 0,
  dead: 0,
  errc: 0,
  error_events: 0,
  sessions_with_error: 0,
  visits: 0,
  u_turns: 0,
  u_turn_sessions: 0,
};

function signalCounts(row: { signal_events: number; rage: number; dead: number; errc: number }, signals: readonly FrictionSignal[]): FrictionSignalCounts {
  return {
    signal_events: row.signal_events,
    rage_clicks: signals.includes('rage') ? row.rage : null,
    dead_clicks: signals.includes('dead') ? row.dead : null,
    error_clicks: signals.includes('error') ? row.errc : null,
  };
}

function totals(row: Omit<TotalsRow, 'period'>, signals: readonly FrictionSignal[]): FrictionTotals {
  return {
    sessions: row.sessions,
    people: row.people,
    sessions_with_signal: row.sessions_with_signal,
    share_of_sessions: ratio(row.sessions_with_signal, row.sessions),
    people_with_signal: row.people_with_signal,
    ...signalCounts(row, signals),
    error_events: row.error_events,
    sessions_with_error: row.sessions_with_error,
    visits: row.visits,
    u_turns: row.u_turns,
    u_turn_sessions: row.u_turn_sessions,
    u_turn_share: ratio(row.u_turns, row.visits),
  };
}

/** Why a definition gets no comparison, or null when it gets one. */
function noComparisonReason(def: FrictionDefinition): string | null {
  if (def.compare === 'none') return 'compare: none';
  if (def.date_range == null) return 'no date_range: the previous period needs one';
  if (comparisonPeriod(def.date_range, def.compare) === undefined) return 'the previous period would start before year 1';
  return null;
}

/** The period compared with (the rules have checked that a previous_month range is whole months). */
function comparisonPeriod(range: DateRange, compare: FrictionDefinition['compare']): DateRange | undefined {
  return compare === 'previous_month' ? previousMonths(range) : previousPeriod(range);
}

function hotspot(row: HotspotRow, def: FrictionDefinition, compared: boolean, previousHasData: boolean): FrictionHotspot {
  const share = ratio(row.sessions, row.page_sessions);
  // A hotspot or page absent from the previous period had zero of everything there.
  const prevSessions = row.prev_sessions ?? 0;
  const prevPageSessions = row.prev_page_sessions ?? 0;
  return {
    rank: row.rank,
    page: row.page_path,
    selector: row.k_sel ?? row.selector_label,
    text: truncateText(row.k_text ?? row.text_label),
    ...signalCounts(row, def.signals),
    sessions: row.sessions,
    people: row.people,
    page_sessions: row.page_sessions,
    share_of_page_sessions: share,
    change: compared
      ? {
          sessions: delta(row.sessions, prevSessions),
          people: delta(row.people, row.prev_people ?? 0),
          signal_events: delta(row.signal_events, row.prev_signal_events ?? 0),
          share_of_page_sessions: delta(share, ratio(prevSessions, prevPageSessions)),
          new: previousHasData && prevSessions === 0,
        }
      : null,
  };
}

function page(row: PageRow, def: FrictionDefinition, compared: boolean, previousHasData: boolean): FrictionPage {
  const share = ratio(row.sessions_with_signal, row.sessions);
  const prevWithSignal = row.prev_sessions_with_signal ?? 0;
  return {
    rank: row.rank,
    page: row.page_path,
    sessions: row.sessions,
    sessions_with_signal: row.sessions_with_signal,
    share_of_sessions: share,
    ...signalCounts(row, def.signals),
    error_events: row.error_events,
    sessions_with_error: row.sessions_with_error,
    visits: row.visits,
    u_turns: row.u_turns,
    u_turn_sessions: row.u_turn_sessions,
    u_turn_share: ratio(row.u_turns, row.visits),
    change: compared
      ? {
          sessions_with_signal: delta(row.sessions_with_signal, prevWithSignal),
          share_of_sessions: delta(share, ratio(prevWithSignal, row.prev_sessions ?? 0)),
          signal_events: delta(row.signal_events, row.prev_signal_events ?? 0),
          u_turns: delta(row.u_turns, row.prev_u_turns ?? 0),
          new: previousHasData && row.sessions_with_signal > 0 && prevWithSignal === 0,
        }
      : null,
  };
}

function errorPage(row: ErrorPageRow): FrictionErrorPage {
  return {
    rank: row.rank,
    page: row.page_path,
    sessions: row.sessions,
    sessions_with_error: row.sessions_with_error,
    error_rate: ratio(row.sessions_with_error, row.sessions),
    error_events: row.error_events,
  };
}

function breakdownGroup(row: BreakdownRow, signals: readonly FrictionSignal[]): FrictionBreakdownGroup {
  return {
    value: row.value,
    sessions: row.sessions,
    sessions_with_signal: row.sessions_with_signal,
    share_of_sessions: ratio(row.sessions_with_signal, row.sessions),
    ...signalCounts(row, signals),
  };
}

function listCounts(row: ListCountsRow | null | undefined, listed: number): FrictionListCounts {
  const candidates = row?.candidates ?? 0;
  const meeting = row?.meeting ?? 0;
  return { candidates, below_min_sessions: candidates - meeting, beyond_top: meeting - listed, listed };
}

/** Epoch microseconds come back as numbers (as text beyond 2^53, e.g. year 9999): exact either way. */
const micros = (value: unknown): bigint => BigInt(String(value));

/** The instants of the range's and the comparison period's local midnights (periodBoundsQuery). */
export async function periodBounds(session: AnalysisSession, range: DateRange, previous: DateRange | null, timezone: string): Promise<FrictionBounds> {
  const [row] = await queryRows<{ lo: unknown; hi: unknown; previous_lo: unknown }>(session, periodBoundsQuery(range, previous, timezone));
  return { lo: micros(row!.lo), hi: micros(row!.hi), previousLo: row!.previous_lo === null ? null : micros(row!.previous_lo) };
}

/** Runs a friction analysis and returns its JSON result (docs/analyses/friction.md#json-output). */
export async function runFriction(session: EngineSession, definition: FrictionDefinition, options: AnalysisRunOptions): Promise<FrictionResult> {
  assertRules(frictionRules(definition));
  assertTimezone(options.timezone, 'friction');
  const reason = noComparisonReason(definition);
  const previous = reason === null && definition.date_range != null ? comparisonPeriod(definition.date_range, definition.compare)! : null;
  const scopeOptions = { kind: 'friction', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) };

  let row: FrictionQueryRow | undefined;
  let excluded: ExcludedSummary;
  if (isClickhouse(session)) {
    // Same row, from several statements (friction-clickhouse.ts); the periods' bounds are computed in its SQL.
    row = await chFrictionQueryRow(session, definition, { ...scopeOptions, previous });
    excluded = await chExcludedSummary(session, definition, new ClickhouseParams(), scopeOptions);
  } else {
    const bounds = definition.date_range == null ? null : await periodBounds(session, definition.date_range, previous, options.timezone);
    const units = await frictionUnits(session, definition, scopeOptions, bounds);
    [row] = await queryRows<FrictionQueryRow>(session, buildFrictionQuery(definition, { ...scopeOptions, bounds, units }));
    excluded = await excludedSummary(session, definition, new BoundParams(), scopeOptions);
  }

  const byPeriod = new Map((row?.totals ?? []).map((t) => [t.period, t]));
  const current = totals(byPeriod.get(0) ?? EMPTY_TOTALS, definition.signals);
  const before = previous === null ? null : totals(byPeriod.get(1) ?? EMPTY_TOTALS, definition.signals);
  const compared = before !== null;
  const previousHasData = before !== null && before.sessions > 0;

  const hotspots = (row?.hotspots ?? []).map((h) => hotspot(h, definition, compared, previousHasData));
  const pages = (row?.pages ?? []).map((p) => page(p, definition, compared, previousHasData));
  const errorPages = (row?.error_pages ?? []).map(errorPage);
  const previousBlock: FrictionPrevious = { compared, reason, date_range: previous, totals: before };

  const result: FrictionResult = {
    kind: 'friction',
    version: 1,
    name: definition.name,
    definition: resolveFrictionDefinition(definition, resolveScope(definition, options.timezone)),
    overall: {
      ...current,
      change:
        before === null
          ? null
          : {
              sessions: delta(current.sessions, before.sessions),
              sessions_with_signal: delta(current.sessions_with_signal, before.sessions_with_signal),
              share_of_sessions: delta(current.share_of_sessions, before.share_of_sessions),
              people_with_signal: delta(current.people_with_signal, before.people_with_signal),
              signal_events: delta(current.signal_events, before.signal_events),
              sessions_with_error: delta(current.sessions_with_error, before.sessions_with_error),
              u_turns: delta(current.u_turns, before.u_turns),
            },
    },
    hotspots,
    pages,
    error_pages: errorPages,
    previous: previousBlock,
    lists: {
      hotspots: listCounts(row?.hotspot_counts, hotspots.length),
      pages: listCounts(row?.page_counts, pages.length),
      error_pages: listCounts(row?.error_page_counts, errorPages.length),
    },
    excluded,
  };
  if (definition.breakdown != null) result.breakdown = (row?.breakdown ?? []).map((b) => breakdownGroup(b, definition.signals));
  return result;
}

export const frictionAnalysis: AnalysisKind<FrictionDefinition, FrictionResult> = {
  kind: 'friction',
  engines: ['duckdb', 'clickhouse'],
  parse: parseFrictionDefinition,
  run: runFriction,
};

export { parseFrictionDefinition };
