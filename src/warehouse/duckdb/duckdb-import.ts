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
import { traceStep } from '../../core/statement-trace.js';
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import type { FileProbe } from '../../sources/source-reader.js';
import { probeFile } from '../../sources/file-probe.js';
import { chooseReader } from '../../sources/detect-source.js';
import { countOf, type DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext, sqlLiteral } from './duckdb-stage-context.js';
import { pathCleaningMacro } from './path-cleaning-sql.js';
import { fileFingerprint } from './file-fingerprint.js';
import { stagedEventColumns, WarehouseMasking } from '../../governance/pii-warehouse-masking.js';
import type { PiiCount, ValueMasks } from '../../governance/pii-value-masking.js';
import { ALL_ROWS, combinedFileRows, dropImportRelations, insertEvents, prepareNewRows, profileImportRows, restoreMemoryLimit, singleFileRows, withMemoryLimit, writeMemoryLimit, type ImportProfile } from './import-insert.js';
import { closeScratch, fileRowsSelect, IMPORT_QUARANTINE, openScratch, SCRATCH_ROWS, stageFiles, type PlannedFile, type StagingProgress } from './import-staging.js';
import { dropPersonPlan, planPersons, writePersons } from './import-identity.js';
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

const SAMPLE_LIMIT = 20;

function directoryFingerprint(probe: FileProbe): string {
  const hash = createHash('sha256');
  for (const rel of probe.directoryFiles) hash.update(`${rel}:${statSync(join(probe.path, rel)).size};`);
  return hash.digest('hex');
}

function sizeOf(probe: FileProbe): number {
  return probe.isDirectory ? probe.directoryFiles.reduce((n, rel) => n + statSync(join(probe.path, rel)).size, 0) : probe.sizeBytes;
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
    plans.push({ probe, reader, detection, fingerprint: probe.isDirectory ? directoryFingerprint(probe) : fileFingerprint(path), size: sizeOf(probe) });
  }
  return plans;
}

