/**
 * The ClickHouse executor for a server (or a cluster's entry node) over HTTP(S), through @clickhouse/client.
 * Parameters travel as the client's query_params (server-side binding, never in the SQL text).
 */
import { createReadStream } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { CLICKHOUSE_SETTINGS, clickhouseFailed, plainRows, type ClickhouseExecutor, type ClickhouseParamMap, type ColumnMeta } from './clickhouse-executor.js';
import { quoteClickhouseIdent } from '../../sql/quote.js';

export interface ClickhouseServerOptions {
  url: string;
  database: string;
  user: string;
  password?: string | undefined;
  cluster?: string | undefined;
  /** Per-statement timeout; default 10 minutes (long migrations insert in chunks well under it). */
  requestTimeoutMs?: number;
}

/** Connection errors (refused, DNS, TLS, timeouts) as "remote unavailable"; bad credentials as auth errors. */
function connectionError(err: unknown, url: string): UsageLabError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string | number }).code;
  if (code === '516' || /Authentication failed|password is incorrect/i.test(message)) {
    return new UsageLabError('clickhouse_auth_failed', `ClickHouse at ${url} refused the user or password`, {
      hint: 'check warehouse.user and warehouse.password (CLICKHOUSE_PASSWORD) in usagelab.yaml / .env',
      exitCode: EXIT.auth,
      cause: err,
    });
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|Timeout error/i.test(message)) {
    return new UsageLabError('clickhouse_unavailable', `cannot reach ClickHouse at ${url}: ${message}`, {
      hint: 'check warehouse.url in usagelab.yaml and that the server is running',
      exitCode: EXIT.unavailable,
      retryable: true,
      cause: err,
    });
  }
  return undefined;
}

export class ClickhouseServerExecutor implements ClickhouseExecutor {
  readonly engine = 'clickhouse' as const;
  readonly transport = 'server' as const;
  readonly database: string;
  readonly cluster: string | undefined;
  private readonly client: ClickHouseClient;

  constructor(private readonly options: ClickhouseServerOptions) {
    this.database = options.database;
    this.cluster = options.cluster;
    this.client = createClient({
      url: options.url,
      username: options.user,
      password: options.password ?? '',
      database: options.database,
      request_timeout: options.requestTimeoutMs ?? 600_000,
      clickhouse_settings: { ...CLICKHOUSE_SETTINGS },
    });
  }

  /** Creates the database when it does not exist (on every node in cluster mode), then connects to it. */
  static async open(options: ClickhouseServerOptions): Promise<ClickhouseServerExecutor> {
    const bootstrap = createClient({ url: options.url, username: options.user, password: options.password ?? '', request_timeout: 60_000 });
    try {
      const onCluster = options.cluster === undefined ? '' : ` ON CLUSTER ${quoteClickhouseIdent(options.cluster)}`;
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteClickhouseIdent(options.database)}${onCluster}` });
    } catch (err) {
      throw connectionError(err, options.url) ?? clickhouseFailed(err, 'CREATE DATABASE');
    } finally {
      await bootstrap.close();
    }
    return new ClickhouseServerExecutor(options);
  }

  private fail(err: unknown, sql: string): UsageLabError {
    return connectionError(err, this.options.url) ?? clickhouseFailed(err, sql);
  }

  async query<T = Record<string, unknown>>(sql: string, params: ClickhouseParamMap = {}): Promise<T[]> {
    try {
      const result = await this.client.query({ query: sql, query_params: params, format: 'JSON' });
      const body = await result.json<Record<string, unknown>>();
      return plainRows<T>(body.meta as ColumnMeta[], body.data);
    } catch (err) {
      throw this.fail(err, sql);
    }
  }

  async command(sql: string, params: ClickhouseParamMap = {}): Promise<void> {
    try {
      await this.client.command({ query: sql, query_params: params });
    } catch (err) {
      throw this.fail(err, sql);
    }
  }

  async insertParquet(table: string, file: string): Promise<void> {
    try {
      await this.client.insert({ table, values: createReadStream(file), format: 'Parquet' });
    } catch (err) {
      throw this.fail(err, `INSERT INTO ${table} FORMAT Parquet`);
    }
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
