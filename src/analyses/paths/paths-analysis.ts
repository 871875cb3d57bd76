/**
 * Runs a paths analysis: one statement writes the sessions per distinct path into a temporary table
 * (paths-query.ts), then small aggregates over it give the top paths, transitions, drop-offs and totals; the
 * table is dropped.
 */
import { BoundParams } from '../../sql/bound-params.js';
import { quoteIdent } from '../../sql/quote.js';
import { ClickhouseParams } from '../../sql/clickhouse/clickhouse-params.js';
import { isClickhouse, type AnalysisKind, type AnalysisRunOptions, type AnalysisSession, type ClickhouseAnalysisSession, type EngineSession } from '../analysis-kind.js';
import { assertRules } from '../common/parse-definition.js';
import { assertTimezone, chQueryRows, queryRows, runStatement, type BuiltQuery } from '../common/run-support.js';
import { excludedSummary, type ScopeOptions } from '../common/scope-sql.js';
import { chExcludedSummary } from '../common/scope-sql-clickhouse.js';
import { parsePathsDefinition, type PathsDefinition } from './paths-definition.js';
import {
  buildLengthsQuery,
  buildPathsTableQuery,
  buildTopPathsQuery,
  buildTotalsQuery,
  buildTransitionsQuery,
  pathsShape,
} from './paths-query.js';
import { chPathsLengthsQuery, chPathsTopQuery, chPathsTotalsQuery, chPathsTransitionsQuery } from './paths-query-clickhouse.js';
import {
  resolvePathsDefinition,
  stepFromKey,
  type OtherPaths,
  type PathDropOff,
  type PathEntry,
  type PathsBreakdownGroup,
  type PathsResult,
  type PathTransition,
} from './paths-result.js';
import { pathsRules } from './paths-rules.js';

interface TotalsRow {
  units: number;
  with_end: number;
  with_path: number;
  truncated: number;
  end_beyond_depth: number;
}

interface TopPathRow {
  bd: string | null;
  path: string[];
  n: number;
  distinct_paths: number;
  sessions: number;
}

interface TransitionRow {
  depth: number;
  src: string;
  dst: string;
  n: number;
  distinct_transitions: number;
  total: number;
}

interface LengthRow {
  length: number;
  more: boolean;
  n: number;
}

const share = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

interface PathGroup {
  value: string | null;
  sessions: number;
  paths: PathEntry[];
  other_paths: OtherPaths;
}

/** Rows of the top-paths query (already ordered: groups by sessions, paths by rank) as groups. */
function pathGroups(rows: readonly TopPathRow[]): PathGroup[] {
  const groups: PathGroup[] = [];
  const distinct: number[] = [];
  for (const row of rows) {
    let group = groups[groups.length - 1];
    if (group === undefined || group.value !== row.bd) {
      group = { value: row.bd, sessions: row.sessions, paths: [], other_paths: { paths: 0, sessions: 0 } };
      groups.push(group);
      distinct.push(row.distinct_paths);
    }
    group.paths.push({ steps: row.path.map(stepFromKey), sessions: row.n, share: share(row.n, row.sessions) });
  }
  groups.forEach((g, i) => {
    const listed = g.paths.reduce((sum, p) => sum + p.sessions, 0);
    g.other_paths = { paths: distinct[i]! - g.paths.length, sessions: g.sessions - listed };
  });
  return groups;
}

/** Drop-offs per position from the distribution of path lengths (forward paths only). */
function dropOffs(depth: number, lengths: readonly LengthRow[]): PathDropOff[] {
  const out: PathDropOff[] = [];
  for (let d = 1; d <= depth; d++) {
    const sessions = lengths.filter((l) => l.length >= d).reduce((sum, l) => sum + l.n, 0);
    const dropped = lengths.filter((l) => l.length === d && !l.more).reduce((sum, l) => sum + l.n, 0);
    out.push({ depth: d, sessions, dropped, share: share(dropped, sessions) });
  }
  return out;
}

