/**
 * What an export is doing, for people watching it: windows done of planned, rows, bytes, throughput, and —
 * apart — the time spent waiting on rate limits and on retry backoff, so a throttled run does not look hung.
 * The tracker only counts; the CLI decides how to draw it (a bar on a terminal, NDJSON lines in CI).
 */
import type { ExportClock } from './export-clock.js';

export interface ExportProgress {
  readonly source: string;
  readonly phase: 'exporting' | 'done';
  readonly windowsTotal: number;
  readonly windowsDone: number;
  readonly windowsFailed: number;
  /** Windows already complete (--resume) and therefore not fetched. */
  readonly windowsSkipped: number;
  /** Labels of the windows in flight. */
  readonly active: readonly string[];
  readonly rows: number;
  /** Bytes received from the vendor (as sent, before inflating). */
  readonly bytesReceived: number;
  /** Bytes of the gzipped files written. */
  readonly bytesWritten: number;
  readonly requests: number;
  readonly retries: number;
  readonly elapsedMs: number;
  /** Wall-clock time requests waited on rate limits (limiter, Retry-After). */
  readonly rateLimitWaitMs: number;
  /** Time spent in backoff before retries (not rate limits). */
  readonly backoffWaitMs: number;
  readonly rowsPerSecond: number;
  readonly bytesPerSecond: number;
}

export type ProgressListener = (progress: ExportProgress) => void;

export class ProgressTracker {
  private readonly started: number;
  private lastEmit = -Infinity;
  private windowsDone = 0;
  private windowsFailed = 0;
  private readonly active = new Set<string>();
  private rows = 0;
  private bytesReceived = 0;
  private bytesWritten = 0;
  private requests = 0;
  private retries = 0;
  private rateLimitWaitMs = 0;
  private backoffWaitMs = 0;

  constructor(
    private readonly source: string,
    private readonly windowsTotal: number,
    private readonly windowsSkipped: number,
    private readonly clock: ExportClock,
    private readonly listener: ProgressListener | undefined,
    private readonly throttleMs = 250,
  ) {
    this.started = clock.now();
  }

  windowStarted(label: string): void {
    this.active.add(label);
    this.emit(true);
  }

  windowFinished(label: string, ok: boolean): void {
    this.active.delete(label);
    if (ok) this.windowsDone += 1;
    else this.windowsFailed += 1;
    this.emit(true);
  }

  addRows(n: number): void {
    this.rows += n;
    this.emit(false);
  }

  addBytesReceived(n: number): void {
    this.bytesReceived += n;
    this.emit(false);
  }

  setBytesWritten(delta: number): void {
    this.bytesWritten += delta;
  }

  addWait(kind: 'rate_limit' | 'backoff', ms: number): void {
    if (kind === 'rate_limit') this.rateLimitWaitMs += ms;
    else this.backoffWaitMs += ms;
    this.emit(true);
  }

  addRetry(): void {
    this.retries += 1;
  }

  addRequest(): void {
    this.requests += 1;
  }

  snapshot(phase: ExportProgress['phase'] = 'exporting'): ExportProgress {
    const elapsedMs = Math.max(0, this.clock.now() - this.started);
    const seconds = Math.max(elapsedMs, 1) / 1000;
    return {
      source: this.source,
      phase,
      windowsTotal: this.windowsTotal,
      windowsDone: this.windowsDone,
      windowsFailed: this.windowsFailed,
      windowsSkipped: this.windowsSkipped,
      active: [...this.active],
      rows: this.rows,
      bytesReceived: this.bytesReceived,
      bytesWritten: this.bytesWritten,
      requests: this.requests,
      retries: this.retries,
      elapsedMs,
      rateLimitWaitMs: this.rateLimitWaitMs,
      backoffWaitMs: this.backoffWaitMs,
      rowsPerSecond: this.rows / seconds,
      bytesPerSecond: this.bytesReceived / seconds,
    };
  }

  /** The final snapshot, always delivered. */
  finish(): ExportProgress {
    const p = this.snapshot('done');
    this.listener?.(p);
    return p;
  }

  private emit(important: boolean): void {
    if (this.listener === undefined) return;
    const now = this.clock.now();
    if (!important && now - this.lastEmit < this.throttleMs) return;
    this.lastEmit = now;
    this.listener(this.snapshot());
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** One line for logs: `amplitude 12/48 windows, 1 failed | 1,234 rows | 3.1 MB | 410 rows/s | 2m 03s | rate-limit wait 41s`. */
export function formatProgressLine(p: ExportProgress): string {
  const parts = [
    `${p.source} ${p.windowsDone + p.windowsSkipped}/${p.windowsTotal + p.windowsSkipped} windows${p.windowsFailed > 0 ? `, ${p.windowsFailed} failed` : ''}`,
    `${p.rows.toLocaleString('en-US')} rows`,
    formatBytes(p.bytesReceived),
    `${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s`,
    formatDuration(p.elapsedMs),
    `rate-limit wait ${formatDuration(p.rateLimitWaitMs)}`,
  ];
  if (p.backoffWaitMs > 0 || p.retries > 0) parts.push(`${p.retries} retries (backoff ${formatDuration(p.backoffWaitMs)})`);
  return parts.join(' | ');
}
