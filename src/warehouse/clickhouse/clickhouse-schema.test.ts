import { describe, expect, it } from 'vitest';
import { testClickhouse } from '../../test-support/engine-warehouse.js';
import { migrateClickhouse } from './clickhouse-migrations.js';
import { schemaDdl, tableDdl, EVENTS_TABLE, OTHER_TABLES } from './clickhouse-schema.js';

const EVENTS_COLUMNS = `(
  \`event_id\` UUID,
  \`source\` LowCardinality(String),
  \`source_event_id\` String CODEC(ZSTD(1)),
  \`event_name\` LowCardinality(String),
  \`event_kind\` LowCardinality(String),
  \`occurred_at\` DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
  \`received_at\` Nullable(DateTime64(6, 'UTC')),
  \`user_id\` Nullable(String) CODEC(ZSTD(1)),
  \`anonymous_id\` Nullable(String) CODEC(ZSTD(1)),
  \`vendor_session_id\` Nullable(String) CODEC(ZSTD(1)),
  \`page_url\` Nullable(String) CODEC(ZSTD(1)),
  \`page_path\` Nullable(String) CODEC(ZSTD(1)),
  \`referrer\` Nullable(String) CODEC(ZSTD(1)),
  \`element_text\` Nullable(String) CODEC(ZSTD(1)),
  \`element_selector\` Nullable(String) CODEC(ZSTD(1)),
  \`rage_click\` Bool,
  \`dead_click\` Bool,
  \`error_click\` Bool,
  \`device_type\` LowCardinality(Nullable(String)),
  \`browser\` LowCardinality(Nullable(String)),
  \`os\` LowCardinality(Nullable(String)),
  \`country\` LowCardinality(Nullable(String)),
  \`properties\` Nullable(String) CODEC(ZSTD(3)),
  \`user_properties\` Nullable(String) CODEC(ZSTD(3)),
  \`person_id\` Nullable(String) CODEC(ZSTD(1)),
  \`session_id\` Nullable(String) CODEC(ZSTD(1)),
  \`import_id\` Int64
)`;

describe('ClickHouse DDL', () => {
  it('single node: events is a MergeTree by month, ordered by person and time', () => {
    expect(tableDdl(EVENTS_TABLE, { database: 'usagelab' })).toEqual([
      `CREATE TABLE IF NOT EXISTS \`usagelab\`.\`events\` ${EVENTS_COLUMNS}
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (person_id, occurred_at, event_id)
SETTINGS allow_nullable_key = 1`,
    ]);
  });

  it('cluster: a replicated local table on every node and a Distributed table sharded by person', () => {
    expect(tableDdl(EVENTS_TABLE, { database: 'analytics', cluster: 'prod' })).toEqual([
      `CREATE TABLE IF NOT EXISTS \`analytics\`.\`events_local\` ON CLUSTER \`prod\` ${EVENTS_COLUMNS}
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (person_id, occurred_at, event_id)
SETTINGS allow_nullable_key = 1`,
      `CREATE TABLE IF NOT EXISTS \`analytics\`.\`events\` ON CLUSTER \`prod\` AS \`analytics\`.\`events_local\`
ENGINE = Distributed(\`prod\`, \`analytics\`, \`events_local\`, cityHash64(ifNull(person_id, '')))`,
    ]);
    const tags = OTHER_TABLES.find((t) => t.name === 'person_tags')!;
    expect(tableDdl(tags, { database: 'analytics', cluster: 'prod' })[1]).toBe(
      'CREATE TABLE IF NOT EXISTS `analytics`.`person_tags` ON CLUSTER `prod` AS `analytics`.`person_tags_local`\nENGINE = Distributed(`prod`, `analytics`, `person_tags_local`, cityHash64(person_id))',
    );
    // Every table has its local and Distributed halves; names and the cluster are quoted.
    const all = schemaDdl({ database: 'a`b', cluster: 'c' });
    expect(all).toHaveLength(2 * (OTHER_TABLES.length + 3));
    expect(all.every((s) => s.startsWith('CREATE TABLE IF NOT EXISTS `a\\`b`.') && s.includes(' ON CLUSTER `c` '))).toBe(true);
  });

  it('single-node DDL runs, twice, and gives the tables their keys', async () => {
    const ch = await testClickhouse();
    expect((await migrateClickhouse(ch)).version).toBe(1);
    expect(await migrateClickhouse(ch)).toEqual({ version: 1, created: false });
    const [events] = await ch.query<{ engine: string; partition_key: string; sorting_key: string }>(
      `SELECT engine, partition_key, sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'events'`,
    );
    expect(events).toEqual({ engine: 'MergeTree', partition_key: 'toYYYYMM(occurred_at)', sorting_key: 'person_id, occurred_at, event_id' });
    const tables = await ch.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name`);
    expect(tables.map((t) => t.name)).toEqual(['events', 'identity_links', 'identity_map', 'import_files', 'imports', 'person_tags', 'quarantine', 'schema_migrations', 'sessions', 'usagelab_sync']);
  });
});
