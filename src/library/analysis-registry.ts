/**
 * Every analysis kind a saved query may name, by its `kind`. Adding a kind means one line here (and a renderer in
 * the CLI); the saved-query runner, `usagelab query` and the library dispatch on this table.
 */
import type { AnalysisKind } from '../analyses/analysis-kind.js';
import { adoptionAnalysis } from '../analyses/adoption/adoption-analysis.js';
import { frictionAnalysis } from '../analyses/friction/friction-analysis.js';
import { funnelAnalysis } from '../analyses/funnel/funnel-analysis.js';
import { pathsAnalysis } from '../analyses/paths/paths-analysis.js';
import { retentionAnalysis } from '../analyses/retention/retention-analysis.js';
import { segmentAnalysis } from '../analyses/segment/segment-analysis.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous table; each entry is typed where it is defined
export const ANALYSIS_KINDS: Readonly<Record<string, AnalysisKind<any, any>>> = {
  funnel: funnelAnalysis,
  adoption: adoptionAnalysis,
  friction: frictionAnalysis,
  paths: pathsAnalysis,
  retention: retentionAnalysis,
  trends: trendsAnalysis,
  segment: segmentAnalysis,
};

export const ANALYSIS_KIND_NAMES = Object.keys(ANALYSIS_KINDS);
