/**
 * The export loop for sources whose vendor delivers finished **syncs** rather than answering time ranges (Heap
 * Connect writes a dump per day, `sync_<dump_id>/`, and signals it finished with a manifest). The same promises as
 * export-run.ts, per sync instead of per window:
 *  - a sync's folder appears whole or not at all: it is filled under a hidden temp name and renamed into place
 *    only when every file is in and verified; then its side files (the vendor manifest) are written; then the
 *    sync's entry in manifest.json. A crash at any point leaves at most a temp folder (cleared by the next run)
 *    or a folder without its entry (exported again under the same name, byte for byte the same);
 *  - which syncs: without flags, every sync not yet complete (incremental by sync id) — a first run takes all the
 *    vendor lists; `--from/--to` select syncs by the day the vendor finished them (re-exporting those, or with
 *    `--resume` only those not complete); `--resume` alone finishes whatever is not complete;
 *  - failures: retryable ones retry the sync, then it is recorded as failed and named (exit 5); refused
 *    credentials or a broken config stop the run.
 * The manifest is export-manifest.ts's: one entry per sync (`file` is the sync's folder), so `usagelab import`
 * loads what is new the same way for every source.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { attemptUnit } from './unit-attempts.js';
import type { UsageLabError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../../core/exit-codes.js';
import { removeStaleTemps, tempPathFor, writeFileAtomic } from './atomic-file.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { realClock, type ExportClock } from './export-clock.js';
import { acquireExportLock } from './export-lock.js';
import { ManifestStore, readManifest, type ExportManifest, type WindowEntry } from './export-manifest.js';
import { ProgressTracker, type ProgressListener } from './export-progress.js';
import type { ExportRunResult, ExportedWindow, FailedWindow } from './export-run.js';
import { boundaryEnd, boundaryStart, parseRangeBoundary } from './export-window.js';
import type { RecordTransform } from './exporter.js';

/** A finished sync the vendor offers. */
export interface SyncRef {
  /** File-safe and unique: the folder name under exports/<source>/ and the manifest key (`sync_852`). */
  readonly key: string;
  /** Orders syncs (Heap: the dump id); incremental runs continue after the highest complete one. */
  readonly order: number;
  /** When the vendor finished it (epoch ms): what --from/--to select by. */
  readonly finishedAt: number;
}

/** What listing needs: retries with the run's backoff, and the run's counters. */
export interface ListContext {
  readonly signal: AbortSignal | undefined;
  readonly backoff: BackoffPolicy;
  readonly clock: ExportClock;
  readonly random: () => number;
  addRequest(): void;
  addRetry(): void;
  addWait(kind: 'rate_limit' | 'backoff', ms: number): void;
}

export interface SyncContext extends ListContext {
  /** The folder to fill; it becomes exports/<source>/<key> when the sync is complete. */
  readonly folder: string;
  /** Scratch space for downloads, emptied after the attempt. */
  readonly tempDir: string;
  /** Masking for a record of `table` (tables may keep canonical columns in different places). */
  transformFor(table: string): RecordTransform;
  addRows(n: number): void;
  addBytesReceived(n: number): void;
}

export interface SyncOutcome {
  readonly rows: number;
  readonly highWaterMark: string | null;
  readonly cursor: unknown;
  readonly requests: number;
  /** Files to write beside the sync folder once it is in place (paths relative to exports/<source>/). */
  readonly sideFiles: readonly { readonly path: string; readonly content: string }[];
}

export interface SyncExporter {
  readonly source: string;
  readonly displayName: string;
  readonly defaultConcurrency: number;
  /** Every finished sync the vendor offers, in order. */
  listSyncs(ctx: ListContext): Promise<SyncRef[]>;
  exportSync(sync: SyncRef, ctx: SyncContext): Promise<SyncOutcome>;
  /** Frees clients and sockets. */
  close?(): void;
}

