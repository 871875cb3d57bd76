/**
 * Validation rules of a funnel definition, each with a stable code (docs/analyses.md#funnel lists them).
 * Field paths are dotted and 0-based like the YAML structure (`steps.2.where.device_type`); messages speak of
 * 1-based step numbers, as `between` does.
 */
import type { RuleViolation } from '../analysis-kind.js';
import { parseDurationMicros, US_PER_SECOND } from '../common/durations.js';
import { eventNameViolations, scopeViolations, whereViolations } from '../common/scope-rules.js';
import type { FunnelDefinition } from './funnel-definition.js';

export const FUNNEL_MAX_STEPS = 20;
export const FUNNEL_MAX_EXCLUSIONS = 20;
const MAX_WINDOW_DAYS = 365;

/** A window like "14d" in microseconds; undefined when it is not <positive integer><s|m|h|d|w>. */
export const parseWindowMicros = parseDurationMicros;

/** Every broken rule, in definition order (empty when the definition is valid). */
export function checkFunnelRules(def: FunnelDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  const n = def.steps.length;
  if (n < 2) {
    out.push({ code: 'funnel_too_few_steps', field: 'steps', message: `a funnel needs at least 2 steps; got ${n}`, hint: 'list the events in the order users should do them' });
  }
  if (n > FUNNEL_MAX_STEPS) {
    out.push({ code: 'funnel_too_many_steps', field: 'steps', message: `a funnel takes at most ${FUNNEL_MAX_STEPS} steps; got ${n}`, hint: 'split it into several funnels' });
  }
  def.steps.forEach((step, i) => {
    out.push(...eventNameViolations('funnel', step.event, `steps.${i}.event`, `step ${i + 1}`));
    out.push(...whereViolations('funnel', step.where, `steps.${i}`));
  });

  const windowUs = parseWindowMicros(def.window);
  if (windowUs === undefined || windowUs <= 0 || windowUs > MAX_WINDOW_DAYS * 86_400 * US_PER_SECOND) {
    out.push({
      code: 'funnel_window_invalid',
      field: 'window',
      message: `window ${JSON.stringify(def.window)} is not a duration between 1s and ${MAX_WINDOW_DAYS}d`,
      hint: 'write a whole number with a unit: 30m, 24h, 14d, 2w (a day is 24 hours)',
    });
  }

  if (def.exclusions.length > FUNNEL_MAX_EXCLUSIONS) {
    out.push({ code: 'funnel_too_many_exclusions', field: 'exclusions', message: `at most ${FUNNEL_MAX_EXCLUSIONS} exclusions; got ${def.exclusions.length}`, hint: 'merge exclusions of the same steps with a list value in where' });
  }
  if (def.order === 'unordered' && def.exclusions.length > 0) {
    out.push({ code: 'funnel_exclusion_unordered', field: 'exclusions', message: 'exclusions need ordered steps; this funnel is unordered', hint: 'use order: ordered or strict, or remove the exclusions' });
  }
  def.exclusions.forEach((ex, i) => {
    out.push(...eventNameViolations('funnel', ex.event, `exclusions.${i}.event`, `exclusion ${i + 1}`));
    out.push(...whereViolations('funnel', ex.where, `exclusions.${i}`));
    const [from, to] = ex.between ?? [1, n];
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > n || from >= to) {
      out.push({
        code: 'funnel_exclusion_range',
        field: `exclusions.${i}.between`,
        message: `between: [${from}, ${to}] is not two steps i < j within 1..${n}`,
        hint: 'steps are numbered from 1; [1, 2] excludes the event between the first and the second step',
      });
    }
  });

  out.push(...scopeViolations('funnel', def));
  return out;
}
