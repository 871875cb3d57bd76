/**
 * What every analysis kind provides (DESIGN.md §4): a typed definition parsed from YAML, validation rules with
 * stable codes, and a run that returns a documented, versioned JSON result.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { WeekStart } from './common/time-buckets.js';
import type { SegmentDefinition } from './segment/segment-definition.js';

/**
 * The warehouse as analyses see it. Structural on purpose: analyses may not import the warehouse module
 * (DESIGN.md §2), and the warehouse's DuckdbSession satisfies this shape.
 */
export interface AnalysisSession {
  /** Absent on the embedded warehouse's sessions: every session without `engine: 'clickhouse'` is DuckDB. */
  readonly engine?: 'duckdb';
  readonly connection: DuckDBConnection;
  /**
   * Answers of bookkeeping statements (the excluded summary), by SQL text and parameters, shared by runs whose
   * data cannot change in between: the report's pool sets one for its connections; a workspace's own session
   * never does, since an import may change the events between two runs.
   */
  readonly memo?: Map<string, Promise<unknown>>;
}

export type WarehouseEngine = 'duckdb' | 'clickhouse';

/**
 * ClickHouse as analyses see it (structural, like AnalysisSession): statements with `{name:Type}` parameters bound
 * server-side, rows as plain values with the conventions of run-support.ts queryRows. The warehouse's
 * ClickhouseExecutor satisfies it.
 */
export interface ClickhouseRunner {
  query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]>;
  command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void>;
}

export interface ClickhouseAnalysisSession {
  readonly engine: 'clickhouse';
  readonly clickhouse: ClickhouseRunner;
}

/** A session on either warehouse engine; kinds that run on ClickHouse take this. */
export type EngineSession = AnalysisSession | ClickhouseAnalysisSession;

export function isClickhouse(session: EngineSession): session is ClickhouseAnalysisSession {
  return session.engine === 'clickhouse';
}

export function sessionEngine(session: EngineSession): WarehouseEngine {
  return session.engine ?? 'duckdb';
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
  /**
   * Warehouse engines this kind compiles to; absent means DuckDB only. The library refuses a session of another
   * engine with analysis_engine_unsupported rather than running DuckDB SQL elsewhere.
   */
  readonly engines?: readonly WarehouseEngine[];
  /** Parses a YAML-loaded object; throws a UsageLabError naming the rule code, the file and the field. */
  parse(input: unknown, file?: string): TDefinition;
  /** Kinds listing 'clickhouse' in `engines` take an EngineSession here; call them through runOnEngine. */
  run(session: AnalysisSession, definition: TDefinition, options: AnalysisRunOptions): Promise<TResult>;
}

/**
 * Runs a kind on a session of either engine, refusing (analysis_engine_unsupported, exit 2) a kind that has not
 * been compiled to the session's engine instead of sending it SQL of another dialect.
 */
export function runOnEngine<TDefinition, TResult>(
  kind: AnalysisKind<TDefinition, TResult>,
  session: EngineSession,
  definition: TDefinition,
  options: AnalysisRunOptions,
): Promise<TResult> {
  const engine = sessionEngine(session);
  const engines = kind.engines ?? ['duckdb'];
  if (!engines.includes(engine)) {
    throw new UsageLabError('analysis_engine_unsupported', `${kind.kind} analyses do not run on ${engine} yet`, {
      hint: `${kind.kind} runs on: ${engines.join(', ')}; see docs/scaling.md for what runs on ClickHouse`,
      exitCode: EXIT.usage,
    });
  }
  // The kind declared the engine, so its run takes an EngineSession (AnalysisKind.run keeps the DuckDB type so
  // kinds without a ClickHouse port need not change).
  return kind.run(session as AnalysisSession, definition, options);
}