export interface SyncExportRunOptions {
  readonly exporter: SyncExporter;
  readonly dir: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly resume?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  readonly concurrency?: number | undefined;
  /** Masking per table; identity when absent. */
  readonly transformFor?: ((table: string) => RecordTransform) | undefined;
  readonly toolVersion: string;
  readonly onProgress?: ProgressListener | undefined;
  readonly clock?: ExportClock | undefined;
  readonly random?: (() => number) | undefined;
  readonly backoff?: BackoffPolicy | undefined;
  /** Tries per sync (a retryable failure after the per-request retries). */
  readonly syncAttempts?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

const DEFAULT_SYNC_ATTEMPTS = 3;
const WORK_DIR = '.work.tmp-';
const iso = (ms: number): string => new Date(ms).toISOString();

interface SyncPlan {
  readonly mode: ExportRunResult['mode'];
  readonly syncs: readonly SyncRef[];
  readonly skipped: readonly SyncRef[];
}

function planSyncs(manifest: ExportManifest, offered: readonly SyncRef[], options: SyncExportRunOptions): SyncPlan {
  const status = new Map(manifest.windows.map((w) => [w.key, w.status]));
  const complete = (s: SyncRef): boolean => status.get(s.key) === 'complete';
  if (options.from !== undefined || options.to !== undefined) {
    const grid = { kind: 'hours', size: 24 } as const;
    const from = options.from === undefined ? -Infinity : boundaryStart(parseRangeBoundary(options.from, '--from'), grid, '--from');
    const to = options.to === undefined ? Infinity : boundaryEnd(parseRangeBoundary(options.to, '--to'), grid, '--to');
    const inRange = offered.filter((s) => s.finishedAt >= from && s.finishedAt < to);
    if (options.resume !== true) return { mode: 'range', syncs: inRange, skipped: [] };
    return { mode: 'range', syncs: inRange.filter((s) => !complete(s)), skipped: inRange.filter(complete) };
  }
  // Incremental by sync id: what came after the newest complete sync, what failed, and what the last run meant
  // to export but did not finish (with several syncs in flight, a later one can complete before an earlier one).
  const done = offered.filter(complete);
  const highest = Math.max(-Infinity, ...done.map((s) => s.order));
  const last = manifest.last_run;
  const inLastRun = (s: SyncRef): boolean => last !== null && s.finishedAt >= Date.parse(last.from) && s.finishedAt <= Date.parse(last.to);
  const wanted = offered.filter((s) => !complete(s) && (s.order > highest || status.get(s.key) === 'failed' || inLastRun(s)));
  return { mode: options.resume === true ? 'resume' : 'incremental', syncs: wanted, skipped: done };
}

/** sha256 over the folder's files (relative path and content, in path order): the sync's identity for import. */
async function folderDigest(folder: string): Promise<{ sha256: string; bytes: number; files: number }> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(folder);
  const outer = createHash('sha256');
  let bytes = 0;
  for (const path of files.sort()) {
    const inner = createHash('sha256');
    for await (const chunk of createReadStream(path)) inner.update(chunk as Buffer);
    bytes += statSync(path).size;
    outer.update(`${relative(folder, path).split(sep).join('/')}\0${inner.digest('hex')}\n`);
  }
  return { sha256: outer.digest('hex'), bytes, files: files.length };
}

/** Puts a finished temp folder in place of `target` (an older copy is moved aside first, then removed). */
function commitFolder(temp: string, target: string): void {
  const aside = existsSync(target) ? tempPathFor(target) : undefined;
  if (aside !== undefined) renameSync(target, aside);
  renameSync(temp, target);
  if (aside !== undefined) rmSync(aside, { recursive: true, force: true });
}

export async function runSyncExport(options: SyncExportRunOptions): Promise<ExportRunResult> {
  const { exporter, dir } = options;
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const manifestPath = join(dir, 'manifest.json');
  const base = { version: 1 as const, source: exporter.source, cut: null, manifest: manifestPath };

  try {
    return options.dryRun === true ? await dryRun(options, clock, started, base) : await exportSyncs(options, clock, started, base);
  } finally {
    exporter.close?.();
  }
}

type RunBase = Pick<ExportRunResult, 'version' | 'source' | 'cut' | 'manifest'>;

async function dryRun(options: SyncExportRunOptions, clock: ExportClock, started: number, base: RunBase): Promise<ExportRunResult> {
  const { exporter, dir } = options;
  const manifest = readManifest(dir, exporter.source, options.toolVersion, started);
  const counts: ListCounts = { requests: 0, retries: 0, backoffMs: 0 };
  const plan = planSyncs(manifest, await exporter.listSyncs(listContext(options, clock, counts)), options);
  const span = rangeOf(plan.syncs, started);
  return {
    ...base,
    mode: plan.mode,
    dry_run: true,
    from: iso(span.from),
    to: iso(span.to),
    status: 'dry_run',
    exit_code: EXIT.ok,
    windows: { planned: plan.syncs.length, exported: 0, empty: 0, skipped: plan.skipped.length, failed: 0 },
    rows: 0,
    bytes: 0,
    bytes_received: 0,
    requests: counts.requests,
    retries: counts.retries,
    rate_limit_wait_ms: 0,
    backoff_wait_ms: counts.backoffMs,
    duration_ms: clock.now() - started,
    exported: [],
    failed: [],
    plan: { export: plan.syncs.map((s) => s.key), skip: plan.skipped.map((s) => s.key) },
  };
}

