/** Opens the workspace's embedded warehouse (creating and migrating it on first use). */
import { join, resolve } from 'node:path';
import type { UsageLabConfig } from '../../core/config-schema.js';
import { UsageLabError } from '../../core/errors.js';
import { DuckdbSession } from './duckdb-connection.js';
import { migrate } from './migrations.js';

/** DuckDB's storage format for new warehouses: readable by DuckDB 1.3 and later (the CLI included). */
export const WAREHOUSE_STORAGE_VERSION = 'v1.3.0';

export function warehousePath(workspaceDir: string, config: UsageLabConfig): string {
  if (config.warehouse.engine !== 'duckdb') {
    throw new UsageLabError('warehouse_engine_unsupported', `warehouse engine "${config.warehouse.engine}" is not available yet`, {
      hint: 'use `warehouse: { engine: duckdb }` in usagelab.yaml (ClickHouse support is planned)',
    });
  }
  return resolve(workspaceDir, config.warehouse.path);
}

export async function openWarehouse(workspaceDir: string, config: UsageLabConfig): Promise<DuckdbSession> {
  const path = warehousePath(workspaceDir, config);
  const wh = config.warehouse as Extract<UsageLabConfig['warehouse'], { engine: 'duckdb' }>;
  const session = await DuckdbSession.open({
    path,
    memoryLimit: wh.memory_limit,
    ...(wh.threads === undefined ? {} : { threads: wh.threads }),
    tempDirectory: join(workspaceDir, '.usagelab', 'tmp'),
    storageVersion: WAREHOUSE_STORAGE_VERSION,
  });
  try {
    // A one-time upgrade may rewrite every event (migration 5): say so rather than look stuck.
    await migrate(session, (m) => process.stderr.write(`usagelab: upgrading the warehouse to schema ${m.version} (${m.name}), once\n`));
  } catch (err) {
    session.close();
    throw err;
  }
  return session;
}
