/**
 * The ClickHouse schema (docs/scaling.md#schema), generated from the canonical column list so that it cannot drift
 * from DuckDB's. events: a MergeTree partitioned by UTC month and ordered by (person_id, occurred_at, event_id), so
 * a person's events are stored together in time order and per-person analyses read them in one ordered pass.
 * Cluster mode: each table is a ReplicatedMergeTree `<name>_local` on every node plus a Distributed table `<name>`
 * sharded by a hash of the person, so everything a person did lives on one shard.
 */
import { EVENT_COLUMNS, type ColumnSpec } from '../../events/canonical-event.js';
import { quoteClickhouseIdent as q, quoteClickhouseLiteral } from '../../sql/quote.js';

/** Columns stored as LowCardinality: few distinct values (sources, event names and kinds, devices, countries). */
const LOW_CARDINALITY = new Set(['source', 'event_name', 'event_kind', 'device_type', 'browser', 'os', 'country']);
/** Derived columns that are NULL for events without any id (as in DuckDB's schema). */
const NULLABLE_DERIVED = new Set(['person_id', 'session_id', 'page_path']);

export const EVENTS_ORDER_BY = ['person_id', 'occurred_at', 'event_id'] as const;
export const CLICKHOUSE_SCHEMA_VERSION = 1;

function columnType(c: ColumnSpec): string {
  const nullable = c.nullable || NULLABLE_DERIVED.has(c.name) || c.type === 'json';
  const wrap = (t: string): string => (nullable ? `Nullable(${t})` : t);
  switch (c.type) {
    case 'id':
      return 'UUID';
    case 'timestamp':
      return `${wrap("DateTime64(6, 'UTC')")}${c.name === 'occurred_at' ? ' CODEC(Delta, ZSTD(1))' : ''}`;
    case 'bool':
      return 'Bool';
    case 'int':
      return 'Int64';
    case 'json':
      return `${wrap('String')} CODEC(ZSTD(3))`;
    case 'string':
    case 'text':
      if (LOW_CARDINALITY.has(c.name)) return `LowCardinality(${wrap('String')})`;
      return `${wrap('String')} CODEC(ZSTD(1))`;
  }
}

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly string[];
  readonly partitionBy?: string;
  readonly orderBy: string;
  /** Shard key of cluster mode: the person where the table has one, so a person's rows share a shard. */
  readonly shardBy: string;
  readonly settings?: string;
}

const PERSON_SHARD = 'cityHash64(ifNull(person_id, \'\'))';

export const EVENTS_TABLE: TableSpec = {
  name: 'events',
  columns: EVENT_COLUMNS.map((c) => `${q(c.name)} ${columnType(c)}`),
  partitionBy: 'toYYYYMM(occurred_at)',
  orderBy: `(${EVENTS_ORDER_BY.join(', ')})`,
  shardBy: PERSON_SHARD,
  // person_id is NULL for events that carry no id at all; they sort first.
  settings: 'allow_nullable_key = 1',
};

/** The other tables of the DuckDB warehouse (migrations.ts), same columns and meaning. */
export const OTHER_TABLES: readonly TableSpec[] = [
  {
    name: 'imports',
    columns: ['import_id Int64', "started_at DateTime64(6, 'UTC')", "finished_at Nullable(DateTime64(6, 'UTC'))", 'tool_version String', 'files Int32', 'read Int64', 'imported Int64', 'duplicates Int64', 'rejected Int64', 'partial Bool'],
    orderBy: 'import_id',
    shardBy: 'import_id',
  },
  {
    name: 'import_files',
    columns: ['import_id Int64', 'path String', 'fingerprint String', 'size_bytes Int64', 'source LowCardinality(String)', 'layout LowCardinality(String)', 'read Int64', 'imported Int64', 'duplicates Int64', 'rejected Int64', 'partial_reason Nullable(String)', "min_occurred_at Nullable(DateTime64(6, 'UTC'))", "max_occurred_at Nullable(DateTime64(6, 'UTC'))"],
    orderBy: '(import_id, path)',
    shardBy: 'import_id',
  },
  {
    name: 'quarantine',
    columns: ['import_id Int64', 'file String', 'line Nullable(Int64)', 'reason String'],
    orderBy: '(import_id, file)',
    shardBy: 'import_id',
  },
  {
    name: 'identity_links',
    columns: ['source LowCardinality(String)', 'anonymous_id String', 'user_id Nullable(String)', 'other_anonymous_id Nullable(String)', "linked_at Nullable(DateTime64(6, 'UTC'))"],
    orderBy: '(source, anonymous_id)',
    shardBy: 'cityHash64(anonymous_id)',
  },
  {
    name: 'identity_map',
    columns: ['source LowCardinality(String)', 'anonymous_id String', 'person_id String'],
    orderBy: '(source, anonymous_id)',
    shardBy: 'cityHash64(person_id)',
  },
  {
    name: 'sessions',
    columns: ['session_id String', 'person_id Nullable(String)', 'source LowCardinality(String)', "started_at DateTime64(6, 'UTC')", "ended_at DateTime64(6, 'UTC')", 'events Int64', 'page_views Int64', 'landing_path Nullable(String)', 'device_type LowCardinality(Nullable(String))'],
    orderBy: '(session_id, started_at)',
    shardBy: PERSON_SHARD,
  },
  {
    name: 'person_tags',
    columns: ['person_id String', 'tag LowCardinality(String)', 'rule String'],
    orderBy: '(person_id, tag)',
    shardBy: 'cityHash64(person_id)',
  },
];

