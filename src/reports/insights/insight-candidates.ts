/**
 * Turns analysis results into tested comparisons (docs/insights.md#what-is-compared): conversion of each funnel
 * step pair month over month and per group against the rest, each page's friction against the other pages and
 * against the previous month, each feature's adoption and frustration against the catalog's thresholds and the
 * previous month, new people's week-1 retention month over month and per saved segment against the rest. Pure
 * functions over results: insights.ts runs the analyses.
 */
import type { AdoptionResult, FeatureCore } from '../../analyses/adoption/adoption-result.js';
import type { FunnelResult, FunnelStepResult, ResolvedFunnelDefinition } from '../../analyses/funnel/funnel-result.js';
import type { RetentionCohort, RetentionResult } from '../../analyses/retention/retention-result.js';
import { count as num } from '../report-format.js';
import type { InsightComparison, InsightKind, InsightSide, InsightSubject } from './insight-result.js';
import type { PageFriction, PageSignalSessions } from './page-friction.js';
import { cohensH, newcombeDifferenceInterval, oneProportionZTest, twoProportionZTest, wilsonInterval, type Interval, type TestResult } from './insight-stats.js';

/** A comparison ready for ranking: everything of an Insight but the rank and the q-value. */
export interface Candidate {
  id: string;
  kind: InsightKind;
  comparison: InsightComparison;
  title: string;
  detail: string;
  metric: string;
  direction: 'up' | 'down';
  subject: InsightSubject;
  current: InsightSide;
  baseline: InsightSide;
  effect: { absolute: number; relative: number | null; cohens_h: number };
  test: TestResult;
  interval: Interval;
  n: number;
  query: string;
  /** Only the direction that is news is reported (e.g. a page with *more* friction); both are tested. */
  reportable: boolean;
}

export interface SampleRules {
  /** Fewest units on each side. */
  min_sample: number;
  /** Fewest units with, and without, the outcome (pooled over both sides): the normal approximation needs them. */
  min_outcomes: number;
}

/** Comparisons built, and how many were left untested for a too-small sample. */
export interface CandidateSet {
  candidates: Candidate[];
  below_min_sample: number;
}

