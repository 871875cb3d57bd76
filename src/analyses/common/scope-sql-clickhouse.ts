/**
 * The shared keys (date_range, where, segment, breakdown, exclude) in ClickHouse SQL: the counterpart of
 * scope-sql.ts, returning the same BuiltScope pieces with the same meaning, so a kind's ClickHouse query is built
 * around them exactly as its DuckDB query is.
 */
import type { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { chLocalMidnight } from '../../sql/clickhouse/clickhouse-time.js';
import type { ClickhouseAnalysisSession } from '../analysis-kind.js';
import { chFieldTextExpression, chFilterCondition } from '../event-fields-clickhouse.js';
import { parseEventField } from '../event-fields.js';
import { chSegmentMembersSql } from '../segment/segment-query-clickhouse.js';
import { PERSON_TAGS, type AnalysisScope } from './definition-parts.js';
import { chQueryRows } from './run-support.js';
import { segmentOrFail, type BuiltScope, type ExcludedSummary, type ScopeOptions } from './scope-sql.js';
import { SEGMENT_PREFIX } from './scope-rules.js';

const isTag = (name: string): boolean => (PERSON_TAGS as readonly string[]).includes(name);

/** Builds the scope of `alias` (an alias of `events`) into `params`; `breakdown` is Nullable(String). */
export function buildClickhouseScope(scope: AnalysisScope, params: ClickhouseParams, alias: string, options: ScopeOptions): BuiltScope {
  const ctes: string[] = [];
  const segmentCte = new Map<string, string>();
  const membersOf = (name: string, field: string): string => {
    let cte = segmentCte.get(name);
    if (cte === undefined) {
      cte = `ul_segment_${segmentCte.size}`;
      ctes.push(`${cte} AS (${chSegmentMembersSql(segmentOrFail(name, options, field), params, options.timezone)})`);
      segmentCte.set(name, cte);
    }
    return `(SELECT person_id FROM ${cte})`;
  };
  const person = `${alias}.person_id`;
  const conditions = [`${person} IS NOT NULL`];
  for (const [name, value] of Object.entries(scope.where ?? {})) conditions.push(chFilterCondition(parseEventField(name)!, value, params, alias));
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

  let breakdown = 'CAST(NULL AS Nullable(String))';
  if (scope.breakdown != null) {
    if (scope.breakdown.startsWith(SEGMENT_PREFIX)) {
      const name = scope.breakdown.slice(SEGMENT_PREFIX.length).trim();
      breakdown = `CAST(if(${person} IN ${membersOf(name, 'breakdown')}, ${params.bind(name)}, ${params.bind(`not ${name}`)}) AS Nullable(String))`;
    } else {
      breakdown = chFieldTextExpression(parseEventField(scope.breakdown)!, params, alias);
    }
  }

  let lo: string | null = null;
  let hi: string | null = null;
  let inRange = 'true';
  if (scope.date_range != null) {
    // Local midnights in the configured zone, as instants: DST days are 23 or 25 hours long.
    const tz = params.bind(options.timezone);
    lo = chLocalMidnight(params.bind(scope.date_range.from, 'Date32'), tz);
    hi = chLocalMidnight(`addDays(${params.bind(scope.date_range.to, 'Date32')}, 1)`, tz);
    inRange = `(${alias}.occurred_at >= ${lo} AND ${alias}.occurred_at < ${hi})`;
  }
  return { ctes, conditions, exclusions, inRange, lo, hi, breakdown };
}

/** `WITH a, b` for a list of CTEs ('' when empty). */
export function chWithClause(ctes: readonly string[]): string {
  return ctes.length === 0 ? '' : `WITH ${ctes.join(',\n')}\n`;
}

/** excludedSummary (scope-sql.ts) on ClickHouse. */
export async function chExcludedSummary(session: ClickhouseAnalysisSession, scope: AnalysisScope, params: ClickhouseParams, options: ScopeOptions): Promise<ExcludedSummary> {
  const by = [...scope.exclude];
  if (by.length === 0) return { by, people: 0, events: 0, share_of_events: null };
  const built = buildClickhouseScope({ ...scope, segment: null, breakdown: null }, params, 'e', options);
  const filters = built.conditions.filter((c) => !built.exclusions.includes(c));
  const excluded = `NOT (${built.exclusions.join(' AND ')})`;
  const sql = `${chWithClause(built.ctes)}SELECT count() AS total,
  countIf(${excluded}) AS excluded_events,
  uniqExactIf(e.person_id, ${excluded}) AS excluded_people
FROM events AS e WHERE ${[...filters, built.inRange].join(' AND ')}`;
  const [row] = await chQueryRows<{ total: number; excluded_events: number; excluded_people: number }>(session, { sql, params: params.values });
  const total = row?.total ?? 0;
  const events = row?.excluded_events ?? 0;
  return { by, people: row?.excluded_people ?? 0, events, share_of_events: total === 0 ? null : events / total };
}
