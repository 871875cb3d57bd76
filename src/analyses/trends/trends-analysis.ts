/**
 * Runs a trend: finds the data span (and from it the default date range), ranks breakdown values when there is a
 * breakdown, then runs the measure's queries and shapes the rows into series of points.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type AnalysisSession, type ClickhouseAnalysisSession, type EngineSession } from '../analysis-kind.js';
import { excludedSummary, type ExcludedSummary, type ScopeOptions } from '../common/scope-sql.js';
import { chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import type { AnalysisScope } from '../common/definition-parts.js';
import { resolveScope } from '../common/definition-parts.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, chQueryRows, queryRows, runStatement } from '../common/run-support.js';
import type { WeekStart } from '../common/time-buckets.js';
import { addDays, defaultRange, periodsOf, shiftInterval, type DataSpan, type Period } from './trends-calendar.js';
import { parseTrendsDefinition, seriesLabel, type TrendsDefinition } from './trends-definition.js';
import { resolveBreakdownLimit, resolveLifecycleNew, resolveWindows } from './trends-options.js';
import {
  buildActiveDaysQuery,
  buildBreakdownRankQuery,
  buildCountsQuery,
  buildDailyActiveQuery,
  buildDataSpanQuery,
  buildLifecycleQuery,
  buildPersonDaysTable,
  NO_BREAKDOWN,
  type KeyPlan,
  type ReadWindow,
  type TrendsQueryOptions,
} from './trends-query.js';
import {
  activeUsersSeries,
  eventsSeries,
  lifecycleSeries,
  peopleSeries,
  stickinessSeries,
  type ActiveDaysRow,
  type CountRow,
  type DailyRow,
  type LifecycleRow,
  type SeriesKey,
} from './trends-points.js';
import { resolveTrendsDefinition, type TrendsResult } from './trends-result.js';
import { chActiveDaysQuery, chBreakdownRankQuery, chCountsQuery, chDailyActiveQuery, chDataSpanQuery, chLifecycleQuery } from './trends-query-clickhouse.js';
import { trendsRules } from './trends-rules.js';

type Range = { from: string; to: string };

type LifecyclePeriods = { firstStart: string; lastStart: string; previousStart: string; endExclusive: string };

/**
 * The queries of a trend on one warehouse engine. Both return the same rows (trends-query.ts and
 * trends-query-clickhouse.ts), so everything else in this file is engine-neutral.
 */
interface TrendsQueries {
  dataSpan(timezone: string): Promise<{ first_day: string | null; last_day: string | null }[]>;
  breakdownRank(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, counted: Range, limit: number): Promise<{ value: string | null; events: number }[]>;
  counts(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, people: boolean): Promise<CountRow[]>;
  activity(def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, range: Range, wau: number, mau: number): Promise<readonly [DailyRow[], ActiveDaysRow[]]>;
  lifecycle(def: TrendsDefinition, options: TrendsQueryOptions, periods: LifecyclePeriods, readFrom: string, plan: KeyPlan, newBy: 'first_activity' | 'first_seen'): Promise<LifecycleRow[]>;
  excluded(scope: AnalysisScope, options: ScopeOptions): Promise<ExcludedSummary>;
}

function duckdbQueries(session: AnalysisSession): TrendsQueries {
  return {
    dataSpan: (timezone) => queryRows(session, buildDataSpanQuery(timezone)),
    breakdownRank: (def, options, window, counted, limit) => queryRows(session, buildBreakdownRankQuery(def, options, window, counted, limit)),
    counts: (def, options, window, plan, people) => queryRows<CountRow>(session, buildCountsQuery(def, options, window, plan, people)),
    activity: (def, options, window, plan, range, wau, mau) =>
      withPersonDays(session, def, options, window, plan, async (table) => [
        await queryRows<DailyRow>(session, buildDailyActiveQuery(table, range, wau, mau)),
        await queryRows<ActiveDaysRow>(session, buildActiveDaysQuery(table, range, def.interval, options.weekStart)),
      ] as const),
    lifecycle: (def, options, periods, readFrom, plan, newBy) => queryRows<LifecycleRow>(session, buildLifecycleQuery(def, options, periods, readFrom, plan, newBy)),
    excluded: (scope, options) => excludedSummary(session, scope, new BoundParams(), options),
  };
}

