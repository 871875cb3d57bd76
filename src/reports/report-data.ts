/**
 * Everything the monthly report shows, computed once: each analysis runs one time for the month (and, where the
 * report compares, once for the previous month), and every section reads from this object. Sections never query
 * the warehouse themselves. The runs go through an AnalysisPool: independent ones side by side on their own
 * connections, and a definition asked for twice (report and insights) run once.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
import type { FrictionResult } from '../analyses/friction/friction-result.js';
import { adoptionAnalysis } from '../analyses/adoption/adoption-analysis.js';
import type { AdoptionResult } from '../analyses/adoption/adoption-result.js';
import { retentionAnalysis } from '../analyses/retention/retention-analysis.js';
import type { RetentionResult } from '../analyses/retention/retention-result.js';
import { computeInsights, settled } from './insights/insights.js';
import { AnalysisPool, type RunListener } from './analysis-pool.js';
import { weeklyFriction, type WeeklyFriction } from './weekly-friction.js';
import type { InsightsResult } from './insights/insight-result.js';
import { NEW_PEOPLE_RETENTION, retentionRange } from './new-people-retention.js';
import { reportMonth, weeksOf, type ReportMonth } from './report-period.js';
import { periodInstants, piiFacts, qualityFacts, sourceFreshness, type PeriodInstants, type PiiFacts, type QualityFacts, type SourceFreshness } from './report-warehouse-facts.js';

type ActiveUsersResult = Extract<TrendsResult, { measure: 'active_users' }>;
type LifecycleResult = Extract<TrendsResult, { measure: 'lifecycle' }>;
type PeopleResult = Extract<TrendsResult, { measure: 'people' }>;

export interface FunnelReport {
  /** The saved query's file name without extension. */
  query: string;
  current: FunnelResult;
  previous: FunnelResult;
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
  pii: PiiFacts;
  /** Daily DAU / WAU / MAU over the previous month and this one. */
  activeDaily: ActiveUsersResult;
  /** Monthly lifecycle (new, returning, resurrecting, dormant) for the previous month and this one. */
  lifecycle: LifecycleResult;
  /** People per product event name (kind custom), per month (both months). */
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

export function lateDataDays(ws: Workspace, source: string): number {
  const sources = ws.config.sources as Record<string, { late_data_days?: number } | undefined>;
  return sources[source]?.late_data_days ?? REPORT_DEFAULTS.late_data_days[source] ?? 0;
}

/** The built-in definitions: what the report shows when usagelab.yaml names no saved query. */
export const BUILT_IN = {
  paths: { kind: 'paths', name: 'Top page paths', step: 'page', depth: 4 },
  retention: NEW_PEOPLE_RETENTION,
  friction: { kind: 'friction', name: 'Friction hotspots', compare: 'previous_month' },
  adoption: { kind: 'adoption', name: 'Feature adoption', interval: 'week', retention_intervals: 0 },
} as const;

export interface CollectOptions {
  /** DuckDB connections the analyses run on side by side (default: half the cores, 1 to 4). */
  connections?: number;
  /** Called as each analysis run (and the chart rendering) ends: the bench prints where the time goes. */
  onRun?: RunListener;
}

/**
 * Connections for the report's runs: half the cores, 1 to 4. Every statement already runs on all of DuckDB's
 * threads; a second connection only overlaps single-threaded phases, and on 2 cores that gained less than two
 * queries lost to sharing the cores (docs/performance.md "Report").
 */
export function defaultReportConnections(): number {
  return Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));
}

