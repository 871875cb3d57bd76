/**
 * The export loop, the same for every source: plan windows → skip the done ones (--resume) → fetch each window
 * through the source's client → transform every record (PII masking) → stream it to the window's temp file →
 * rename the file into place → record the window in the manifest. A window's file and manifest entry appear only
 * when the whole window is in, so a crash at any point loses nothing that is recorded and duplicates nothing
 * (the window is fetched again under the same file name).
 *
 * Failures: retryable ones (truncated bodies, incomplete pages) retry the window; a window that still fails is
 * recorded and named, and the run exits 5 (partial data) — never 0. Refused credentials or a broken config stop
 * the run at once (every window would fail the same way).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageLabError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../../core/exit-codes.js';
import { attemptUnit } from './unit-attempts.js';
import { removeStaleTemps } from './atomic-file.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { realClock, type ExportClock } from './export-clock.js';
import { acquireExportLock } from './export-lock.js';
import { ManifestStore, readManifest, type WindowEntry } from './export-manifest.js';
import { planExport, type ExportPlan, type PlanMode } from './export-plan.js';
import { ProgressTracker, type ProgressListener } from './export-progress.js';
import type { ExportWindow } from './export-window.js';
import type { RecordTransform, SourceExporter, WindowOutcome } from './exporter.js';
import { HttpClient, type HttpTimeouts } from './http-client.js';
import { RateLimiter } from './rate-limiter.js';
import { WindowFileWriter, type WrittenFile } from './window-file.js';

export interface ExportRunOptions {
  readonly exporter: SourceExporter;
  /** exports/<source>: files, manifest, lock. */
  readonly dir: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly resume?: boolean | undefined;
  /** Plan only: no request, no file, no lock. */
  readonly dryRun?: boolean | undefined;
  /** Windows in flight at once (default: the source's; never above its concurrency limit). */
  readonly concurrency?: number | undefined;
  /** Applied to every record before it is written (PII masking). Identity when absent. */
  readonly transform?: RecordTransform | undefined;
  readonly toolVersion: string;
  readonly onProgress?: ProgressListener | undefined;
  readonly clock?: ExportClock | undefined;
  readonly random?: (() => number) | undefined;
  readonly backoff?: BackoffPolicy | undefined;
  readonly timeouts?: HttpTimeouts | undefined;
  /** Tries per window (a retryable failure after the HTTP client's own retries). */
  readonly windowAttempts?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ExportedWindow {
  readonly window: string;
  readonly key: string;
  /** File name inside the source folder; null for an empty window. */
  readonly file: string | null;
  readonly rows: number;
  readonly bytes: number;
}

export interface FailedWindow {
  readonly window: string;
  readonly key: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string | null;
}

export interface ExportRunResult {
  readonly version: 1;
  readonly source: string;
  readonly mode: PlanMode;
  readonly dry_run: boolean;
  /** The planned range, ISO UTC, end exclusive. */
  readonly from: string;
  readonly to: string;
  /** The requested end lay beyond what the source serves as complete; the range was cut there. */
  readonly cut: { readonly requested_to: string; readonly available_until: string } | null;
  readonly status: 'complete' | 'partial' | 'nothing_to_do' | 'dry_run';
  readonly exit_code: ExitCode;
  readonly windows: { readonly planned: number; readonly exported: number; readonly empty: number; readonly skipped: number; readonly failed: number };
  readonly rows: number;
  /** Bytes of the gzipped files written. */
  readonly bytes: number;
  readonly bytes_received: number;
  readonly requests: number;
  readonly retries: number;
  readonly rate_limit_wait_ms: number;
  readonly backoff_wait_ms: number;
  readonly duration_ms: number;
  readonly exported: readonly ExportedWindow[];
  readonly failed: readonly FailedWindow[];
  /** For --dry-run: the windows that would be fetched and the ones that would be skipped. */
  readonly plan: { readonly export: readonly string[]; readonly skip: readonly string[] } | null;
  readonly manifest: string;
}

const DEFAULT_WINDOW_ATTEMPTS = 3;
const WORK_DIR = '.work.tmp-';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Errors that would hit every window alike: stop instead of failing each. */
function baseResult(exporter: SourceExporter, plan: ExportPlan, dir: string, dryRun: boolean): Omit<ExportRunResult, 'status' | 'exit_code' | 'windows' | 'rows' | 'bytes' | 'bytes_received' | 'requests' | 'retries' | 'rate_limit_wait_ms' | 'backoff_wait_ms' | 'duration_ms' | 'exported' | 'failed' | 'plan'> {
  return {
    version: 1,
    source: exporter.source,
    mode: plan.mode,
    dry_run: dryRun,
    from: iso(plan.from),
    to: iso(plan.to),
    cut: plan.cut === null ? null : { requested_to: iso(plan.cut.requestedTo), available_until: iso(plan.cut.availableUntil) },
    manifest: join(dir, 'manifest.json'),
  };
}

