/**
 * Everything the monthly report shows, computed once: each analysis runs one time for the month (and, where the
 * report compares, once for the previous month), and every section reads from this object. Sections never query
 * the warehouse themselves, so the cost of a report is the sum of the runs listed here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { ReportConfig } from '../core/report-config-schema.js';
import { REPORT_DEFAULTS } from '../core/report-config-schema.js';
import type { Workspace } from '../library/workspace.js';
import { readYamlFile } from '../library/saved-segments.js';
import { resolveQueryPath } from '../library/saved-query.js';
import type { AnalysisKind } from '../analyses/analysis-kind.js';
import type { DateRange } from '../analyses/common/definition-parts.js';
import { funnelAnalysis } from '../analyses/funnel/funnel-analysis.js';
import type { FunnelResult } from '../analyses/funnel/funnel-result.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import type { TrendsResult } from '../analyses/trends/trends-result.js';
import { pathsAnalysis } from '../analyses/paths/paths-analysis.js';
import type { PathsResult } from '../analyses/paths/paths-result.js';
import { frictionAnalysis } from '../analyses/friction/friction-analysis.js';
import type { FrictionResult, FrictionTotals } from '../analyses/friction/friction-result.js';
import { adoptionAnalysis } from '../analyses/adoption/adoption-analysis.js';
import type { AdoptionResult } from '../analyses/adoption/adoption-result.js';
import { retentionAnalysis } from '../analyses/retention/retention-analysis.js';
import type { RetentionResult } from '../analyses/retention/retention-result.js';
import { computeInsights } from './insights/insights.js';
import type { InsightsResult } from './insights/insight-result.js';
import { monthsEndingWith, reportMonth, weeksOf, type ReportMonth } from './report-period.js';
import { periodInstants, qualityFacts, sourceFreshness, type PeriodInstants, type QualityFacts, type SourceFreshness } from './report-warehouse-facts.js';

type ActiveUsersResult = Extract<TrendsResult, { measure: 'active_users' }>;
type LifecycleResult = Extract<TrendsResult, { measure: 'lifecycle' }>;
type PeopleResult = Extract<TrendsResult, { measure: 'people' }>;

export interface FunnelReport {
  /** The saved query's file name without extension. */
  query: string;
  current: FunnelResult;
  previous: FunnelResult;
}

export interface WeeklyFriction {
  range: DateRange;
  totals: FrictionTotals;
}

export interface SegmentReport {
  name: string;
  result: ActiveUsersResult;
}

/** A section's data, or why it is not there (shown in the report instead). */
export type Maybe<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface ReportData {
  project: string;
  month: ReportMonth;
  timezone: string;
  weekStart: 'monday' | 'sunday' | 'saturday';
  config: ReportConfig;
  period: PeriodInstants;
  sources: SourceFreshness[];
  quality: QualityFacts;
  /** Daily DAU / WAU / MAU over the previous month and this one. */
  activeDaily: ActiveUsersResult;
  /** Monthly lifecycle (new, returning, resurrecting, dormant) for the previous month and this one. */
  lifecycle: LifecycleResult;
  /** People per event name, per month (both months). */
  topEvents: PeopleResult;
  /** People per page (page and screen views), per month. */
  topPages: PeopleResult;
  paths: PathsResult;
  funnels: FunnelReport[];
  friction: FrictionResult;
  frictionWeeks: WeeklyFriction[];
  adoption: Maybe<AdoptionResult>;
  retention: RetentionResult;
  segments: SegmentReport[];
  insights: InsightsResult;
}

const QUERY_EXTENSIONS = ['.yaml', '.yml'];

/** Saved queries of one kind in queries/ (one level), by file name, sorted. */
export function savedQueriesOfKind(queriesDir: string, kind: string): { name: string; file: string; doc: Record<string, unknown> }[] {
  if (!existsSync(queriesDir)) return [];
  return readdirSync(queriesDir, { withFileTypes: true })
    .filter((d) => d.isFile() && QUERY_EXTENSIONS.includes(extname(d.name)))
    .map((d) => d.name)
    .sort()
    .flatMap((name) => {
      const file = join(queriesDir, name);
      const doc = readYamlFile(file) as Record<string, unknown> | null;
      return doc !== null && typeof doc === 'object' && doc.kind === kind ? [{ name: basename(name, extname(name)), file, doc }] : [];
    });
}

function savedQuery(ws: Workspace, name: string, kind: string, field: string): { file: string; doc: Record<string, unknown> } {
  const file = resolveQueryPath(ws, name);
  const doc = readYamlFile(file) as Record<string, unknown> | null;
  if (doc === null || typeof doc !== 'object' || doc.kind !== kind) {
    throw new UsageLabError('report_query_kind', `report.${field} names "${name}", which is not a ${kind} query`, {
      place: { file: 'usagelab.yaml', field: `report.${field}` },
      hint: `name a saved query with kind: ${kind} (or remove the key to use the built-in one)`,
      exitCode: EXIT.usage,
    });
  }
  return { file, doc };
}

/** Runs a saved query (or the built-in definition) over the given range: the report's month overrides its own. */
async function runOver<D, R>(ws: Workspace, kind: AnalysisKind<D, R>, input: Record<string, unknown>, range: DateRange, extra?: object, file?: string): Promise<R> {
  return ws.runAnalysis(kind, { ...input, date_range: { ...range } }, extra ?? {}, file);
}

export function lateDataDays(ws: Workspace, source: string): number {
  const sources = ws.config.sources as Record<string, { late_data_days?: number } | undefined>;
  return sources[source]?.late_data_days ?? REPORT_DEFAULTS.late_data_days[source] ?? 0;
}