export async function importFiles(
  session: DuckdbSession,
  config: UsageLabConfig,
  options: ImportOptions,
  tempRoot: string,
): Promise<ImportResult> {
  const started = Date.now();
  let mark = started;
  // USAGELAB_TRACE=1: how long each phase of the import took.
  const step = (label: string): void => {
    traceStep(`import: ${label}`, mark);
    mark = Date.now();
  };
  if (options.files.length === 0) {
    throw new UsageLabError('import_no_files', 'no files to import', { hint: 'usage: usagelab import FILE... [--source S]' });
  }
  const empties: string[] = [];
  const plans = await planFiles(session, options, empties);
  const masking = await WarehouseMasking.open(session, config.pii);
  const bytesTotal = plans.reduce((n, p) => n + p.size, 0);
  const tempDir = mkdtempSync(join(tempRoot, 'import-'));
  const ctx = await DuckdbStageContext.create(session, config, { columnMap: options.columnMap ?? {} }, tempDir);
  await session.run(pathCleaningMacro(config.path_cleaning));
  step(`planning ${plans.length} files`);
  const report = (p: Omit<ImportProgress, 'fileCount' | 'bytesTotal'>): void =>
    options.onProgress?.({ ...p, fileCount: plans.length, bytesTotal });

  let importId = 0;
  let inTransaction = false;
  try {
    importId = await countOf(session, `SELECT nextval('import_id_seq') AS n`);
    await openScratch(session);
    // Stage everything first: parsing errors (a truncated gzip found mid-file) then abort before any write.
    const staged = await stageFiles(session, ctx, plans, {
      importId,
      config,
      strict: options.strict === true,
      columnMap: options.columnMap ?? {},
      tempDir,
      threads: config.warehouse.engine === 'duckdb' ? config.warehouse.threads : undefined,
      // Without a listener, DuckDB is not asked to track progress at all.
      ...(options.onProgress === undefined ? {} : { onProgress: (p: StagingProgress) => report({ phase: 'reading', ...p }) }),
    });
    const bytesDone = bytesTotal;
    const rowsRead = staged.reduce((n, s) => n + s.read, 0);
    step(`staging ${rowsRead} rows`);

    report({ phase: 'identities', fileIndex: plans.length, bytesDone, rowsRead });
    const active = staged.filter((s) => s.skipped === null);
    // An empty warehouse (the first import) cannot hold duplicates, nor people to re-session.
    const freshWarehouse = (await countOf(session, `SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1)`)) === 0;
    let masks: ValueMasks | undefined;
    let profile: ImportProfile | undefined;
    let deduplicated = false;
    // Combined, profiled and masked before the transaction: these steps write temp tables only, and a table dropped
    // inside a transaction keeps its memory until the transaction ends (it could be rolled back).
    if (active.length > 0) {
      // One file keeps its rows where they were staged; several are in the scratch table.
      const only = staged[0]!.rows;
      if (only !== undefined) await singleFileRows(session, fileRowsSelect(0, only.table, only.rage));
      else deduplicated = await combinedFileRows(session, SCRATCH_ROWS);
      // PII is masked before the first write (docs/governance.md), once per distinct value of each column.
      const columns = stagedEventColumns(STAGED_COLUMNS.map((c) => c.name));
      step('combining the files');
      profile = await profileImportRows(session, masking.candidateKeys(columns));
      step('profiling');
      masks = await masking.maskValues(ALL_ROWS, columns, undefined, profile.candidates);
      step('masking PII');
    }
    // Writing a large import takes memory DuckDB's limit does not count: the identity links are read into JavaScript
    // (10M events: 200k links, ~100 MB of objects, which stayed while the next statements filled DuckDB's limit: RSS
    // 1.51 GB under a 1 GB limit), and the sorted insert and the copy of the masked rows overshoot the limit themselves
    // (measured: RSS 1.9 and 1.56 GB). From the masked rows to sessions DuckDB gets a smaller share of a configured limit.
    const rowsToWrite = [...(profile?.files.values() ?? [])].reduce((n, f) => n + f.rows, 0);
    const writeLimit = writeMemoryLimit(session.memoryLimit, rowsToWrite);
    // Persons and the rows to insert are computed before the transaction; inside it only the warehouse is written
    // (import-insert.ts prepareNewRows says why).
    const readerLinks = active.flatMap((s) => (s.links === undefined ? [] : [{ source: s.plan.reader.id, relation: s.links, file: s.plan.probe.path }]));
    const rowMasks = masks;
    const { conflicts, prepared } = await withMemoryLimit(session, writeLimit, async () => {
      const planned = await planPersons(session, profile?.pairs, rowMasks, readerLinks, masking);
      step('identities');
      const rows =
        rowMasks === undefined
          ? undefined
          : await prepareNewRows(session, rowMasks, {
              importId,
              freshWarehouse,
              inactivityMinutes: config.sessions.inactivity_minutes,
              vendorSessionsDropped: masking.policy.columns.vendor_session_id === 'drop',
              allNew: freshWarehouse && !deduplicated ? profile?.files : undefined,
            });
      step('preparing the rows');
      return { conflicts: planned.conflicts, prepared: rows };
    });
    await session.run('BEGIN TRANSACTION');
    inTransaction = true;
    await startSessionTracking(session);
    const written = await withMemoryLimit(session, writeLimit, async () => {
      await writePersons(session);
      await dropPersonPlan(session);
      report({ phase: 'loading', fileIndex: plans.length, bytesDone, rowsRead });
      let importedPerFile = new Map<number, number>();
      let piiCounts: PiiCount[] = [];
      if (masks !== undefined && prepared !== undefined) {
        await insertEvents(session, prepared);
        step('writing events');
        importedPerFile = prepared.imported;
        piiCounts = await masks.counts(session, prepared.newRows);
      }
      // Exclusions (docs/governance.md): e-mail domains from the still-raw staged rows, then the touched people's tags.
      await tagImportedPeople(session, config, { importId, rawRelations: active.length > 0 ? [ALL_ROWS] : [], masking });
      await dropImportRelations(session, freshWarehouse);
      step('PII counts and person tags');
      report({ phase: 'sessions', fileIndex: plans.length, bytesDone, rowsRead });
      if (!freshWarehouse) await resessionExistingPeople(session, importId, config.sessions.inactivity_minutes);
      else await session.run(`DROP TABLE IF EXISTS ${IDENTITY_MOVES}`);
      await refreshTouchedSessions(session, importId, freshWarehouse);
      step('sessions');
      return { importedPerFile, piiCounts };
    });
    const { importedPerFile, piiCounts } = written;
    const results: FileImportResult[] = [];
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
        SELECT ${importId}, ${sqlLiteral(r.path)}, ${sqlLiteral(plan.fingerprint)}, ${plan.size}, ${sqlLiteral(r.source)},
          ${sqlLiteral(r.layout)}, ${r.read}, ${r.imported}, ${r.duplicates}, ${r.rejected},
          ${r.partial === null ? 'NULL' : sqlLiteral(r.partial)}, lo, hi FROM _import_span`);
    }
    await session.run(`DROP TABLE _import_span`);
    // A re-run of the same file must not list the same bad record twice.
    await session.run(`INSERT INTO quarantine SELECT q.* FROM ${IMPORT_QUARANTINE} q
      WHERE NOT EXISTS (SELECT 1 FROM quarantine o WHERE o.file = q.file AND o.line IS NOT DISTINCT FROM q.line AND o.reason = q.reason)`);
    await session.run(`INSERT INTO imports VALUES (${importId}, make_timestamp(${started * 1000})::TIMESTAMPTZ, now(), ${sqlLiteral(toolVersion())},
      ${results.length}, ${totals.read}, ${totals.imported}, ${totals.duplicates}, ${totals.rejected}, ${partial})`);
    const sample = await session.all<{ file: string; line: string | null; reason: string }>(
      `SELECT file, line, reason FROM ${IMPORT_QUARANTINE} ORDER BY file, line LIMIT ${SAMPLE_LIMIT}`,
    );
    await session.run('COMMIT');
    step('bookkeeping and commit');
    inTransaction = false;
    const persons = await countOf(session, `SELECT count(DISTINCT person_id) AS n FROM events`);
    const sessions = await countOf(session, `SELECT count(*) AS n FROM sessions`);
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
    await restoreMemoryLimit(session).catch(() => undefined);
    await dropPersonPlan(session).catch(() => undefined);
    // The views and tables over the files' rows were made before the transaction: a rollback does not take them away.
    await dropImportRelations(session, true).catch(() => undefined);
    throw err;
  } finally {
    // Every file's relations (its good rows, rage clicks, identity links): dropped inside the transaction they would
    // keep their memory until it ends anyway.
    await ctx.dropRelationsAfter(0, new Set()).catch(() => undefined);
    await closeScratch(session).catch(() => undefined);
    await masking.close().catch(() => undefined);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

