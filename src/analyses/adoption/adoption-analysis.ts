/**
 * Runs an adoption analysis: the catalog's features are matched in one scan into a temporary table, then users,
 * uses, frustration, active users and retention are grouped from it in SQL; classification and the result's
 * shape are plain code (docs/analyses/adoption.md).
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type ClickhouseAnalysisSession, type EngineSession } from '../analysis-kind.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, chQueryRows, queryRows, runStatement } from '../common/run-support.js';
import { excludedSummary } from '../common/scope-sql.js';
import { chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import { chActiveUsersQuery, chDataBoundsQuery, chRetentionQuery, chUsageQuery } from './adoption-query-clickhouse.js';
import { classifyFeature } from './adoption-classify.js';
import { adoptionRules, parseAdoptionDefinition, type AdoptionDefinition } from './adoption-definition.js';
import { assertCatalog, planAdoption } from './adoption-plan.js';
import {
  buildActiveUsersQuery,
  buildDataBoundsQuery,
  buildFeatureEventsTable,
  buildFeaturesTable,
  buildMarkedEventsTable,
  buildRetentionQuery,
  buildUsageQuery,
  type AdoptionSqlOptions,
  type AdoptionTables,
} from './adoption-query.js';
import type {
  AdoptionBreakdownGroup,
  AdoptionResult,
  FeatureAdoption,
  FeatureCore,
  FeatureFrequency,
  FeaturePeriod,
  RetentionInterval,
  ResolvedAdoptionDefinition,
} from './adoption-result.js';
import type { CatalogFeature, FeatureCatalog } from './feature-catalog.js';

export interface AdoptionRunOptions extends AnalysisRunOptions {
  /** The feature catalog (queries/features.yaml; the library reads it with loadFeatureCatalog). */
  catalog: FeatureCatalog;
}

interface UsageRow {
  f: number;
  grp: string | null;
  users: number;
  uses: number;
  median_uses: number | null;
  sessions: number;
  frustrated: number;
  rage: number;
  dead: number;
  err: number;
}

interface ActiveRow {
  f: number;
  grp: string | null;
  active: number;
}

interface RetentionRow {
  f: number;
  k: number;
  users: number;
  retained: number;
  pending: number;
}

/** Whole days from a to b (YYYY-MM-DD), as calendar dates (no time zone involved). */
function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

const maxDate = (dates: readonly (string | null)[]): string | null => dates.reduce<string | null>((a, d) => (d === null ? a : a === null || d > a ? d : a), null);
const minDate = (dates: readonly (string | null)[]): string | null => dates.reduce<string | null>((a, d) => (d === null ? a : a === null || d < a ? d : a), null);

/** date range ∩ [released, …) ∩ [data_from, data_through]; null when empty. */
function featurePeriod(def: ResolvedAdoptionDefinition, feature: CatalogFeature, dataFrom: string | null, dataThrough: string | null): FeaturePeriod | null {
  if (dataFrom === null || dataThrough === null) return null;
  const from = maxDate([def.date_range?.from ?? null, feature.released, dataFrom])!;
  const to = minDate([def.date_range?.to ?? null, dataThrough])!;
  if (from > to) return null;
  return { from, to, days: dayNumber(to) - dayNumber(from) + 1 };
}

function frequency(users: number, uses: number, median: number | null, period: FeaturePeriod | null): FeatureFrequency {
  // uses × 7 ÷ days rather than uses ÷ (days ÷ 7): exact for whole weeks (1/7 is not a binary fraction).
  const perWeek = period === null ? null : (uses * 7) / period.days;
  return {
    uses_per_user_mean: users === 0 ? null : uses / users,
    uses_per_user_median: users === 0 ? null : median,
    uses_per_week: perWeek,
    uses_per_user_per_week: users === 0 || perWeek === null ? null : perWeek / users,
  };
}

function retention(rows: readonly RetentionRow[], f: number, intervals: number): RetentionInterval[] {
  const byK = new Map(rows.filter((r) => r.f === f).map((r) => [r.k, r]));
  return Array.from({ length: intervals }, (_v, i) => {
    const row = byK.get(i + 1);
    const users = row?.users ?? 0;
    const retained = row?.retained ?? 0;
    const pending = row?.pending ?? 0;
    return { interval: i + 1, users, retained, share: users === 0 ? null : retained / users, pending_users: pending, complete: pending === 0 };
  });
}

