import { describe, expect, it } from 'vitest';
import type { Candidate } from './insight-candidates.js';
import { rankCandidates } from './insight-rank.js';

function candidate(id: string, p: number, h: number, extra: Partial<Candidate> = {}): Candidate {
  return {
    id,
    kind: 'friction',
    comparison: 'page_vs_rest',
    title: id,
    detail: `${id}.`,
    metric: 'share of page sessions with dead clicks',
    direction: h >= 0 ? 'up' : 'down',
    subject: { funnel: null, steps: null, segment: null, page: `/${id}`, element: null, signal: 'dead', feature: null },
    current: { label: 'a', x: 1, n: 2, value: 0.5 },
    baseline: { label: 'b', x: 1, n: 4, value: 0.25 },
    effect: { absolute: 0.25, relative: 1, cohens_h: h },
    test: { name: 'two-proportion z-test', statistic: 1, p_value: p },
    interval: { low: 0, high: 1, level: 0.95 },
    n: 6,
    query: 'q',
    reportable: true,
    ...extra,
  };
}

describe('rankCandidates', () => {
  it('adjusts over every candidate, cuts on q, |h| and direction, and orders by |h| then q', () => {
    const r = rankCandidates(
      [
        candidate('small-effect', 0.001, 0.1),
        candidate('big', 0.004, 0.9),
        candidate('not-news', 0.001, 0.8, { reportable: false }),
        candidate('mid', 0.002, -0.5, { kind: 'conversion', comparison: 'segment_vs_rest' }),
        candidate('not-significant', 0.2, 1.2),
      ],
      { fdr: 0.05, min_effect_h: 0.2 },
    );
    expect(r.tested).toBe(5);
    expect(r.insights.map((i) => [i.id, i.rank])).toEqual([['big', 1], ['mid', 2]]);
    // BH with m = 5: p 0.004 has rank 4 → 0.005; p 0.002 rank 3 → 0.00333.
    expect(r.insights[0]!.test.q_value).toBeCloseTo(0.005, 12);
    expect(r.insights[1]!.test.q_value).toBeCloseTo(0.002 * 5 / 3, 12);
  });

  it('folds a page\'s weaker signals into its strongest insight', () => {
    const page = { funnel: null, steps: null, segment: null, page: '/p', element: null, feature: null };
    const r = rankCandidates(
      [
        candidate('dead', 0.001, 0.9, { subject: { ...page, signal: 'dead' } }),
        candidate('rage', 0.001, 0.5, { subject: { ...page, signal: 'rage' }, metric: 'share of page sessions with rage clicks' }),
      ],
      { fdr: 0.05, min_effect_h: 0.2 },
    );
    expect(r.insights).toHaveLength(1);
    expect(r.insights[0]!.folded).toEqual(['rage']);
    expect(r.insights[0]!.detail).toBe('dead. Also rage clicks: 50.0% against 25.0% (q = 0.0010).');
  });

  it('folds the same signal on sibling pages into the strongest, naming the page; other signals and sections stay apart', () => {
    const on = (page: string, signal: 'error' | 'dead'): Partial<Candidate> => ({ subject: { funnel: null, steps: null, segment: null, page, element: null, signal, feature: null } });
    const r = rankCandidates(
      [
        candidate('figma', 0.001, 0.9, { ...on('/integrations/figma', 'error'), metric: 'share of page sessions with error clicks' }),
        candidate('github', 0.001, 0.8, { ...on('/integrations/github', 'error'), metric: 'share of page sessions with error clicks' }),
        candidate('hub', 0.001, 0.7, { ...on('/integrations', 'error'), metric: 'share of page sessions with error clicks' }),
        candidate('github-dead', 0.001, 0.6, on('/integrations/github', 'dead')),
        candidate('jira-dead', 0.001, 0.55, on('/integrations/jira', 'dead')),
        candidate('billing', 0.001, 0.5, { ...on('/settings/billing', 'error'), metric: 'share of page sessions with error clicks' }),
      ],
      { fdr: 0.05, min_effect_h: 0.2 },
    );
    // github's dead clicks join github's error insight, which is figma's; jira's dead clicks are a sibling of that
    // dead-click signal, so they join it too. /settings/billing is another family.
    expect(r.insights.map((i) => [i.id, i.folded])).toEqual([
      ['figma', ['github', 'hub', 'github-dead', 'jira-dead']],
      ['billing', []],
    ]);
    expect(r.insights[0]!.detail).toBe(
      'figma. Also /integrations/github error clicks: 50.0% against 25.0% (q = 0.0010). Also /integrations error clicks: 50.0% against 25.0% (q = 0.0010).' +
        ' Also /integrations/github dead clicks: 50.0% against 25.0% (q = 0.0010). Also /integrations/jira dead clicks: 50.0% against 25.0% (q = 0.0010).',
    );
    expect(r.insights.map((i) => i.rank)).toEqual([1, 2]);
  });

  it('keeps threshold comparisons whatever their |h|', () => {
    const r = rankCandidates([candidate('ignored', 0.001, -0.1, { kind: 'adoption', comparison: 'against_threshold' })], { fdr: 0.05, min_effect_h: 0.2 });
    expect(r.insights.map((i) => i.id)).toEqual(['ignored']);
  });
});