function clickhouseQueries(session: ClickhouseAnalysisSession): TrendsQueries {
  return {
    dataSpan: (timezone) => chQueryRows(session, chDataSpanQuery(timezone)),
    breakdownRank: (def, options, window, counted, limit) => chQueryRows(session, chBreakdownRankQuery(def, options, window, counted, limit)),
    counts: (def, options, window, plan, people) => chQueryRows<CountRow>(session, chCountsQuery(def, options, window, plan, people)),
    activity: async (def, options, window, plan, range, wau, mau) => [
      await chQueryRows<DailyRow>(session, chDailyActiveQuery(def, options, window, plan, range, wau, mau)),
      await chQueryRows<ActiveDaysRow>(session, chActiveDaysQuery(def, options, window, plan, range, def.interval, options.weekStart)),
    ] as const,
    lifecycle: (def, options, periods, readFrom, plan, newBy) => chQueryRows<LifecycleRow>(session, chLifecycleQuery(def, options, periods, readFrom, plan, newBy)),
    excluded: (scope, options) => chExcludedSummary(session, scope, new ClickhouseParams(), options),
  };
}

async function dataSpan(queries: TrendsQueries, timezone: string): Promise<DataSpan | null> {
  const [row] = await queries.dataSpan(timezone);
  return row?.first_day == null || row.last_day == null ? null : { first_day: row.first_day, last_day: row.last_day };
}

/** The days a measure reads: its points' days plus what it looks back on (trailing windows). */
function readWindow(def: TrendsDefinition, range: Range): ReadWindow {
  const windows = resolveWindows(def);
  return { from: windows === null ? range.from : addDays(range.from, -(windows.mau - 1)), toExclusive: addDays(range.to, 1) };
}

/**
 * The series keys (their index is the key `k` of the queries): per definition series, without a breakdown one
 * key; with one, each kept value in rank order, then "other" when values were left over.
 */
async function seriesKeys(
  queries: TrendsQueries,
  def: TrendsDefinition,
  options: TrendsQueryOptions,
  window: ReadWindow,
  counted: { from: string; to: string },
): Promise<{ plan: KeyPlan; keys: SeriesKey[] }> {
  const limit = resolveBreakdownLimit(def);
  let plan = NO_BREAKDOWN;
  let values: { value: string | null; other: boolean }[] = [{ value: null, other: false }];
  if (limit !== null) {
    const ranked = await queries.breakdownRank(def, options, window, counted, limit);
    const kept = ranked.slice(0, limit);
    values = kept.map((r) => ({ value: r.value, other: false }));
    if (ranked.length > limit) values.push({ value: null, other: true });
    const nullAt = kept.findIndex((r) => r.value === null);
    plan = {
      stride: values.length,
      values: kept.flatMap((r, index) => (r.value === null ? [] : [{ value: r.value, index }])),
      nullIndex: nullAt >= 0 ? nullAt : kept.length,
      otherIndex: kept.length,
    };
  }
  return { plan, keys: def.events.flatMap((_s, s) => values.map((v) => ({ s, ...v }))) };
}

/** Every row's key must name a series: anything else is a bug, never a number to report. */
function checkKeys<R extends { k: number }>(rows: readonly R[], keys: readonly SeriesKey[]): R[] {
  const bad = rows.find((r) => !Number.isInteger(r.k) || r.k < 0 || r.k >= keys.length);
  if (bad !== undefined) throw new Error(`trends: a query returned series key ${String(bad.k)} of ${keys.length}`);
  return [...rows];
}

/** Runs `body` with a temp table of person-days, dropped afterwards whatever happens. */
async function withPersonDays<T>(session: AnalysisSession, def: TrendsDefinition, options: TrendsQueryOptions, window: ReadWindow, plan: KeyPlan, body: (table: string) => Promise<T>): Promise<T> {
  const table = `ul_trends_days_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  await runStatement(session, buildPersonDaysTable(table, def, options, window, plan));
  try {
    return await body(table);
  } finally {
    // A failed drop must not hide the body's own error; a leftover temp table dies with the connection.
    await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(table)}`).catch(() => undefined);
  }
}

