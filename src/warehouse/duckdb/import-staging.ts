/**
 * Staging an import's files: each file read by its source's reader, validated, deduplicated within itself, its rage
 * clicks derived (stageOne). One file stays where it was staged, a view over the reader's rows. Several files are
 * staged a few at a time, each on a connection of its own, and each file's good rows appended to one table of a
 * scratch database every connection sees: DuckDB runs one statement on as many threads as its input has row groups
 * of 122,880 rows, so a small file is parsed on one core however many there are — the demo's 207 files, all below
 * one row group, used 1.2 of 2 cores. Files run side by side instead (docs/performance.md "Staging files side by side").
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { UsageLabConfig } from '../../core/config-schema.js';
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import type { Detection, FileProbe, SourceReader } from '../../sources/source-reader.js';
import { STAGED_TYPES } from '../../sources/staged-select.js';
import { countOf, type DuckdbSession } from './duckdb-connection.js';
import { DuckdbStageContext, sqlLiteral } from './duckdb-stage-context.js';
import { runInSlots } from './slot-pool.js';

/** The in-memory database an import stages into: shared by its connections, detached when the import ends. */
export const SCRATCH = '_ul_import';
/** Records that could not be read: (import_id, file, line, reason), copied to `quarantine` when the import commits. */
export const IMPORT_QUARANTINE = `${SCRATCH}.quarantine`;
/** Every good row of a several-file import, with `_file` (the file's index): staged columns, event_id, _line. */
export const SCRATCH_ROWS = `${SCRATCH}.file_rows`;

/** A file at least this large is staged alone: DuckDB already spreads it over every core, and two would double the memory. */
const ALONE_BYTES = 64 << 20;
/** At most this many files at once: each holds its lines, documents and rows in memory while it is staged. */
const MAX_CONNECTIONS = 4;

export interface PlannedFile {
  readonly probe: FileProbe;
  readonly reader: SourceReader;
  readonly detection: Detection;
  readonly fingerprint: string;
  /** Bytes on disk (a folder: its files together). */
  readonly size: number;
}

export interface StagedGood {
  readonly plan: PlannedFile;
  /**
   * The file's good rows, when it is the import's only file and not skipped: a relation of the main connection
   * (staged columns, event_id, _line). Several files' rows are in SCRATCH_ROWS instead.
   */
  readonly rows?: { readonly table: string; readonly rage: string | undefined };
  /** Identity links beyond the events' id pairs (Heap), readable by the main connection. */
  readonly links: string | undefined;
  readonly read: number;
  readonly good: number;
  readonly rejected: number;
  readonly partial: string | null;
  readonly skipped: string | null;
}

/** How far staging is: the file in hand and the bytes of the input read so far. */
export interface StagingProgress {
  readonly file: string;
  readonly fileIndex: number;
  readonly bytesDone: number;
  readonly rowsRead: number;
}

export interface StagingOptions {
  readonly importId: number;
  readonly config: UsageLabConfig;
  readonly strict: boolean;
  readonly columnMap: Readonly<Record<string, string>>;
  /** The import's folder for extracted and decompressed files (each other connection's readers: a folder inside it). */
  readonly tempDir: string;
  /**
   * How many files to stage at once, at most 4 (usagelab.yaml warehouse.threads); undefined: one more than the
   * machine's cores. A small file's statements leave its connection idle between them (each result comes back
   * through Node's event loop before the next statement is sent), and one more connection fills those gaps: the
   * demo's 207 files on two cores, two rounds, 60.0 / 62.5 s with two connections, 47.5 / 50.8 s with three (and
   * less CPU), 50.3 / 51.9 s with four; 100 files of 10k lines each: no difference (docs/performance.md).
   */
  readonly threads: number | undefined;
  /**
   * Called when a file starts and ends, and while its long statements run: bytes of the input read so far. Absent:
   * DuckDB does not track the statements' progress.
   */
  readonly onProgress?: (p: StagingProgress) => void;
}

/** The deterministic event id (docs/events.md): the same source record always gets the same id. */
const EVENT_ID_SQL = `md5(source || chr(31) || source_event_id)::UUID`;

