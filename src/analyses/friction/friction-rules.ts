/**
 * Validation rules of a friction definition, each with a stable code (docs/analyses/friction.md#rules). The
 * shared keys (date_range, where, segment, breakdown, exclude) are checked by common/scope-rules.ts.
 */
import type { RuleViolation } from '../analysis-kind.js';
import { scopeViolations } from '../common/scope-rules.js';
import type { FrictionDefinition } from './friction-definition.js';
import { isWholeMonths } from './friction-periods.js';

export const FRICTION_MAX_TOP = 1000;
export const FRICTION_MAX_U_TURN_SECONDS = 3600;

function wholeNumberIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

export function frictionRules(def: FrictionDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (def.signals.length === 0) {
    out.push({ code: 'friction_signals_invalid', field: 'signals', message: 'signals is empty', hint: 'list one or more of rage, dead, error (or leave the key out for all three)' });
  } else if (new Set(def.signals).size !== def.signals.length) {
    out.push({ code: 'friction_signals_invalid', field: 'signals', message: `signals lists a signal twice: ${def.signals.join(', ')}`, hint: 'list each of rage, dead, error at most once' });
  }
  if (!wholeNumberIn(def.min_sessions, 1, Number.MAX_SAFE_INTEGER)) {
    out.push({ code: 'friction_min_sessions_invalid', field: 'min_sessions', message: `min_sessions ${def.min_sessions} is not a whole number ≥ 1`, hint: 'min_sessions: 1 lists every hotspot; the default 5 hides one-off noise' });
  }
  if (!wholeNumberIn(def.top, 1, FRICTION_MAX_TOP)) {
    out.push({ code: 'friction_top_invalid', field: 'top', message: `top ${def.top} is not a whole number between 1 and ${FRICTION_MAX_TOP}`, hint: 'top is how many rows each list shows (default 20)' });
  }
  if (!wholeNumberIn(def.u_turn_seconds, 1, FRICTION_MAX_U_TURN_SECONDS)) {
    out.push({
      code: 'friction_u_turn_seconds_invalid',
      field: 'u_turn_seconds',
      message: `u_turn_seconds ${def.u_turn_seconds} is not a whole number of seconds between 1 and ${FRICTION_MAX_U_TURN_SECONDS}`,
      hint: 'a U-turn is a return within this many seconds of leaving a page (default 10)',
    });
  }
  const scope = scopeViolations('friction', def);
  // A malformed range has its own error already.
  const rangeOk = !scope.some((v) => v.field.startsWith('date_range'));
  if (def.compare === 'previous_month' && def.date_range != null && rangeOk && !isWholeMonths(def.date_range)) {
    out.push({
      code: 'friction_compare_invalid',
      field: 'compare',
      message: `compare: previous_month needs a date_range of whole calendar months; ${def.date_range.from} to ${def.date_range.to} is not`,
      hint: 'start the range on the 1st and end it on the last day of a month, or use compare: previous_period (the same number of days before)',
    });
  }
  out.push(...scope);
  return out;
}