async function measureSeries(
  queries: TrendsQueries,
  def: TrendsDefinition,
  options: TrendsQueryOptions,
  range: Range,
  periods: readonly Period[],
  span: DataSpan | null,
): Promise<Pick<TrendsResult, 'measure' | 'series'>> {
  const lifecycle = def.measure === 'lifecycle';
  const first = periods[0]!;
  const last = periods[periods.length - 1]!;
  const previousStart = shiftInterval(def.interval, first.start, -1);
  // Lifecycle counts whole intervals and reads all history (from the first day of data); the others count the
  // range and read back only as far as their trailing windows.
  const lifecycleFrom = span !== null && span.first_day < previousStart ? span.first_day : previousStart;
  const window: ReadWindow = lifecycle ? { from: lifecycleFrom, toExclusive: addDays(last.end, 1) } : readWindow(def, range);
  const counted = lifecycle ? { from: first.start, to: last.end } : range;
  const { plan, keys } = await seriesKeys(queries, def, options, window, counted);

  switch (def.measure) {
    case 'events':
    case 'people': {
      const rows = checkKeys(await queries.counts(def, options, window, plan, def.measure === 'people'), keys);
      return def.measure === 'events'
        ? { measure: 'events', series: eventsSeries(def, keys, periods, span, rows) }
        : { measure: 'people', series: peopleSeries(def, keys, periods, span, rows) };
    }
    case 'active_users':
    case 'stickiness': {
      const windows = resolveWindows(def)!;
      const wau = windows.wau ?? windows.mau;
      const [dailyRows, activeDaysRows] = await queries.activity(def, options, window, plan, range, wau, windows.mau);
      const [daily, activeDays] = [checkKeys(dailyRows, keys), checkKeys(activeDaysRows, keys)];
      return def.measure === 'active_users'
        ? { measure: 'active_users', series: activeUsersSeries(def, keys, periods, range, span, { wau, mau: windows.mau }, daily, activeDays) }
        : { measure: 'stickiness', series: stickinessSeries(def, keys, periods, range, span, windows.mau, daily, activeDays) };
    }
    case 'lifecycle': {
      const rows = await queries.lifecycle(def, options, { firstStart: first.start, lastStart: last.start, previousStart, endExclusive: addDays(last.end, 1) }, window.from, plan, resolveLifecycleNew(def)!);
      return { measure: 'lifecycle', series: lifecycleSeries(def, keys, periods, span, checkKeys(rows, keys)) };
    }
  }
}

/** An empty warehouse without a date range has no periods: each series is there, with nothing in it. */
function emptySeries(def: TrendsDefinition): Pick<TrendsResult, 'measure' | 'series'> {
  const totals = {
    events: { events: 0 },
    people: { people: 0 },
    active_users: { people: 0, average_dau: 0, average_wau: 0, average_mau: 0 },
    stickiness: { people: 0, dau_mau: null, active_days: [] },
    lifecycle: { new: 0, returning: 0, resurrecting: 0, dormant: 0 },
  }[def.measure];
  // With a breakdown there are no values to list.
  const series = def.breakdown != null ? [] : def.events.map((s, i) => ({ label: seriesLabel(s), series_index: i, event: s.event, breakdown_value: null, breakdown_other: false, total: totals, points: [] }));
  return { measure: def.measure, series } as Pick<TrendsResult, 'measure' | 'series'>;
}

/** Runs a trend and returns its JSON result (docs/analyses/trends.md#json-output). */
export async function runTrends(session: EngineSession, definition: TrendsDefinition, options: AnalysisRunOptions): Promise<TrendsResult> {
  assertRules(trendsRules(definition));
  assertTimezone(options.timezone, 'trends');
  const weekStart: WeekStart = options.weekStart ?? 'monday';
  const queryOptions: TrendsQueryOptions = { timezone: options.timezone, weekStart, ...(options.segments === undefined ? {} : { segments: options.segments }) };
  const queries = isClickhouse(session) ? clickhouseQueries(session) : duckdbQueries(session);
  const span = await dataSpan(queries, options.timezone);
  const range: Range | null = definition.date_range ?? (span === null ? null : defaultRange(span.last_day, definition.interval, weekStart));
  const periods = range === null ? [] : periodsOf(range, definition.interval, weekStart, definition.measure !== 'lifecycle');
  const body = periods.length === 0 ? emptySeries(definition) : await measureSeries(queries, definition, queryOptions, range!, periods, span);
  const excluded: ExcludedSummary = await queries.excluded({ ...definition, date_range: range }, {
    kind: 'trends',
    timezone: options.timezone,
    ...(options.segments === undefined ? {} : { segments: options.segments }),
  });
  return {
    kind: 'trends',
    version: 1,
    name: definition.name,
    measure: body.measure,
    definition: resolveTrendsDefinition(definition, resolveScope(definition, options.timezone), weekStart, range),
    data_span: span,
    excluded,
    series: body.series,
  } as TrendsResult;
}

export const trendsAnalysis: AnalysisKind<TrendsDefinition, TrendsResult> = {
  kind: 'trends',
  engines: ['duckdb', 'clickhouse'],
  parse: parseTrendsDefinition,
  run: runTrends,
};