/** Attaches the scratch database (a previous import's, left by a crash of this process, is replaced). */
export async function openScratch(session: DuckdbSession): Promise<void> {
  await session.run(`DETACH DATABASE IF EXISTS ${SCRATCH}`);
  await session.run(`ATTACH ':memory:' AS ${SCRATCH}`);
  await session.run(`CREATE TABLE ${IMPORT_QUARANTINE} (import_id BIGINT, file VARCHAR, line BIGINT, reason VARCHAR)`);
}

/** Detaches it, freeing everything staged; outside a transaction (a transaction writes to one database only). */
export async function closeScratch(session: DuckdbSession): Promise<void> {
  await session.run(`DETACH DATABASE IF EXISTS ${SCRATCH}`);
}

/** One file's good rows with its index as `_file`, derived rage clicks set. */
export function fileRowsSelect(index: number, table: string, rage: string | undefined): string {
  return `SELECT ${index} AS _file, g.* ${rage === undefined ? '' : 'REPLACE ((g.rage_click OR r.event_id IS NOT NULL) AS rage_click)'}
    FROM ${table} g ${rage === undefined ? '' : `LEFT JOIN ${rage} r ON r.event_id = g.event_id`}`;
}

/**
 * Stages `plans` in order of index (results too). A failing file fails the import; with several in flight, the
 * error reported is that of the lowest-numbered failing file, as if they had run one after another.
 */
export async function stageFiles(
  session: DuckdbSession,
  ctx: DuckdbStageContext,
  plans: readonly PlannedFile[],
  options: StagingOptions,
): Promise<StagedGood[]> {
  if (plans.length === 1) {
    const only = plans[0]!;
    const listener = options.onProgress;
    if (listener !== undefined) ctx.onStatementProgress = (pct) => listener({ file: only.probe.path, fileIndex: 0, bytesDone: (only.size * pct) / 100, rowsRead: 0 });
    options.onProgress?.({ file: only.probe.path, fileIndex: 0, bytesDone: 0, rowsRead: 0 });
    try {
      return [await stageOne(session, ctx, only, options)];
    } finally {
      ctx.onStatementProgress = undefined;
    }
  }
  const columns = STAGED_COLUMNS.map((c) => `${c.name} ${STAGED_TYPES[c.type]}`);
  await session.run(`CREATE TABLE ${SCRATCH_ROWS} (_file INTEGER, event_id UUID, ${columns.join(', ')}, _line BIGINT)`);
  const wanted = Math.max(1, Math.min(options.threads ?? availableParallelism() + 1, MAX_CONNECTIONS, plans.length));
  interface Worker {
    readonly session: DuckdbSession;
    ctx: DuckdbStageContext | undefined;
  }
  // The first worker is the import's own connection and context (what is left on it is dropped when the import ends).
  const workers: Worker[] = [{ session, ctx }];
  const results: (StagedGood | undefined)[] = plans.map(() => undefined);
  const shares = new Map<number, number>();
  let bytesFinished = 0;
  let rowsRead = 0;
  const report = (index: number): void =>
    options.onProgress?.({
      file: plans[index]!.probe.path,
      fileIndex: index,
      bytesDone: bytesFinished + [...shares.values()].reduce((n, b) => n + b, 0),
      rowsRead,
    });
  const alone = (i: number): boolean => plans[i]!.size >= ALONE_BYTES;
  // While several files are staged at once, each statement runs on its own connection's thread alone (threads = 1):
  // with DuckDB's worker threads on top, three or more threads share two cores, and a statement waiting for its
  // tasks spins on the task queue (the demo's staging: 41 s -> 32-36 s, user CPU 84 -> 67-70 s; docs/performance.md).
  // A file staged alone gets every thread back while it runs; nothing else is in flight then (runInSlots).
  // The two settings staging changes, read together to be restored when it ends (checkpoint_threshold: below).
  const [held] = await session.all<{ threads: string | number; checkpointAt: string }>(
    `SELECT current_setting('threads') AS threads, current_setting('checkpoint_threshold') AS "checkpointAt"`,
  );
  const threads = wanted > 1 ? Number(held!.threads) : 1;
  // Nothing to change when one thread is all there is (one connection, or threads: 1 configured).
  const setThreads = (n: number): Promise<void> => (threads > 1 ? session.run(`SET threads = ${n}`) : Promise.resolve());
  const stage = async (index: number, worker: Worker): Promise<void> => {
    const plan = plans[index]!;
    if (alone(index)) await setThreads(threads);
    // A folder of its own: readers name the files they extract after temp names, which each context counts alone.
    worker.ctx ??= await DuckdbStageContext.create(worker.session, options.config, { columnMap: options.columnMap }, mkdtempSync(join(options.tempDir, 'worker-')));
    const wctx = worker.ctx;
    if (options.onProgress !== undefined) {
      wctx.onStatementProgress = (pct) => {
        shares.set(index, (plan.size * pct) / 100);
        report(index);
      };
    }
    try {
      const issuedBefore = wctx.issued;
      const s = await stageOne(worker.session, wctx, plan, options);
      let links: string | undefined;
      if (s.rows !== undefined) {
        await worker.session.run(`INSERT INTO ${SCRATCH_ROWS} BY NAME ${fileRowsSelect(index, s.rows.table, s.rows.rage)}`);
        if (s.links !== undefined) {
          links = `${SCRATCH}.links_${index}`;
          await worker.session.run(`CREATE TABLE ${links} AS SELECT * FROM ${s.links}`);
        }
      }
      // The file's rows are in the scratch database: nothing of it on this connection is read again.
      await wctx.dropRelationsAfter(issuedBefore, new Set());
      results[index] = { plan, links, read: s.read, good: s.good, rejected: s.rejected, partial: s.partial, skipped: s.skipped };
      rowsRead += s.read;
    } finally {
      wctx.onStatementProgress = undefined;
      shares.delete(index);
      bytesFinished += plan.size;
      if (alone(index)) await setThreads(1);
    }
  };
  // The scratch database checkpoints itself like any database once 16 MB have been written since its last
  // checkpoint (checkpoint_threshold), and an in-memory checkpoint rewrites every row group it holds: the demo's
  // appends stalled 2-7 s each time, longer as the table grew (17.7 s of appends -> 5.3 s without; docs/performance.md
  // "Checkpoints of the scratch database, one more connection, fewer copies"). Nothing else is written while files
  // are staged; restored afterwards.
  try {
    await session.run(`SET checkpoint_threshold = '1TB'`);
    for (let w = 1; w < wanted; w++) workers.push({ session: await session.connect(), ctx: undefined });
    await setThreads(1);
    await runInSlots(plans.length, workers, stage, { alone, onStart: report });
  } finally {
    // Closing a connection drops its temp relations.
    for (const w of workers.slice(1)) w.session.close();
    await setThreads(threads);
    await session.run(`SET checkpoint_threshold = ${sqlLiteral(held!.checkpointAt)}`);
  }
  return results.map((r) => r!);
}

