/**
 * The shared keys as SQL (DuckDB dialect): which events are in scope (global filters, segment, exclusions),
 * which fall in the date range, and the breakdown value. Every kind builds its query around these pieces, so
 * `where`, `segment`, `breakdown` and `exclude` mean exactly the same in every kind.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { BoundParams } from '../../sql/bound-params.js';
import type { AnalysisSession } from '../analysis-kind.js';
import { fieldTextExpression, filterCondition, parseEventField } from '../event-fields.js';
import type { SegmentDefinition } from '../segment/segment-definition.js';
import { segmentMembersSql } from '../segment/segment-query.js';
import { PERSON_TAGS, type AnalysisScope } from './definition-parts.js';
import { queryRows, type BuiltQuery } from './run-support.js';
import { SEGMENT_PREFIX } from './scope-rules.js';
import { localMidnight } from './time-buckets.js';

export interface ScopeOptions {
  /** Prefix of error codes (the analysis kind). */
  kind: string;
  timezone: string;
  /** Saved segments by name (the library loads them from queries/). */
  segments?: ReadonlyMap<string, SegmentDefinition>;
}

export interface BuiltScope {
  /** CTE definitions (`name AS (...)`) the conditions below refer to; put them in the statement's WITH. */
  ctes: string[];
  /** Conditions every in-scope event meets: a person, the global filters, segment membership, no exclusion. */
  conditions: string[];
  /** The part of `conditions` that is the exclude list (for counting what it left out). */
  exclusions: string[];
  /** The event lies in the date range (TRUE without one). */
  inRange: string;
  /** Scalar SQL for the range's first instant and the instant just after it; null without a range. */
  lo: string | null;
  hi: string | null;
  /** The breakdown value as text (NULL when absent; CAST(NULL AS VARCHAR) without a breakdown). */
  breakdown: string;
}

const isTag = (name: string): boolean => (PERSON_TAGS as readonly string[]).includes(name);

/** The saved segment named, or segment_unknown naming the field (shared with scope-sql-clickhouse.ts). */
export function segmentOrFail(name: string, options: ScopeOptions, field: string): SegmentDefinition {
  const def = options.segments?.get(name);
  if (def === undefined) {
    const known = [...(options.segments?.keys() ?? [])];
    throw new UsageLabError(`${options.kind}_segment_unknown`, `no saved segment "${name}"`, {
      place: { field },
      hint: known.length === 0 ? 'save one as queries/NAME.yaml with kind: segment' : `saved segments: ${known.join(', ')}`,
      exitCode: EXIT.usage,
    });
  }
  return def;
}

