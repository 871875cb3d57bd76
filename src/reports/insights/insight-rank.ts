/**
 * From tested comparisons to ranked insights (docs/insights.md#ranking): the Benjamini-Hochberg adjustment over
 * every comparison tested, then the cuts (q ≤ fdr, |Cohen's h| ≥ min_effect_h, the reported direction), then the
 * order: largest |h| first, smaller q on ties, then the id so the order is stable. A page's friction insights
 * (one per signal) fold into its strongest one, and so does the same signal on its sibling pages.
 */
import type { Candidate } from './insight-candidates.js';
import type { Insight, InsightSettings } from './insight-result.js';
import { benjaminiHochberg } from './insight-stats.js';
import { pct } from './insight-candidates.js';

export interface Ranked {
  /** Every insight that passed the cuts, ranked (the caller keeps the top ones). */
  insights: Insight[];
  tested: number;
}

export function rankCandidates(candidates: readonly Candidate[], settings: Pick<InsightSettings, 'fdr' | 'min_effect_h'>): Ranked {
  const q = benjaminiHochberg(candidates.map((c) => c.test.p_value));
  const kept = candidates
    .map((c, i) => ({ c, q: q[i]! }))
    .filter(({ c, q }) => c.reportable && q <= settings.fdr && passesEffect(c, settings.min_effect_h))
    .sort((a, b) => Math.abs(b.c.effect.cohens_h) - Math.abs(a.c.effect.cohens_h) || a.q - b.q || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0));
  // One insight per page and comparison: a page's other signals join its strongest one instead of crowding the list;
  // so does the same signal on a sibling page (/integrations/figma beside /integrations/github: one finding).
  const byPlace = new Map<string, Insight>();
  const insights: Insight[] = [];
  for (const { c, q } of kept) {
    const { reportable: _reportable, test, ...rest } = c;
    const page = c.kind === 'friction' ? (c.subject.page ?? '') : null;
    const keys = page === null ? [] : [`page ${c.comparison}:${page}`, `family ${c.comparison}:${c.subject.signal ?? ''}:${pageFamily(page)}`];
    const lead = keys.map((k) => byPlace.get(k)).find((l) => l !== undefined);
    if (lead !== undefined) {
      lead.folded.push(c.id);
      const where = page !== null && page !== lead.subject.page ? `${page} ` : '';
      lead.detail += ` Also ${where}${c.metric.replace(/^share of page sessions with /, '')}: ${pct(c.current.value)} against ${pct(c.baseline.value)} (q ${q < 0.0001 ? '< 0.0001' : `= ${q.toFixed(4)}`}).`;
      for (const k of keys) if (!byPlace.has(k)) byPlace.set(k, lead);
      continue;
    }
    const insight: Insight = { ...rest, rank: insights.length + 1, test: { ...test, q_value: q }, folded: [] };
    for (const k of keys) byPlace.set(k, insight);
    insights.push(insight);
  }
  return { insights, tested: candidates.length };
}

/** A page and its siblings: the path without its last segment (a one-segment path is its own family). */
export function pageFamily(page: string): string {
  const segments = page.split('/').filter((x) => x !== '');
  return segments.length <= 1 ? `/${segments.join('/')}` : `/${segments.slice(0, -1).join('/')}`;
}

/**
 * A threshold comparison needs no separate effect cut: the catalog's threshold is the user's own line for what
 * matters, and the test already says the share is beyond it. Two groups need a difference worth reading.
 */
function passesEffect(c: Candidate, minH: number): boolean {
  return c.comparison === 'against_threshold' || Math.abs(c.effect.cohens_h) >= minH;
}
