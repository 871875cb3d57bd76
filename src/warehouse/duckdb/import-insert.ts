/**
 * Writing an import's rows into `events`: every file at once (one dedup across files, one anti-join against the
 * warehouse), masked value by value (pii-value-masking.ts), each row with its person and session, in (person, time)
 * order so that per-person scans read clustered runs (docs/events.md "Storage layout"). The rows are made ready
 * before the import's transaction opens (prepareNewRows); inside it they are only inserted (insertEvents).
 */
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import type { CandidateKey, ValueMasks } from '../../governance/pii-value-masking.js';
import { quoteIdent, quoteLiteral } from '../../sql/quote.js';
import { countOf, scaledMemoryLimit, type DuckdbSession } from './duckdb-connection.js';
import { NEW_IDENTITY_MAP } from './import-identity.js';
import { gapSessionsSql, vendorSessionIdSql } from './import-sessions.js';

/** Every good row of the import, with `_file`: `_import_all`; the same without duplicate ids: `_import_rows`. */
export const ALL_ROWS = '_import_all';
const ROWS = '_import_rows';
const NEW_ROWS = '_new_rows';

/** The import's only file: its rows (fileRowsSelect) are a view, no copy — a 10M-row file would be held twice. */
export async function singleFileRows(session: DuckdbSession, rows: string): Promise<void> {
  await session.run(`CREATE OR REPLACE TEMP VIEW ${ALL_ROWS} AS ${rows}`);
  await session.run(`CREATE OR REPLACE TEMP VIEW ${ROWS} AS SELECT * FROM ${ALL_ROWS}`);
}

/**
 * Several files' rows, staged into one table (`table`, with `_file`), may share event ids (overlapping exports,
 * GA4 intraday + daily): the first file (then the first line) wins. Only the ids that repeat are grouped into a
 * small table; the rows stay where they are. Returns whether any id repeated.
 */
export async function combinedFileRows(session: DuckdbSession, table: string): Promise<boolean> {
  await session.run(`CREATE OR REPLACE TEMP VIEW ${ALL_ROWS} AS SELECT * FROM ${table}`);
  await session.run(`CREATE OR REPLACE TEMP TABLE _import_winners AS
    SELECT event_id, min({'f': _file, 'l': _line}) AS w FROM ${ALL_ROWS} GROUP BY event_id HAVING count(*) > 1`);
  await session.run(`CREATE OR REPLACE TEMP VIEW ${ROWS} AS
    SELECT u.* FROM ${ALL_ROWS} u LEFT JOIN _import_winners d ON d.event_id = u.event_id
    WHERE d.event_id IS NULL OR (d.w.f = u._file AND d.w.l = u._line)`);
  return (await countOf(session, `SELECT count(*) AS n FROM _import_winners`)) > 0;
}

/** What one scan of every row of the import gathers (profileImportRows). */
export interface ImportProfile {
  /** Per masked column, a relation of its candidate values (see pii-value-masking.ts candidateKeys). */
  readonly candidates: ReadonlyMap<string, string>;
  /** (source, anonymous_id, user_id, first_at) of the rows carrying both ids: identity links, not yet masked. */
  readonly pairs: string;
  /** Per file index: rows, rows without a vendor session id, and those of them without any id (no person). */
  readonly files: ReadonlyMap<number, { readonly rows: number; readonly gap: number; readonly anonymous: number }>;
}

/**
 * One scan of every good row (`_import_all`) gathers the distinct values masking looks at, the identity pairs and
 * the rows per file: each further scan would parse (or re-read and re-validate) every row again.
 */
