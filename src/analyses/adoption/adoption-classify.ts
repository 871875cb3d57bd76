/**
 * Classification of one feature (docs/analyses/adoption.md#classification). The rules are tried in order and
 * the first that holds decides: insufficient_data, frustrating, adopted, ignored, else emerging. Minimums are
 * inclusive (≥), maximums inclusive (≤).
 */
import type { AdoptionClass, ClassReason, FeaturePeriod } from './adoption-result.js';
import type { AdoptionThresholds } from './adoption-thresholds.js';

export interface ClassInput {
  period: FeaturePeriod | null;
  /** The feature's release day (null when always there), to say why a period is empty. */
  released: string | null;
  /** The last day the period could reach (date_range.to or the last day of data); null without data. */
  periodEnd: string | null;
  active_users: number;
  users: number;
  share: number | null;
  frustration_rate: number | null;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function classifyFeature(n: ClassInput, t: AdoptionThresholds): { class: AdoptionClass; reason: ClassReason } {
  if (n.period === null) {
    if (n.released !== null && n.periodEnd !== null && n.released > n.periodEnd) {
      return { class: 'insufficient_data', reason: { rule: 'not_released', text: `released ${n.released}, after the period's last day ${n.periodEnd}` } };
    }
    return { class: 'insufficient_data', reason: { rule: 'no_data', text: 'no events in the period' } };
  }
  if (n.active_users < t.min_users || n.share === null) {
    return { class: 'insufficient_data', reason: { rule: 'min_users', text: `${n.active_users} active users < min_users ${t.min_users}` } };
  }
  // Frustration is judged only on enough users: a handful of sessions says nothing.
  if (n.users >= t.min_users && n.frustration_rate !== null && n.frustration_rate >= t.frustrating_min_rate) {
    return { class: 'frustrating', reason: { rule: 'frustrating_min_rate', text: `frustration rate ${pct(n.frustration_rate)} ≥ frustrating_min_rate ${pct(t.frustrating_min_rate)}` } };
  }
  if (n.share >= t.adopted_min_share) {
    return { class: 'adopted', reason: { rule: 'adopted_min_share', text: `share ${pct(n.share)} ≥ adopted_min_share ${pct(t.adopted_min_share)}` } };
  }
  if (n.share <= t.ignored_max_share) {
    return { class: 'ignored', reason: { rule: 'ignored_max_share', text: `share ${pct(n.share)} ≤ ignored_max_share ${pct(t.ignored_max_share)}` } };
  }
  return {
    class: 'emerging',
    reason: { rule: 'between_thresholds', text: `share ${pct(n.share)} between ignored_max_share ${pct(t.ignored_max_share)} and adopted_min_share ${pct(t.adopted_min_share)}` },
  };
}
