/**
 * Validation rules of a retention definition, each with a stable code (docs/analyses/retention.md#rules).
 * Field paths are dotted like the YAML (`target.where.device_type`).
 */
import type { RuleViolation } from '../analysis-kind.js';
import { eventNameViolations, scopeViolations, whereViolations } from '../common/scope-rules.js';
import type { RetentionDefinition } from './retention-definition.js';
import { retentionSettings } from './retention-settings.js';

export const RETENTION_MAX_INTERVALS = 366;
export const RETENTION_MAX_MIN_OCCURRENCES = 100;

const K = 'retention';

export function retentionRules(def: RetentionDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  out.push(...eventNameViolations(K, def.target.event, 'target.event', 'target'));
  out.push(...whereViolations(K, def.target.where, 'target'));
  if (def.returning !== undefined) {
    out.push(...eventNameViolations(K, def.returning.event, 'returning.event', 'returning'));
    out.push(...whereViolations(K, def.returning.where, 'returning'));
  }
  if (def.intervals !== undefined && (!Number.isInteger(def.intervals) || def.intervals < 1 || def.intervals > RETENTION_MAX_INTERVALS)) {
    out.push({
      code: 'retention_intervals_invalid',
      field: 'intervals',
      message: `intervals ${JSON.stringify(def.intervals)} is not a whole number from 1 to ${RETENTION_MAX_INTERVALS}`,
      hint: 'intervals counts the intervals shown after interval 0 (the cohort interval); 8 shows intervals 0 to 8',
    });
  }
  const min = def.min_occurrences;
  if (min !== undefined && (!Number.isInteger(min) || min < 1 || min > RETENTION_MAX_MIN_OCCURRENCES)) {
    out.push({
      code: 'retention_min_occurrences_invalid',
      field: 'min_occurrences',
      message: `min_occurrences ${JSON.stringify(min)} is not a whole number from 1 to ${RETENTION_MAX_MIN_OCCURRENCES}`,
      hint: 'the number of returning events a person needs in an interval to count as retained (default 1)',
    });
  }
  const settings = retentionSettings(def);
  if (settings.round_to_hour && !settings.rolling) {
    out.push({
      code: 'retention_round_to_hour_needs_rolling',
      field: 'round_to_hour',
      message: 'round_to_hour applies to rolling intervals; this definition uses calendar intervals',
      hint: 'add rolling: true, or remove round_to_hour',
    });
  }
  out.push(...scopeViolations(K, def));
  return out;
}