/**
 * What has been loaded: per table and partition (events: the UTC month YYYYMM; other tables: 'all'), the row count
 * and the checksum of the DuckDB rows it was loaded from. A sync re-sends only what changed (docs/scaling.md).
 */
export const SYNC_TABLE: TableSpec = {
  name: 'usagelab_sync',
  columns: ['table_name String', 'partition String', 'rows UInt64', 'checksum String', "synced_at DateTime64(6, 'UTC')"],
  orderBy: '(table_name, partition)',
  shardBy: 'cityHash64(table_name)',
};

export const SCHEMA_TABLE: TableSpec = {
  name: 'schema_migrations',
  columns: ['version UInt32', 'name String', "applied_at DateTime64(6, 'UTC')"],
  orderBy: 'version',
  shardBy: 'version',
};

export const ALL_TABLES: readonly TableSpec[] = [EVENTS_TABLE, ...OTHER_TABLES, SYNC_TABLE, SCHEMA_TABLE];

export interface SchemaTarget {
  database: string;
  cluster?: string | undefined;
}

/** The table statements read and write: `<name>` (Distributed in cluster mode). */
export function storageTable(name: string, target: SchemaTarget): string {
  return target.cluster === undefined ? name : `${name}_local`;
}

function body(t: TableSpec, engine: string): string {
  const parts = [`ENGINE = ${engine}`];
  if (t.partitionBy !== undefined) parts.push(`PARTITION BY ${t.partitionBy}`);
  parts.push(`ORDER BY ${t.orderBy}`);
  if (t.settings !== undefined) parts.push(`SETTINGS ${t.settings}`);
  return `(\n  ${t.columns.join(',\n  ')}\n)\n${parts.join('\n')}`;
}

/** CREATE statements of one table: one MergeTree on a single node; replicated + Distributed on a cluster. */
export function tableDdl(t: TableSpec, target: SchemaTarget, name = t.name): string[] {
  const db = q(target.database);
  if (target.cluster === undefined) return [`CREATE TABLE IF NOT EXISTS ${db}.${q(name)} ${body(t, 'MergeTree')}`];
  const cluster = q(target.cluster);
  const local = `${name}_local`;
  // {shard} and {replica} are the server's macros; {database} and {table} ClickHouse fills in itself.
  const replicated = `ReplicatedMergeTree(${quoteClickhouseLiteral('/clickhouse/tables/{shard}/{database}/{table}')}, ${quoteClickhouseLiteral('{replica}')})`;
  return [
    `CREATE TABLE IF NOT EXISTS ${db}.${q(local)} ON CLUSTER ${cluster} ${body(t, replicated)}`,
    `CREATE TABLE IF NOT EXISTS ${db}.${q(name)} ON CLUSTER ${cluster} AS ${db}.${q(local)}\nENGINE = Distributed(${cluster}, ${db}, ${q(local)}, ${t.shardBy})`,
  ];
}

/** Every CREATE statement of the schema, in order. */
export function schemaDdl(target: SchemaTarget): string[] {
  return ALL_TABLES.flatMap((t) => tableDdl(t, target));
}
