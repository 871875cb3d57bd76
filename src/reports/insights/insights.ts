/**
 * `computeInsights(ws, { month })`: runs the analyses over a month and the month before (saved funnels with
 * their breakdowns and every saved segment, friction per signal, adoption of the feature catalog), turns them
 * into tested comparisons, adjusts for their number and ranks what stands out. docs/insights.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { adoptionAnalysis } from '../../analyses/adoption/adoption-analysis.js';
import type { AdoptionResult } from '../../analyses/adoption/adoption-result.js';
import { frictionAnalysis } from '../../analyses/friction/friction-analysis.js';
import { funnelAnalysis } from '../../analyses/funnel/funnel-analysis.js';
import { retentionAnalysis } from '../../analyses/retention/retention-analysis.js';
import { withoutBreakdown, type FunnelResult } from '../../analyses/funnel/funnel-result.js';
import { parseWindowMicros } from '../../analyses/funnel/funnel-rules.js';
import { readYamlFile } from '../../library/saved-segments.js';
import type { Workspace } from '../../library/workspace.js';
import {
  adoptionCandidates,
  conversionCandidates,
  frictionCandidates,
  retentionCandidates,
  type Candidate,
  type CandidateSet,
  type FunnelRun,
} from './insight-candidates.js';
import { assertMonth, monthRange, previousMonth, usableRange, type DayRange } from './insight-months.js';
import type { InsightSettings, InsightSkip, InsightsResult } from './insight-result.js';
import { rankCandidates } from './insight-rank.js';
import { pageFriction, PAGE_FRICTION_SIGNALS } from './page-friction.js';
import { AnalysisPool, type RunAnalysis } from '../analysis-pool.js';
import { NEW_PEOPLE_RETENTION, retentionNow, retentionRange } from '../new-people-retention.js';

export const DEFAULT_INSIGHT_SETTINGS: Readonly<InsightSettings> = { fdr: 0.05, min_effect_h: 0.2, min_sample: 30, min_outcomes: 5, top: 10 };

export interface InsightsOptions {
  /** YYYY-MM in the configured time zone; default: the month of the last event. */
  month?: string;
  settings?: Partial<InsightSettings>;
  /**
   * Runs the analyses and the insights' own query (default: a pool of the insights' own). The monthly report passes
   * its pool, which answers definitions it already ran and runs the rest side by side.
   */
  pool?: Pick<AnalysisPool, 'run' | 'withSession'>;
}

const DAY_MICROS = 86_400_000_000;

async function dataDays(ws: Workspace): Promise<{ from: string; through: string } | null> {
  const rows = await ws.warehouse.all<{ first_day: string | null; last_day: string | null }>(
    `SELECT CAST(CAST(timezone($1, min(occurred_at)) AS DATE) AS VARCHAR) AS first_day,
            CAST(CAST(timezone($1, max(occurred_at)) AS DATE) AS VARCHAR) AS last_day
       FROM events`,
    [ws.config.timezone],
  );
  const r = rows[0];
  return r === undefined || r.first_day === null || r.last_day === null ? null : { from: r.first_day, through: r.last_day };
}

/** Saved queries of kind funnel in queries/, by file name, in name order. */
function savedFunnels(queriesDir: string): { name: string; file: string; doc: Record<string, unknown> }[] {
  if (!existsSync(queriesDir)) return [];
  return readdirSync(queriesDir, { withFileTypes: true })
    .filter((d) => d.isFile() && ['.yaml', '.yml'].includes(extname(d.name)))
    .map((d) => join(queriesDir, d.name))
    .sort()
    .flatMap((file) => {
      const doc = readYamlFile(file);
      return doc !== null && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'funnel' ? [{ name: basename(file, extname(file)), file, doc: doc as Record<string, unknown> }] : [];
    });
}

/**
 * Promise.all that waits for every run before it fails with the first error: no run is left going on a pool
 * connection that the caller is about to close.
 */
export async function settled<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

