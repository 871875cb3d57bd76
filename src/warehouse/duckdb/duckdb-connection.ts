/**
 * One place that opens DuckDB and pins the settings every result depends on: the session time zone is UTC
 * (so naive timestamps are read as UTC whatever TZ the process runs under), memory and threads are bounded,
 * and spilling goes to a temp folder inside the workspace state.
 */
import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { traceStatement } from '../../core/statement-trace.js';

// The driver renders TIMESTAMPTZ with the process's local offset; results must not depend on TZ, so: UTC.
DuckDBTimestampTZValue.timezoneOffsetInMinutes = 0;

export interface DuckdbOpenOptions {
  /** File path, or ":memory:". */
  path: string;
  memoryLimit?: string;
  threads?: number;
  tempDirectory?: string;
  /**
   * Storage format of a database file created now (an existing file keeps its own). From v1.3.0 DuckDB compresses
   * strings with dictionary + FSST together: a ~10x smaller events table, written ~3x faster (docs/performance.md).
   */
  storageVersion?: string;
}

export type Row = Record<string, unknown>;

/**
 * The share of the memory limit DuckDB keeps of the buffer blocks it frees, for reuse (block_allocator_memory); what
 * is kept stays resident until the process ends. Half of a 1 GB limit took the 10M import's peak RSS to 1,501 MB, a
 * quarter 1,432 MB, at the same speed (docs/performance.md "Threads while staging, and keeping freed blocks").
 */
export const BLOCKS_KEPT_SHARE = 0.25;

const UNITS: Readonly<Record<string, number>> = {
  b: 1, byte: 1, bytes: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/**
 * `share` of a DuckDB memory limit as a whole number of megabytes ('1GB' × 0.6 → '600MB'); null for a value this
 * does not read (a percentage, an unknown unit): the limit is then left as configured.
 */
export function scaledMemoryLimit(limit: string, share: number): string | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(limit);
  const unit = m === null ? undefined : UNITS[(m[2] || 'b').toLowerCase()];
  if (m === null || unit === undefined) return null;
  const mb = Math.floor((Number(m[1]) * unit * share) / 1e6);
  return mb >= 1 ? `${mb}MB` : null;
}

/** The number a query returns in its column `n` (0 when it returns no row or NULL). */
export async function countOf(session: DuckdbSession, sql: string): Promise<number> {
  const rows = await session.all<{ n: string | number | null }>(sql);
  return Number(rows[0]?.n ?? 0);
}

export class DuckdbSession {
  /** Whether this connection tracks query progress (runWithProgress turns it on). */
  private progressOn = false;

  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly path: string,
    /** The memory_limit the warehouse was opened with (usagelab.yaml); undefined: DuckDB's default. */
    readonly memoryLimit?: string,
    /** False for a session made by connect(): closing it closes its connection, not the database. */
    private readonly ownsInstance = true,
  ) {}

  static async open(options: DuckdbOpenOptions): Promise<DuckdbSession> {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const settings: Record<string, string> = {};
    if (options.memoryLimit !== undefined) {
      settings.memory_limit = options.memoryLimit;
      // Buffer blocks freed by one statement are kept for the next instead of going back to the system: without it
      // every temp table and sort takes fresh pages (page faults, zeroing).
      const kept = scaledMemoryLimit(options.memoryLimit, BLOCKS_KEPT_SHARE);
      if (kept !== null) settings.block_allocator_memory = kept;
    }
    if (options.threads !== undefined) settings.threads = String(options.threads);
    if (options.storageVersion !== undefined) settings.storage_compatibility_version = options.storageVersion;
    if (options.tempDirectory !== undefined) {
      mkdirSync(options.tempDirectory, { recursive: true });
      settings.temp_directory = options.tempDirectory;
    }
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, settings);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/lock/i.test(message)) {
        throw new UsageLabError('warehouse_locked', `the warehouse ${options.path} is in use by another usagelab process`, {
          hint: 'wait for the other command to finish (only one process may write the embedded warehouse at a time)',
          exitCode: EXIT.unavailable,
          cause: err,
        });
      }
      throw new UsageLabError('warehouse_open_failed', `cannot open the warehouse ${options.path}: ${message}`, {
        hint: 'check that the file is a DuckDB database written by a compatible usagelab version',
        exitCode: EXIT.internal,
        cause: err,
      });
    }
    return new DuckdbSession(instance, await instance.connect(), options.path, options.memoryLimit).pinned();
  }

  /** The settings every connection needs, set on this one; returns it. */
  private async pinned(): Promise<DuckdbSession> {
    // ICU is built in; the connection-level setting guards against an instance-level default changing.
    await this.run("SET TimeZone = 'UTC'");
    return this;
  }

  /**
   * Another connection to the same database, with the same pinned settings: its statements run concurrently with
   * this session's (each connection runs one statement at a time). Temp tables and macros are per connection;
   * an attached in-memory database is shared by all of them.
   */
  async connect(): Promise<DuckdbSession> {
    return new DuckdbSession(this.instance, await this.instance.connect(), this.path, this.memoryLimit, false).pinned();
  }

  async run(sql: string, params?: DuckDBValue[]): Promise<void> {
    const started = Date.now();
    try {
      await this.connection.run(sql, params);
      traceStatement(sql, started);
    } catch (err) {
      throw wrapDriverError(err, sql);
    }
  }

  /** Runs a query and returns JSON-compatible row objects (BIGINT/HUGEINT as strings, timestamps ISO). */
  async all<T = Row>(sql: string, params?: DuckDBValue[]): Promise<T[]> {
    const started = Date.now();
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      traceStatement(sql, started);
      return reader.getRowObjectsJson() as T[];
    } catch (err) {
      throw wrapDriverError(err, sql);
    }
  }

  /**
   * Runs a long statement while reporting DuckDB's own progress (0..100) every ~100 ms. The statement runs as any
   * other does, on a thread of the driver's pool, and its progress is read beside it. Driving it task by task with a
   * pending result instead ran its tasks on Node's main thread, blocking the event loop for 100 ms at a time (and,
   * with other threads holding the tasks, spinning): while files are staged side by side with one DuckDB thread
   * each, every connection's reading statement ran there (docs/performance.md "Archives streamed, progress off the
   * main thread").
   */
  async runWithProgress(sql: string, onProgress: (percentage: number) => void): Promise<void> {
    const started = Date.now();
    if (!this.progressOn) {
      // Progress is tracked only with the progress bar on; nothing is printed, and it is tracked from the start.
      await this.connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0');
      this.progressOn = true;
    }
    const timer = setInterval(() => {
      const p = this.connection.progress.percentage;
      if (p >= 0) onProgress(p);
    }, 100);
    try {
      await this.connection.run(sql);
      traceStatement(sql, started);
    } catch (err) {
      throw wrapDriverError(err, sql);
    } finally {
      clearInterval(timer);
    }
  }

  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/** Keeps the SQL with the driver's message, so a failing generated statement can be reported and debugged. */
export function wrapDriverError(err: unknown, sql: string): Error {
  if (err instanceof UsageLabError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const e = new UsageLabError('warehouse_query_failed', message, {
    exitCode: EXIT.internal,
    cause: err,
    hint: 'this is likely a bug in usagelab; please report it with the command you ran',
  });
  (e as UsageLabError & { sql?: string }).sql = sql;
  return e;
}