/** The built-in definitions: what the report shows when usagelab.yaml names no saved query. */
export const BUILT_IN = {
  paths: { kind: 'paths', name: 'Top page paths', step: 'page', depth: 4 },
  retention: { kind: 'retention', name: 'Weekly retention of new people', target: '$any', returning: '$any', cohort: 'first_time', interval: 'week', intervals: 6 },
  friction: { kind: 'friction', name: 'Friction hotspots' },
  adoption: { kind: 'adoption', name: 'Feature adoption', interval: 'week', retention_intervals: 0 },
} as const;

/** How many months of cohorts the retention heatmap shows (ending with the report month). */
export const RETENTION_MONTHS = 3;

export async function collectReportData(ws: Workspace, monthText: string, config: ReportConfig): Promise<ReportData> {
  const month = reportMonth(monthText);
  const { range } = month;
  const both: DateRange = { from: month.previous.range.from, to: range.to };
  const timezone = ws.config.timezone;
  const session = ws.warehouse;
  const period = await periodInstants(session, range, timezone);
  const sources = await sourceFreshness(session, period, (s) => lateDataDays(ws, s));
  const quality = await qualityFacts(session, period);
  const top = config.top;

  const activeDaily = (await runOver(ws, trendsAnalysis, { kind: 'trends', name: 'Active users', measure: 'active_users', interval: 'day' }, both)) as ActiveUsersResult;
  const lifecycle = (await runOver(ws, trendsAnalysis, { kind: 'trends', name: 'New and returning', measure: 'lifecycle', interval: 'month' }, both)) as LifecycleResult;
  // Twice the rows asked for: values are ranked over both months, the table by this month.
  const topEvents = (await runOver(ws, trendsAnalysis, { kind: 'trends', name: 'Top events', measure: 'people', interval: 'month', breakdown: 'event_name', breakdown_limit: top * 2 }, both)) as PeopleResult;
  const topPages = (await runOver(
    ws,
    trendsAnalysis,
    { kind: 'trends', name: 'Top pages', measure: 'people', interval: 'month', breakdown: 'page_path', breakdown_limit: top * 2, where: { event_kind: ['page_view', 'screen_view'] } },
    both,
  )) as PeopleResult;

  const pathsInput = config.paths == null ? { ...BUILT_IN.paths, top } : savedQuery(ws, config.paths, 'paths', 'paths').doc;
  const paths = await runOver(ws, pathsAnalysis, pathsInput, range);

  const funnelQueries = config.funnels == null
    ? savedQueriesOfKind(ws.paths.queries, 'funnel')
    : config.funnels.map((name) => ({ name, ...savedQuery(ws, name, 'funnel', 'funnels') }));
  const funnels: FunnelReport[] = [];
  for (const q of funnelQueries) {
    const current = await runOver(ws, funnelAnalysis, q.doc, range, { nextEvents: true }, q.file);
    const previous = await runOver(ws, funnelAnalysis, q.doc, month.previous.range, { nextEvents: false }, q.file);
    funnels.push({ query: q.name, current, previous });
  }

  const frictionInput = config.friction == null ? { ...BUILT_IN.friction, top } : savedQuery(ws, config.friction, 'friction', 'friction').doc;
  const friction = await runOver(ws, frictionAnalysis, frictionInput, range);
  const frictionWeeks: WeeklyFriction[] = [];
  for (const week of weeksOf(range, ws.config.week_start)) {
    const r = await runOver(ws, frictionAnalysis, { ...frictionInput, compare: 'none', top: 1 }, week);
    frictionWeeks.push({ range: week, totals: r.overall });
  }

  let adoption: Maybe<AdoptionResult>;
  const adoptionInput = config.adoption == null ? BUILT_IN.adoption : savedQuery(ws, config.adoption, 'adoption', 'adoption').doc;
  try {
    adoption = { ok: true, value: await runOver(ws, adoptionAnalysis, adoptionInput, range) };
  } catch (err) {
    if (!(err instanceof UsageLabError) || err.code !== 'features_file_missing') throw err;
    adoption = { ok: false, reason: 'the workspace has no feature catalog (queries/features.yaml)' };
  }

  const retentionInput = config.retention == null ? BUILT_IN.retention : savedQuery(ws, config.retention, 'retention', 'retention').doc;
  const cohortFrom = reportMonth(monthsEndingWith(month.month, RETENTION_MONTHS)[0]!).range.from;
  // "Now" is the end of the report month: a re-run later gives the same heatmap (cells after it stay incomplete).
  const retention = await runOver(ws, retentionAnalysis, retentionInput, { from: cohortFrom, to: range.to }, { now: new Date(period.end) });

  const segmentNames = config.segments ?? [...new Set([...ws.segments().values()].map((s) => s.name))].sort();
  const segments: SegmentReport[] = [];
  for (const name of segmentNames) {
    const result = (await runOver(ws, trendsAnalysis, { kind: 'trends', name: `Active users in ${name}`, measure: 'active_users', interval: 'month', segment: name }, both)) as ActiveUsersResult;
    segments.push({ name, result });
  }

  // The insights module runs its own comparisons (docs/insights.md); the report shows what it found.
  const insights = await computeInsights(ws, { month: month.month });

  return {
    project: ws.config.project.name,
    month,
    timezone,
    weekStart: ws.config.week_start,
    config,
    period,
    sources,
    quality,
    activeDaily,
    lifecycle,
    topEvents,
    topPages,
    paths,
    funnels,
    friction,
    frictionWeeks,
    adoption,
    retention,
    segments,
    insights,
  };
}