export async function profileImportRows(session: DuckdbSession, keys: readonly CandidateKey[]): Promise<ImportProfile> {
  const sets = keys.map((_, i) => `(k${i})`);
  sets.push('(source, anonymous_id, user_id)', '(_file)');
  const grouping = keys.map((_, i) => `GROUPING(k${i}) AS g${i}`);
  await session.run(`CREATE OR REPLACE TEMP TABLE _import_profile AS
    SELECT ${keys.map((_, i) => `k${i}, `).join('')}source, anonymous_id, user_id, _file,
      ${grouping.map((g) => `${g}, `).join('')}GROUPING(source, anonymous_id, user_id) AS g_pairs, GROUPING(_file) AS g_file,
      min(occurred_at) AS first_at, count(*) AS n, count(*) FILTER (WHERE vendor_session_id IS NULL) AS gap,
      count(*) FILTER (WHERE vendor_session_id IS NULL AND anonymous_id IS NULL AND user_id IS NULL) AS nobody
    FROM (SELECT ${keys.map((k, i) => `${k.key} AS k${i}, `).join('')}source, anonymous_id, user_id, _file, occurred_at, vendor_session_id FROM ${ALL_ROWS})
    GROUP BY GROUPING SETS (${sets.join(', ')})`);
  const candidates = new Map(keys.map((k, i) => [k.column, `(SELECT k${i} AS ${quoteIdent(k.column)} FROM _import_profile WHERE g${i} = 0)`]));
  const files = new Map<number, { rows: number; gap: number; anonymous: number }>();
  for (const r of await session.all<{ f: number; n: string; gap: string; nobody: string }>(`SELECT _file AS f, n, gap, nobody FROM _import_profile WHERE g_file = 0`)) {
    files.set(Number(r.f), { rows: Number(r.n), gap: Number(r.gap), anonymous: Number(r.nobody) });
  }
  const pairs = `(SELECT source, anonymous_id, user_id, first_at FROM _import_profile WHERE g_pairs = 0 AND anonymous_id IS NOT NULL AND user_id IS NOT NULL)`;
  return { candidates, pairs, files };
}

/** The import's new rows, ready to insert, made before the transaction opens (prepareNewRows). */
export interface PreparedRows {
  /** Rows to write per file index. */
  readonly imported: Map<number, number>;
  /** The rows written (a relation with the staged, unmasked columns), for counting what masking changed. */
  readonly newRows: string;
}

/** The rows to insert: masked, with page_path, person and session. */
const READY = '_import_ready';

/**
 * The import's new rows — masked, with page_path cleaned from the masked URL, person from the identity map after
 * this import (NEW_IDENTITY_MAP, import-identity.ts planPersons), session from the vendor id or from inactivity gaps —
 * into a table of their own, before the transaction opens. Only writes to the warehouse need the transaction; and
 * DuckDB reads a table made inside a transaction several times slower than one made before it (a test table of 532k
 * rows: a scan 155-212 ms against 33-63 ms, a sorted insert 5.6-6.9 s against 4.3-4.8 s).
 * `freshWarehouse`: no event existed before (no anti-join).
 */
