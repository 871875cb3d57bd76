/**
 * Opens the ClickHouse warehouse of a workspace (warehouse.engine: clickhouse) and the local DuckDB it stages
 * imports in. The staging file is the embedded warehouse's file by default, so switching an existing workspace to
 * ClickHouse keeps its import history, identities and sessions; `usagelab migrate --to clickhouse` loads it.
 */
import { join, resolve } from 'node:path';
import type { UsageLabConfig } from '../../core/config-schema.js';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { DuckdbSession } from '../duckdb/duckdb-connection.js';
import { migrate } from '../duckdb/migrations.js';
import { migrateClickhouse } from './clickhouse-migrations.js';
import { ClickhouseServerExecutor } from './clickhouse-server-executor.js';
import { ChdbExecutor } from './chdb-executor.js';
import type { ClickhouseExecutor } from './clickhouse-executor.js';
import { fileURLToPath } from 'node:url';

export type ClickhouseWarehouseConfig = Extract<UsageLabConfig['warehouse'], { engine: 'clickhouse' }>;

export function clickhouseSettings(config: UsageLabConfig): ClickhouseWarehouseConfig {
  if (config.warehouse.engine !== 'clickhouse') {
    throw new UsageLabError('clickhouse_not_configured', 'the workspace warehouse is not ClickHouse', {
      hint: 'set warehouse: { engine: clickhouse, url: https://HOST:8443, password: ${CLICKHOUSE_PASSWORD} } in usagelab.yaml (docs/scaling.md)',
      place: { file: 'usagelab.yaml', field: 'warehouse.engine' },
      exitCode: EXIT.usage,
    });
  }
  return config.warehouse;
}

/**
 * Connects to the configured server, creating the database and schema where missing. A `chdb:///DIR` url runs
 * ClickHouse in this process on DIR instead (chDB; for trials and tests, where the chdb package is installed).
 */
export async function openClickhouse(config: UsageLabConfig): Promise<ClickhouseExecutor> {
  const wh = clickhouseSettings(config);
  const executor: ClickhouseExecutor = wh.url.startsWith('chdb:')
    ? await ChdbExecutor.open({ path: fileURLToPath(wh.url.replace(/^chdb:/, 'file:')), database: wh.database })
    : await ClickhouseServerExecutor.open({ url: wh.url, database: wh.database, user: wh.user, password: wh.password, cluster: wh.cluster });
  try {
    await migrateClickhouse(executor);
  } catch (err) {
    await executor.close();
    throw err;
  }
  return executor;
}

export function stagingPath(workspaceDir: string, config: UsageLabConfig): string {
  return resolve(workspaceDir, clickhouseSettings(config).staging_path);
}

/** The staging DuckDB of a ClickHouse workspace (created and migrated on first use). */
export async function openStagingWarehouse(workspaceDir: string, config: UsageLabConfig): Promise<DuckdbSession> {
  const session = await DuckdbSession.open({ path: stagingPath(workspaceDir, config), memoryLimit: '2GB', tempDirectory: join(workspaceDir, '.usagelab', 'tmp') });
  try {
    await migrate(session);
  } catch (err) {
    session.close();
    throw err;
  }
  return session;
}
