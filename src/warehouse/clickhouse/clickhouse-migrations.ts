/**
 * Creates the ClickHouse schema when it is missing and records its version; a schema written by a newer
 * usagelab is refused rather than misread. Every statement is CREATE … IF NOT EXISTS, so running it again (or on
 * a node that missed it) is safe.
 */
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { ClickhouseExecutor } from './clickhouse-executor.js';
import { CLICKHOUSE_SCHEMA_VERSION, schemaDdl } from './clickhouse-schema.js';

export async function migrateClickhouse(executor: ClickhouseExecutor): Promise<{ version: number; created: boolean }> {
  const target = { database: executor.database, cluster: executor.cluster };
  for (const statement of schemaDdl(target)) await executor.command(statement);
  const [row] = await executor.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  const current = row?.v ?? 0;
  if (current > CLICKHOUSE_SCHEMA_VERSION) {
    throw new UsageLabError('warehouse_too_new', `the ClickHouse schema has version ${current}; this usagelab knows up to ${CLICKHOUSE_SCHEMA_VERSION}`, {
      hint: 'upgrade usagelab (npm install usagelab@latest)',
      exitCode: EXIT.usage,
    });
  }
  if (current === CLICKHOUSE_SCHEMA_VERSION) return { version: current, created: false };
  await executor.command(
    `INSERT INTO schema_migrations (version, name, applied_at) SELECT {v:UInt32}, {n:String}, now64(6)`,
    { v: CLICKHOUSE_SCHEMA_VERSION, n: 'events, imports, quarantine, identities, sessions, person tags, sync ledger' },
  );
  return { version: CLICKHOUSE_SCHEMA_VERSION, created: true };
}
