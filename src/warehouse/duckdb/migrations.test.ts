/**
 * Migration 5 (events' JSON columns compressed with ZSTD) on a new warehouse, on one at version 4 holding events,
 * and on a file in a storage format without ZSTD.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbSession } from './duckdb-connection.js';
import { WAREHOUSE_STORAGE_VERSION } from './duckdb-warehouse.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, currentSchemaVersion, migrate } from './migrations.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ul-migrations-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 3000;

/**
 * ROWS events with long, varied properties (what DuckDB would otherwise compress with a dictionary and FSST).
 * `distinct: false` leaves out the member that makes every row's properties unique, so they hold 150 distinct values.
 */
const insertEvents = (session: DuckdbSession, { distinct = true } = {}): Promise<void> =>
  session.run(`INSERT INTO events (event_id, source, source_event_id, event_name, event_kind, occurred_at, rage_click, dead_click, error_click,
      properties, user_properties, import_id)
    SELECT md5(i::VARCHAR)::UUID, 'posthog', 'e' || i, 'ev' || (i % 7), 'custom', TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds(i),
      false, false, false,
      json_object('$current_url', 'https://app.example.com/projects/' || (i % 50), '$browser', CASE WHEN i % 3 = 0 THEN 'Chrome' ELSE 'Firefox' END,
        ${distinct ? "'n', i," : ''} 'note', repeat('lorem ipsum ', 1 + i % 5)),
      json_object('plan', CASE WHEN i % 2 = 0 THEN 'pro' ELSE 'free' END),
      1
    FROM range(${ROWS}) t(i)`);

/**
 * The compression of each stored segment of a column of events (validity masks left out). Rows not yet checkpointed
 * sit in memory as "Uncompressed" segments: the checkpoint is forced and only persistent segments count, so a
 * checkpoint that did not happen fails here by name instead of looking like uncompressed storage.
 */
async function compressions(session: DuckdbSession, column: string): Promise<string[]> {
  await session.run('FORCE CHECKPOINT');
  const rows = await session.all<{ c: string }>(
    `SELECT DISTINCT compression AS c FROM pragma_storage_info('events')
     WHERE column_name = '${column}' AND segment_type <> 'VALIDITY' AND persistent ORDER BY 1`,
  );
  expect(rows, `stored segments of events.${column}`).not.toEqual([]);
  return rows.map((r) => r.c);
}

/** Migrations 1-4 only, as a warehouse made before migration 5 has them. */
async function migrateToVersion4(session: DuckdbSession): Promise<void> {
  await session.run(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
    for (const sql of m.statements({ zstd: false })) await session.run(sql);
    await session.run(`INSERT INTO schema_migrations VALUES (${m.version}, 'test', now())`);
  }
}

const snapshot = (session: DuckdbSession): Promise<unknown[]> =>
  session.all(`SELECT event_id::VARCHAR AS id, occurred_at::VARCHAR AS at, properties::VARCHAR AS p, user_properties::VARCHAR AS u FROM events`);

describe('migration 5: events JSON columns with ZSTD', () => {
  it('a new warehouse stores properties and user_properties with ZSTD, the other columns as DuckDB chooses', async () => {
    const session = await DuckdbSession.open({ path: join(dir, 'new.duckdb'), storageVersion: WAREHOUSE_STORAGE_VERSION });
    try {
      const heard: number[] = [];
      expect(await migrate(session, (m) => heard.push(m.version))).toEqual(MIGRATIONS.map((m) => m.version));
      // A new warehouse is made, not upgraded: nothing to announce.
      expect(heard).toEqual([]);
      await insertEvents(session);
      expect(await compressions(session, 'properties')).toEqual(['ZSTD']);
      expect(await compressions(session, 'user_properties')).toEqual(['ZSTD']);
      expect(await compressions(session, 'event_name')).not.toContain('ZSTD');
      const columns = await session.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE events)`);
      expect(columns.map((c) => c.column_name)[0]).toBe('event_id');
    } finally {
      session.close();
    }
  });

  it('rebuilds the events of a version-4 warehouse: same rows, same order, same columns', async () => {
    const session = await DuckdbSession.open({ path: join(dir, 'v4.duckdb'), storageVersion: WAREHOUSE_STORAGE_VERSION });
    try {
      await migrateToVersion4(session);
      await insertEvents(session);
      const columnsBefore = await session.all(`SELECT column_name, column_type, "null" FROM (DESCRIBE events)`);
      const before = await snapshot(session);
      expect(await compressions(session, 'properties')).not.toContain('ZSTD');

      const heard: number[] = [];
      expect(await migrate(session, (m) => heard.push(m.version))).toEqual([5]);
      expect(heard).toEqual([5]);
      expect(await currentSchemaVersion(session)).toBe(LATEST_SCHEMA_VERSION);
      expect(await snapshot(session)).toEqual(before);
      expect(await session.all(`SELECT column_name, column_type, "null" FROM (DESCRIBE events)`)).toEqual(columnsBefore);
      expect(await compressions(session, 'properties')).toEqual(['ZSTD']);
      expect(await session.all(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'events%'`)).toEqual([{ table_name: 'events' }]);
      // Running it again changes nothing.
      expect(await migrate(session)).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('leaves the compression to DuckDB in a file format without ZSTD (where it would mean no compression)', async () => {
    const session = await DuckdbSession.open({ path: join(dir, 'old.duckdb'), storageVersion: 'v1.0.0' });
    try {
      await migrate(session);
      expect(await currentSchemaVersion(session)).toBe(LATEST_SCHEMA_VERSION);
      // With every row's properties unique, DuckDB picks FSST or, now and then, no compression at all: it judges FSST
      // on a random sample (these properties in a one-column table of a v1.0.0 file, DuckDB 1.5.6: uncompressed in 2
      // checkpoints of 40). With few distinct values its choice is certain (a dictionary, 100 in 100), so that only a
      // forced compression, which is what the migration must not ask for here, could store them uncompressed.
      await insertEvents(session, { distinct: false });
      const used = await compressions(session, 'properties');
      expect(used).not.toContain('ZSTD');
      expect(used).not.toContain('Uncompressed');
    } finally {
      session.close();
    }
  });
});
