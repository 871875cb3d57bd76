/**
 * `usagelab migrate --to clickhouse`: copies an embedded DuckDB warehouse into the ClickHouse of usagelab.yaml,
 * every table, through the same partition-by-partition load imports use (idempotent: a re-run sends only what
 * is not there yet), and checks that the row counts are equal at the end.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../core/config-load.js';
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { findWorkspace, workspacePaths } from '../core/workspace.js';
import { syncToClickhouse, type SyncProgress, type SyncResult } from '../warehouse/clickhouse/clickhouse-sync.js';
import { clickhouseSettings, openClickhouse, stagingPath } from '../warehouse/clickhouse/clickhouse-warehouse.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { migrate } from '../warehouse/duckdb/migrations.js';

export interface MigrateOptions {
  /** The DuckDB file to copy; default warehouse.staging_path (the embedded warehouse's file). */
  from?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: SyncProgress) => void;
}

export interface MigrateResult extends SyncResult {
  from: string;
  to: { url: string; database: string; cluster: string | null };
}

export async function migrateToClickhouse(dir: string | undefined, options: MigrateOptions = {}): Promise<MigrateResult> {
  const env = options.env ?? process.env;
  const root = findWorkspace(dir, process.cwd(), env);
  const { config } = loadConfig(root, env);
  const wh = clickhouseSettings(config);
  const from = options.from === undefined ? stagingPath(root, config) : resolve(options.from);
  if (!existsSync(from)) {
    throw new UsageLabError('migrate_source_missing', `no DuckDB warehouse at ${from}`, {
      hint: 'name the embedded warehouse file with --from FILE (default: warehouse.staging_path, .usagelab/warehouse.duckdb)',
      exitCode: EXIT.usage,
    });
  }
  const duck = await DuckdbSession.open({ path: from, memoryLimit: '2GB', tempDirectory: join(root, '.usagelab', 'tmp') });
  try {
    await migrate(duck);
    const ch = await openClickhouse(config);
    try {
      const result = await syncToClickhouse(duck, ch, { tmpDir: join(workspacePaths(root).state, 'tmp', 'clickhouse-load'), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
      return { ...result, from, to: { url: wh.url, database: wh.database, cluster: wh.cluster ?? null } };
    } finally {
      await ch.close();
    }
  } finally {
    duck.close();
  }
}