export async function runExport(options: ExportRunOptions): Promise<ExportRunResult> {
  const { exporter, dir } = options;
  const clock = options.clock ?? realClock;
  const started = clock.now();
  if (options.dryRun === true) {
    const manifest = readManifest(dir, exporter.source, options.toolVersion, started);
    const plan = planExport(manifest, exporter.windowing, options, started, exporter.source);
    return {
      ...baseResult(exporter, plan, dir, true),
      status: 'dry_run',
      exit_code: EXIT.ok,
      windows: { planned: plan.windows.length, exported: 0, empty: 0, skipped: plan.skipped.length, failed: 0 },
      rows: 0,
      bytes: 0,
      bytes_received: 0,
      requests: 0,
      retries: 0,
      rate_limit_wait_ms: 0,
      backoff_wait_ms: 0,
      duration_ms: clock.now() - started,
      exported: [],
      failed: [],
      plan: { export: plan.windows.map((w) => w.label), skip: plan.skipped.map((w) => w.label) },
    };
  }

  mkdirSync(dir, { recursive: true });
  const release = acquireExportLock(dir, exporter.source);
  try {
    removeStaleTemps(dir);
    const manifest = readManifest(dir, exporter.source, options.toolVersion, started);
    const plan = planExport(manifest, exporter.windowing, options, started, exporter.source);
    const store = new ManifestStore(dir, manifest, () => clock.now());
    await store.update((m) => {
      const continuing = plan.mode === 'resume' && m.last_run !== null;
      m.tool_version = options.toolVersion;
      m.last_run = continuing
        ? { ...m.last_run!, resumed: m.last_run!.resumed + 1 }
        : { from: iso(plan.from), to: iso(plan.to), started_at: iso(started), done_since: iso(plan.doneSince), resumed: 0 };
    });
    return await new Run(options, clock, plan, store).execute(baseResult(exporter, plan, dir, false));
  } finally {
    release();
  }
}

class Run {
  private readonly tracker: ProgressTracker;
  private readonly http: HttpClient;
  private readonly workDir: string;
  private readonly exported: ExportedWindow[] = [];
  private readonly failed: FailedWindow[] = [];
  private stopError: unknown;
  private stopped = false;