async function exportSyncs(options: SyncExportRunOptions, clock: ExportClock, started: number, base: RunBase): Promise<ExportRunResult> {
  const { exporter, dir } = options;
  mkdirSync(dir, { recursive: true });
  const release = acquireExportLock(dir, exporter.source);
  try {
    removeStaleTemps(dir);
    const manifest = readManifest(dir, exporter.source, options.toolVersion, started);
    const counts: ListCounts = { requests: 0, retries: 0, backoffMs: 0 };
    const plan = planSyncs(manifest, await exporter.listSyncs(listContext(options, clock, counts)), options);
    const span = rangeOf(plan.syncs, started);
    const store = new ManifestStore(dir, manifest, () => clock.now());
    await store.update((m) => {
      m.tool_version = options.toolVersion;
      m.last_run = { from: iso(span.from), to: iso(span.to), started_at: iso(started), done_since: iso(started), resumed: plan.mode === 'resume' ? (m.last_run?.resumed ?? 0) + 1 : 0 };
    });
    return await new SyncRun(options, clock, plan, store, counts).execute({ ...base, mode: plan.mode, dry_run: false, from: iso(span.from), to: iso(span.to) });
  } finally {
    release();
  }
}

interface ListCounts {
  requests: number;
  retries: number;
  backoffMs: number;
}

/** Listing happens before the progress display exists: its requests and retries are counted here, added later. */
function listContext(options: SyncExportRunOptions, clock: ExportClock, counts: ListCounts): ListContext {
  return {
    signal: options.signal,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    clock,
    random: options.random ?? Math.random,
    addRequest: () => (counts.requests += 1),
    addRetry: () => (counts.retries += 1),
    addWait: (_kind, ms) => (counts.backoffMs += ms),
  };
}

function rangeOf(syncs: readonly SyncRef[], now: number): { from: number; to: number } {
  if (syncs.length === 0) return { from: now, to: now };
  return { from: Math.min(...syncs.map((s) => s.finishedAt)), to: Math.max(...syncs.map((s) => s.finishedAt)) };
}

type BaseResult = Pick<ExportRunResult, 'version' | 'source' | 'cut' | 'manifest' | 'mode' | 'dry_run' | 'from' | 'to'>;

class SyncRun {
  private readonly tracker: ProgressTracker;
  private readonly workDir: string;
  private readonly exported: ExportedWindow[] = [];
  private readonly failed: FailedWindow[] = [];
  private stopError: unknown;
  private stopped = false;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;

  constructor(
    private readonly options: SyncExportRunOptions,
    private readonly clock: ExportClock,
    private readonly plan: SyncPlan,
    private readonly store: ManifestStore,
    listed: ListCounts,
  ) {
    this.tracker = new ProgressTracker(options.exporter.source, plan.syncs.length, plan.skipped.length, clock, options.onProgress);
    for (let i = 0; i < listed.requests; i++) this.tracker.addRequest();
    for (let i = 0; i < listed.retries; i++) this.tracker.addRetry();
    if (listed.backoffMs > 0) this.tracker.addWait('backoff', listed.backoffMs);
    this.workDir = join(options.dir, `${WORK_DIR}${process.pid}`);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.random = options.random ?? Math.random;
  }