export async function collectReportData(ws: Workspace, monthText: string, config: ReportConfig, options: CollectOptions = {}): Promise<ReportData> {
  const month = reportMonth(monthText);
  const { range } = month;
  const both: DateRange = { from: month.previous.range.from, to: range.to };
  const timezone = ws.config.timezone;
  const session = ws.warehouse;
  const period = await periodInstants(session, range, timezone);
  const top = config.top;
  // Saved queries are read and checked before anything runs: a bad name fails fast, with nothing in flight.
  const pathsInput = config.paths == null ? { ...BUILT_IN.paths, top } : savedQuery(ws, config.paths, 'paths', 'paths').doc;
  const funnelQueries = config.funnels == null
    ? savedQueriesOfKind(ws.paths.queries, 'funnel')
    : config.funnels.map((name) => ({ name, ...savedQuery(ws, name, 'funnel', 'funnels') }));
  // Compared with the month before, as every other section, unless the saved query says otherwise.
  const frictionInput = config.friction == null ? { ...BUILT_IN.friction, top } : { compare: BUILT_IN.friction.compare, ...savedQuery(ws, config.friction, 'friction', 'friction').doc };
  const frictionDefinition = frictionAnalysis.parse({ ...frictionInput, date_range: { ...range } });
  const adoptionInput = config.adoption == null ? BUILT_IN.adoption : savedQuery(ws, config.adoption, 'adoption', 'adoption').doc;
  const retentionInput = config.retention == null ? BUILT_IN.retention : savedQuery(ws, config.retention, 'retention', 'retention').doc;
  const segmentNames = config.segments ?? [...new Set([...ws.segments().values()].map((s) => s.name))].sort();
  const pool = await AnalysisPool.open(ws, options.connections ?? defaultReportConnections(), options.onRun);
  try {
    const run = pool.run;
    const over = <D, R>(kind: AnalysisKind<D, R>, input: Record<string, unknown>, r: DateRange, extra?: object, file?: string): Promise<R> =>
      run(kind, { ...input, date_range: { ...r } }, extra, file);

    // Everything below is independent: it is started at once and the pool runs it on its connections.
    const sources = pool.withSession('facts: sources', (s) => sourceFreshness(s, period, (src) => lateDataDays(ws, src)));
    const quality = pool.withSession('facts: quality', (s) => qualityFacts(s, period));
    const pii = pool.withSession('facts: personal data', (s) => piiFacts(s, period));
    const activeDaily = over(trendsAnalysis, { kind: 'trends', name: 'Active users', measure: 'active_users', interval: 'day' }, both) as Promise<ActiveUsersResult>;
    const lifecycle = over(trendsAnalysis, { kind: 'trends', name: 'New and returning', measure: 'lifecycle', interval: 'month' }, both) as Promise<LifecycleResult>;
    // Product events only (kind custom); the tools' automatic ones among them are dropped by the section, so
    // a few more values are asked for. Twice the rows: values are ranked over both months, the table by this one.
    const topEvents = over(
      trendsAnalysis,
      { kind: 'trends', name: 'Top events', measure: 'people', interval: 'month', breakdown: 'event_name', breakdown_limit: top * 2 + 20, where: { event_kind: 'custom' } },
      both,
    ) as Promise<PeopleResult>;
    const topPages = over(
      trendsAnalysis,
      { kind: 'trends', name: 'Top pages', measure: 'people', interval: 'month', breakdown: 'page_path', breakdown_limit: top * 2, where: { event_kind: ['page_view', 'screen_view'] } },
      both,
    ) as Promise<PeopleResult>;

    const paths = over(pathsAnalysis, pathsInput, range);

    const funnels = funnelQueries.map(async (q): Promise<FunnelReport> => {
      // Asked for exactly as the insights module asks (next events are on by default; the previous month without
      // its breakdown, of which the report shows only the steps), so the pool runs each of these once for both.
      const [current, previous] = await settled([
        over(funnelAnalysis, q.doc, range, {}, q.file),
        over(funnelAnalysis, { ...q.doc, breakdown: null }, month.previous.range, {}, q.file),
      ]);
      return { query: q.name, current, previous };
    });

    const friction = over(frictionAnalysis, frictionInput, range);
    // One grouped pass for the weekly rates (weekly-friction.ts), counted as the friction analysis counts.
    const frictionWeeks = pool.withSession('weekly frustration rates', (s) =>
      weeklyFriction(s, frictionDefinition, weeksOf(range, ws.config.week_start), { kind: 'friction', timezone, segments: ws.segments() }),
    );

    const adoption = over(adoptionAnalysis, adoptionInput, range).then(
      (value): Maybe<AdoptionResult> => ({ ok: true, value }),
      (err: unknown): Maybe<AdoptionResult> => {
        if (!(err instanceof UsageLabError) || err.code !== 'features_file_missing') throw err;
        return { ok: false, reason: 'the workspace has no feature catalog (queries/features.yaml)' };
      },
    );

    // "Now" is the end of the report month: a re-run later gives the same heatmap (cells after it stay incomplete).
    const retention = over(retentionAnalysis, retentionInput, retentionRange(month.month), { now: new Date(period.end) });

    const segments = segmentNames.map(async (name): Promise<SegmentReport> => ({
      name,
      result: (await over(trendsAnalysis, { kind: 'trends', name: `Active users in ${name}`, measure: 'active_users', interval: 'month', segment: name }, both)) as ActiveUsersResult,
    }));

    // The insights module runs its own comparisons (docs/insights.md) through the same pool: definitions the
    // report already ran (the month's adoption) are answered from it.
    const insights = computeInsights(ws, { month: month.month, pool });

    const [sourcesV, qualityV, piiV, activeDailyV, lifecycleV, topEventsV, topPagesV, pathsV, frictionV, frictionWeeksV, adoptionV, retentionV, insightsV, funnelsV, segmentsV] = await settled([
      sources,
      quality,
      pii,
      activeDaily,
      lifecycle,
      topEvents,
      topPages,
      paths,
      friction,
      frictionWeeks,
      adoption,
      retention,
      insights,
      settled(funnels),
      settled(segments),
    ] as const);
    return {
      project: ws.config.project.name,
      month,
      timezone,
      weekStart: ws.config.week_start,
      config,
      period,
      sources: sourcesV,
      quality: qualityV,
      pii: piiV,
      activeDaily: activeDailyV,
      lifecycle: lifecycleV,
      topEvents: topEventsV,
      topPages: topPagesV,
      paths: pathsV,
      funnels: funnelsV,
      friction: frictionV,
      frictionWeeks: frictionWeeksV,
      adoption: adoptionV,
      retention: retentionV,
      segments: segmentsV,
      insights: insightsV,
    };
  } finally {
    pool.close();
  }
}
