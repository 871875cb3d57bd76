/**
 * Loads ClickHouse from a DuckDB warehouse (docs/scaling.md#loading): the import pipeline (parse, mask, dedup,
 * identity, sessions) runs on the local DuckDB as it does for the embedded engine, and this copies what changed.
 *
 * Why whole partitions: an import can change old events (identity merges rewrite person_id, gap sessions rewrite
 * session_id), so appending new rows is not enough and ClickHouse has no cheap UPDATE. Per UTC month, the DuckDB
 * rows' count and checksum are compared with what was last loaded (the usagelab_sync ledger); a month that
 * differs is written to Parquet in chunks, inserted into an empty staging table, counted, and swapped in with
 * REPLACE PARTITION, which is atomic per partition. A month is therefore never half-loaded and never holds a row
 * twice, so queries need no FINAL and stay exact; a re-run after success sends nothing, a re-run after a failure
 * re-sends what did not finish. The small tables are swapped whole (EXCHANGE TABLES).
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { quoteClickhouseIdent as q, quoteClickhouseLiteral, quoteIdent, quoteLiteral } from '../../sql/quote.js';
import type { DuckdbSession } from '../duckdb/duckdb-connection.js';
import type { ClickhouseExecutor } from './clickhouse-executor.js';
import { migrateClickhouse } from './clickhouse-migrations.js';
import { EVENTS_TABLE, OTHER_TABLES, storageTable, tableDdl, type TableSpec } from './clickhouse-schema.js';

export interface SyncProgress {
  table: string;
  /** YYYYMM for events, 'all' for the other tables. */
  partition: string;
  /** Rows sent so far of this partition, and its total. */
  sent: number;
  rows: number;
}

export interface SyncedTable {
  table: string;
  rows: number;
  /** Partitions (or whole tables) sent because they changed, and those that were already up to date. */
  sent: number;
  unchanged: number;
  dropped: number;
}

export interface SyncResult {
  tables: SyncedTable[];
  /** Rows inserted into ClickHouse by this run. */
  rows_sent: number;
}

export interface SyncOptions {
  /** A folder for the Parquet chunks (emptied and removed afterwards). */
  tmpDir: string;
  /** Target size of a Parquet chunk (DuckDB FILE_SIZE_BYTES); default 128MB. */
  chunkBytes?: string;
  onProgress?: (p: SyncProgress) => void;
}