  constructor(
    private readonly options: ExportRunOptions,
    private readonly clock: ExportClock,
    private readonly plan: ExportPlan,
    private readonly store: ManifestStore,
  ) {
    const { exporter } = options;
    this.tracker = new ProgressTracker(exporter.source, plan.windows.length, plan.skipped.length, clock, options.onProgress);
    const limiter = new RateLimiter(exporter.limits, clock);
    this.http = new HttpClient({
      source: exporter.displayName,
      limiter,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
      clock,
      ...(options.random === undefined ? {} : { random: options.random }),
      secrets: exporter.secrets,
      authHint: exporter.authHint,
      classify: (status, text, req) => exporter.classify?.(status, text, req),
      events: {
        onBytes: (n) => this.tracker.addBytesReceived(n),
        onWait: (kind, ms) => this.tracker.addWait(kind, ms),
        onRetry: () => this.tracker.addRetry(),
        onRequest: () => this.tracker.addRequest(),
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.workDir = join(options.dir, `${WORK_DIR}${process.pid}`);
  }

  async execute(base: ReturnType<typeof baseResult>): Promise<ExportRunResult> {
    const queue = [...this.plan.windows];
    const width = Math.max(1, Math.min(this.options.concurrency ?? this.options.exporter.defaultConcurrency, this.options.exporter.limits.concurrency, queue.length || 1));
    mkdirSync(this.workDir, { recursive: true });
    try {
      await Promise.all(
        Array.from({ length: width }, async () => {
          for (let w = queue.shift(); w !== undefined && !this.stopped; w = queue.shift()) await this.runWindow(w);
        }),
      );
    } finally {
      rmSync(this.workDir, { recursive: true, force: true });
    }
    const progress = this.tracker.finish();
    if (this.stopped) throw this.stopError;
    const empty = this.exported.filter((e) => e.file === null).length;
    const onlyUnavailable = this.failed.length > 0 && this.exported.length === 0 && this.failed.every((f) => f.code === 'export_remote_unavailable' || f.code === 'export_host_unreachable');
    const exitCode: ExitCode = this.failed.length === 0 ? EXIT.ok : onlyUnavailable ? EXIT.unavailable : EXIT.partial;
    return {
      ...base,
      status: this.failed.length > 0 ? 'partial' : this.plan.windows.length === 0 ? 'nothing_to_do' : 'complete',
      exit_code: exitCode,
      windows: {
        planned: this.plan.windows.length,
        exported: this.exported.length - empty,
        empty,
        skipped: this.plan.skipped.length,
        failed: this.failed.length,
      },
      rows: progress.rows,
      bytes: progress.bytesWritten,
      bytes_received: progress.bytesReceived,
      requests: progress.requests,
      retries: progress.retries,
      rate_limit_wait_ms: progress.rateLimitWaitMs,
      backoff_wait_ms: progress.backoffWaitMs,
      duration_ms: progress.elapsedMs,
      exported: [...this.exported].sort((a, b) => a.key.localeCompare(b.key)),
      failed: [...this.failed].sort((a, b) => a.key.localeCompare(b.key)),
      plan: null,
    };
  }

  private async runWindow(w: ExportWindow): Promise<void> {
    await attemptUnit({
      label: w.label,
      attempts: this.options.windowAttempts ?? DEFAULT_WINDOW_ATTEMPTS,
      backoff: this.options.backoff ?? DEFAULT_BACKOFF,
      random: this.options.random,
      signal: this.options.signal,
      tracker: this.tracker,
      clock: this.clock,
      stopped: () => this.stopped,
      stop: (err) => {
        if (this.stopped) return;
        this.stopped = true;
        this.stopError = err;
      },
      fetch: () => this.fetchOnce(w),
      recordFailure: (e) => this.recordFailure(w, e),
    });
  }

  /** One attempt at a window: everything or nothing reaches the folder and the manifest. */
  private async fetchOnce(w: ExportWindow): Promise<void> {
    const fileName = `${w.key}.jsonl.gz`;
    const target = join(this.options.dir, fileName);
    const writer = new WindowFileWriter(target);
    const tempDir = mkdtempSync(join(this.workDir, `${w.key}-`));
    const transform = this.options.transform;
    let writtenBytes = 0;
    let outcome: WindowOutcome;
    let written: WrittenFile | null = null;
    try {
      outcome = await this.options.exporter.exportWindow(w, {
        http: this.http,
        tempDir,
        signal: this.options.signal,
        emit: async (record) => {
          await writer.write(transform === undefined ? record : transform(record));
          this.tracker.addRows(1);
        },
      });
      if (writer.rows === 0) {
        await writer.abort();
        // A re-export that finds the window empty replaces an older file of it.
        rmSync(target, { force: true });
      } else {
        written = await writer.commit();
        writtenBytes = written.bytes;
        this.tracker.setBytesWritten(writtenBytes);
      }
    } catch (err) {
      // Rows of a failed attempt are not counted: the retry sends them again.
      this.tracker.addRows(-writer.rows);
      await writer.abort();
      throw err;
    } finally {
      rmSync(tempDir, { recursive: true, force: true });
    }
    const now = this.clock.now();
    const entry: WindowEntry = {
      key: w.key,
      label: w.label,
      start: iso(w.start),
      end: iso(w.end),
      status: 'complete',
      file: written === null ? null : fileName,
      rows: written?.rows ?? 0,
      bytes: writtenBytes,
      sha256: written?.sha256 ?? null,
      high_water_mark: outcome.highWaterMark,
      cursor: outcome.cursor ?? null,
      requests: outcome.requests,
      ...(outcome.provisional === true ? { provisional: true } : {}),
      exported_at: iso(now),
      tool_version: this.options.toolVersion,
      error: null,
      imported: null,
    };
    await this.store.update((m) => {
      const previous = m.windows.find((e) => e.key === w.key);
      // The same file imported before keeps its import record (re-importing it would add nothing).
      if (previous?.imported != null && previous.imported.sha256 === entry.sha256) entry.imported = previous.imported;
      // Windows this one covers (a shorter window at the edge of an earlier run) are superseded by it.
      const covered = m.windows.filter((e) => e.key !== w.key && Date.parse(e.start) >= w.start && Date.parse(e.end) <= w.end);
      for (const c of covered) if (c.file !== null && c.file !== entry.file) rmSync(join(this.options.dir, c.file), { force: true });
      m.windows = m.windows.filter((e) => e.key !== w.key && !covered.includes(e));
      m.windows.push(entry);
    });
    this.exported.push({ window: w.label, key: w.key, file: entry.file, rows: entry.rows, bytes: entry.bytes });
  }

  private async recordFailure(w: ExportWindow, err: UsageLabError): Promise<void> {
    const at = iso(this.clock.now());
    const error = { code: err.code, message: err.message, at };
    this.failed.push({ window: w.label, key: w.key, code: err.code, message: err.message, hint: err.hint ?? null });
    await this.store.update((m) => {
      const previous = m.windows.find((e) => e.key === w.key);
      if (previous?.status === 'complete' && (previous.file === null || existsSync(join(this.options.dir, previous.file)))) {
        // The older complete file stays valid; the entry notes that refreshing it failed.
        previous.error = error;
        return;
      }
      m.windows = m.windows.filter((e) => e.key !== w.key);
      m.windows.push({
        key: w.key,
        label: w.label,
        start: iso(w.start),
        end: iso(w.end),
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

