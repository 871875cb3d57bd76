/**
 * What DuckDB alone takes for the inputs of the import benchmark, measured beside each import so that a throughput
 * target can be read against what the engine itself does on the same machine (docs/performance.md "What DuckDB
 * alone takes"). Two figures, each into a fresh database file with the import's memory limit and storage format:
 * - load: DuckDB's own reader of the input's format straight into a table (`CREATE TABLE AS SELECT * FROM read_…`),
 *   with none of usagelab's work: no line numbers, validation, event ids, dedup, masking, identities or sessions.
 *   The least any importer that stores the file in DuckDB pays.
 * - store: the canonical rows the import wrote, copied from its warehouse into a new table made like `events` (its
 *   columns' compression included): what writing (compressing, checkpointing) the events alone costs, whatever
 *   came before.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchFormat } from './bench-data.js';
import { quoteLiteral } from '../sql/quote.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { WAREHOUSE_STORAGE_VERSION } from '../warehouse/duckdb/duckdb-warehouse.js';
import { eventsDdl } from '../warehouse/duckdb/migrations.js';

/** DuckDB's reader of a benchmark format, over every input file, with its own detection of columns and types. */
export function engineReaderSql(format: BenchFormat, files: readonly string[]): string {
  const list = `[${files.map((f) => quoteLiteral(f)).join(', ')}]`;
  switch (format) {
    case 'parquet':
      return `read_parquet(${list})`;
    case 'ndjson':
      return `read_ndjson(${list})`;
    case 'csv':
      return `read_csv(${list}, header = true)`;
  }
}

export interface EngineFloor {
  readonly rows: number;
  readonly seconds: number;
}

/** Runs `sql` (a CREATE TABLE … AS) in a fresh database file in `dir`, checkpointed; its rows and seconds. */
async function timedLoad(dir: string, name: string, memoryLimit: string, setup: readonly string[], sql: string, table: string): Promise<EngineFloor> {
  const path = join(dir, `${name}.duckdb`);
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const session = await DuckdbSession.open({ path, memoryLimit, tempDirectory: join(dir, `${name}-tmp`), storageVersion: WAREHOUSE_STORAGE_VERSION });
  try {
    for (const s of setup) await session.run(s);
    const started = performance.now();
    await session.run(sql);
    // The file holds the rows only once they are checkpointed (the import commits and checkpoints too).
    await session.run('CHECKPOINT');
    const seconds = (performance.now() - started) / 1000;
    const [r] = await session.all<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return { rows: Number(r!.n), seconds };
  } finally {
    session.close();
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
    rmSync(join(dir, `${name}-tmp`), { recursive: true, force: true });
  }
}

/** DuckDB's reader of `format` loading `files` into a table: the load floor. */
export function loadFloor(dir: string, format: BenchFormat, files: readonly string[], memoryLimit: string): Promise<EngineFloor> {
  return timedLoad(dir, 'floor-load', memoryLimit, [], `CREATE TABLE loaded AS SELECT * FROM ${engineReaderSql(format, files)}`, 'loaded');
}

/** The events of the warehouse at `warehousePath` copied into a fresh database file: the store floor. */
export function storeFloor(dir: string, warehousePath: string, memoryLimit: string): Promise<EngineFloor> {
  return timedLoad(
    dir,
    'floor-store',
    memoryLimit,
    [`ATTACH ${quoteLiteral(warehousePath)} AS imported (READ_ONLY)`, eventsDdl('events', { zstd: true })],
    `INSERT INTO events BY NAME SELECT * FROM imported.events`,
    'events',
  );
}