/** Builds the scope of `alias` (an alias of `events`) into `params`. */
export function buildScope(scope: AnalysisScope, params: BoundParams, alias: string, options: ScopeOptions): BuiltScope {
  const ctes: string[] = [];
  const segmentCte = new Map<string, string>();
  const membersOf = (name: string, field: string): string => {
    let cte = segmentCte.get(name);
    if (cte === undefined) {
      cte = `ul_segment_${segmentCte.size}`;
      ctes.push(`${cte} AS (${segmentMembersSql(segmentOrFail(name, options, field), params, options.timezone)})`);
      segmentCte.set(name, cte);
    }
    return `(SELECT person_id FROM ${cte})`;
  };
  const person = `${alias}.person_id`;
  const conditions = [`${person} IS NOT NULL`];
  for (const [name, value] of Object.entries(scope.where ?? {})) conditions.push(filterCondition(parseEventField(name)!, value, params, alias));
  if (scope.segment != null) conditions.push(`${person} IN ${membersOf(scope.segment, 'segment')}`);

  const exclusions: string[] = [];
  const tags = scope.exclude.filter(isTag);
  if (tags.length > 0) {
    exclusions.push(`${person} NOT IN (SELECT person_id FROM person_tags WHERE tag IN (${tags.map((t) => params.bind(t)).join(', ')}))`);
  }
  scope.exclude.forEach((name, i) => {
    if (!isTag(name)) exclusions.push(`${person} NOT IN ${membersOf(name, `exclude.${i}`)}`);
  });
  conditions.push(...exclusions);

  let breakdown = 'CAST(NULL AS VARCHAR)';
  if (scope.breakdown != null) {
    if (scope.breakdown.startsWith(SEGMENT_PREFIX)) {
      const name = scope.breakdown.slice(SEGMENT_PREFIX.length).trim();
      breakdown = `CASE WHEN ${person} IN ${membersOf(name, 'breakdown')} THEN ${params.bind(name)} ELSE ${params.bind(`not ${name}`)} END`;
    } else {
      breakdown = fieldTextExpression(parseEventField(scope.breakdown)!, params, alias);
    }
  }

  const range = scope.date_range ?? null;
  if (range === null) return { ctes, conditions, exclusions, inRange: 'TRUE', lo: null, hi: null, breakdown };
  // Local midnights in the configured time zone, as instants: DST days are 23 or 25 hours long. Constant
  // expressions (folded once), not a bounds CTE: compared with a constant, the range is a filter of the scan itself
  // instead of a join with a subquery's row, which made every scoped scan slower. Each part is bound on first use:
  // a statement must use every parameter it is given, and callers ask for lo, hi or neither.
  let tz: string | null = null;
  let loSql: string | null = null;
  let hiSql: string | null = null;
  const lo = (): string => (loSql ??= localMidnight(range.from, params, (tz ??= params.bind(options.timezone))));
  const hi = (): string => (hiSql ??= localMidnight(range.to, params, (tz ??= params.bind(options.timezone)), 1));
  return {
    ctes,
    conditions,
    exclusions,
    get inRange() {
      return `(${alias}.occurred_at >= ${lo()} AND ${alias}.occurred_at < ${hi()})`;
    },
    get lo() {
      return lo();
    },
    get hi() {
      return hi();
    },
    breakdown,
  };
}

/** `WITH a, b` for a list of CTEs ('' when empty). */
export function withClause(ctes: readonly string[]): string {
  return ctes.length === 0 ? '' : `WITH ${ctes.join(',\n')}\n`;
}

/** How much the `exclude` list left out, over the events of the date range that pass the global filters. */
export interface ExcludedSummary {
  /** The tags and segments excluded. */
  by: string[];
  people: number;
  events: number;
  /** events ÷ all events that pass the filters in the range; null when there are none. */
  share_of_events: number | null;
}

/**
 * `run()`, or the answer the session's memo holds for the same statement and parameters (a report's connections
 * share one memo; a workspace session has none, since an import may change the events between two runs).
 */
export function memoized<T>(session: AnalysisSession, query: BuiltQuery, run: () => Promise<T>): Promise<T> {
  if (session.memo === undefined) return run();
  const key = `${query.sql}\u0000${JSON.stringify(query.params, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  const hit = session.memo.get(key) as Promise<T> | undefined;
  if (hit !== undefined) return hit;
  const running = run();
  session.memo.set(key, running);
  // A failure is not kept: the caller sees it, and a later run asks again.
  running.catch(() => session.memo?.delete(key));
  return running;
}

export async function excludedSummary(session: AnalysisSession, scope: AnalysisScope, params: BoundParams, options: ScopeOptions): Promise<ExcludedSummary> {
  const by = [...scope.exclude];
  if (by.length === 0) return { by, people: 0, events: 0, share_of_events: null };
  const built = buildScope({ ...scope, segment: null, breakdown: null }, params, 'e', options);
  const filters = built.conditions.filter((c) => !built.exclusions.includes(c));
  const excluded = `NOT (${built.exclusions.join(' AND ')})`;
  const sql = `${withClause(built.ctes)}SELECT count(*) AS total,
  count(*) FILTER (WHERE ${excluded}) AS events,
  count(DISTINCT e.person_id) FILTER (WHERE ${excluded}) AS people
FROM events e WHERE ${[...filters, built.inRange].join(' AND ')}`;
  const query = { sql, params: [...params.values] };
  const [row] = await memoized(session, query, () => queryRows<{ total: number; events: number; people: number }>(session, query));
  const total = row?.total ?? 0;
  return { by, people: row?.people ?? 0, events: row?.events ?? 0, share_of_events: total === 0 ? null : (row?.events ?? 0) / total };
}

