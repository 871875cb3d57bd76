/**
 * Versioned schema migrations of the embedded warehouse. Each runs once, in order, inside a transaction, and is
 * recorded in schema_migrations; a warehouse written by a newer usagelab is refused rather than misread.
 */
import { EVENT_COLUMNS, type ColumnType } from '../../events/canonical-event.js';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { DuckdbSession } from './duckdb-connection.js';

const DUCKDB_TYPE: Record<ColumnType, string> = {
  id: 'UUID',
  string: 'VARCHAR',
  text: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  bool: 'BOOLEAN',
  json: 'JSON',
  int: 'BIGINT',
};

/** person_id / session_id are NULL only for events that carry no id at all (see docs/events.md). */
const NULLABLE_DERIVED = new Set(['person_id', 'session_id', 'page_path']);

/**
 * The events table. `zstd`: its JSON columns compressed with ZSTD (migration 5), which the storage formats from
 * v1.2.0 have; an older format would store them uncompressed instead, so they keep DuckDB's choice there.
 */
export function eventsDdl(table: string, options: { readonly zstd: boolean }): string {
  const cols = EVENT_COLUMNS.map(
    (c) =>
      `  ${c.name} ${DUCKDB_TYPE[c.type]}${c.nullable || NULLABLE_DERIVED.has(c.name) ? '' : ' NOT NULL'}${
        c.type === 'json' && options.zstd ? ' USING COMPRESSION zstd' : ''
      }`,
  );
  return `CREATE TABLE ${table} (\n${cols.join(',\n')}\n)`;
}

