/**
 * The ClickHouse executor on chDB: the ClickHouse engine in this process, for tests and the bench (CI has no
 * ClickHouse server). chdb is a devDependency: it is imported on first use only, so the product never needs it.
 * One chDB engine per process holds one data path; a session is therefore shared (one per test file).
 */
import type * as chdbTypes from 'chdb';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { quoteClickhouseIdent, quoteClickhouseLiteral } from '../../sql/quote.js';
import { CLICKHOUSE_SETTINGS, clickhouseFailed, plainRows, type ClickhouseExecutor, type ClickhouseParamMap, type ColumnMeta } from './clickhouse-executor.js';

// Types only: erased at build time, so the product does not load chdb unless this executor is opened.
type ChdbModule = typeof chdbTypes;
type ChdbSession = chdbTypes.Session;

async function loadChdb(): Promise<ChdbModule> {
  try {
    return await import('chdb');
  } catch (err) {
    throw new UsageLabError('chdb_missing', 'the chdb package (in-process ClickHouse) is not installed', {
      hint: 'chdb is a development dependency used by the tests and the bench: run npm install in a checkout',
      exitCode: EXIT.usage,
      cause: err,
    });
  }
}

/** Session settings as `clickhouse local` arguments (chDB takes no per-query settings object). */
const SETTING_ARGS = Object.entries(CLICKHOUSE_SETTINGS).map(([k, v]) => `--${k}=${String(v)}`);

export class ChdbExecutor implements ClickhouseExecutor {
  readonly engine = 'clickhouse' as const;
  readonly transport = 'chdb' as const;
  readonly cluster = undefined;

  private constructor(
    private readonly session: ChdbSession,
    readonly database: string,
  ) {}

  /** Opens chDB on `path` (a temporary directory when omitted) with `database` created and in use. */
  static async open(options: { path?: string; database?: string } = {}): Promise<ChdbExecutor> {
    const chdb = await loadChdb();
    const session = new chdb.Session(options.path, { connectionArgs: SETTING_ARGS });
    const database = options.database ?? 'usagelab';
    const executor = new ChdbExecutor(session, database);
    await executor.command(`CREATE DATABASE IF NOT EXISTS ${quoteClickhouseIdent(database)}`);
    await executor.command(`USE ${quoteClickhouseIdent(database)}`);
    return executor;
  }

  async query<T = Record<string, unknown>>(sql: string, params: ClickhouseParamMap = {}): Promise<T[]> {
    try {
      const result = await this.session.queryBindAsync(sql, params, { format: 'JSON' });
      const text = result.text();
      if (text.trim() === '') return [];
      const body = JSON.parse(text) as { meta: ColumnMeta[]; data: Record<string, unknown>[] };
      return plainRows<T>(body.meta, body.data);
    } catch (err) {
      throw clickhouseFailed(err, sql);
    }
  }

  async command(sql: string, params: ClickhouseParamMap = {}): Promise<void> {
    try {
      await this.session.queryBindAsync(sql, params, { format: 'Null' });
    } catch (err) {
      throw clickhouseFailed(err, sql);
    }
  }

  async insertParquet(table: string, file: string): Promise<void> {
    // The engine is in this process, so it reads the file itself.
    await this.command(`INSERT INTO ${table} SELECT * FROM file(${quoteClickhouseLiteral(file)}, Parquet)`);
  }

  async version(): Promise<string> {
    const [row] = await this.query<{ v: string }>('SELECT version() AS v');
    return row?.v ?? 'unknown';
  }

  async close(): Promise<void> {
    this.session.close();
  }
}
