/**
 * What every analysis kind provides (DESIGN.md §4): a typed definition parsed from YAML, validation rules with
 * stable codes, and a run that returns a documented, versioned JSON result.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { WeekStart } from './common/time-buckets.js';
import type { SegmentDefinition } from './segment/segment-definition.js';

/**
 * The warehouse as analyses see it. Structural on purpose: analyses may not import the warehouse module
 * (DESIGN.md §2), and the warehouse's DuckdbSession satisfies this shape.
 */
export interface AnalysisSession {
  readonly connection: DuckDBConnection;
}

export interface AnalysisRunOptions {
  /** IANA time zone for calendar dates in the definition (usagelab.yaml `timezone`). */
  timezone: string;
  /** First day of calendar weeks (usagelab.yaml `week_start`); default monday. */
  weekStart?: WeekStart;
  /** Saved segments by name, for `segment`, `breakdown: segment:NAME` and `exclude` (the library loads queries/). */
  segments?: ReadonlyMap<string, SegmentDefinition>;
}

/** One broken validation rule: a stable code, the field (dotted path) it concerns, and what to do. */
export interface RuleViolation {
  code: string;
  field: string;
  message: string;
  hint: string;
}

export interface AnalysisKind<TDefinition, TResult> {
  readonly kind: string;
  /** Parses a YAML-loaded object; throws a UsageLabError naming the rule code, the file and the field. */
  parse(input: unknown, file?: string): TDefinition;
  run(session: AnalysisSession, definition: TDefinition, options: AnalysisRunOptions): Promise<TResult>;
}
