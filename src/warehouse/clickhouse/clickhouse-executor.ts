/**
 * What usagelab needs from ClickHouse, whichever process runs it: queries with bound `{name:Type}` parameters
 * returning plain rows, statements, and inserting a local Parquet file. Two implementations: a server through
 * @clickhouse/client (clickhouse-server-executor.ts) and chDB in-process for tests and the bench
 * (chdb-executor.ts). Rows follow the conventions of the DuckDB side (analyses/common/run-support.ts), so a
 * result shaped from either engine's rows is the same.
 */
import type { ClickhouseParamValue } from '../../sql/clickhouse/clickhouse-params.js';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';

export type ClickhouseParamMap = Readonly<Record<string, ClickhouseParamValue>>;

export interface ClickhouseExecutor {
  readonly engine: 'clickhouse';
  /** Where the statements run: a server (url) or chDB in this process. */
  readonly transport: 'server' | 'chdb';
  /** The database unqualified table names resolve in. */
  readonly database: string;
  /** The cluster of cluster mode (docs/scaling.md), or undefined for a single node. */
  readonly cluster: string | undefined;
  /** Runs a SELECT; rows as plain values (see plainRows). */
  query<T = Record<string, unknown>>(sql: string, params?: ClickhouseParamMap): Promise<T[]>;
  /** Runs a statement without a result (DDL, INSERT … SELECT, ALTER). */
  command(sql: string, params?: ClickhouseParamMap): Promise<void>;
  /** Inserts a local Parquet file into a table (columns matched by name). */
  insertParquet(table: string, file: string): Promise<void>;
  /** The server's version string. */
  version(): Promise<string>;
  close(): Promise<void>;
}

/** Settings every statement runs with, so results do not depend on server defaults. */
export const CLICKHOUSE_SETTINGS = {
  // 64-bit integers as JSON strings: JSON.parse would round beyond 2^53; plainRows turns safe ones into numbers.
  output_format_json_quote_64bit_integers: 1,
  // Exact JOIN semantics: unmatched columns are NULL (as in DuckDB), not the type's default.
  join_use_nulls: 1,
  // IN (subquery) on a Distributed table runs against the local shard (data is sharded by person).
  distributed_product_mode: 'local',
  // Inserts through a Distributed table (cluster mode) reach the shards before the statement returns, so the
  // load can count what arrived.
  insert_distributed_sync: 1,
  // Cluster mode: a GROUP BY whose keys determine the sharding key (person_id) completes on each shard, so the
  // per-person sequence logic (funnel attempts, retention, paths) runs there and only per-unit results travel;
  // without it the shards would send their groupArray states and the entry node would do all the work.
  optimize_distributed_group_by_sharding_key: 1,
} as const;

export interface ColumnMeta {
  name: string;
  type: string;
}

const INT64 = /^(U?Int(64|128|256))$/;
const SMALL_INT = /^(U?Int(8|16|32))$/;

function unwrap(type: string): string {
  for (const wrapper of ['Nullable(', 'LowCardinality(']) {
    if (type.startsWith(wrapper) && type.endsWith(')')) return unwrap(type.slice(wrapper.length, -1));
  }
  return type;
}

/** "2024-01-02 03:04:05.123456" (UTC) → "2024-01-02T03:04:05.123Z", as DuckDB instants become in run-support. */
function instantText(text: string): string {
  const iso = `${text.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

function convert(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  const t = unwrap(type);
  if (INT64.test(t)) {
    const big = BigInt(value as string | number);
    return big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER) ? big.toString() : Number(big);
  }
  if (SMALL_INT.test(t)) return Number(value);
  if (t.startsWith('Float') || t.startsWith('Decimal')) return typeof value === 'string' ? Number(value) : value;
  if (t.startsWith('DateTime')) return instantText(String(value));
  if (t.startsWith('Array(') && Array.isArray(value)) {
    const inner = t.slice('Array('.length, -1);
    return value.map((v) => convert(v, inner));
  }
  return value;
}

/**
 * Rows of a FORMAT JSON result as plain values, by the column types the server reports: integers as numbers
 * (text beyond 2^53), DateTime/DateTime64 as ISO instants, Date as 'YYYY-MM-DD', Bool as boolean.
 * Assumes DateTime columns are in UTC (every instant column of the schema is DateTime64(6, 'UTC')).
 */
export function plainRows<T>(meta: readonly ColumnMeta[], data: readonly Record<string, unknown>[]): T[] {
  return data.map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of meta) out[c.name] = convert(row[c.name], c.type);
    return out as T;
  });
}

/** A failed statement as a UsageLabError that keeps the SQL (never the parameter values: they may be PII). */
export function clickhouseFailed(err: unknown, sql: string): UsageLabError {
  if (err instanceof UsageLabError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const e = new UsageLabError('warehouse_query_failed', `ClickHouse: ${message}`, {
    exitCode: EXIT.internal,
    cause: err,
    hint: 'this is likely a bug in usagelab; please report it with the command you ran',
  });
  (e as UsageLabError & { sql?: string }).sql = sql;
  return e;
}
