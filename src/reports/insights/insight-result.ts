/**
 * The insights JSON result (docs/insights.md#json-output). Version 1: fields may be added, never renamed or
 * retyped, without a version bump.
 */
import type { Interval, TestResult } from './insight-stats.js';

export type InsightKind = 'conversion' | 'friction' | 'adoption' | 'retention';

/**
 * What is compared: a month with the one before, a group (segment or breakdown value) with everyone else, a page
 * with the other pages, or a share with the catalog's threshold.
 */
export type InsightComparison = 'month_over_month' | 'segment_vs_rest' | 'page_vs_rest' | 'against_threshold';

/** Where the insight is: every field that applies, null otherwise. */
export interface InsightSubject {
  /** Saved funnel query (file name without .yaml). */
  funnel: string | null;
  /** Events of the funnel step pair [from, to]. */
  steps: [string, string] | null;
  /** The group compared with the rest: a breakdown field (or segment:NAME) and its value. */
  segment: { field: string; value: string | null } | null;
  page: string | null;
  /** The element drawing most of the page's signal sessions (text and selector), when one stands out. */
  element: { text: string | null; selector: string | null; sessions: number } | null;
  signal: 'rage' | 'dead' | 'error' | 'frustration' | null;
  feature: { key: string; name: string } | null;
}

/** One side of a comparison: x of n (a threshold has no counts). */
export interface InsightSide {
  label: string;
  x: number | null;
  n: number | null;
  value: number;
}

export interface InsightTest extends TestResult {
  /** Benjamini-Hochberg adjusted p-value over every comparison tested in the run. */
  q_value: number;
}

export interface Insight {
  /** Stable across runs of the same month: kind, comparison and subject. */
  id: string;
  rank: number;
  kind: InsightKind;
  comparison: InsightComparison;
  title: string;
  detail: string;
  metric: string;
  direction: 'up' | 'down';
  subject: InsightSubject;
  current: InsightSide;
  /** The previous month, the rest, or the threshold. */
  baseline: InsightSide;
  effect: {
    /** current − baseline (shares). */
    absolute: number;
    /** absolute ÷ baseline; null when the baseline is 0. */
    relative: number | null;
    /** Cohen's h: the effect size the ranking uses. */
    cohens_h: number;
  };
  test: InsightTest;
  /** 95% interval of the difference (Newcombe) or, against a threshold, of the share (Wilson). */
  interval: Interval;
  /** Units behind the comparison (both sides). */
  n: number;
  /** A saved query name or an ad hoc command that shows the numbers. */
  query: string;
  /** Ids of weaker insights about the same page and comparison (other signals), summed up in `detail`. */
  folded: string[];
}

export interface InsightSettings {
  /** Largest q-value reported. */
  fdr: number;
  /** Smallest |Cohen's h| reported for comparisons between two groups. */
  min_effect_h: number;
  /** Fewest units on each side of a comparison (n) and fewest with/without the outcome. */
  min_sample: number;
  min_outcomes: number;
  /** Insights listed (after ranking). */
  top: number;
}

export interface InsightSkip {
  /** What could not be compared and why (missing catalog, a query that failed, a too-small sample...). */
  what: string;
  reason: string;
}

export interface InsightsResult {
  kind: 'insights';
  version: 1;
  /** YYYY-MM, in the configured time zone. */
  month: string;
  previous_month: string;
  /** Local dates of the first and last event in the warehouse. */
  data_from: string | null;
  data_through: string | null;
  timezone: string;
  settings: InsightSettings;
  /** Comparisons tested (the m of Benjamini-Hochberg). */
  tested: number;
  /** Insights that passed q ≤ fdr and the effect cut (after folding), before `top`. */
  significant: number;
  /** Comparisons not tested because a side had fewer than min_sample units or outcomes. */
  below_min_sample: number;
  insights: Insight[];
  skipped: InsightSkip[];
}
