/**
 * The friction JSON result (docs/analyses/friction.md#json-output). Version 1: fields may be added, never
 * renamed or retyped, without a version bump.
 */
import type { DateRange, ResolvedScope } from '../common/definition-parts.js';
import type { ExcludedSummary } from '../common/scope-sql.js';
import type { FrictionCompare, FrictionDefinition, FrictionElementKey, FrictionSignal } from './friction-definition.js';

/** The definition as run: every default filled in, so a result says exactly what it counted. */
export interface ResolvedFrictionDefinition extends ResolvedScope {
  name: string;
  signals: FrictionSignal[];
  element: FrictionElementKey;
  min_sessions: number;
  top: number;
  u_turn_seconds: number;
  compare: FrictionCompare;
}

/** One number against the previous period. */
export interface FrictionDelta {
  previous: number | null;
  /** current − previous; null when either is null. */
  change: number | null;
  /** change ÷ previous; null when previous is 0 or null. */
  relative: number | null;
}

/** Signal counts: events carrying each flag; a signal left out of `signals` is null. */
export interface FrictionSignalCounts {
  /** Events with at least one of the selected signals (an event with two flags counts once). */
  signal_events: number;
  rage_clicks: number | null;
  dead_clicks: number | null;
  error_clicks: number | null;
}

export interface FrictionHotspotChange {
  sessions: FrictionDelta;
  people: FrictionDelta;
  signal_events: FrictionDelta;
  share_of_page_sessions: FrictionDelta;
  /** No signal here in the previous period, while the previous period had sessions in scope. */
  new: boolean;
}

export interface FrictionHotspot extends FrictionSignalCounts {
  /** 1-based position in the ranking. */
  rank: number;
  /** Cleaned page path; null for events without one. */
  page: string | null;
  /** The element's selector: the key, or (when grouping by text) its most common selector. */
  selector: string | null;
  /** The element's text (at most 200 characters, … marks a cut): the key, or its most common text. */
  text: string | null;
  /** Sessions with at least one signal event on this element. */
  sessions: number;
  people: number;
  /** Sessions with any event on the page. */
  page_sessions: number;
  /** sessions ÷ page_sessions. */
  share_of_page_sessions: number | null;
  /** null without a comparison. */
  change: FrictionHotspotChange | null;
}

export interface FrictionPageChange {
  sessions_with_signal: FrictionDelta;
  share_of_sessions: FrictionDelta;
  signal_events: FrictionDelta;
  u_turns: FrictionDelta;
  new: boolean;
}

export interface FrictionPage extends FrictionSignalCounts {
  rank: number;
  page: string | null;
  /** Sessions with any event on the page. */
  sessions: number;
  sessions_with_signal: number;
  share_of_sessions: number | null;
  /** Events with event_kind error or the error_click flag (whatever `signals` says). */
  error_events: number;
  sessions_with_error: number;
  /** Arrivals on the page: its page views, consecutive views of the same page in a session counted once. */
  visits: number;
  /** Visits that were a return from another page within u_turn_seconds of leaving this one. */
  u_turns: number;
  u_turn_sessions: number;
  /** u_turns ÷ visits. */
  u_turn_share: number | null;
  change: FrictionPageChange | null;
}

export interface FrictionErrorPage {
  rank: number;
  page: string | null;
  sessions: number;
  sessions_with_error: number;
  /** sessions_with_error ÷ sessions. */
  error_rate: number | null;
  error_events: number;
}

/** Everything in scope in one period, whatever the noise cut. */
export interface FrictionTotals extends FrictionSignalCounts {
  sessions: number;
  people: number;
  sessions_with_signal: number;
  share_of_sessions: number | null;
  people_with_signal: number;
  error_events: number;
  sessions_with_error: number;
  visits: number;
  u_turns: number;
  u_turn_sessions: number;
  u_turn_share: number | null;
}

export interface FrictionOverallChange {
  sessions: FrictionDelta;
  sessions_with_signal: FrictionDelta;
  share_of_sessions: FrictionDelta;
  people_with_signal: FrictionDelta;
  signal_events: FrictionDelta;
  sessions_with_error: FrictionDelta;
  u_turns: FrictionDelta;
}

export interface FrictionOverall extends FrictionTotals {
  change: FrictionOverallChange | null;
}

export interface FrictionBreakdownGroup extends FrictionSignalCounts {
  /** The breakdown value on the session's first event in scope, as text; null when absent. */
  value: string | null;
  sessions: number;
  sessions_with_signal: number;
  share_of_sessions: number | null;
}

export interface FrictionPrevious {
  compared: boolean;
  /** Why there is no comparison; null when there is one. */
  reason: string | null;
  date_range: DateRange | null;
  totals: FrictionTotals | null;
}

/** How many rows a list had before the noise cut and the top limit. */
export interface FrictionListCounts {
  /** Rows with at least one affected session. */
  candidates: number;
  /** Candidates with fewer than min_sessions affected sessions (not listed). */
  below_min_sessions: number;
  /** Candidates that passed the cut but fell beyond `top`. */
  beyond_top: number;
  listed: number;
}

export interface FrictionResult {
  kind: 'friction';
  version: 1;
  name: string;
  definition: ResolvedFrictionDefinition;
  overall: FrictionOverall;
  hotspots: FrictionHotspot[];
  pages: FrictionPage[];
  error_pages: FrictionErrorPage[];
  /** Only with a breakdown. */
  breakdown?: FrictionBreakdownGroup[];
  previous: FrictionPrevious;
  lists: { hotspots: FrictionListCounts; pages: FrictionListCounts; error_pages: FrictionListCounts };
  excluded: ExcludedSummary;
}

export function resolveFrictionDefinition(def: FrictionDefinition, scope: ResolvedScope): ResolvedFrictionDefinition {
  return {
    name: def.name,
    signals: [...def.signals],
    element: def.element,
    min_sessions: def.min_sessions,
    top: def.top,
    u_turn_seconds: def.u_turn_seconds,
    compare: def.compare,
    ...scope,
  };
}

/** a ÷ b, null when b is 0. */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

export function delta(current: number | null, previous: number | null): FrictionDelta {
  const change = current === null || previous === null ? null : current - previous;
  return { previous, change, relative: change === null || previous === null || previous === 0 ? null : change / previous };
}