export async function prepareNewRows(
  session: DuckdbSession,
  masks: ValueMasks,
  options: {
    readonly importId: number;
    readonly freshWarehouse: boolean;
    readonly inactivityMinutes: number;
    readonly vendorSessionsDropped: boolean;
    /** Rows per file of `_import_all`, when every one of them is new (a first import without duplicates). */
    readonly allNew: ImportProfile['files'] | undefined;
  },
): Promise<PreparedRows> {
  if (options.freshWarehouse) await session.run(`CREATE OR REPLACE TEMP VIEW ${NEW_ROWS} AS SELECT * FROM ${ROWS}`);
  else {
    await session.run(`CREATE OR REPLACE TEMP TABLE ${NEW_ROWS} AS
      SELECT * FROM ${ROWS} g WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = g.event_id)`);
  }
  const imported = new Map<number, number>();
  let gapRows = 0;
  let nobodyRows = 0;
  const counts =
    options.allNew !== undefined
      ? [...options.allNew].map(([f, c]) => ({ f, n: c.rows, gap: c.gap, nobody: c.anonymous }))
      : await session.all<{ f: number; n: string; gap: string; nobody: string }>(
          `SELECT _file AS f, count(*) AS n, count(*) FILTER (WHERE vendor_session_id IS NULL) AS gap,
             count(*) FILTER (WHERE vendor_session_id IS NULL AND anonymous_id IS NULL AND user_id IS NULL) AS nobody
           FROM ${NEW_ROWS} GROUP BY _file`,
        );
  for (const r of counts) {
    if (Number(r.n) === 0) continue;
    imported.set(Number(r.f), Number(r.n));
    gapRows += Number(r.gap);
    nobodyRows += Number(r.nobody);
  }
  if (imported.size === 0) return { imported, newRows: NEW_ROWS };

  // Paths are cleaned once per distinct URL, from the masked URL.
  await session.run(`CREATE OR REPLACE TEMP TABLE _import_paths AS
    SELECT page_url AS _raw_url, ul_clean_path(${masks.column('page_url', 'g')}) AS page_path
    FROM (SELECT DISTINCT page_url FROM ${NEW_ROWS} WHERE page_url IS NOT NULL) g ${masks.joins('g', ['page_url'])}`);
  const staged = STAGED_COLUMNS.map((c) => `${masks.column(c.name, 'g')} AS ${c.name}`).join(',\n      ');
  await session.run(`CREATE OR REPLACE TEMP VIEW _import_masked AS
    SELECT g.event_id, ${staged}, p.page_path
    FROM ${NEW_ROWS} g ${masks.joins('g')}
    LEFT JOIN _import_paths p ON p._raw_url = g.page_url`);
  await session.run(`CREATE OR REPLACE TEMP VIEW _import_persons AS
    SELECT g.*,
      CASE WHEN g.user_id IS NOT NULL THEN 'u:' || g.user_id
           WHEN g.anonymous_id IS NOT NULL THEN coalesce(m.person_id, 'a:' || g.source || ':' || g.anonymous_id) END AS person_id,
      ${options.importId} AS import_id
    FROM _import_masked g LEFT JOIN ${NEW_IDENTITY_MAP} m ON m.source = g.source AND m.anonymous_id = g.anonymous_id`);

  // Inactivity sessions are cut on the narrow columns first (a window over whole rows would hold every column of
  // them in memory), then joined to their rows by event id.
  const gap = options.vendorSessionsDropped || gapRows > nobodyRows;
  if (gap) {
    await session.run(`CREATE OR REPLACE TEMP TABLE _import_gap_sessions AS
      ${gapSessionsSql(`(SELECT event_id, person_id, occurred_at FROM _import_persons WHERE vendor_session_id IS NULL AND person_id IS NOT NULL)`, options.inactivityMinutes, 'event_id')}`);
  }
  // The masked rows are materialised on their own and sorted by insertEvents: a sort fed straight from the masking
  // joins holds their hash tables and the sort's runs in memory at once, more than a 2 GB limit allows on a
  // half-million-event import.
  const sessionId = `CASE WHEN g.vendor_session_id IS NOT NULL THEN ${vendorSessionIdSql('g')} ${gap ? 'WHEN g.person_id IS NOT NULL THEN s.session_id ' : ''}END`;
  await session.run('SET preserve_insertion_order = false');
  try {
    await session.run(`CREATE OR REPLACE TEMP TABLE ${READY} AS
      SELECT g.*, ${sessionId} AS session_id
      FROM _import_persons g ${gap ? 'LEFT JOIN _import_gap_sessions s ON s.event_id = g.event_id' : ''}`);
  } finally {
    await session.run('RESET preserve_insertion_order');
  }
  if (gap) await session.run(`DROP TABLE _import_gap_sessions`);
  return { imported, newRows: NEW_ROWS };
}

