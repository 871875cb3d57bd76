/** What every kind's run needs: a checked time zone, rows as plain JS values, and one wrapping of SQL errors. */
import type { DuckDBMaterializedResult, DuckDBValue } from '@duckdb/node-api';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { BoundValue } from '../../sql/bound-params.js';
import type { AnalysisSession, ClickhouseAnalysisSession } from '../analysis-kind.js';
import type { ClickhouseQuery } from '../../sql/clickhouse/clickhouse-params.js';
import { traceStatement } from '../../core/statement-trace.js';

export interface BuiltQuery {
  sql: string;
  params: BoundValue[];
}

export function queryFailed(err: unknown, sql: string): UsageLabError {
  if (err instanceof UsageLabError) return err;
  const e = new UsageLabError('warehouse_query_failed', err instanceof Error ? err.message : String(err), {
    exitCode: EXIT.internal,
    cause: err,
    hint: 'this is likely a bug in usagelab; please report it with the query definition you ran',
  });
  (e as UsageLabError & { sql?: string }).sql = sql;
  return e;
}

export function assertTimezone(timezone: string, kind: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new UsageLabError(`${kind}_timezone_invalid`, `unknown time zone "${timezone}"`, {
      place: { field: 'timezone' },
      hint: 'use an IANA time zone name such as UTC, Europe/Berlin or America/New_York',
    });
  }
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return value.toString();
    return Number(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * Runs a built query and returns rows as plain values: integers as numbers (text beyond 2^53), instants as ISO
 * strings. DATE columns come back as instants, so cast them to VARCHAR in SQL to get `YYYY-MM-DD`.
 */
export async function queryRows<T = Record<string, unknown>>(session: AnalysisSession, query: BuiltQuery): Promise<T[]> {
  const started = Date.now();
  try {
    const reader = await session.connection.runAndReadAll(query.sql, query.params as DuckDBValue[]);
    traceStatement(query.sql, started);
    return reader.getRowObjectsJS().map((row) => plain(row) as T);
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
}

/** Runs a statement (a temp table, or a result read chunk by chunk): traced when slow, SQL errors wrapped as queryRows does. */
export async function runStatement(session: AnalysisSession, query: BuiltQuery): Promise<DuckDBMaterializedResult> {
  const started = Date.now();
  try {
    const result = await session.connection.run(query.sql, query.params as DuckDBValue[]);
    traceStatement(query.sql, started);
    return result;
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
}

/** queryRows for ClickHouse: the executor already returns rows with the same conventions. */
export async function chQueryRows<T = Record<string, unknown>>(session: ClickhouseAnalysisSession, query: ClickhouseQuery): Promise<T[]> {
  try {
    return await session.clickhouse.query<T>(query.sql, query.params);
  } catch (err) {
    throw queryFailed(err, query.sql);
  }
}