function describe(err: unknown): string {
  return err instanceof UsageLabError ? `${err.code}: ${err.message}` : String(err);
}

export async function computeInsights(ws: Workspace, options: InsightsOptions = {}): Promise<InsightsResult> {
  if (options.pool !== undefined) return insightsWith(ws, options, options.pool);
  // The runs below start together; each needs a connection of its own (one connection runs one statement at a time,
  // and analyses keep temp tables on it).
  const pool = await AnalysisPool.open(ws, 2);
  try {
    return await insightsWith(ws, options, pool);
  } finally {
    pool.close();
  }
}

async function insightsWith(ws: Workspace, options: InsightsOptions, pool: Pick<AnalysisPool, 'run' | 'withSession'>): Promise<InsightsResult> {
  const runAnalysis: RunAnalysis = pool.run;
  const settings: InsightSettings = { ...DEFAULT_INSIGHT_SETTINGS, ...(options.settings ?? {}) };
  if (options.month !== undefined) assertMonth(options.month);
  const data = await dataDays(ws);
  const month = options.month ?? data?.through.slice(0, 7) ?? new Date().toISOString().slice(0, 7);
  const prevMonth = previousMonth(month);
  const months = { current: month, previous: prevMonth };
  const skipped: InsightSkip[] = [];
  const sets: CandidateSet[] = [];
  const base: Omit<InsightsResult, 'tested' | 'significant' | 'insights' | 'skipped'> & { below_min_sample: number } = {
    kind: 'insights',
    version: 1,
    month,
    previous_month: prevMonth,
    data_from: data?.from ?? null,
    data_through: data?.through ?? null,
    timezone: ws.config.timezone,
    settings,
    below_min_sample: 0,
  };
  const current = data === null ? null : usableRange(monthRange(month), data);
  if (data === null || current === null) {
    skipped.push({ what: `month ${month}`, reason: data === null ? 'the warehouse has no events' : `no data in ${month} (data covers ${data.from} … ${data.through})` });
    return { ...base, tested: 0, significant: 0, insights: [], skipped };
  }
  const previous = usableRange(monthRange(prevMonth), data);
  if (previous === null) skipped.push({ what: 'month-over-month comparisons', reason: `no data in ${prevMonth}` });
  const rules = { min_sample: settings.min_sample, min_outcomes: settings.min_outcomes };
  // Every group of runs starts at once (a pool runs them side by side); results are collected in a fixed order,
  // so the outcome does not depend on which run finishes first.
  type Outcome = { set: CandidateSet } | { skip: InsightSkip } | null;
  const attempt = async (what: string, body: () => Promise<CandidateSet | null>): Promise<Outcome> => {
    try {
      const set = await body();
      return set === null ? null : { set };
    } catch (err) {
      return { skip: { what, reason: describe(err) } };
    }
  };

  // Conversion: every saved funnel, its cohorts limited to those whose window ended before the data does.
  const segmentNames = [...new Set([...ws.segments().values()].map((d) => d.name))].sort();
  const funnelOutcomes = savedFunnels(ws.paths.queries).map((funnel) =>
    attempt(`funnel ${funnel.name}`, async () => {
      const def = funnelAnalysis.parse(funnel.doc, funnel.file);
      const windowDays = Math.ceil(parseWindowMicros(def.window)! / DAY_MICROS);
      const cur = usableRange(monthRange(month), data, windowDays);
      if (cur === null) {
        skipped.push({ what: `funnel ${funnel.name}`, reason: `no ${month} cohort had its ${def.window} window complete by ${data.through}` });
        return null;
      }
      const run = (range: DayRange, breakdown?: string): Promise<FunnelResult> =>
        runAnalysis(funnelAnalysis, { ...funnel.doc, date_range: range, ...(breakdown === undefined ? { breakdown: null } : { breakdown }) }, undefined, funnel.file);
      const prev = previous === null ? null : usableRange(monthRange(prevMonth), data, windowDays);
      const fields = [...(typeof funnel.doc.breakdown === 'string' ? [funnel.doc.breakdown] : []), ...segmentNames.map((s) => `segment:${s}`)];
      const byField = [...new Set(fields)];
      // A run broken down by the funnel's own field already holds the month's overall steps (each unit is in one
      // group): inside a report that run is the funnel section's, so the month costs no run of its own.
      const own = typeof funnel.doc.breakdown === 'string' ? byField.indexOf(funnel.doc.breakdown) : -1;
      const [plainRun, previousRun, ...breakdowns] = await settled([own === -1 ? run(cur) : null, prev === null ? null : run(prev), ...byField.map((field) => run(cur, field))]);
      const currentRun = own === -1 ? plainRun! : withoutBreakdown(breakdowns[own]!);
      const funnelRun: FunnelRun = { query: funnel.name, current: currentRun, previous: previousRun ?? null, breakdowns: breakdowns as FunnelResult[] };
      return conversionCandidates(funnelRun, months, rules);
    }),
  );

  // Friction: one grouped pass for every signal and both months (page-friction.ts), counted as a friction run
  // with that one signal counts; each signal is compared on its own.
  const frictionOutcome = attempt('friction', async () => {
    const def = frictionAnalysis.parse({ kind: 'friction', name: 'insights' });
    const pages = await pool.withSession('insights: page friction', (s) => pageFriction(s, def, current, previous, { ...ws.analysisOptions(), kind: 'friction' }));
    const sets = PAGE_FRICTION_SIGNALS.map((signal) =>
      frictionCandidates({ signal, pages, query: `usagelab friction --signals ${signal} --from ${current.from} --to ${current.to} --min-sessions 1 --top 1000 --compare none` }, months, rules),
    );
    return { candidates: sets.flatMap((x) => x.candidates), below_min_sample: sets.reduce((n, x) => n + x.below_min_sample, 0) };
  });

  // Retention of new people: the report's weekly cohorts (new-people-retention.ts; inside a report the pool runs it
  // once for both), and the same per saved segment.
  const retentionOutcome = attempt('retention', async () => {
    const input = { ...NEW_PEOPLE_RETENTION, name: 'insights: new people', date_range: retentionRange(month) };
    const extra = { now: await retentionNow(ws.warehouse, month, ws.config.timezone) };
    const [result, ...breakdowns] = await settled([
      runAnalysis(retentionAnalysis, input, extra),
      ...segmentNames.map((name) => runAnalysis(retentionAnalysis, { ...input, breakdown: `segment:${name}` }, extra)),
    ]);
    const { from, to } = input.date_range;
    const query = `usagelab retention '$any' --returning '$any' --cohort first_time --interval week --intervals ${input.intervals} --from ${from} --to ${to}`;
    return retentionCandidates({ result: result!, breakdowns, query }, months, rules);
  });

  // Adoption: the feature catalog, when the workspace has one.
  const adoptionOutcome = attempt('adoption', async () => {
    const run = (range: DayRange): Promise<AdoptionResult> =>
      runAnalysis(adoptionAnalysis, { kind: 'adoption', name: 'insights', retention_intervals: 0, date_range: range });
    const [cur, prev] = await settled([run(current), previous === null ? null : run(previous)]);
    const query = `usagelab adoption --from ${current.from} --to ${current.to} --retention-intervals 0`;
    return adoptionCandidates({ current: cur, previous: prev, query }, months, rules);
  });

  for (const outcome of await Promise.all([...funnelOutcomes, frictionOutcome, retentionOutcome, adoptionOutcome])) {
    if (outcome === null) continue;
    if ('set' in outcome) sets.push(outcome.set);
    else skipped.push(outcome.skip);
  }

  const candidates: Candidate[] = sets.flatMap((s) => s.candidates);
  const ranked = rankCandidates(candidates, settings);
  return {
    ...base,
    below_min_sample: sets.reduce((a, s) => a + s.below_min_sample, 0),
    tested: ranked.tested,
    significant: ranked.insights.length,
    insights: ranked.insights.slice(0, settings.top),
    skipped,
  };
}