  async execute(base: BaseResult): Promise<ExportRunResult> {
    const queue = [...this.plan.syncs];
    const width = Math.max(1, Math.min(this.options.concurrency ?? this.options.exporter.defaultConcurrency, queue.length || 1));
    mkdirSync(this.workDir, { recursive: true });
    try {
      await Promise.all(
        Array.from({ length: width }, async () => {
          for (let s = queue.shift(); s !== undefined && !this.stopped; s = queue.shift()) await this.runSync(s);
        }),
      );
    } finally {
      rmSync(this.workDir, { recursive: true, force: true });
    }
    const progress = this.tracker.finish();
    if (this.stopped) throw this.stopError;
    const empty = this.exported.filter((e) => e.rows === 0).length;
    const onlyUnavailable = this.failed.length > 0 && this.exported.length === 0 && this.failed.every((f) => f.code === 'export_remote_unavailable' || f.code === 'export_host_unreachable');
    const exitCode: ExitCode = this.failed.length === 0 ? EXIT.ok : onlyUnavailable ? EXIT.unavailable : EXIT.partial;
    return {
      ...base,
      status: this.failed.length > 0 ? 'partial' : this.plan.syncs.length === 0 ? 'nothing_to_do' : 'complete',
      exit_code: exitCode,
      windows: { planned: this.plan.syncs.length, exported: this.exported.length - empty, empty, skipped: this.plan.skipped.length, failed: this.failed.length },
      rows: progress.rows,
      bytes: progress.bytesWritten,
      bytes_received: progress.bytesReceived,
      requests: progress.requests,
      retries: progress.retries,
      rate_limit_wait_ms: progress.rateLimitWaitMs,
      backoff_wait_ms: progress.backoffWaitMs,
      duration_ms: progress.elapsedMs,
      exported: [...this.exported].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })),
      failed: [...this.failed].sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })),
      plan: null,
    };
  }

  private async runSync(sync: SyncRef): Promise<void> {
    await attemptUnit({
      label: sync.key,
      attempts: this.options.syncAttempts ?? DEFAULT_SYNC_ATTEMPTS,
      backoff: this.backoff,
      random: this.random,
      signal: this.options.signal,
      tracker: this.tracker,
      clock: this.clock,
      stopped: () => this.stopped,
      stop: (err) => {
        if (this.stopped) return;
        this.stopped = true;
        this.stopError = err;
      },
      fetch: () => this.fetchOnce(sync),
      recordFailure: (e) => this.recordFailure(sync, e),
    });
  }

  /** One attempt at a sync: the folder, its side files and its manifest entry, in that order, or nothing. */
  private async fetchOnce(sync: SyncRef): Promise<void> {
    const { dir, exporter } = this.options;
    const folder = tempPathFor(join(dir, sync.key));
    const tempDir = mkdtempSync(join(this.workDir, `${sync.key}-`));
    const identity: RecordTransform = (r) => r;
    let rows = 0;
    let outcome: SyncOutcome;
    try {
      mkdirSync(folder, { recursive: true });
      outcome = await exporter.exportSync(sync, {
        folder,
        tempDir,
        transformFor: this.options.transformFor ?? (() => identity),
        signal: this.options.signal,
        backoff: this.backoff,
        clock: this.clock,
        random: this.random,
        addRows: (n) => {
          rows += n;
          this.tracker.addRows(n);
        },
        addBytesReceived: (n) => this.tracker.addBytesReceived(n),
        addRequest: () => this.tracker.addRequest(),
        addRetry: () => this.tracker.addRetry(),
        addWait: (kind, ms) => this.tracker.addWait(kind, ms),
      });
    } catch (err) {
      // Rows of a failed attempt are not counted: the retry sends them again.
      this.tracker.addRows(-rows);
      rmSync(folder, { recursive: true, force: true });
      throw err;
    } finally {
      rmSync(tempDir, { recursive: true, force: true });
    }
    const digest = await folderDigest(folder);
    // A sync with nothing to keep (every table superseded by a later full dump) leaves no folder.
    if (digest.files > 0) commitFolder(folder, join(dir, sync.key));
    else {
      rmSync(folder, { recursive: true, force: true });
      rmSync(join(dir, sync.key), { recursive: true, force: true });
    }
    // The vendor's manifest is what marks the sync complete for a reader, so it is written after the folder.
    for (const side of outcome.sideFiles) {
      mkdirSync(join(dir, side.path, '..'), { recursive: true });
      writeFileAtomic(join(dir, side.path), side.content);
    }
    this.tracker.setBytesWritten(digest.bytes);
    const now = this.clock.now();
    const entry: WindowEntry = {
      key: sync.key,
      label: sync.key,
      start: iso(sync.finishedAt),
      end: iso(sync.finishedAt),
      status: 'complete',
      file: digest.files > 0 ? sync.key : null,
      rows: outcome.rows,
      bytes: digest.bytes,
      sha256: digest.sha256,
      high_water_mark: outcome.highWaterMark,
      cursor: outcome.cursor ?? null,
      requests: outcome.requests,
      exported_at: iso(now),
      tool_version: this.options.toolVersion,
      error: null,
      imported: null,
    };
    await this.store.update((m) => {
      const previous = m.windows.find((e) => e.key === sync.key);
      if (previous?.imported != null && previous.imported.sha256 === entry.sha256) entry.imported = previous.imported;
      m.windows = m.windows.filter((e) => e.key !== sync.key);
      m.windows.push(entry);
    });
    this.exported.push({ window: sync.key, key: sync.key, file: entry.file, rows: entry.rows, bytes: entry.bytes });
  }

  private async recordFailure(sync: SyncRef, err: UsageLabError): Promise<void> {
    const at = iso(this.clock.now());
    const error = { code: err.code, message: err.message, at };
    this.failed.push({ window: sync.key, key: sync.key, code: err.code, message: err.message, hint: err.hint ?? null });
    await this.store.update((m) => {
      const previous = m.windows.find((e) => e.key === sync.key);
      if (previous?.status === 'complete' && previous.file !== null && existsSync(join(this.options.dir, previous.file))) {
        previous.error = error;
        return;
      }
      m.windows = m.windows.filter((e) => e.key !== sync.key);
      m.windows.push({
        key: sync.key,
        label: sync.key,
        start: iso(sync.finishedAt),
        end: iso(sync.finishedAt),
        status: 'failed',
        file: null,
        rows: 0,
        bytes: 0,
        sha256: null,
        high_water_mark: null,
        cursor: null,
        requests: 0,
        exported_at: at,
        tool_version: this.options.toolVersion,
        error,
        imported: null,
      });
    });
  }
}
