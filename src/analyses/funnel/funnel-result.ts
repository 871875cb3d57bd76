/**
 * The funnel's JSON result (docs/json-output.md#funnel). Version 1: fields may be added, never renamed or
 * retyped, without a version bump.
 */
import type { FilterValue } from '../event-fields.js';
import { resolveScope, type ResolvedScope } from '../common/definition-parts.js';
import type { ExcludedSummary } from '../common/scope-sql.js';
import type { FunnelAttempts, FunnelDefinition, FunnelOrder, FunnelPreset, FunnelUnit } from './funnel-definition.js';
import { parseWindowMicros } from './funnel-rules.js';

export interface ResolvedFunnelStep {
  event: string;
  name: string;
  where: Record<string, FilterValue>;
  first_time: boolean;
}

export interface ResolvedFunnelExclusion {
  event: string;
  where: Record<string, FilterValue>;
  between: [number, number];
}

/** The definition as run: every default filled in, so a result says exactly what it counted. */
export interface ResolvedFunnelDefinition extends ResolvedScope {
  name: string;
  preset: FunnelPreset | null;
  steps: ResolvedFunnelStep[];
  window: string;
  window_seconds: number;
  order: FunnelOrder;
  unit: FunnelUnit;
  attempts: FunnelAttempts;
  exclusions: ResolvedFunnelExclusion[];
}

export interface FunnelStepResult {
  name: string;
  /** Units (people or sessions) whose best attempt reached this step. */
  count: number;
  /** count ÷ previous step's count; step 1: 1. null when the denominator is 0. */
  conversion_from_previous: number | null;
  /** count ÷ step 1's count; step 1: 1. null when step 1's count is 0. */
  conversion_from_first: number | null;
  /** previous step's count − count; step 1: 0. */
  drop_off: number;
  /** Over the units reaching this step; null for step 1 and when nobody reached it. */
  median_seconds_from_previous: number | null;
  mean_seconds_from_previous: number | null;
}

export interface FunnelBreakdownGroup {
  /** The breakdown field's value on the attempt's step-1 event, as text; null when absent. */
  value: string | null;
  steps: FunnelStepResult[];
}

export interface FunnelNextEvent {
  event: string;
  count: number;
}

export interface FunnelDropped {
  /** 1-based: these units reached this step but not the next one. */
  after_step: number;
  step_name: string;
  count: number;
  /** The event each dropped unit did next (after its step event, within the window), top 5 by count. */
  next_events: FunnelNextEvent[];
  /** Dropped units that did nothing else within the window. */
  no_next_event: number;
}

export interface FunnelResult {
  kind: 'funnel';
  version: 1;
  name: string;
  definition: ResolvedFunnelDefinition;
  steps: FunnelStepResult[];
  /** Who the exclude list left out (tags internal/bot, segments), over the range's events. */
  excluded: ExcludedSummary;
  breakdown?: FunnelBreakdownGroup[];
  dropped?: FunnelDropped[];
  /** With `--people N` / listDroppedAfter: the units that reached step N but not N + 1, in id order. */
  dropped_people?: { after_step: number; unit: FunnelUnit; ids: string[] };
}

export function resolveFunnelDefinition(def: FunnelDefinition, timezone: string): ResolvedFunnelDefinition {
  const n = def.steps.length;
  const window = String(def.window).trim();
  return {
    ...resolveScope(def, timezone),
    name: def.name,
    preset: def.preset ?? null,
    steps: def.steps.map((s) => ({ event: s.event, name: s.name ?? s.event, where: { ...(s.where ?? {}) }, first_time: s.first_time })),
    window,
    window_seconds: parseWindowMicros(def.window)! / 1_000_000,
    order: def.order,
    unit: def.unit,
    attempts: def.attempts,
    exclusions: def.exclusions.map((x) => ({ event: x.event, where: { ...(x.where ?? {}) }, between: [...(x.between ?? [1, n])] as [number, number] })),
  };
}

/**
 * What the same definition without its breakdown gives, from a run with one: each unit is in exactly one group,
 * so the overall steps, times and drop-offs do not depend on the breakdown (funnel-engines.test.ts checks it).
 */
export function withoutBreakdown(result: FunnelResult): FunnelResult {
  const { breakdown: _groups, ...overall } = result;
  return { ...overall, definition: { ...result.definition, breakdown: null } };
}