const columnName = (definition: string): string => {
  const m = /^`([^`]+)`|^(\S+)/.exec(definition)!;
  return m[1] ?? m[2]!;
};

/** DuckDB SELECT list of a table's columns as ClickHouse reads them from Parquet (UUID and JSON as text). */
function duckdbSelect(t: TableSpec): string {
  return t.columns
    .map((c) => {
      const name = columnName(c);
      const type = c.slice(c.indexOf(' ') + 1);
      return type.startsWith('UUID') || (t === EVENTS_TABLE && (name === 'properties' || name === 'user_properties')) ? `CAST(${quoteIdent(name)} AS VARCHAR) AS ${quoteIdent(name)}` : quoteIdent(name);
    })
    .join(', ');
}

/** An order-independent checksum of rows: the sum of DuckDB row hashes, as text (HUGEINT). */
function duckdbChecksum(t: TableSpec): string {
  return `CAST(coalesce(sum(hash(${t.columns.map((c) => quoteIdent(columnName(c))).join(', ')})), 0) AS VARCHAR)`;
}

interface PartitionState {
  rows: number;
  checksum: string;
}

async function ledger(ch: ClickhouseExecutor, table: string): Promise<Map<string, PartitionState>> {
  const rows = await ch.query<{ partition: string; rows: number; checksum: string }>(
    `SELECT partition, argMax(rows, synced_at) AS rows, argMax(checksum, synced_at) AS checksum FROM usagelab_sync WHERE table_name = {t:String} GROUP BY partition`,
    { t: table },
  );
  return new Map(rows.map((r) => [r.partition, { rows: r.rows, checksum: r.checksum }]));
}

async function record(ch: ClickhouseExecutor, table: string, partition: string, state: PartitionState): Promise<void> {
  await ch.command(
    `INSERT INTO usagelab_sync (table_name, partition, rows, checksum, synced_at) SELECT {t:String}, {p:String}, {r:UInt64}, {c:String}, now64(6)`,
    { t: table, p: partition, r: state.rows, c: state.checksum },
  );
}

class Syncer {
  private readonly onCluster: string;
  private readonly db: string;
  rowsSent = 0;

  constructor(
    private readonly duck: DuckdbSession,
    private readonly ch: ClickhouseExecutor,
    private readonly options: SyncOptions,
  ) {
    this.onCluster = ch.cluster === undefined ? '' : ` ON CLUSTER ${q(ch.cluster)}`;
    this.db = q(ch.database);
  }

  private get target(): { database: string; cluster: string | undefined } {
    return { database: this.ch.database, cluster: this.ch.cluster };
  }

  /** An empty staging table `<name>__load` shaped like the table (replicated + Distributed on a cluster). */
  private async freshLoadTable(t: TableSpec): Promise<string> {
    const load = `${t.name}__load`;
    await this.dropLoadTable(t);
    for (const statement of tableDdl(t, this.target, load)) await this.ch.command(statement);
    return load;
  }

  private async dropLoadTable(t: TableSpec): Promise<void> {
    const load = `${t.name}__load`;
    await this.ch.command(`DROP TABLE IF EXISTS ${this.db}.${q(load)}${this.onCluster} SYNC`);
    if (this.ch.cluster !== undefined) await this.ch.command(`DROP TABLE IF EXISTS ${this.db}.${q(`${load}_local`)}${this.onCluster} SYNC`);
  }

  /** Writes the DuckDB rows matching `where` to Parquet chunks and inserts them into `load`; returns the rows sent. */
  private async send(t: TableSpec, where: string, load: string, partition: string, rows: number): Promise<void> {
    const dir = join(this.options.tmpDir, `${t.name}-${partition}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(this.options.tmpDir, { recursive: true });
    try {
      await this.duck.run(
        `COPY (SELECT ${duckdbSelect(t)} FROM ${quoteIdent(t.name)} WHERE ${where}) TO ${quoteLiteral(dir)} (FORMAT parquet, FILE_SIZE_BYTES ${quoteLiteral(this.options.chunkBytes ?? '128MB')}, ROW_GROUP_SIZE 122880)`,
      );
      let sent = 0;
      const files = readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort();
      for (const file of files) {
        const path = join(dir, file);
        await this.ch.insertParquet(load, path);
        const [chunk] = await this.duck.all<{ n: string }>(`SELECT count(*) AS n FROM read_parquet(${quoteLiteral(path)})`);
        sent += Number(chunk?.n ?? 0);
        this.options.onProgress?.({ table: t.name, partition, sent, rows });
      }
      this.rowsSent += sent;
      // Distributed inserts are forwarded to the shards before the count (insert_distributed_sync on the load).
      const [loaded] = await this.ch.query<{ n: number }>(`SELECT count() AS n FROM ${q(load)}`);
      if ((loaded?.n ?? 0) !== rows) {
        throw new UsageLabError('clickhouse_load_mismatch', `${t.name} ${partition}: ${rows} rows in DuckDB, ${loaded?.n ?? 0} loaded into ClickHouse`, {
          hint: 'nothing was swapped in; re-run the command (it resends only what is not loaded)',
          exitCode: EXIT.internal,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async events(): Promise<SyncedTable> {
    const t = EVENTS_TABLE;
    const month = `strftime(occurred_at, '%Y%m')`;
    const local = await this.duck.all<{ part: string; n: string; checksum: string }>(`SELECT ${month} AS part, count(*) AS n, ${duckdbChecksum(t)} AS checksum FROM events GROUP BY 1 ORDER BY 1`);
    const loaded = await ledger(this.ch, t.name);
    const remote = new Map((await this.ch.query<{ part: string; n: number }>(`SELECT toString(toYYYYMM(occurred_at)) AS part, count() AS n FROM events GROUP BY part`)).map((r) => [r.part, r.n]));
    const storage = `${this.db}.${q(storageTable(t.name, this.target))}`;
    const out: SyncedTable = { table: t.name, rows: 0, sent: 0, unchanged: 0, dropped: 0 };
    for (const row of local) {
      const state = { rows: Number(row.n), checksum: row.checksum };
      out.rows += state.rows;
      const last = loaded.get(row.part);
      if (last !== undefined && last.rows === state.rows && last.checksum === state.checksum && remote.get(row.part) === state.rows) {
        out.unchanged++;
        continue;
      }
      const load = await this.freshLoadTable(t);
      await this.send(t, `${month} = ${quoteLiteral(row.part)}`, load, row.part, state.rows);
      const from = `${this.db}.${q(storageTable(load, this.target))}`;
      await this.ch.command(`ALTER TABLE ${storage}${this.onCluster} REPLACE PARTITION ID ${quoteClickhouseLiteral(row.part)} FROM ${from}`);
      await record(this.ch, t.name, row.part, state);
      out.sent++;
    }
    // Months gone from DuckDB (retention applied there) go from ClickHouse too.
    const months = new Set(local.map((r) => r.part));
    for (const part of remote.keys()) {
      if (months.has(part)) continue;
      await this.ch.command(`ALTER TABLE ${storage}${this.onCluster} DROP PARTITION ID ${quoteClickhouseLiteral(part)}`);
      await record(this.ch, t.name, part, { rows: 0, checksum: '0' });
      out.dropped++;
    }
    await this.dropLoadTable(t);
    return out;
  }

  async whole(t: TableSpec): Promise<SyncedTable> {
    const [row] = await this.duck.all<{ n: string; checksum: string }>(`SELECT count(*) AS n, ${duckdbChecksum(t)} AS checksum FROM ${quoteIdent(t.name)}`);
    const state = { rows: Number(row?.n ?? 0), checksum: row?.checksum ?? '0' };
    const last = (await ledger(this.ch, t.name)).get('all');
    const [remote] = await this.ch.query<{ n: number }>(`SELECT count() AS n FROM ${q(t.name)}`);
    if (last !== undefined && last.rows === state.rows && last.checksum === state.checksum && remote?.n === state.rows) {
      return { table: t.name, rows: state.rows, sent: 0, unchanged: 1, dropped: 0 };
    }
    const load = await this.freshLoadTable(t);
    await this.send(t, 'true', load, 'all', state.rows);
    const a = `${this.db}.${q(storageTable(t.name, this.target))}`;
    const b = `${this.db}.${q(storageTable(load, this.target))}`;
    await this.ch.command(`EXCHANGE TABLES ${a} AND ${b}${this.onCluster}`);
    await this.dropLoadTable(t);
    await record(this.ch, t.name, 'all', state);
    return { table: t.name, rows: state.rows, sent: 1, unchanged: 0, dropped: 0 };
  }

  /** Row counts of every table must be equal on both sides when the sync is done. */
  async check(tables: readonly SyncedTable[]): Promise<void> {
    for (const t of tables) {
      const [remote] = await this.ch.query<{ n: number }>(`SELECT count() AS n FROM ${q(t.table)}`);
      if ((remote?.n ?? 0) !== t.rows) {
        throw new UsageLabError('clickhouse_sync_mismatch', `${t.table}: ${t.rows} rows in DuckDB but ${remote?.n ?? 0} in ClickHouse after loading`, {
          hint: 'another process may be writing the ClickHouse database; re-run the command when it is done',
          exitCode: EXIT.internal,
        });
      }
    }
  }
}

/** Makes ClickHouse hold exactly the rows of the DuckDB warehouse, sending only what changed. */
export async function syncToClickhouse(duck: DuckdbSession, ch: ClickhouseExecutor, options: SyncOptions): Promise<SyncResult> {
  await migrateClickhouse(ch);
  const syncer = new Syncer(duck, ch, options);
  const tables: SyncedTable[] = [await syncer.events()];
  for (const t of OTHER_TABLES) tables.push(await syncer.whole(t));
  await syncer.check(tables);
  return { tables, rows_sent: syncer.rowsSent };
}
