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
import type { FileProbe, Detection, SourceReader } from '../../sources/source-reader.js';
import { probeFile } from '../../sources/file-probe.js';
import { chooseReader } from '../../sources/detect-source.js';
import type { DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext, sqlLiteral } from './duckdb-stage-context.js';
import { pathCleaningMacro } from './path-cleaning-sql.js';
import { fileFingerprint } from './file-fingerprint.js';
import { stagedEventColumns, WarehouseMasking } from '../../governance/pii-warehouse-masking.js';
import type { PiiCount, ValueMasks } from '../../governance/pii-value-masking.js';
import { ALL_ROWS, dropImportRelations, insertEvents, profileImportRows, unionImportRows, type ImportProfile } from './import-insert.js';
import { resolvePersons } from './import-identity.js';
import { IDENTITY_MOVES, refreshTouchedSessions, resessionExistingPeople, startSessionTracking } from './import-sessions.js';
import { recordPiiCounts } from './import-pii-counts.js';
import { tagImportedPeople } from '../../governance/import-tagging.js';

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
  /** Values masked in the imported rows, per field and kind (also in the import_pii_counts table). */
  readonly piiMasked: readonly PiiCount[];
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

/** The deterministic event id (docs/events.md): the same source record always gets the same id. */
const EVENT_ID_SQL = `md5(source || chr(31) || source_event_id)::UUID`;

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
  const issuedBefore = ctx.issued;
  const staged = await plan.reader.stage(plan.probe, plan.detection, ctx);
  const file = plan.probe.path;
  // Once the reader's rows are a table, the lines and documents it parsed them from are dead weight.
  await ctx.dropRelationsAfter(issuedBefore, new Set(staged.links === undefined ? [staged.relation] : [staged.relation, staged.links]));
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
  // One scan counts the rows, the rejects and the distinct ids of the good rows (most files have no internal
  // duplicates: a distinct count, a hash aggregate, is far cheaper than always partitioning the file with a window).
  const counts = (
    await session.all<{ n: string; bad: string; ids: string }>(
      `SELECT count(*) AS n, count(_reject) AS bad, count(DISTINCT ${EVENT_ID_SQL}) FILTER (WHERE _reject IS NULL) AS ids FROM ${v}`,
    )
  )[0]!;
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
  const goodSelect = `SELECT ${EVENT_ID_SQL} AS event_id, * EXCLUDE (_reject) FROM ${v} WHERE _reject IS NULL`;
  await session.run(`CREATE OR REPLACE TEMP VIEW ${g} AS ${goodSelect}`);
  const good = read - rejectedRows;
  let table = g;
  if (Number(counts.ids) < good) {
    table = ctx.tempName('dedup');
    await session.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
      SELECT * FROM ${g} QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _line) = 1`);
  }
  let rage = staged.nativeRageClicks ? undefined : await deriveRageClicks(session, ctx, table, config);
  // No derived rage click: nothing to join (the join would compute every row's event id once more).
  if (rage !== undefined && (await count(session, `SELECT count(*) AS n FROM ${rage}`)) === 0) {
    await session.run(`DROP TABLE ${rage}`);
    rage = undefined;
  }
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

    report({ phase: 'identities', fileIndex: plans.length, bytesDone, rowsRead });
    const active = staged.map((s, index) => ({ s, index })).filter(({ s }) => s.skipped === null);
    // An empty warehouse (the first import) cannot hold duplicates, nor people to re-session.
    const freshWarehouse = (await count(session, `SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1)`)) === 0;
    let masks: ValueMasks | undefined;
    let profile: ImportProfile | undefined;
    let deduplicated = false;
    // Combined, profiled and masked before the transaction: these steps write temp tables only, and a table dropped
    // inside a transaction keeps its memory until the transaction ends (it could be rolled back). Dropped here, the
    // files' own relations leave their memory to the rest of the import.
    if (active.length > 0) {
      const union = await unionImportRows(session, active.map(({ s, index }) => ({ index, table: s.table, rage: s.rage })));
      deduplicated = union.deduplicated;
      // The files' rows are copied into one table: their own relations are no longer read (identity links are).
      if (union.copied) await ctx.dropRelationsAfter(0, new Set(active.flatMap(({ s }) => (s.links === undefined ? [] : [s.links]))));
      // PII is masked before the first write (docs/governance.md), once per distinct value of each column.
      const columns = stagedEventColumns(STAGED_COLUMNS.map((c) => c.name));
      profile = await profileImportRows(session, masking.candidateKeys(columns));
      masks = await masking.maskValues(ALL_ROWS, columns, undefined, profile.candidates);
    }
    await session.run('BEGIN TRANSACTION');
    inTransaction = true;
    await startSessionTracking(session);
    const readerLinks = active.flatMap(({ s }) => (s.links === undefined ? [] : [{ source: s.plan.reader.id, relation: s.links, file: s.plan.probe.path }]));
    const { conflicts } = await resolvePersons(session, profile?.pairs, masks, readerLinks, masking);
    const results: FileImportResult[] = [];
    report({ phase: 'loading', fileIndex: plans.length, bytesDone, rowsRead });
    let importedPerFile = new Map<number, number>();
    let piiCounts: PiiCount[] = [];
    if (masks !== undefined) {
      const inserted = await insertEvents(session, importId, masks, {
        freshWarehouse,
        inactivityMinutes: config.sessions.inactivity_minutes,
        vendorSessionsDropped: masking.policy.columns.vendor_session_id === 'drop',
        allNew: freshWarehouse && !deduplicated ? profile?.files : undefined,
      });
      importedPerFile = inserted.imported;
      piiCounts = await masks.counts(session, inserted.newRows);
    }
    // Exclusions (docs/governance.md): e-mail domains from the still-raw staged rows, then the touched people's tags.
    await tagImportedPeople(session, config, { importId, rawRelations: active.length > 0 ? [ALL_ROWS] : [], masking });
    await dropImportRelations(session, freshWarehouse);
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
    }
    report({ phase: 'sessions', fileIndex: plans.length, bytesDone, rowsRead });
    if (!freshWarehouse) await resessionExistingPeople(session, importId, config.sessions.inactivity_minutes);
    else await session.run(`DROP TABLE IF EXISTS ${IDENTITY_MOVES}`);
    await refreshTouchedSessions(session, importId, freshWarehouse);
    await recordPiiCounts(session, importId, piiCounts);

    for (const path of empties) {
      results.push({ path, source: 'unknown', layout: 'empty', read: 0, imported: 0, duplicates: 0, rejected: 0, partial: null, skipped: 'empty file: nothing to import' });
    }
    const totals = results.reduce(
      (t, r) => ({ read: t.read + r.read, imported: t.imported + r.imported, duplicates: t.duplicates + r.duplicates, rejected: t.rejected + r.rejected }),
      { read: 0, imported: 0, duplicates: 0, rejected: 0 },
    );
    const partial = totals.rejected > 0 || results.some((r) => r.partial !== null || (r.skipped !== null && r.layout !== 'empty'));
    await session.run(`CREATE OR REPLACE TEMP TABLE _import_span AS SELECT min(occurred_at) AS lo, max(occurred_at) AS hi FROM events WHERE import_id = ${importId}`);
    for (const [i, r] of results.entries()) {
      const plan = plans[i];
      if (plan === undefined) continue;
      await session.run(`INSERT INTO import_files
        SELECT ${importId}, ${sqlLiteral(r.path)}, ${sqlLiteral(plan.fingerprint)}, ${sizeOf(plan.probe)}, ${sqlLiteral(r.source)},
          ${sqlLiteral(r.layout)}, ${r.read}, ${r.imported}, ${r.duplicates}, ${r.rejected},
          ${r.partial === null ? 'NULL' : sqlLiteral(r.partial)}, lo, hi FROM _import_span`);
    }
    await session.run(`DROP TABLE _import_span`);
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
      piiMasked: piiCounts,
      persons,
      sessions,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    if (inTransaction) await session.run('ROLLBACK');
    // The combined rows were made before the transaction: a rollback does not take them away.
    await dropImportRelations(session, true).catch(() => undefined);
    throw err;
  } finally {
    // Every file's relations (its good rows, rage clicks, identity links): dropped inside the transaction they would
    // keep their memory until it ends anyway.
    await ctx.dropRelationsAfter(0, new Set()).catch(() => undefined);
    await session.run(`DROP TABLE IF EXISTS _import_quarantine`).catch(() => undefined);
    await masking.close().catch(() => undefined);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

