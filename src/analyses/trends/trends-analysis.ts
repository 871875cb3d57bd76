/**
 * Runs a trend: finds the data span (and from it the default date range), ranks breakdown values when there is a
 * breakdown, then runs the measure's queries and shapes the rows into series of points.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import type { AnalysisKind, AnalysisRunOptions, AnalysisSession } from '../analysis-kind.js';
import { excludedSummary, type ExcludedSummary } from '../common/scope-sql.js';
import { resolveScope } from '../common/definition-parts.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, queryFailed, queryRows } from '../common/run-support.js';
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
import { trendsRules } from './trends-rules.js';

type Range = { from: string; to: string };

async function dataSpan(session: AnalysisSession, timezone: string): Promise<DataSpan | null> {
  const [row] = await queryRows<{ first_day: string | null; last_day: string | null }>(session, buildDataSpanQuery(timezone));
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
  session: AnalysisSession,
  def: TrendsDefinition,
  options: TrendsQueryOptions,
  window: ReadWindow,
  counted: { from: string; to: string },
): Promise<{ plan: KeyPlan; keys: SeriesKey[] }> {
  const limit = resolveBreakdownLimit(def);
  let plan = NO_BREAKDOWN;
  let values: { value: string | null; other: boolean }[] = [{ value: null, other: false }];
  if (limit !== null) {
    const ranked = await queryRows<{ value: string | null; events: number }>(session, buildBreakdownRankQuery(def, options, window, counted, limit));
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
  const create = buildPersonDaysTable(table, def, options, window, plan);
  try {
    await session.connection.run(create.sql, create.params as never);
  } catch (err) {
    throw queryFailed(err, create.sql);
  }
  try {
    return await body(table);
  } finally {
    // A failed drop must not hide the body's own error; a leftover temp table dies with the connection.
    await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(table)}`).catch(() => undefined);
  }
}

async function measureSeries(
  session: AnalysisSession,
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
  const { plan, keys } = await seriesKeys(session, def, options, window, counted);

  switch (def.measure) {
    case 'events':
    case 'people': {
      const rows = checkKeys(await queryRows<CountRow>(session, buildCountsQuery(def, options, window, plan, def.measure === 'people')), keys);
      return def.measure === 'events'
        ? { measure: 'events', series: eventsSeries(def, keys, periods, span, rows) }
        : { measure: 'people', series: peopleSeries(def, keys, periods, span, rows) };
    }
    case 'active_users':
    case 'stickiness': {
      const windows = resolveWindows(def)!;
      const wau = windows.wau ?? windows.mau;
      const [daily, activeDays] = await withPersonDays(session, def, options, window, plan, async (table) => [
        checkKeys(await queryRows<DailyRow>(session, buildDailyActiveQuery(table, range, wau, windows.mau)), keys),
        checkKeys(await queryRows<ActiveDaysRow>(session, buildActiveDaysQuery(table, range, def.interval, options.weekStart)), keys),
      ] as const);
      return def.measure === 'active_users'
        ? { measure: 'active_users', series: activeUsersSeries(def, keys, periods, range, span, { wau, mau: windows.mau }, daily, activeDays) }
        : { measure: 'stickiness', series: stickinessSeries(def, keys, periods, range, span, windows.mau, daily, activeDays) };
    }
    case 'lifecycle': {
      const query = buildLifecycleQuery(
        def,
        options,
        { firstStart: first.start, lastStart: last.start, previousStart, endExclusive: addDays(last.end, 1) },
        window.from,
        plan,
        resolveLifecycleNew(def)!,
      );
      return { measure: 'lifecycle', series: lifecycleSeries(def, keys, periods, span, checkKeys(await queryRows<LifecycleRow>(session, query), keys)) };
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
export async function runTrends(session: AnalysisSession, definition: TrendsDefinition, options: AnalysisRunOptions): Promise<TrendsResult> {
  assertRules(trendsRules(definition));
  assertTimezone(options.timezone, 'trends');
  const weekStart: WeekStart = options.weekStart ?? 'monday';
  const queryOptions: TrendsQueryOptions = { timezone: options.timezone, weekStart, ...(options.segments === undefined ? {} : { segments: options.segments }) };
  const span = await dataSpan(session, options.timezone);
  const range: Range | null = definition.date_range ?? (span === null ? null : defaultRange(span.last_day, definition.interval, weekStart));
  const periods = range === null ? [] : periodsOf(range, definition.interval, weekStart, definition.measure !== 'lifecycle');
  const body = periods.length === 0 ? emptySeries(definition) : await measureSeries(session, definition, queryOptions, range!, periods, span);
  const excluded: ExcludedSummary = await excludedSummary(session, { ...definition, date_range: range }, new BoundParams(), {
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
  parse: parseTrendsDefinition,
  run: runTrends,
};