/** What a migration may depend on in the warehouse file it runs on. */
export interface MigrationTarget {
  /** The file's storage format has ZSTD for columns (v1.2.0 and later; WAREHOUSE_STORAGE_VERSION is v1.3.0). */
  readonly zstd: boolean;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (target: MigrationTarget) => readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, imports, quarantine, identities, sessions',
    statements: () => [
      eventsDdl('events', { zstd: false }),
      `CREATE SEQUENCE import_id_seq START 1`,
      `CREATE TABLE imports (
        import_id BIGINT PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        tool_version VARCHAR NOT NULL,
        files INTEGER NOT NULL,
        read BIGINT NOT NULL,
        imported BIGINT NOT NULL,
        duplicates BIGINT NOT NULL,
        rejected BIGINT NOT NULL,
        partial BOOLEAN NOT NULL
      )`,
      `CREATE TABLE import_files (
        import_id BIGINT NOT NULL,
        path VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL,
        source VARCHAR NOT NULL,
        layout VARCHAR NOT NULL,
        read BIGINT NOT NULL,
        imported BIGINT NOT NULL,
        duplicates BIGINT NOT NULL,
        rejected BIGINT NOT NULL,
        partial_reason VARCHAR,
        min_occurred_at TIMESTAMPTZ,
        max_occurred_at TIMESTAMPTZ
      )`,
      `CREATE TABLE quarantine (
        import_id BIGINT NOT NULL,
        file VARCHAR NOT NULL,
        line BIGINT,
        reason VARCHAR NOT NULL
      )`,
      `CREATE TABLE identity_links (
        source VARCHAR NOT NULL,
        anonymous_id VARCHAR NOT NULL,
        user_id VARCHAR,
        other_anonymous_id VARCHAR,
        linked_at TIMESTAMPTZ
      )`,
      `CREATE TABLE identity_map (
        source VARCHAR NOT NULL,
        anonymous_id VARCHAR NOT NULL,
        person_id VARCHAR NOT NULL
      )`,
      `CREATE TABLE sessions (
        session_id VARCHAR NOT NULL,
        person_id VARCHAR,
        source VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        ended_at TIMESTAMPTZ NOT NULL,
        events BIGINT NOT NULL,
        page_views BIGINT NOT NULL,
        landing_path VARCHAR,
        device_type VARCHAR
      )`,
    ],
  },
  {
    version: 2,
    name: 'person tags (internal, bot) that analyses exclude by default',
    statements: () => [
      // Tagged, never deleted: `exclude: []` in a definition brings the people back (docs/analyses.md).
      `CREATE TABLE person_tags (
        person_id VARCHAR NOT NULL,
        tag VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        PRIMARY KEY (person_id, tag)
      )`,
    ],
  },
  {
    version: 3,
    name: 'masked-PII counts per import, field and kind',
    statements: () => [
      // kind: a scanner kind (email, phone, card, ip, token, secret, custom:NAME), or hashed / dropped / truncated /
      // member_rule (docs/governance.md "What an import masked"); values: how many values of the imported rows.
      `CREATE TABLE import_pii_counts (
        import_id BIGINT NOT NULL,
        field VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        "values" BIGINT NOT NULL,
        PRIMARY KEY (import_id, field, kind)
      )`,
    ],
  },
  {
    version: 4,
    name: 'e-mail domains of users, captured before masking, for internal-domain exclusions',
    statements: () => [
      // user_id as events store it (masked); domain as an HMAC digest of "@domain" when a PII key is set, else the
      // plain lower-case domain; every suffix of two or more labels (docs/governance.md "Exclusions").
      `CREATE TABLE user_email_domains (
        user_id VARCHAR NOT NULL,
        domain VARCHAR NOT NULL,
        PRIMARY KEY (user_id, domain)
      )`,
    ],
  },
  {
    version: 5,
    name: 'events: properties and user_properties compressed with ZSTD',
    // DuckDB's default for these long JSON texts (dictionary + FSST) spent two thirds of an import's write on
    // compressing them and stored them larger: the demo's 532k events, written 9.0 s against 3.9 s, file 348 against
    // 199 MiB, reads of the column as fast (docs/performance.md "The JSON columns compressed with ZSTD"). A column's
    // compression is fixed when its table is created, so the table is rebuilt, its rows in the order they were stored.
    statements: (target) =>
      target.zstd
        ? [
            eventsDdl('events_v5', { zstd: true }),
            `INSERT INTO events_v5 BY NAME SELECT * FROM events`,
            `DROP TABLE events`,
            `ALTER TABLE events_v5 RENAME TO events`,
          ]
        : [],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function currentSchemaVersion(session: DuckdbSession): Promise<number> {
  const exists = await session.all<{ n: string }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = 'main'`,
  );
  if (Number(exists[0]?.n ?? 0) === 0) return 0;
  const rows = await session.all<{ v: number | null }>(`SELECT max(version) AS v FROM schema_migrations`);
  return Number(rows[0]?.v ?? 0);
}

/** The storage format of the session's database file, as DuckDB reports it ("v1.3.0+"). */
async function migrationTarget(session: DuckdbSession): Promise<MigrationTarget> {
  const [row] = await session.all<{ v: string | null }>(
    `SELECT tags['storage_version'] AS v FROM duckdb_databases() WHERE database_name = current_database()`,
  );
  const version = /^v(\d+)\.(\d+)/.exec(row?.v ?? '');
  // In memory (no file, no tag) every method is available.
  if (version === null) return { zstd: row?.v == null };
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return { zstd: major > 1 || (major === 1 && minor >= 2) };
}

/**
 * Applies pending migrations; returns the versions applied. `onUpgrade` hears of each migration applied to a warehouse
 * that had a schema already (not to a new one): some rewrite its events, which takes a while on a large one.
 */
export async function migrate(session: DuckdbSession, onUpgrade?: (m: Pick<Migration, 'version' | 'name'>) => void): Promise<number[]> {
  await session.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
  );
  const current = await currentSchemaVersion(session);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new UsageLabError('warehouse_too_new', `the warehouse has schema version ${current}; this usagelab knows up to ${LATEST_SCHEMA_VERSION}`, {
      hint: 'upgrade usagelab (npm install usagelab@latest)',
      exitCode: EXIT.usage,
    });
  }
  const applied: number[] = [];
  // Read only when a migration is pending: every open of an up-to-date warehouse goes through here.
  let target: MigrationTarget | undefined;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    target ??= await migrationTarget(session);
    if (current > 0) onUpgrade?.(m);
    await session.run('BEGIN TRANSACTION');
    try {
      for (const sql of m.statements(target)) await session.run(sql);
      await session.run(`INSERT INTO schema_migrations VALUES (${m.version}, '${m.name.replace(/'/g, "''")}', now())`);
      await session.run('COMMIT');
    } catch (err) {
      await session.run('ROLLBACK');
      throw err;
    }
    applied.push(m.version);
  }
  return applied;
}
