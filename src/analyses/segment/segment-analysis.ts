/**
 * Running a segment on its own: how many people it holds, their share of everyone seen (in the date range when
 * one is given) and, on request, who they are. Other kinds use segments through common/scope-sql.ts.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type AnalysisSession, type ClickhouseAnalysisSession, type EngineSession } from '../analysis-kind.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, chQueryRows, queryRows } from '../common/run-support.js';
import { parseSegmentDefinition, segmentRules, type SegmentDefinition } from './segment-definition.js';
import { segmentMembersSql } from './segment-query.js';
import { chSegmentMembersSql } from './segment-query-clickhouse.js';

export interface SegmentRunOptions extends AnalysisRunOptions {
  /** List up to this many member person ids (in id order). Default 0. */
  listPeople?: number;
}

export interface SegmentResult {
  kind: 'segment';
  version: 1;
  name: string;
  definition: SegmentDefinition & { timezone: string };
  /** People in the segment. */
  people: number;
  /** Everyone with at least one event (tagged people included: a segment is a set, not an analysis). */
  all_people: number;
  /** people ÷ all_people; null when the warehouse is empty. */
  share_of_people: number | null;
  /** Member person ids, first `listPeople` in id order (only when asked). */
  person_ids?: string[];
}

type CountsRow = { people: number; all_people: number; ids: string[] | null };

function duckdbCounts(session: AnalysisSession, definition: SegmentDefinition, timezone: string, list: number): Promise<CountsRow[]> {
  const params = new BoundParams();
  const members = segmentMembersSql(definition, params, timezone);
  const sql = `WITH members AS (${members})
SELECT (SELECT count(*) FROM members) AS people,
       (SELECT count(DISTINCT person_id) FROM events WHERE person_id IS NOT NULL) AS all_people,
       ${list > 0 ? `(SELECT list(person_id ORDER BY person_id) FROM (SELECT person_id FROM members ORDER BY person_id LIMIT ${params.bind(list)}))` : 'NULL'} AS ids`;
  return queryRows<CountsRow>(session, { sql, params: [...params.values] });
}

/** The same three numbers on ClickHouse; the listed ids sorted bytewise, as DuckDB sorts text. */
function clickhouseCounts(session: ClickhouseAnalysisSession, definition: SegmentDefinition, timezone: string, list: number): Promise<CountsRow[]> {
  const params = new ClickhouseParams();
  const members = chSegmentMembersSql(definition, params, timezone);
  const ids = list > 0 ? `(SELECT arraySort(groupArray(person_id)) FROM (SELECT person_id FROM members ORDER BY person_id LIMIT ${params.bind(list)}))` : 'NULL';
  const sql = `WITH members AS (${members})
SELECT (SELECT count() FROM members) AS people,
       (SELECT uniqExact(person_id) FROM events WHERE person_id IS NOT NULL) AS all_people,
       ${ids} AS ids`;
  return chQueryRows<CountsRow>(session, { sql, params: params.values });
}

export async function runSegment(session: EngineSession, definition: SegmentDefinition, options: SegmentRunOptions): Promise<SegmentResult> {
  assertRules(segmentRules(definition));
  assertTimezone(options.timezone, 'segment');
  const list = options.listPeople ?? 0;
  const [row] = isClickhouse(session) ? await clickhouseCounts(session, definition, options.timezone, list) : await duckdbCounts(session, definition, options.timezone, list);
  const people = row?.people ?? 0;
  const all = row?.all_people ?? 0;
  const result: SegmentResult = {
    kind: 'segment',
    version: 1,
    name: definition.name,
    definition: { ...definition, timezone: options.timezone },
    people,
    all_people: all,
    share_of_people: all === 0 ? null : people / all,
  };
  if (list > 0) result.person_ids = row?.ids ?? [];
  return result;
}

export const segmentAnalysis: AnalysisKind<SegmentDefinition, SegmentResult> = {
  kind: 'segment',
  engines: ['duckdb', 'clickhouse'],
  parse: parseSegmentDefinition,
  run: runSegment,
};