const EMPTY_SUBJECT: InsightSubject = { funnel: null, steps: null, segment: null, page: null, element: null, signal: null, feature: null };

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const pts = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} pts`;

interface Pair {
  current: InsightSide;
  baseline: InsightSide;
}

/** Two counted sides → the two-proportion test, Newcombe interval and effect; null when the sample is too small. */
function compareCounts(pair: Pair, rules: SampleRules): { test: TestResult; interval: Interval; effect: Candidate['effect']; n: number } | null {
  const { x: x1, n: n1 } = pair.current;
  const { x: x2, n: n2 } = pair.baseline;
  if (x1 === null || n1 === null || x2 === null || n2 === null) return null;
  if (n1 < rules.min_sample || n2 < rules.min_sample) return null;
  const x = x1 + x2;
  const n = n1 + n2;
  if (x < rules.min_outcomes || n - x < rules.min_outcomes) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  return {
    test: twoProportionZTest(x1, n1, x2, n2),
    interval: newcombeDifferenceInterval(x1, n1, x2, n2),
    effect: { absolute: p1 - p2, relative: p2 === 0 ? null : (p1 - p2) / p2, cohens_h: cohensH(p1, p2) },
    n,
  };
}

const side = (label: string, x: number, n: number): InsightSide => ({ label, x, n, value: n === 0 ? 0 : x / n });

/** A test's outcome: the test, the interval of the effect, the effect and the units compared. */
type Compared = NonNullable<ReturnType<typeof compareCounts>>;

/** What a comparison says besides its numbers, written once its direction is known. */
type Described = Pick<Candidate, 'id' | 'kind' | 'comparison' | 'title' | 'detail' | 'metric' | 'subject' | 'query' | 'reportable'>;

/** The comparisons of one analysis: each tested one becomes a candidate, each too small is counted. */
class CandidateTally {
  private readonly candidates: Candidate[] = [];
  private below = 0;

  /** `compared` is null when the sample was too small; else `describe` gets it and its direction (up: current above baseline). */
  add(pair: Pair, compared: Compared | null, describe: (c: Compared, dir: 'up' | 'down') => Described): void {
    if (compared === null) {
      this.below++;
      return;
    }
    const dir = compared.effect.absolute >= 0 ? 'up' : 'down';
    const d = describe(compared, dir);
    // Fields in the documented order (docs/insights.md): it is the order of the JSON output.
    this.candidates.push({ id: d.id, kind: d.kind, comparison: d.comparison, title: d.title, detail: d.detail, metric: d.metric, direction: dir, subject: d.subject, ...pair, ...compared, query: d.query, reportable: d.reportable });
  }

  result(): CandidateSet {
    return { candidates: this.candidates, below_min_sample: this.below };
  }
}

// ——— conversion ———

export interface FunnelRun {
  /** Saved query name (file name without extension). */
  query: string;
  current: FunnelResult;
  previous: FunnelResult | null;
  /** One result per breakdown of the current month (the funnel's own breakdown, and segment:NAME per saved segment). */
  breakdowns: FunnelResult[];
}

/** The ad hoc command that reproduces a funnel result, or `usagelab query NAME` when its steps need more than names. */
export function funnelCommand(query: string, def: ResolvedFunnelDefinition): string {
  const plain = def.steps.every((s) => Object.keys(s.where).length === 0 && !s.first_time) && def.exclusions.length === 0 && Object.keys(def.where).length === 0;
  if (!plain || def.date_range === null) return `usagelab query ${query}`;
  const parts = ['usagelab funnel', `--steps ${def.steps.map((s) => s.event).join(',')}`, `--window ${def.window}`];
  if (def.order !== 'ordered') parts.push(`--order ${def.order}`);
  if (def.unit !== 'person') parts.push(`--unit ${def.unit}`);
  if (def.attempts !== 'best') parts.push(`--attempts ${def.attempts}`);
  parts.push(`--from ${def.date_range.from}`, `--to ${def.date_range.to}`);
  if (def.segment !== null) parts.push(`--segment ${def.segment}`);
  if (def.breakdown !== null) parts.push(`--breakdown ${def.breakdown}`);
  return parts.join(' ');
}

function stepPairs(steps: readonly FunnelStepResult[]): { i: number; from: FunnelStepResult; to: FunnelStepResult }[] {
  return steps.slice(1).map((to, k) => ({ i: k, from: steps[k]!, to }));
}

export function conversionCandidates(run: FunnelRun, months: { current: string; previous: string }, rules: SampleRules): CandidateSet {
  const tally = new CandidateTally();
  const def = run.current.definition;
  const events = def.steps.map((s) => s.event);
  const names = def.steps.map((s) => s.name);

  if (run.previous !== null) {
    for (const { i, from, to } of stepPairs(run.current.steps)) {
      const prev = run.previous.steps;
      const pair = { current: side(months.current, to.count, from.count), baseline: side(months.previous, prev[i + 1]!.count, prev[i]!.count) };
      tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
        id: `conversion:mom:${run.query}:${events[i]}>${events[i + 1]}`,
        kind: 'conversion',
        comparison: 'month_over_month',
        title: `${names[i]} → ${names[i + 1]} conversion went ${dir} in ${months.current}`,
        detail: `${run.query}: ${pct(pair.current.value)} (${num(to.count)} of ${num(from.count)}) in ${months.current} against ${pct(pair.baseline.value)} (${num(prev[i + 1]!.count)} of ${num(prev[i]!.count)}) in ${months.previous}, ${pts(c.effect.absolute)}.`,
        metric: `conversion ${names[i]} → ${names[i + 1]}`,
        subject: { ...EMPTY_SUBJECT, funnel: run.query, steps: [events[i]!, events[i + 1]!] },
        query: funnelCommand(run.query, def),
        reportable: true,
      }));
    }
  }

  for (const result of run.breakdowns) {
    const groups = result.breakdown ?? [];
    const field = result.definition.breakdown ?? '';
    // With two groups, each against the rest is the same comparison twice: test the smaller group only.
    const tested = groups.length === 2 ? [[...groups].sort((a, b) => a.steps[0]!.count - b.steps[0]!.count || String(a.value).localeCompare(String(b.value)))[0]!] : groups;
    for (const group of tested) {
      const value = group.value;
      if (value === null) continue;
      for (const { i, from, to } of stepPairs(group.steps)) {
        let restTo = 0;
        let restFrom = 0;
        for (const other of groups) {
          if (other === group) continue;
          restFrom += other.steps[i]!.count;
          restTo += other.steps[i + 1]!.count;
        }
        const pair = { current: side(`${field} = ${value}`, to.count, from.count), baseline: side('everyone else', restTo, restFrom) };
        tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
          id: `conversion:segment:${run.query}:${field}=${value}:${events[i]}>${events[i + 1]}`,
          kind: 'conversion',
          comparison: 'segment_vs_rest',
          title: `${names[i]} → ${names[i + 1]} converts ${dir === 'up' ? 'better' : 'worse'} for ${field} ${value}`,
          detail: `${run.query}, ${months.current}: ${pct(pair.current.value)} (${num(to.count)} of ${num(from.count)}) for ${field} = ${value} against ${pct(pair.baseline.value)} (${num(restTo)} of ${num(restFrom)}) for everyone else, ${pts(c.effect.absolute)}.`,
          metric: `conversion ${names[i]} → ${names[i + 1]}`,
          subject: { ...EMPTY_SUBJECT, funnel: run.query, steps: [events[i]!, events[i + 1]!], segment: { field, value } },
          query: funnelCommand(run.query, result.definition),
          reportable: true,
        }));
      }
    }
  }
  return tally.result();
}

// ——— retention ———

/**
 * New people's week-1 retention (new-people-retention.ts: weekly first-time cohorts, as of the end of the month),
 * and the same per saved segment (breakdown: segment:NAME).
 */
export interface RetentionRun {
  result: RetentionResult;
  breakdowns: RetentionResult[];
  /** The ad hoc command that shows the result. */
  query: string;
}

/** Σ over the weekly cohorts starting in `month` (YYYY-MM) whose week 1 is complete; null without one. */
function weekOne(cohorts: readonly RetentionCohort[], month: string): { x: number; n: number } | null {
  let x = 0;
  let n = 0;
  let any = false;
  for (const c of cohorts) {
    const cell = c.intervals.find((i) => i.k === 1);
    if (!c.start.startsWith(month) || cell === undefined || !cell.complete || cell.count === null) continue;
    any = true;
    x += cell.count;
    n += c.size;
  }
  return any ? { x, n } : null;
}

export function retentionCandidates(run: RetentionRun, months: { current: string; previous: string }, rules: SampleRules): CandidateSet {
  const tally = new CandidateTally();
  const metric = 'week-1 retention of new people';
  const back = 'came back the week after the one they were first seen in';
  const current = weekOne(run.result.cohorts, months.current);
  const before = weekOne(run.result.cohorts, months.previous);
  if (current !== null && before !== null) {
    const pair = { current: side(months.current, current.x, current.n), baseline: side(months.previous, before.x, before.n) };
    tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
      id: 'retention:mom:new-people:week1',
      kind: 'retention',
      comparison: 'month_over_month',
      title: `Week-1 retention of new people went ${dir} in ${months.current}`,
      detail: `${pct(pair.current.value)} of the people first seen in the weeks starting in ${months.current} ${back} (${num(current.x)} of ${num(current.n)}) against ${pct(pair.baseline.value)} in ${months.previous} (${num(before.x)} of ${num(before.n)}), ${pts(c.effect.absolute)}.`,
      metric,
      subject: EMPTY_SUBJECT,
      query: run.query,
      reportable: true,
    }));
  }
  for (const result of run.breakdowns) {
    const field = result.definition.breakdown ?? '';
    const segment = field.replace(/^segment:/, '');
    // A segment breakdown has two groups, the segment and "not NAME": the segment against the rest is the test.
    const groups = result.breakdown ?? [];
    const inside = groups.find((g) => g.value === segment);
    if (inside === undefined) continue;
    const a = weekOne(inside.cohorts, months.current);
    const b = groups
      .filter((g) => g !== inside)
      .map((g) => weekOne(g.cohorts, months.current))
      .reduce<{ x: number; n: number } | null>((t, w) => (w === null ? t : { x: (t?.x ?? 0) + w.x, n: (t?.n ?? 0) + w.n }), null);
    if (a === null || b === null) continue;
    const pair = { current: side(`segment ${segment}`, a.x, a.n), baseline: side('everyone else', b.x, b.n) };
    tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
      id: `retention:segment:${segment}:week1`,
      kind: 'retention',
      comparison: 'segment_vs_rest',
      title: `New people in segment ${segment} retain ${dir === 'up' ? 'better' : 'worse'} in week 1`,
      detail: `${months.current}: ${pct(pair.current.value)} of new people in segment ${segment} ${back} (${num(a.x)} of ${num(a.n)}) against ${pct(pair.baseline.value)} of everyone else (${num(b.x)} of ${num(b.n)}), ${pts(c.effect.absolute)}.`,
      metric,
      subject: { ...EMPTY_SUBJECT, segment: { field, value: segment } },
      query: `${run.query} --breakdown ${field}`,
      reportable: true,
    }));
  }
  return tally.result();
}

// ——— friction ———

export type FrictionSignalName = 'rage' | 'dead' | 'error';

/** One signal's page counts (page-friction.ts), for the month and the month before. */
export interface FrictionRun {
  signal: FrictionSignalName;
  pages: PageFriction;
  /** The ad hoc command for the month. */
  query: string;
}

const SIGNAL_WORDS: Record<FrictionSignalName, string> = { rage: 'rage clicks', dead: 'dead clicks', error: 'errors' };

/** The element with the most affected sessions on the page, when it holds at least half of the page's. */
function mainElement(run: FrictionRun, page: string, pageSessionsWithSignal: number): InsightSubject['element'] {
  const top = run.pages.elements[run.signal].get(page);
  if (top === undefined || (top.text === null && top.selector === null) || top.sessions * 2 < pageSessionsWithSignal) return null;
  return { text: top.text, selector: top.selector, sessions: top.sessions };
}

/** Per page: sessions on it with the signal (x) of its sessions (n). */
function pageCounts(pages: ReadonlyMap<string, PageSignalSessions>, signal: FrictionSignalName): Map<string, { x: number; n: number }> {
  return new Map([...pages].map(([page, p]) => [page, { x: p.with[signal], n: p.sessions }]));
}

export function frictionCandidates(run: FrictionRun, months: { current: string; previous: string }, rules: SampleRules): CandidateSet {
  const tally = new CandidateTally();
  const words = SIGNAL_WORDS[run.signal];
  const current = pageCounts(run.pages.current, run.signal);
  let totalX = 0;
  let totalN = 0;
  for (const v of current.values()) {
    totalX += v.x;
    totalN += v.n;
  }
  // Pages where the signal occurred are tested; every page's sessions make up the rest.
  for (const [page, { x, n }] of current) {
    if (x === 0) continue;
    const pair = { current: side(page, x, n), baseline: side('other pages', totalX - x, totalN - n) };
    tally.add(pair, compareCounts(pair, rules), (c, dir) => {
      const element = mainElement(run, page, x);
      // The element's text names it for a reader; its selector stays in `subject` for whoever digs further.
      const on = element === null ? '' : ` — ${num(element.sessions)} of them on "${element.text ?? element.selector}"`;
      return {
        id: `friction:page:${run.signal}:${page}`,
        kind: 'friction',
        comparison: 'page_vs_rest',
        title: `${page} has ${dir === 'up' ? 'more' : 'fewer'} ${words} than other pages`,
        detail: `${months.current}: ${pct(pair.current.value)} of sessions on ${page} hit ${words} (${num(x)} of ${num(n)})${on}, against ${pct(pair.baseline.value)} of page sessions elsewhere (${num(totalX - x)} of ${num(totalN - n)}).`,
        metric: `share of page sessions with ${words}`,
        subject: { ...EMPTY_SUBJECT, page, element, signal: run.signal },
        query: run.query,
        reportable: c.effect.absolute > 0,
      };
    });
  }
  if (run.pages.previous !== null) {
    const previous = pageCounts(run.pages.previous, run.signal);
    for (const [page, { x, n }] of current) {
      const before = previous.get(page) ?? null;
      // Pages with sessions in both months and the signal in either: a signal that went away is news too.
      if (before === null || (x === 0 && before.x === 0)) continue;
      const pair = { current: side(months.current, x, n), baseline: side(months.previous, before.x, before.n) };
      tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
        id: `friction:mom:${run.signal}:${page}`,
        kind: 'friction',
        comparison: 'month_over_month',
        title: `${words[0]!.toUpperCase()}${words.slice(1)} on ${page} went ${dir} in ${months.current}`,
        detail: `${pct(pair.current.value)} of sessions on ${page} hit ${words} in ${months.current} (${num(x)} of ${num(n)}) against ${pct(pair.baseline.value)} in ${months.previous} (${num(before.x)} of ${num(before.n)}), ${pts(c.effect.absolute)}.`,
        metric: `share of page sessions with ${words}`,
        subject: { ...EMPTY_SUBJECT, page, signal: run.signal, element: mainElement(run, page, x) },
        query: run.query,
        reportable: true,
      }));
    }
  }
  return tally.result();
}

// ——— adoption ———

export interface AdoptionRun {
  current: AdoptionResult;
  previous: AdoptionResult | null;
  query: string;
}

/** A share tested against a catalog threshold: reported only when the share is on the far side of it. */
function againstThreshold(x: number, n: number, threshold: number, rules: SampleRules): { test: TestResult; interval: Interval; effect: Candidate['effect']; n: number } | null {
  if (n < rules.min_sample || n * threshold < rules.min_outcomes || n * (1 - threshold) < rules.min_outcomes) return null;
  const p = x / n;
  return {
    test: oneProportionZTest(x, n, threshold),
    interval: wilsonInterval(x, n),
    effect: { absolute: p - threshold, relative: (p - threshold) / threshold, cohens_h: cohensH(p, threshold) },
    n,
  };
}

export function adoptionCandidates(run: AdoptionRun, months: { current: string; previous: string }, rules: SampleRules): CandidateSet {
  const tally = new CandidateTally();
  const t = run.current.definition.thresholds;
  for (const f of run.current.features) {
    const feature = { key: f.key, name: f.name };
    const subject = { ...EMPTY_SUBJECT, feature };
    if (f.period !== null && f.active_users > 0) {
      const share = side(`${f.name} users`, f.users, f.active_users);
      const checks: { id: string; threshold: number; name: string; up: boolean }[] = [
        { id: 'adopted', threshold: t.adopted_min_share, name: 'adopted_min_share', up: true },
        { id: 'ignored', threshold: t.ignored_max_share, name: 'ignored_max_share', up: false },
      ];
      for (const check of checks) {
        const pair = { current: share, baseline: { label: check.name, x: null, n: null, value: check.threshold } };
        tally.add(pair, againstThreshold(f.users, f.active_users, check.threshold, rules), (c) => ({
          id: `adoption:${check.id}:${f.key}`,
          kind: 'adoption',
          comparison: 'against_threshold',
          title: check.up ? `${f.name} is adopted: used by ${pct(share.value)} of active people` : `${f.name} is ignored: used by ${pct(share.value)} of active people`,
          detail: `${months.current}: ${num(f.users)} of ${num(f.active_users)} active people used ${f.name} (${pct(share.value)}; 95% interval ${pct(c.interval.low)}–${pct(c.interval.high)}), ${check.up ? 'above' : 'below'} ${check.name} ${pct(check.threshold)}.`,
          metric: 'share of active people using the feature',
          subject,
          query: run.query,
          reportable: check.up ? c.effect.absolute > 0 : c.effect.absolute < 0,
        }));
      }
      const fr = f.frustration;
      if (fr.sessions > 0) {
        const rate = side(`${f.name} sessions`, fr.frustrated_sessions, fr.sessions);
        const pair = { current: rate, baseline: { label: 'frustrating_min_rate', x: null, n: null, value: t.frustrating_min_rate } };
        tally.add(pair, againstThreshold(fr.frustrated_sessions, fr.sessions, t.frustrating_min_rate, rules), (c) => ({
          id: `adoption:frustrating:${f.key}`,
          kind: 'adoption',
          comparison: 'against_threshold',
          title: `${f.name} is frustrating: ${pct(rate.value)} of its sessions hit rage, dead or error clicks`,
          detail: `${months.current}: ${num(fr.frustrated_sessions)} of ${num(fr.sessions)} sessions using ${f.name} had a signal on it (rage ${fr.rage_sessions}, dead ${fr.dead_sessions}, error ${fr.error_sessions}), against frustrating_min_rate ${pct(t.frustrating_min_rate)}.`,
          metric: 'share of feature sessions with a frustration signal',
          subject: { ...subject, signal: 'frustration' },
          query: run.query,
          reportable: c.effect.absolute > 0,
        }));
      }
    }
    const before: FeatureCore | undefined = run.previous?.features.find((p) => p.key === f.key);
    if (before !== undefined && before.active_users > 0 && f.active_users > 0) {
      const pair = { current: side(months.current, f.users, f.active_users), baseline: side(months.previous, before.users, before.active_users) };
      tally.add(pair, compareCounts(pair, rules), (c, dir) => ({
        id: `adoption:mom:${f.key}`,
        kind: 'adoption',
        comparison: 'month_over_month',
        title: `${f.name} adoption went ${dir} in ${months.current}`,
        detail: `${pct(pair.current.value)} of active people used ${f.name} in ${months.current} (${num(f.users)} of ${num(f.active_users)}) against ${pct(pair.baseline.value)} in ${months.previous} (${num(before.users)} of ${num(before.active_users)}), ${pts(c.effect.absolute)}.`,
        metric: 'share of active people using the feature',
        subject,
        query: run.query,
        reportable: true,
      }));
    }
  }
  return tally.result();
}
