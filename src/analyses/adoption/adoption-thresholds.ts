/**
 * The thresholds that classify a feature (docs/analyses/adoption.md#classification). Built-in defaults, then the
 * catalog's `thresholds`, then the definition's `thresholds`: each level overrides only the keys it sets.
 */
import { z } from 'zod';
import type { RuleViolation } from '../analysis-kind.js';

export interface AdoptionThresholds {
  /** Adopted when share ≥ this. */
  adopted_min_share: number;
  /** Ignored when share ≤ this. */
  ignored_max_share: number;
  /** Frustrating when the frustration rate ≥ this (and the feature has ≥ min_users users). */
  frustrating_min_rate: number;
  /** The fewest people a rate is judged on: active users for the share, feature users for frustration. */
  min_users: number;
}

export type ThresholdOverrides = Partial<AdoptionThresholds>;

export const DEFAULT_THRESHOLDS: Readonly<AdoptionThresholds> = {
  adopted_min_share: 0.2,
  ignored_max_share: 0.05,
  frustrating_min_rate: 0.15,
  min_users: 20,
};

export const thresholdsSchema = z.strictObject({
  adopted_min_share: z.number().optional(),
  ignored_max_share: z.number().optional(),
  frustrating_min_rate: z.number().optional(),
  min_users: z.number().optional(),
});

const SHARES = ['adopted_min_share', 'ignored_max_share', 'frustrating_min_rate'] as const;

/**
 * Range rules of the keys that are set (`prefix` is the code prefix: features or adoption). With `order`, also
 * the order rule against the defaults (for the catalog; a definition's order is checked once merged with it).
 */
export function thresholdViolations(prefix: string, t: ThresholdOverrides, base: string, order: boolean): RuleViolation[] {
  const out: RuleViolation[] = [];
  const code = `${prefix}_thresholds_invalid`;
  for (const key of SHARES) {
    const v = t[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) {
      out.push({ code, field: `${base}.${key}`, message: `${key} ${String(v)} is not a share between 0 and 1`, hint: 'write shares as fractions: 0.2 is 20%' });
    }
  }
  if (t.min_users !== undefined && !(Number.isInteger(t.min_users) && t.min_users >= 1)) {
    out.push({ code, field: `${base}.min_users`, message: `min_users ${String(t.min_users)} is not a whole number ≥ 1`, hint: 'e.g. min_users: 20' });
  }
  if (order && out.length === 0) out.push(...orderViolations(code, { ...DEFAULT_THRESHOLDS, ...t }, base, t));
  return out;
}

/** ignored_max_share must be below adopted_min_share, or a share could be both. */
function orderViolations(code: string, merged: AdoptionThresholds, base: string, set: ThresholdOverrides): RuleViolation[] {
  if (merged.ignored_max_share < merged.adopted_min_share) return [];
  const key = set.ignored_max_share !== undefined ? 'ignored_max_share' : 'adopted_min_share';
  return [{
    code,
    field: `${base}.${key}`,
    message: `ignored_max_share ${merged.ignored_max_share} is not below adopted_min_share ${merged.adopted_min_share}`,
    hint: 'a share between the two is "emerging"; keep ignored_max_share < adopted_min_share',
  }];
}

/** Defaults ← catalog ← definition, checked as a whole (the order rule needs every level). */
export function mergeThresholds(catalog: ThresholdOverrides, definition: ThresholdOverrides): { thresholds: AdoptionThresholds; violations: RuleViolation[] } {
  const thresholds: AdoptionThresholds = { ...DEFAULT_THRESHOLDS, ...definedOnly(catalog), ...definedOnly(definition) };
  const set = { ...definedOnly(catalog), ...definedOnly(definition) };
  return { thresholds, violations: orderViolations('adoption_thresholds_invalid', thresholds, 'thresholds', set) };
}

function definedOnly(t: ThresholdOverrides): ThresholdOverrides {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as ThresholdOverrides;
}