function core(
  def: ResolvedAdoptionDefinition,
  feature: CatalogFeature,
  period: FeaturePeriod | null,
  periodEnd: string | null,
  active: number,
  usage: UsageRow | undefined,
): FeatureCore {
  const users = usage?.users ?? 0;
  const sessions = usage?.sessions ?? 0;
  const frustrated = usage?.frustrated ?? 0;
  const share = active === 0 ? null : users / active;
  const rate = sessions === 0 ? null : frustrated / sessions;
  const decided = classifyFeature({ period, released: feature.released, periodEnd, active_users: active, users, share, frustration_rate: rate }, def.thresholds);
  return {
    key: feature.key,
    name: feature.name,
    period,
    active_users: active,
    users,
    share,
    uses: usage?.uses ?? 0,
    frustration: {
      sessions,
      frustrated_sessions: frustrated,
      rate,
      rage_sessions: usage?.rage ?? 0,
      dead_sessions: usage?.dead ?? 0,
      error_sessions: usage?.err ?? 0,
    },
    class: decided.class,
    reason: decided.reason,
  };
}

const groupKey = (f: number, grp: string | null): string => `${f}\u0000${grp === null ? '\u0001' : grp}`;


function tableNames(): AdoptionTables {
  const id = `${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  return { features: `ul_adoption_features_${id}`, marked: `ul_adoption_marked_${id}`, featureEvents: `ul_adoption_events_${id}` };
}

interface AdoptionRows {
  usage: UsageRow[];
  groupUsage: UsageRow[];
  active: ActiveRow[];
  groupActive: ActiveRow[];
  retained: RetentionRow[];
}

/** The same rows on ClickHouse (adoption-query-clickhouse.ts): no temporary tables, each statement scans once. */
async function clickhouseRows(
  session: ClickhouseAnalysisSession,
  features: readonly CatalogFeature[],
  definition: AdoptionDefinition,
  sqlOptions: AdoptionSqlOptions,
  retentionIntervals: number,
  dataThrough: string | null,
): Promise<AdoptionRows> {
  const byGroup = definition.breakdown != null;
  const interval = sqlOptions.interval;
  return {
    usage: await chQueryRows<UsageRow>(session, chUsageQuery(features, definition, sqlOptions, false)),
    active: await chQueryRows<ActiveRow>(session, chActiveUsersQuery(features, definition, sqlOptions, false)),
    groupUsage: byGroup ? await chQueryRows<UsageRow>(session, chUsageQuery(features, definition, sqlOptions, true)) : [],
    groupActive: byGroup ? await chQueryRows<ActiveRow>(session, chActiveUsersQuery(features, definition, sqlOptions, true)) : [],
    // Without any event there is no use to follow (and no last day to judge completeness by).
    retained:
      retentionIntervals > 0 && interval !== null && dataThrough !== null
        ? await chQueryRows<RetentionRow>(session, chRetentionQuery(features, definition, { ...sqlOptions, interval }, retentionIntervals, dataThrough))
        : [],
  };
}

/** Runs an adoption analysis and returns its JSON result (docs/analyses/adoption.md#json-output). */
export async function runAdoption(session: EngineSession, definition: AdoptionDefinition, options: AdoptionRunOptions): Promise<AdoptionResult> {
  assertRules(adoptionRules(definition));
  assertTimezone(options.timezone, 'adoption');
  assertCatalog(options.catalog);
  const weekStart = options.weekStart ?? 'monday';
  const resolved = planAdoption(definition, options.catalog, options.timezone, weekStart);
  const features = resolved.features;
  if (features.length === 0) {
    throw new UsageLabError('adoption_features_empty', 'no feature to analyse', { place: { field: 'features' }, hint: 'declare features in queries/features.yaml', exitCode: EXIT.usage });
  }
  const sqlOptions: AdoptionSqlOptions = {
    timezone: options.timezone,
    weekStart,
    interval: resolved.retention_intervals > 0 ? resolved.interval : null,
    ...(options.segments === undefined ? {} : { segments: options.segments }),
  };
  const byGroup = definition.breakdown != null;

  type BoundsRow = { data_from: string | null; data_through: string | null };
  const [bounds] = isClickhouse(session)
    ? await chQueryRows<BoundsRow>(session, chDataBoundsQuery(options.timezone))
    : await queryRows<BoundsRow>(session, buildDataBoundsQuery(options.timezone));
  const dataFrom = bounds?.data_from ?? null;
  const dataThrough = bounds?.data_through ?? null;

  let usage: UsageRow[];
  let groupUsage: UsageRow[] = [];
  let active: ActiveRow[];
  let groupActive: ActiveRow[] = [];
  let retained: RetentionRow[] = [];
  if (isClickhouse(session)) {
    ({ usage, groupUsage, active, groupActive, retained } = await clickhouseRows(session, features, definition, sqlOptions, resolved.retention_intervals, dataThrough));
  } else {
    const tables = tableNames();
    try {
      await runStatement(session, buildFeaturesTable(tables.features, features, definition, options.timezone));
      await runStatement(session, buildMarkedEventsTable(tables, features, definition, sqlOptions));
      await runStatement(session, buildFeatureEventsTable(tables, features));
      await session.connection.run(`DROP TABLE temp.${quoteIdent(tables.marked)}`);
      usage = await queryRows<UsageRow>(session, buildUsageQuery(tables, false));
      active = await queryRows<ActiveRow>(session, buildActiveUsersQuery(tables, definition, sqlOptions, false));
      if (byGroup) {
        groupUsage = await queryRows<UsageRow>(session, buildUsageQuery(tables, true));
        groupActive = await queryRows<ActiveRow>(session, buildActiveUsersQuery(tables, definition, sqlOptions, true));
      }
      if (resolved.retention_intervals > 0) {
        retained = await queryRows<RetentionRow>(session, buildRetentionQuery(tables, resolved.interval, resolved.retention_intervals, sqlOptions));
      }
    } finally {
      await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(tables.marked)}`);
      await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(tables.featureEvents)}`);
      await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(tables.features)}`);
    }
  }

  const periodEnd = dataThrough === null ? null : minDate([resolved.date_range?.to ?? null, dataThrough]);
  const periods = features.map((f) => featurePeriod(resolved, f, dataFrom, dataThrough));
  const activeTotal = new Map(active.map((r) => [r.f, r.active]));
  const activeBy = new Map(groupActive.map((r) => [groupKey(r.f, r.grp), r.active]));
  const usageTotal = new Map(usage.map((r) => [r.f, r]));
  const usageBy = new Map(groupUsage.map((r) => [groupKey(r.f, r.grp), r]));

  const result: AdoptionResult = {
    kind: 'adoption',
    version: 1,
    name: definition.name,
    definition: resolved,
    data_from: dataFrom,
    data_through: dataThrough,
    active_users: activeTotal.get(-1) ?? 0,
    features: features.map((feature, f): FeatureAdoption => {
      const u = usageTotal.get(f);
      const base = core(resolved, feature, periods[f]!, periodEnd, activeTotal.get(f) ?? 0, u);
      return { ...base, frequency: frequency(base.users, base.uses, u?.median_uses ?? null, periods[f]!), retention: retention(retained, f, resolved.retention_intervals) };
    }),
    excluded: isClickhouse(session)
      ? await chExcludedSummary(session, definition, new ClickhouseParams(), { kind: 'adoption', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) })
      : await excludedSummary(session, definition, new BoundParams(), { kind: 'adoption', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) }),
  };
  if (byGroup) {
    const groups: AdoptionBreakdownGroup[] = groupActive
      .filter((r) => r.f === -1)
      .map((g) => ({
        value: g.grp,
        active_users: g.active,
        features: features.map((feature, f) => core(resolved, feature, periods[f]!, periodEnd, activeBy.get(groupKey(f, g.grp)) ?? 0, usageBy.get(groupKey(f, g.grp)))),
      }));
    groups.sort((a, b) => b.active_users - a.active_users || (a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    result.breakdown = groups;
  }
  return result;
}

export const adoptionAnalysis: AnalysisKind<AdoptionDefinition, AdoptionResult> = {
  kind: 'adoption',
  engines: ['duckdb', 'clickhouse'],
  parse: parseAdoptionDefinition,
  // The catalog comes with the run options (ws.runAnalysis(adoptionAnalysis, input, { catalog })); runAdoption
  // refuses to run without it (adoption_catalog_missing).
  run: (session, definition, options) => runAdoption(session, definition, options as AdoptionRunOptions),
};

export { parseAdoptionDefinition };
