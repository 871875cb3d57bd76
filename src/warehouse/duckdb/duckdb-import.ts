/**
 * The import pipeline: probe → choose reader → stage (parse + normalise in DuckDB) → validate → dedup →
 * resolve identities → insert → sessions, all inside one transaction, so a crash or an error leaves the warehouse
 * exactly as it was and re-running the same command adds nothing (docs/events.md "Import").
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { UsageLabConfig } from '../../core/config-schema.js';
import { UsageLabError } from '../../core/errors.js';
import { toolVersion } from '../../core/tool-version.js';
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import { resolveIdentities, type IdentityLink } from '../../events/identity-resolution.js';
import type { FileProbe, Detection, SourceReader } from '../../sources/source-reader.js';
import { probeFile } from '../../sources/file-probe.js';
import { chooseReader } from '../../sources/detect-source.js';
import type { DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext, sqlLiteral } from './duckdb-stage-context.js';
import { pathCleaningMacro } from './path-cleaning-sql.js';
import { fileFingerprint } from './file-fingerprint.js';
import { ID_COLUMNS, LINK_COLUMNS, stagedEventColumns, WarehouseMasking } from '../../governance/pii-warehouse-masking.js';

export interface ImportOptions {
  readonly files: readonly string[];
  /** Force a source instead of detecting it. */
  readonly source?: string;
  readonly columnMap?: Readonly<Record<string, string>>;
  /** A file with any unreadable record contributes nothing (instead of quarantining those records). */
  readonly strict?: boolean;
  /** An empty file (or an empty export window) is listed as skipped instead of failing the import. */
  readonly skipEmpty?: boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  readonly phase: 'reading' | 'loading' | 'identities' | 'sessions' | 'done';
  readonly file?: string;
  readonly fileIndex: number;
  readonly fileCount: number;
  /** Bytes of the input files fully read so far, plus the running share of the current one. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly rowsRead: number;
}

export interface QuarantinedRecord {
  readonly file: string;
  readonly line: number | null;
  readonly reason: string;
}

export interface FileImportResult {
  readonly path: string;
  readonly source: string;
  readonly layout: string;
  readonly read: number;
  readonly imported: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** Why the file is partial (e.g. Mixpanel "terminated early"), if it is. */
  readonly partial: string | null;
  /** Set when --strict refused the file: nothing from it was written. */
  readonly skipped: string | null;
}

export interface ImportResult {
  readonly importId: number;
  readonly files: readonly FileImportResult[];
  readonly read: number;
  readonly imported: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** True when any record was rejected, any file was skipped, or any body was partial: exit code 5. */
  readonly partial: boolean;
  /** The first quarantined records (all of them are in the quarantine table). */
  readonly quarantineSample: readonly QuarantinedRecord[];
  readonly identityConflicts: number;
  readonly persons: number;
  readonly sessions: number;
  readonly durationMs: number;
}

interface PlannedFile {
  readonly probe: FileProbe;
  readonly reader: SourceReader;
  readonly detection: Detection;
  readonly fingerprint: string;
}

interface StagedGood {
  readonly plan: PlannedFile;
  readonly table: string;
  readonly links: string | undefined;
  /** Table of event ids derived as rage clicks (sources without a rage flag). */
  readonly rage?: string | undefined;
  readonly read: number;
  readonly good: number;
  readonly rejected: number;
  readonly partial: string | null;
  readonly skipped: string | null;
}

const SAMPLE_LIMIT = 20;

function directoryFingerprint(probe: FileProbe): string {
  const hash = createHash('sha256');
  for (const rel of probe.directoryFiles) hash.update(`${rel}:${statSync(join(probe.path, rel)).size};`);
  return hash.digest('hex');
}

function sizeOf(probe: FileProbe): number {
  return probe.isDirectory ? probe.directoryFiles.reduce((n, rel) => n + statSync(join(probe.path, rel)).size, 0) : probe.sizeBytes;
}

async function count(session: DuckdbSession, sql: string): Promise<number> {
  const rows = await session.all<{ n: string | number | null }>(sql);
  return Number(rows[0]?.n ?? 0);
}