/**
 * Stages one file and reduces it to the rows to insert: validated, with event_id, deduplicated within the file,
 * rage clicks derived when the source has no flag of its own. Unreadable records go to IMPORT_QUARANTINE.
 */
async function stageOne(
  session: DuckdbSession,
  ctx: DuckdbStageContext,
  plan: PlannedFile,
  options: Pick<StagingOptions, 'importId' | 'config' | 'strict'>,
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

  if (options.strict && rejected > 0) {
    await session.run(`DROP VIEW IF EXISTS ${v}`);
    return { plan, links: undefined, read: read + csvRejects.length, good: 0, rejected, partial, skipped: `--strict: ${rejected} unreadable record(s); nothing from this file was imported` };
  }

  if (rejectedRows > 0) {
    await session.run(`INSERT INTO ${IMPORT_QUARANTINE} SELECT ${options.importId}, ${sqlLiteral(file)}, _line, _reject FROM ${v} WHERE _reject IS NOT NULL`);
  }
  for (const r of csvRejects) {
    await session.run(`INSERT INTO ${IMPORT_QUARANTINE} VALUES (${options.importId}, ${sqlLiteral(file)}, ${r.line}, ${sqlLiteral(r.reason)})`);
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
  let rage = staged.nativeRageClicks ? undefined : await deriveRageClicks(session, ctx, table, options.config);
  // No derived rage click: nothing to join (the join would compute every row's event id once more).
  if (rage !== undefined && (await countOf(session, `SELECT count(*) AS n FROM ${rage}`)) === 0) {
    await session.run(`DROP TABLE ${rage}`);
    rage = undefined;
  }
  return { plan, rows: { table, rage }, links: staged.links, read: read + csvRejects.length, good, rejected, partial, skipped: null };
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
