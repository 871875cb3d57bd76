/**
 * The paths JSON result (docs/analyses/paths.md#json-output). Version 1: fields may be added, never renamed or
 * retyped, without a version bump.
 */
import type { ExcludedSummary } from '../common/scope-sql.js';
import { resolveScope, type ResolvedScope, type WhereFilter } from '../common/definition-parts.js';
import type { PathAnchor, PathsDefinition, PathStepMode, PathUnit } from './paths-definition.js';
import { EVENT_KEY_PREFIX, PAGE_KEY_PREFIX } from './paths-query.js';

/** One step of a path: a page view by its cleaned page_path, or an event by its name. */
export interface PathStep {
  type: 'page' | 'event';
  name: string;
}

export interface ResolvedPathAnchor {
  event: string | null;
  page: string | null;
  where: WhereFilter;
}

/** The definition as run: every default filled in, so a result says exactly what it counted. */
export interface ResolvedPathsDefinition extends ResolvedScope {
  name: string;
  start: ResolvedPathAnchor | null;
  end: ResolvedPathAnchor | null;
  step: PathStepMode;
  include_events: string[] | null;
  exclude_events: string[];
  depth: number;
  collapse_repeats: boolean;
  top: number;
  top_transitions: number;
  unit: PathUnit;
}

export interface PathsSessions {
  /** Sessions with a start event (null without `start`). */
  with_start: number | null;
  /** Sessions with an end event — after the start event when both are set (null without `end`). */
  with_end: number | null;
  /** Sessions whose path is counted: the denominator of every `share`. */
  with_path: number;
  /** Counted paths cut at `depth`: the session had more steps after (or, with only `end`, before) them. */
  truncated: number;
  /** With start and end: sessions whose end came more than `depth` steps after the start (not counted); else null. */
  end_beyond_depth: number | null;
}

export interface PathEntry {
  steps: PathStep[];
  sessions: number;
  /** sessions ÷ sessions with a path (of the group, in a breakdown); null when that is 0. */
  share: number | null;
}

export interface OtherPaths {
  /** Distinct paths not listed (beyond `top`). */
  paths: number;
  sessions: number;
}

export interface PathTransition {
  /** 1-based position of `from` in the paths; `to` is at depth + 1. */
  depth: number;
  from: PathStep;
  to: PathStep;
  /** Sessions whose path has `from` at this position followed by `to`. */
  count: number;
}

export interface OtherTransitions {
  /** Distinct (depth, from, to) transitions not listed (beyond `top_transitions`). */
  transitions: number;
  count: number;
}

export interface PathDropOff {
  /** 1-based position. */
  depth: number;
  /** Paths with a step at this position. */
  sessions: number;
  /** Of those, sessions with no further step: their session (within the date range) ended here. */
  dropped: number;
  /** dropped ÷ sessions; null when sessions is 0. */
  share: number | null;
}

export interface PathsBreakdownGroup {
  /** The breakdown field's value on the path's anchor event (start, end, or first step), as text; null when absent. */
  value: string | null;
  /** Sessions with a path in this group. */
  sessions: number;
  paths: PathEntry[];
  other_paths: OtherPaths;
}

export interface PathsResult {
  kind: 'paths';
  version: 1;
  name: string;
  definition: ResolvedPathsDefinition;
  /** How `depth` counts positions: from the first step, or (only `end` set) so the end step is at `depth`. */
  aligned: 'first_step' | 'end';
  sessions: PathsSessions;
  paths: PathEntry[];
  other_paths: OtherPaths;
  transitions: PathTransition[];
  other_transitions: OtherTransitions;
  /** Per position 1..depth for paths without `end`; empty with `end` (every path ends at the end step). */
  drop_offs: PathDropOff[];
  breakdown?: PathsBreakdownGroup[];
  excluded: ExcludedSummary;
}

/** A step key from SQL ('p' + page path, 'e' + event name) as a step. */
export function stepFromKey(key: string): PathStep {
  if (key.startsWith(PAGE_KEY_PREFIX)) return { type: 'page', name: key.slice(PAGE_KEY_PREFIX.length) };
  if (key.startsWith(EVENT_KEY_PREFIX)) return { type: 'event', name: key.slice(EVENT_KEY_PREFIX.length) };
  throw new Error(`not a path step key: ${JSON.stringify(key)}`);
}

function resolveAnchor(anchor: PathAnchor | null | undefined): ResolvedPathAnchor | null {
  if (anchor == null) return null;
  return { event: anchor.event ?? null, page: anchor.page ?? null, where: { ...(anchor.where ?? {}) } };
}

export function resolvePathsDefinition(def: PathsDefinition, timezone: string): ResolvedPathsDefinition {
  return {
    name: def.name,
    ...resolveScope(def, timezone),
    start: resolveAnchor(def.start),
    end: resolveAnchor(def.end),
    step: def.step,
    include_events: def.include_events == null ? null : [...def.include_events],
    exclude_events: [...def.exclude_events],
    depth: def.depth,
    collapse_repeats: def.collapse_repeats,
    top: def.top,
    top_transitions: def.top_transitions,
    unit: def.unit,
  };
}

/** Text form of a step for tables and CSV: a page as its path, an event as its name in parentheses. */
export function stepText(step: PathStep): string {
  return step.type === 'page' ? step.name : `(${step.name})`;
}