/**
 * Inserts the prepared rows, inside the import's transaction. Written in (person, time) order: each person's events
 * of the import are one run of rows that analyses read as stored. An explicit ORDER BY is kept without preserving
 * insertion order in general, which would buffer every batch the sort hands out of order.
 */
export async function insertEvents(session: DuckdbSession, prepared: PreparedRows): Promise<void> {
  if (prepared.imported.size === 0) return;
  // A large import runs this under a smaller share of the memory limit (importFiles: writeMemoryLimit).
  await session.run('SET preserve_insertion_order = false');
  try {
    await session.run(`INSERT INTO events BY NAME SELECT * FROM ${READY} ORDER BY person_id, occurred_at, event_id`);
  } finally {
    // After a failed insert the transaction is aborted and refuses even this: the insert's error is the one to report.
    await session.run('RESET preserve_insertion_order').catch(() => undefined);
  }
  await session.run(`DROP TABLE ${READY}`);
}

/**
 * The share of a configured memory limit a large import's writing steps may use (importFiles: identities, the copy of
 * the ready rows, the sorted insert, sessions). The 10M-row insert: 103 s against 110 s under the full limit; below a
 * million rows the overshoot is small and the full limit faster (the demo's 532k rows: 9.6 s against 11.8 s).
 */
export const WRITE_MEMORY_SHARE = 0.6;
/** Imports of fewer rows keep the whole limit. */
export const WRITE_LIMIT_FROM_ROWS = 1_000_000;

/** The memory limit of insertEvents' writing statements for `rows` new rows; null: the configured one. */
export function writeMemoryLimit(configured: string | undefined, rows: number): string | null {
  return configured === undefined || rows < WRITE_LIMIT_FROM_ROWS ? null : scaledMemoryLimit(configured, WRITE_MEMORY_SHARE);
}

/**
 * Runs `body` under memory limit `limit` (null: as configured), then restores the configured one. When `body` fails
 * inside a transaction, the aborted transaction refuses the reset: `body`'s error is thrown, and the caller restores
 * the limit after its rollback (restoreMemoryLimit).
 */
export async function withMemoryLimit<T>(session: DuckdbSession, limit: string | null, body: () => Promise<T>): Promise<T> {
  if (limit === null || session.memoryLimit === undefined) return body();
  await session.run(`SET memory_limit = ${quoteLiteral(limit)}`);
  let result: T;
  try {
    result = await body();
  } catch (err) {
    await restoreMemoryLimit(session).catch(() => undefined);
    throw err;
  }
  await restoreMemoryLimit(session);
  return result;
}

/** Sets the session's configured memory limit again (after withMemoryLimit's body failed in a transaction). */
export async function restoreMemoryLimit(session: DuckdbSession): Promise<void> {
  if (session.memoryLimit !== undefined) await session.run(`SET memory_limit = ${quoteLiteral(session.memoryLimit)}`);
}

/** Drops the relations of singleFileRows / combinedFileRows, profileImportRows, prepareNewRows and insertEvents. */
export async function dropImportRelations(session: DuckdbSession, freshWarehouse: boolean): Promise<void> {
  await session.run(`DROP TABLE IF EXISTS ${READY}`);
  await session.run(`DROP TABLE IF EXISTS _import_gap_sessions`);
  await session.run(`DROP VIEW IF EXISTS _import_persons`);
  await session.run(`DROP VIEW IF EXISTS _import_masked`);
  await session.run(`DROP TABLE IF EXISTS _import_paths`);
  await session.run(freshWarehouse ? `DROP VIEW IF EXISTS ${NEW_ROWS}` : `DROP TABLE IF EXISTS ${NEW_ROWS}`);
  await session.run(`DROP VIEW IF EXISTS ${ROWS}`);
  await session.run(`DROP TABLE IF EXISTS _import_winners`);
  await session.run(`DROP VIEW IF EXISTS ${ALL_ROWS}`);
  await session.run(`DROP TABLE IF EXISTS _import_profile`);
}
