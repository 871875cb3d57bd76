/**
 * The contract between the shared export loop (export-run.ts) and one vendor's client. A client knows its URLs,
 * auth, how a window becomes requests, how a response becomes records and how to tell a complete answer from a
 * partial one; the loop owns windows, files, the manifest, retries of whole windows, progress and exit codes.
 * FullStory, Heap and GA4 clients slot in by implementing the same interface.
 */
import type { ExportWindow, WindowGrid } from './export-window.js';
import type { HttpClient, HttpRequest } from './http-client.js';
import type { RateLimitSpec } from './rate-limiter.js';
import type { UsageLabError } from '../../core/errors.js';

/** A record as the vendor sent it (parsed; integers beyond 2^53 as bigint). */
export type VendorRecord = Record<string, unknown>;

/** Applied to every record before it is written (the library injects the PII masker here). */
export type RecordTransform = (record: VendorRecord) => VendorRecord;

export interface WindowingRules {
  readonly grid: WindowGrid;
  /**
   * The newest instant whose data the vendor serves as complete, given the time now (Amplitude: 2 h after
   * upload; Mixpanel: the start of today). Windows are cut there.
   */
  availableUntil(now: number): number;
  /** Incremental runs re-export this much before the last exported instant (late data). */
  readonly lookbackMs: number;
}

export interface WindowContext {
  /** Requests go through this client: rate limits, retries, timeouts, byte counting are handled. */
  readonly http: HttpClient;
  /** Hands one record to the loop (transformed, then written); await it (backpressure). */
  emit(record: VendorRecord): Promise<void>;
  /** A folder for this attempt's downloads; emptied after the window. */
  readonly tempDir: string;
  readonly signal: AbortSignal | undefined;
}

export interface WindowOutcome {
  /** Newest value of the field the vendor selects by (upload / event time), ISO UTC; null when no records. */
  readonly highWaterMark: string | null;
  /** Where paging ended, for the manifest (JSON). */
  readonly cursor: unknown;
  /** Requests made for this window (sub-windows and pages included). */
  readonly requests: number;
  /**
   * The data is not final yet (GA4: a day read from its intraday table before the daily table exists): the window
   * is recorded as complete but provisional, and later runs export it again until it is final.
   */
  readonly provisional?: boolean;
}

export interface SourceExporter {
  /** The source id, also the folder name under exports/. */
  readonly source: string;
  readonly displayName: string;
  readonly windowing: WindowingRules;
  readonly limits: RateLimitSpec;
  /** Windows exported at once unless --concurrency says otherwise (capped by limits.concurrency). */
  readonly defaultConcurrency: number;
  /** What to check when the vendor refuses the credentials (variables, region / host). */
  readonly authHint: string;
  /** Credential values, redacted from every message. */
  readonly secrets: readonly string[];
  /** Vendor-specific meaning of a refused response (too large, bad date, ...). */
  classify?(status: number, bodyText: string, request: HttpRequest): UsageLabError | undefined;
  /** Exports one window: every record of it passes through ctx.emit, in order. Throws when it is incomplete. */
  exportWindow(window: ExportWindow, ctx: WindowContext): Promise<WindowOutcome>;
}