/** Probes every input and picks its reader before anything is written: a bad file fails the whole command. */
async function planFiles(session: DuckdbSession, options: ImportOptions, empties: string[]): Promise<PlannedFile[]> {
  const plans: PlannedFile[] = [];
  for (const path of options.files) {
    let probe: FileProbe;
    try {
      probe = await probeFile(path, {
        parquetColumns: async (p) =>
          (await session.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlLiteral(p)})`)).map((r) => r.column_name),
      });
    } catch (err) {
      if (options.skipEmpty === true && err instanceof UsageLabError && err.code === 'import_file_empty') {
        empties.push(path);
        continue;
      }
      throw err;
    }
    const { reader, detection } = chooseReader(probe, options.source);
    plans.push({ probe, reader, detection, fingerprint: probe.isDirectory ? directoryFingerprint(probe) : fileFingerprint(path) });
  }
  return plans;
}

/**
 * Stages one file and reduces it to the rows to insert: validated, with event_id and page_path, deduplicated
 * within the file, rage clicks derived when the source has no flag of its own.
 */
async function stageOne(
  session: DuckdbSession,
  ctx: DuckdbStageContext,
  plan: PlannedFile,
  importId: number,
  config: UsageLabConfig,
  strict: boolean,
): Promise<StagedGood> {
  const partialBefore = ctx.partial.length;
  const csvBefore = ctx.csvRelations.length;
  const staged = await plan.reader.stage(plan.probe, plan.detection, ctx);
  const file = plan.probe.path;
  const v = ctx.tempName('validated');
  const cols = STAGED_COLUMNS.map((c) => c.name);
  // A view, not a copy: the checks are cheap and a 10M-row copy is not.
  await session.run(`CREATE OR REPLACE TEMP VIEW ${v} AS
    SELECT ${cols.join(', ')}, _line,
      coalesce(_reject,
        CASE WHEN occurred_at IS NULL THEN 'occurred_at: missing or unreadable'
             WHEN event_name IS NULL OR event_name = '' THEN 'event_name: missing'
             WHEN source_event_id IS NULL OR source_event_id = '' THEN 'source_event_id: missing (no dedup key)'
             WHEN event_kind NOT IN ('page_view','screen_view','click','input','submit','error','identify','custom') THEN 'event_kind: not a known kind'
        END) AS _reject
    FROM ${staged.relation}`);
  const counts = (await session.all<{ n: string; bad: string }>(`SELECT count(*) AS n, count(_reject) AS bad FROM ${v}`))[0]!;
  const read = Number(counts.n);
  const rejectedRows = Number(counts.bad);
  const csvRejects = await ctx.csvRejectsSince(csvBefore);
  const rejected = rejectedRows + csvRejects.length;
  const partial = ctx.partial.slice(partialBefore).join('; ') || null;

  if (strict && rejected > 0) {
    await session.run(`DROP VIEW IF EXISTS ${v}`);
    return { plan, table: '', links: undefined, read: read + csvRejects.length, good: 0, rejected, partial, skipped: `--strict: ${rejected} unreadable record(s); nothing from this file was imported` };
  }

  if (rejectedRows > 0) {
    await session.run(`INSERT INTO _import_quarantine SELECT ${importId}, ${sqlLiteral(file)}, _line, _reject FROM ${v} WHERE _reject IS NOT NULL`);
  }
  for (const r of csvRejects) {
    await session.run(`INSERT INTO _import_quarantine VALUES (${importId}, ${sqlLiteral(file)}, ${r.line}, ${sqlLiteral(r.reason)})`);
  }

  // The good rows stay a view over the reader's staged table: a second 10M-row copy would double the memory
  // (and the spilling) of a large import. Only a file with internal duplicates is materialised, deduplicated.
  const g = ctx.tempName('good');
  const goodSelect = `SELECT md5(source || chr(31) || source_event_id)::UUID AS event_id, * EXCLUDE (_reject) FROM ${v} WHERE _reject IS NULL`;
  await session.run(`CREATE OR REPLACE TEMP VIEW ${g} AS ${goodSelect}`);
  const good = read - rejectedRows;
  // Most files have no internal duplicates: a distinct count (a hash aggregate) is far cheaper than always
  // partitioning the whole file with a window to keep the first of each id.
  const distinct = await count(session, `SELECT count(DISTINCT event_id) AS n FROM ${g}`);
  let table = g;
  if (distinct < good) {
    table = ctx.tempName('dedup');
    await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
      SELECT * FROM ${g} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _line) = 1`);
  }
  const rage = staged.nativeRageClicks ? undefined : await deriveRageClicks(session, ctx, table, config);
  return { plan, table, links: staged.links, rage, read: read + csvRejects.length, good, rejected, partial, skipped: null };
}


/**
 * A click is a rage click when it is one of N clicks on the same element, by the same device on the same page,
 * within T ms (usagelab.yaml rage_clicks). Only for sources without their own rage flag.
 */
async function deriveRageClicks(session: DuckdbSession, ctx: DuckdbStageContext, table: string, config: UsageLabConfig): Promise<string> {
  const n = config.rage_clicks.min_clicks;
  const ms = config.rage_clicks.within_ms;
  const rage = ctx.tempName('rage');
  await session.run(`CREATE OR REPLACE TEMP TABLE ${rage} AS
    SELECT DISTINCT event_id FROM (
      SELECT event_id, max(starts::INTEGER) OVER (PARTITION BY k ORDER BY occurred_at, _line ROWS BETWEEN ${n - 1} PRECEDING AND CURRENT ROW) AS in_series
      FROM (
        SELECT event_id, occurred_at, _line, k,
          coalesce(lead(occurred_at, ${n - 1}) OVER (PARTITION BY k ORDER BY occurred_at, _line) - occurred_at <= INTERVAL ${ms} MILLISECOND, false) AS starts
        FROM (
          SELECT event_id, occurred_at, _line,
            coalesce(anonymous_id, user_id) || chr(31) || coalesce(page_url, '') || chr(31) || coalesce(element_selector, element_text) AS k
          FROM ${table}
          WHERE event_kind = 'click' AND coalesce(element_selector, element_text) IS NOT NULL AND coalesce(anonymous_id, user_id) IS NOT NULL
        )
      )
    ) WHERE in_series = 1`);
  return rage;
}

interface LinkRow {
  source: string;
  anonymous_id: string;
  user_id: string | null;
  other_anonymous_id: string | null;
  linked_us: string | null;
}

/** Adds the import's identity links, re-resolves persons, and rewrites identity_map; returns changed keys. */
async function resolvePersons(session: DuckdbSession, staged: readonly StagedGood[], masking: WarehouseMasking): Promise<{ conflicts: number }> {
  // Identity works on ids as the warehouse stores them: masked (docs/governance.md), all files in one statement.
  const active = staged.filter((s) => s.skipped === null);
  if (active.length > 0) {
    const pairs = active.map((s) => `SELECT source, anonymous_id, user_id, occurred_at FROM ${s.table} WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL`);
    await session.run(`INSERT INTO identity_links
      SELECT source, anonymous_id, user_id, NULL, min(occurred_at) FROM (${await masking.maskedRelation(`(${pairs.join('\nUNION ALL\n')})`, ID_COLUMNS)})
      GROUP BY ALL`);
  }
  for (const s of active) {
    if (s.links === undefined) continue;
    await session.run(`INSERT INTO identity_links
      SELECT ${sqlLiteral(s.plan.reader.id)}, anonymous_id, user_id, other_anonymous_id, linked_at FROM (${await masking.maskedRelation(s.links, LINK_COLUMNS, s.plan.probe.path)})
      WHERE anonymous_id IS NOT NULL AND (user_id IS NOT NULL OR other_anonymous_id IS NOT NULL)`);
  }
  // Keep one row per link (the earliest): re-imports and overlapping exports must not grow the table.
  await session.run(`CREATE OR REPLACE TEMP TABLE _links_dedup AS
    SELECT source, anonymous_id, user_id, other_anonymous_id, min(linked_at) AS linked_at FROM identity_links GROUP BY ALL`);
  await session.run(`DELETE FROM identity_links`);
  await session.run(`INSERT INTO identity_links SELECT * FROM _links_dedup`);
  await session.run(`DROP TABLE _links_dedup`);

  const rows = await session.all<LinkRow>(
    `SELECT source, anonymous_id, user_id, other_anonymous_id, CAST(epoch_us(linked_at) AS VARCHAR) AS linked_us FROM identity_links`,
  );
  const links: IdentityLink[] = rows.map((r) => ({
    source: r.source,
    anonymousId: r.anonymous_id,
    userId: r.user_id,
    otherAnonymousId: r.other_anonymous_id,
    linkedAt: r.linked_us === null ? Number.MAX_SAFE_INTEGER : Number(r.linked_us),
  }));
  const resolution = resolveIdentities(links);

  await session.run(`CREATE OR REPLACE TEMP TABLE _new_identity_map (source VARCHAR, anonymous_id VARCHAR, person_id VARCHAR)`);
  const appender = await session.connection.createAppender('_new_identity_map', 'main', 'temp');
  for (const [node, person] of resolution.personOfAnonymous) {
    // node is "a:<source>:<anonymous_id>"; sources never contain ":".
    const rest = node.slice(2);
    const cut = rest.indexOf(':');
    appender.appendVarchar(rest.slice(0, cut));
    appender.appendVarchar(rest.slice(cut + 1));
    appender.appendVarchar(person);
    appender.endRow();
  }
  appender.closeSync();

  // Existing anonymous-only events whose person changed (e.g. a device identified in this import).
  await session.run(`CREATE OR REPLACE TEMP TABLE _changed_identity AS
    SELECT n.source, n.anonymous_id, n.person_id AS new_person, coalesce(o.person_id, 'a:' || n.source || ':' || n.anonymous_id) AS old_person
    FROM _new_identity_map n LEFT JOIN identity_map o USING (source, anonymous_id)
    WHERE o.person_id IS DISTINCT FROM n.person_id`);
  await session.run(`DELETE FROM identity_map`);
  await session.run(`INSERT INTO identity_map SELECT * FROM _new_identity_map`);
  await session.run(`UPDATE events SET person_id = c.new_person FROM _changed_identity c
    WHERE events.user_id IS NULL AND events.source = c.source AND events.anonymous_id = c.anonymous_id
      AND events.person_id IS DISTINCT FROM c.new_person`);
  return { conflicts: resolution.conflicts };
}

/**
 * Inserts the rows of every file of the import at once: one dedup across files (the first file wins), one
 * anti-join against the warehouse, one insert. Per file, that is what an import of many small exports (a GA4 table
 * per day, an Amplitude file per hour) would otherwise pay again and again. Returns rows imported per file index.
 */
async function insertEvents(session: DuckdbSession, staged: readonly StagedGood[], importId: number, masking: WarehouseMasking): Promise<Map<number, number>> {
  const active = staged.map((s, i) => ({ s, i })).filter(({ s }) => s.skipped === null);
  const imported = new Map<number, number>();
  if (active.length === 0) return imported;
  const perFile = active.map(
    ({ s, i }) =>
      `SELECT ${i} AS _file, g.* ${s.rage === undefined ? '' : 'REPLACE ((g.rage_click OR r.event_id IS NOT NULL) AS rage_click)'}
       FROM ${s.table} g ${s.rage === undefined ? '' : `LEFT JOIN ${s.rage} r ON r.event_id = g.event_id`}`,
  );
  // Files of one import may share event ids (overlapping exports, GA4 intraday + daily): the first file (then the
  // first line) wins. Only the ids that repeat are grouped into a small table; the rows stay a view, no copy.
  await session.run(`CREATE OR REPLACE TEMP VIEW _import_all AS ${perFile.join('\nUNION ALL BY NAME\n')}`);
  // One file was already deduplicated on its own: no ids repeat, so skip grouping every id.
  await session.run(`CREATE OR REPLACE TEMP TABLE _import_winners AS
    SELECT event_id, min({'f': _file, 'l': _line}) AS w FROM _import_all
    WHERE ${perFile.length > 1} GROUP BY event_id HAVING count(*) > 1`);
  await session.run(`CREATE OR REPLACE TEMP VIEW _import_rows AS
    SELECT u.* FROM _import_all u LEFT JOIN _import_winners d ON d.event_id = u.event_id
    WHERE d.event_id IS NULL OR (d.w.f = u._file AND d.w.l = u._line)`);
  // An empty warehouse (the first import) cannot hold duplicates: skip the anti-join.
  const fresh = (await count(session, `SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1)`)) === 0;
  if (fresh) await session.run(`CREATE OR REPLACE TEMP VIEW _new_rows AS SELECT * FROM _import_rows`);
  else {
    await session.run(`CREATE OR REPLACE TEMP TABLE _new_rows AS
      SELECT * FROM _import_rows g WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = g.event_id)`);
  }
  for (const r of await session.all<{ f: number; n: string }>(`SELECT _file AS f, count(*) AS n FROM _new_rows GROUP BY _file`)) {
    imported.set(Number(r.f), Number(r.n));
  }
  // PII is masked as rows are written (docs/governance.md): paths are cleaned from masked URLs, and every staged
  // column goes through the policy. (Dedup keys were derived from the source's own ids, so they do not depend on
  // the hash key.)
  const urls = `(SELECT DISTINCT page_url AS _raw_url, page_url FROM _new_rows WHERE page_url IS NOT NULL)`;
  await session.run(`CREATE OR REPLACE TEMP TABLE _import_paths AS
    SELECT _raw_url AS page_url, ul_clean_path(page_url) AS page_path FROM (${await masking.maskedRelation(urls, [{ column: 'page_url', as: 'page_url' }])})`);
  const rows = await masking.maskedRelation(`(SELECT *, page_url AS _raw_page_url FROM _new_rows)`, stagedEventColumns(STAGED_COLUMNS.map((c) => c.name)));
  const columns = STAGED_COLUMNS.map((c) => `g.${c.name}`).join(', ');
  await session.run(`INSERT INTO events BY NAME
    SELECT g.event_id, ${columns}, p.page_path,
      CASE WHEN g.user_id IS NOT NULL THEN 'u:' || g.user_id
           WHEN g.anonymous_id IS NOT NULL THEN coalesce(m.person_id, 'a:' || g.source || ':' || g.anonymous_id) END AS person_id,
      CASE WHEN g.vendor_session_id IS NOT NULL
           THEN 's:' || md5(g.source || chr(31) || coalesce(g.anonymous_id, g.user_id, '') || chr(31) || g.vendor_session_id) END AS session_id,
      ${importId} AS import_id
    FROM (${rows}) g
    LEFT JOIN identity_map m ON m.source = g.source AND m.anonymous_id = g.anonymous_id
    LEFT JOIN _import_paths p ON p.page_url = g._raw_page_url`);
  await session.run(fresh ? `DROP VIEW _new_rows` : `DROP TABLE _new_rows`);
  await session.run(`DROP VIEW _import_rows`);
  await session.run(`DROP VIEW _import_all`);
  await session.run(`DROP TABLE _import_winners`);
  await session.run(`DROP TABLE _import_paths`);
  return imported;
}

/**
 * Inactivity sessions (30 minutes by default, never split at midnight) for events without a vendor session id,
 * recomputed for every person this import touched so a late event can join or bridge earlier sessions.
 */
async function assignInactivitySessions(session: DuckdbSession, importId: number, minutes: number): Promise<void> {
  await session.run(`CREATE OR REPLACE TEMP TABLE _affected_persons AS
    SELECT DISTINCT person_id FROM events WHERE import_id = ${importId} AND vendor_session_id IS NULL AND person_id IS NOT NULL
    UNION SELECT new_person FROM _changed_identity UNION SELECT old_person FROM _changed_identity`);
  await session.run(`CREATE OR REPLACE TEMP TABLE _gap_sessions AS
    SELECT event_id, 'g:' || md5(person_id || chr(31) || CAST(epoch_us(min(occurred_at) OVER (PARTITION BY person_id, grp)) AS VARCHAR)) AS sid
    FROM (
      SELECT event_id, person_id, occurred_at,
        sum(is_new) OVER (PARTITION BY person_id ORDER BY occurred_at, event_id ROWS UNBOUNDED PRECEDING) AS grp
      FROM (
        SELECT event_id, person_id, occurred_at,
          CASE WHEN lag(occurred_at) OVER w IS NULL OR occurred_at - lag(occurred_at) OVER w > INTERVAL ${minutes} MINUTE THEN 1 ELSE 0 END AS is_new
        FROM events
        WHERE vendor_session_id IS NULL AND person_id IN (SELECT person_id FROM _affected_persons)
        WINDOW w AS (PARTITION BY person_id ORDER BY occurred_at, event_id)
      )
    )`);
  await session.run(`UPDATE events SET session_id = s.sid FROM _gap_sessions s
    WHERE events.event_id = s.event_id AND events.session_id IS DISTINCT FROM s.sid`);
  await session.run(`DROP TABLE _gap_sessions`);
  await session.run(`DROP TABLE _affected_persons`);
}

async function rebuildSessions(session: DuckdbSession): Promise<void> {
  await session.run(`DELETE FROM sessions`);
  await session.run(`INSERT INTO sessions
    SELECT session_id, arg_min(person_id, occurred_at), arg_min(source, occurred_at), min(occurred_at), max(occurred_at), count(*),
      count(*) FILTER (WHERE event_kind IN ('page_view', 'screen_view')),
      arg_min(page_path, occurred_at) FILTER (WHERE page_path IS NOT NULL),
      arg_min(device_type, occurred_at) FILTER (WHERE device_type IS NOT NULL)
    FROM events WHERE session_id IS NOT NULL GROUP BY session_id`);
}

export async function importFiles(
  session: DuckdbSession,
  config: UsageLabConfig,
  options: ImportOptions,
  tempRoot: string,
): Promise<ImportResult> {
  const started = Date.now();
  if (options.files.length === 0) {
    throw new UsageLabError('import_no_files', 'no files to import', { hint: 'usage: usagelab import FILE... [--source S]' });
  }
  const empties: string[] = [];
  const plans = await planFiles(session, options, empties);
  const masking = await WarehouseMasking.open(session, config.pii);
  const bytesTotal = plans.reduce((n, p) => n + sizeOf(p.probe), 0);
  const tempDir = mkdtempSync(join(tempRoot, 'import-'));
  const ctx = await DuckdbStageContext.create(session, config, { columnMap: options.columnMap ?? {} }, tempDir);
  await session.run(pathCleaningMacro(config.path_cleaning));
  const report = (p: Omit<ImportProgress, 'fileCount' | 'bytesTotal'>): void =>
    options.onProgress?.({ ...p, fileCount: plans.length, bytesTotal });

  let importId = 0;
  let inTransaction = false;
  try {
    importId = await count(session, `SELECT nextval('import_id_seq') AS n`);
    await session.run(`CREATE OR REPLACE TEMP TABLE _import_quarantine (import_id BIGINT, file VARCHAR, line BIGINT, reason VARCHAR)`);
    // Stage everything first: parsing errors (a truncated gzip found mid-file) then abort before any write.
    const staged: StagedGood[] = [];
    let bytesDone = 0;
    let rowsRead = 0;
    for (const [i, plan] of plans.entries()) {
      const size = sizeOf(plan.probe);
      ctx.onStatementProgress = (pct) =>
        report({ phase: 'reading', file: plan.probe.path, fileIndex: i, bytesDone: bytesDone + (size * pct) / 100, rowsRead });
      report({ phase: 'reading', file: plan.probe.path, fileIndex: i, bytesDone, rowsRead });
      const s = await stageOne(session, ctx, plan, importId, config, options.strict === true);
      staged.push(s);
      bytesDone += size;
      rowsRead += s.read;
    }
    ctx.onStatementProgress = undefined;

    await session.run('BEGIN TRANSACTION');
    inTransaction = true;
    report({ phase: 'identities', fileIndex: plans.length, bytesDone, rowsRead });
    const { conflicts } = await resolvePersons(session, staged, masking);
    const results: FileImportResult[] = [];
    // Row order in the events table carries no meaning, and writing without keeping it is 2-3x faster. (Staging
    // keeps the default: line numbers come from row_number() over the ordered scan.)
    await session.run('SET preserve_insertion_order = false');
    report({ phase: 'loading', fileIndex: plans.length, bytesDone, rowsRead });
    const importedPerFile = await insertEvents(session, staged, importId, masking);
    for (const [i, s] of staged.entries()) {
      const imported = importedPerFile.get(i) ?? 0;
      results.push({
        path: s.plan.probe.path,
        source: s.plan.reader.id,
        layout: s.plan.detection.layout,
        read: s.read,
        imported,
        duplicates: s.skipped === null ? s.good - imported : 0,
        rejected: s.rejected,
        partial: s.partial,
        skipped: s.skipped,
      });
      // Drop each file's relations now that its rows are in.
      if (s.table !== '') await session.run(`DROP ${s.table.includes('_dedup_') ? 'TABLE' : 'VIEW'} IF EXISTS ${s.table}`);
      if (s.rage !== undefined) await session.run(`DROP TABLE IF EXISTS ${s.rage}`);
    }
    report({ phase: 'sessions', fileIndex: plans.length, bytesDone, rowsRead });
    await assignInactivitySessions(session, importId, config.sessions.inactivity_minutes);
    await rebuildSessions(session);
    await session.run('RESET preserve_insertion_order');

    for (const path of empties) {
      results.push({ path, source: 'unknown', layout: 'empty', read: 0, imported: 0, duplicates: 0, rejected: 0, partial: null, skipped: 'empty file: nothing to import' });
    }
    const totals = results.reduce(
      (t, r) => ({ read: t.read + r.read, imported: t.imported + r.imported, duplicates: t.duplicates + r.duplicates, rejected: t.rejected + r.rejected }),
      { read: 0, imported: 0, duplicates: 0, rejected: 0 },
    );
    const partial = totals.rejected > 0 || results.some((r) => r.partial !== null || (r.skipped !== null && r.layout !== 'empty'));
    for (const [i, r] of results.entries()) {
      const plan = plans[i];
      if (plan === undefined) continue;
      await session.run(`INSERT INTO import_files
        SELECT ${importId}, ${sqlLiteral(r.path)}, ${sqlLiteral(plan.fingerprint)}, ${sizeOf(plan.probe)}, ${sqlLiteral(r.source)},
          ${sqlLiteral(r.layout)}, ${r.read}, ${r.imported}, ${r.duplicates}, ${r.rejected},
          ${r.partial === null ? 'NULL' : sqlLiteral(r.partial)},
          (SELECT min(occurred_at) FROM events WHERE import_id = ${importId}), (SELECT max(occurred_at) FROM events WHERE import_id = ${importId})`);
    }
    // A re-run of the same file must not list the same bad record twice.
    await session.run(`INSERT INTO quarantine SELECT q.* FROM _import_quarantine q
      WHERE NOT EXISTS (SELECT 1 FROM quarantine o WHERE o.file = q.file AND o.line IS NOT DISTINCT FROM q.line AND o.reason = q.reason)`);
    await session.run(`INSERT INTO imports VALUES (${importId}, make_timestamp(${started * 1000})::TIMESTAMPTZ, now(), ${sqlLiteral(toolVersion())},
      ${results.length}, ${totals.read}, ${totals.imported}, ${totals.duplicates}, ${totals.rejected}, ${partial})`);
    const sample = await session.all<{ file: string; line: string | null; reason: string }>(
      `SELECT file, line, reason FROM _import_quarantine ORDER BY file, line LIMIT ${SAMPLE_LIMIT}`,
    );
    await session.run('COMMIT');
    inTransaction = false;
    const persons = await count(session, `SELECT count(DISTINCT person_id) AS n FROM events`);
    const sessions = await count(session, `SELECT count(*) AS n FROM sessions`);
    report({ phase: 'done', fileIndex: plans.length, bytesDone: bytesTotal, rowsRead });
    return {
      importId,
      files: results,
      ...totals,
      partial,
      quarantineSample: sample.map((q) => ({ file: q.file, line: q.line === null ? null : Number(q.line), reason: q.reason })),
      identityConflicts: conflicts,
      persons,
      sessions,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    if (inTransaction) await session.run('ROLLBACK');
    throw err;
  } finally {
    await masking.close().catch(() => undefined);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

