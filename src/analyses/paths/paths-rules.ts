/**
 * Validation rules of a paths definition, each with a stable code (docs/analyses/paths.md#rules-error-codes).
 * Field paths are dotted and 0-based like the YAML (`start.where.device_type`, `exclude_events.1`).
 */
import type { RuleViolation } from '../analysis-kind.js';
import { eventNameViolations, scopeViolations, whereViolations } from '../common/scope-rules.js';
import type { PathAnchor, PathsDefinition } from './paths-definition.js';

export const PATHS_MIN_DEPTH = 2;
export const PATHS_MAX_DEPTH = 20;
export const PATHS_MAX_TOP = 1000;
export const PATHS_MAX_TOP_TRANSITIONS = 10_000;

const K = 'paths';

function anchorViolations(anchor: PathAnchor | null | undefined, field: 'start' | 'end'): RuleViolation[] {
  if (anchor == null) return [];
  const out: RuleViolation[] = [];
  const hasEvent = anchor.event !== undefined;
  const hasPage = anchor.page !== undefined;
  if (hasEvent === hasPage) {
    out.push({
      code: 'paths_anchor_invalid',
      field,
      message: `${field} needs exactly one of event and page; got ${hasEvent ? 'both' : 'neither'}`,
      hint: `write ${field}: { event: signup } or ${field}: { page: /settings/:id } (the cleaned page path)`,
    });
  }
  if (hasEvent) out.push(...eventNameViolations(K, anchor.event!, `${field}.event`, field));
  if (hasPage && anchor.page!.trim() === '') {
    out.push({
      code: 'paths_anchor_invalid',
      field: `${field}.page`,
      message: `${field} has an empty page`,
      hint: 'give the cleaned page path as stored in page_path, ids collapsed to :id (usagelab sql "SELECT DISTINCT page_path FROM events")',
    });
  }
  out.push(...whereViolations(K, anchor.where, field));
  return out;
}

function wholeNumberIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Every broken rule, in definition order (empty when the definition is valid). */
export function pathsRules(def: PathsDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  out.push(...anchorViolations(def.start, 'start'));
  out.push(...anchorViolations(def.end, 'end'));
  if (def.include_events != null) {
    if (def.step === 'page') {
      out.push({
        code: 'paths_include_events_unused',
        field: 'include_events',
        message: 'include_events lists event steps, but step: page makes only page views steps',
        hint: 'use step: page_and_event (pages and these events) or step: event, or remove include_events',
      });
    }
    if (def.include_events.length === 0) {
      out.push({
        code: 'paths_include_events_unused',
        field: 'include_events',
        message: 'include_events is empty, so no event would be a step',
        hint: 'list the event names to keep, or remove the key to keep every event',
      });
    }
    def.include_events.forEach((name, i) => out.push(...eventNameViolations(K, name, `include_events.${i}`, `include_events ${i + 1}`)));
  }
  def.exclude_events.forEach((name, i) => out.push(...eventNameViolations(K, name, `exclude_events.${i}`, `exclude_events ${i + 1}`)));
  if (!wholeNumberIn(def.depth, PATHS_MIN_DEPTH, PATHS_MAX_DEPTH)) {
    out.push({
      code: 'paths_depth_invalid',
      field: 'depth',
      message: `depth ${JSON.stringify(def.depth)} is not a whole number from ${PATHS_MIN_DEPTH} to ${PATHS_MAX_DEPTH}`,
      hint: 'depth is the number of steps per path, start (or end) step included; 5 is the default',
    });
  }
  if (!wholeNumberIn(def.top, 1, PATHS_MAX_TOP)) {
    out.push({ code: 'paths_top_invalid', field: 'top', message: `top ${JSON.stringify(def.top)} is not a whole number from 1 to ${PATHS_MAX_TOP}`, hint: 'top is how many paths to list (20 by default)' });
  }
  if (!wholeNumberIn(def.top_transitions, 1, PATHS_MAX_TOP_TRANSITIONS)) {
    out.push({
      code: 'paths_top_invalid',
      field: 'top_transitions',
      message: `top_transitions ${JSON.stringify(def.top_transitions)} is not a whole number from 1 to ${PATHS_MAX_TOP_TRANSITIONS}`,
      hint: 'top_transitions is how many transitions (Sankey links) to list (100 by default)',
    });
  }
  out.push(...scopeViolations(K, def));
  return out;
}