async function withTempTable<T>(session: AnalysisSession, create: BuiltQuery, use: (table: string) => Promise<T>): Promise<T> {
  const table = `ul_paths_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  await runStatement(session, { sql: `CREATE TEMP TABLE ${quoteIdent(table)} AS ${create.sql}`, params: create.params });
  try {
    return await use(table);
  } finally {
    await session.connection.run(`DROP TABLE IF EXISTS temp.${quoteIdent(table)}`);
  }
}

interface PathsTables {
  totals: TotalsRow;
  top: TopPathRow[];
  byValue: TopPathRow[];
  transitions: TransitionRow[];
  lengths: LengthRow[];
}

/** The same rows on ClickHouse (paths-query-clickhouse.ts): no temporary table, each statement does its own scan. */
async function clickhouseTables(session: ClickhouseAnalysisSession, definition: PathsDefinition, scopeOptions: ScopeOptions): Promise<PathsTables> {
  const shape = pathsShape(definition);
  const [totals] = await chQueryRows<TotalsRow>(session, chPathsTotalsQuery(definition, scopeOptions));
  const top = await chQueryRows<TopPathRow>(session, chPathsTopQuery(definition, scopeOptions, false));
  const byValue = definition.breakdown != null ? await chQueryRows<TopPathRow>(session, chPathsTopQuery(definition, scopeOptions, true)) : [];
  const transitions = await chQueryRows<TransitionRow>(session, chPathsTransitionsQuery(definition, scopeOptions));
  const lengths = shape === 'forward' ? await chQueryRows<LengthRow>(session, chPathsLengthsQuery(definition, scopeOptions)) : [];
  return { totals: totals!, top, byValue, transitions, lengths };
}

/** Runs a paths analysis and returns its JSON result (docs/analyses/paths.md#json-output). */
export async function runPaths(session: EngineSession, definition: PathsDefinition, options: AnalysisRunOptions): Promise<PathsResult> {
  assertRules(pathsRules(definition));
  assertTimezone(options.timezone, 'paths');
  const scopeOptions: ScopeOptions = { kind: 'paths', timezone: options.timezone, ...(options.segments === undefined ? {} : { segments: options.segments }) };
  const shape = pathsShape(definition);
  const depth = definition.depth;
  const withBreakdown = definition.breakdown != null;

  const tables: PathsTables = isClickhouse(session) ? await clickhouseTables(session, definition, scopeOptions) : await withTempTable(session, buildPathsTableQuery(definition, scopeOptions), async (table) => {
    const [totals] = await queryRows<TotalsRow>(session, buildTotalsQuery(table));
    const top = await queryRows<TopPathRow>(session, buildTopPathsQuery(table, definition.top, false));
    const byValue = withBreakdown ? await queryRows<TopPathRow>(session, buildTopPathsQuery(table, definition.top, true)) : [];
    const transitions = await queryRows<TransitionRow>(session, buildTransitionsQuery(table, depth, definition.top_transitions, shape === 'to_end'));
    const lengths = shape === 'forward' ? await queryRows<LengthRow>(session, buildLengthsQuery(table)) : [];
    return { totals: totals!, top, byValue, transitions, lengths };
  });

  const { totals } = tables;
  const overall = pathGroups(tables.top)[0] ?? { paths: [], other_paths: { paths: 0, sessions: 0 } };
  const transitions: PathTransition[] = tables.transitions.map((r) => ({ depth: r.depth, from: stepFromKey(r.src), to: stepFromKey(r.dst), count: r.n }));
  const listedTransitions = transitions.reduce((sum, t) => sum + t.count, 0);
  const firstTransition = tables.transitions[0];

  const result: PathsResult = {
    kind: 'paths',
    version: 1,
    name: definition.name,
    definition: resolvePathsDefinition(definition, options.timezone),
    aligned: shape === 'to_end' ? 'end' : 'first_step',
    sessions: {
      with_start: definition.start == null ? null : totals.units,
      with_end: definition.end == null ? null : shape === 'to_end' ? totals.units : totals.with_end,
      with_path: totals.with_path,
      truncated: totals.truncated,
      end_beyond_depth: shape === 'start_to_end' ? totals.end_beyond_depth : null,
    },
    paths: overall.paths,
    other_paths: overall.other_paths,
    transitions,
    other_transitions: {
      transitions: firstTransition === undefined ? 0 : firstTransition.distinct_transitions - transitions.length,
      count: firstTransition === undefined ? 0 : firstTransition.total - listedTransitions,
    },
    drop_offs: shape === 'forward' ? dropOffs(depth, tables.lengths) : [],
    excluded: isClickhouse(session)
      ? await chExcludedSummary(session, definition, new ClickhouseParams(), scopeOptions)
      : await excludedSummary(session, definition, new BoundParams(), scopeOptions),
  };
  if (withBreakdown) result.breakdown = pathGroups(tables.byValue) satisfies PathsBreakdownGroup[];
  return result;
}

export const pathsAnalysis: AnalysisKind<PathsDefinition, PathsResult> = {
  kind: 'paths',
  engines: ['duckdb', 'clickhouse'],
  parse: parsePathsDefinition,
  run: runPaths,
};

export { parsePathsDefinition };
