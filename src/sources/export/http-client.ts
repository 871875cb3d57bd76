/**
 * The HTTP client every exporter uses: node:http(s), because the export must see the raw body — fetch decodes
 * gzip leniently (a cut-off gzip stream ends quietly), and a silently truncated body is the failure this tool
 * exists to prevent. Here gzip is inflated strictly, a short body is an error, and every request:
 *  - waits for the source's rate limiter (rolling limits, concurrency, pauses after 429);
 *  - times out when headers or body data stop arriving;
 *  - is retried on 429 (honouring Retry-After), 408, 5xx, timeouts, resets and broken bodies, with full-jitter
 *    exponential backoff;
 *  - maps 401/403 to export_auth_failed with the exporter's hint, and other refusals through its classifier.
 * Secrets never reach an error message: auth header values and configured secrets are redacted.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UsageLabError, isUsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { toolVersion } from '../../core/tool-version.js';
import { registerSecret } from '../../core/secret-redaction.js';
import { DEFAULT_BACKOFF, fullJitterDelay, parseRetryAfter, type BackoffPolicy } from './backoff.js';
import { realClock, type ExportClock } from './export-clock.js';
import { authError, redact, transientError, windowError } from './export-errors.js';
import type { RateLimiter } from './rate-limiter.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Names the request in messages, e.g. the window. */
  readonly what: string;
  /** Statuses handed to `read` instead of being refusals (default: 2xx). */
  readonly accept?: (status: number) => boolean;
  /** This request's own reading of a refused status (before the client-wide classifier). */
  readonly classify?: (status: number, bodyText: string) => UsageLabError | undefined;
}

/** What an SDK error stands for: the status the server answered, or a network failure. */
export interface SdkFailure {
  readonly status?: number | undefined;
  readonly headers?: IncomingHttpHeaders | undefined;
  /** The error body or message (shown redacted). */
  readonly body?: string | undefined;
  /** A network error code (ECONNRESET, ENOTFOUND, ...) when no answer came. */
  readonly networkCode?: string | undefined;
  readonly message: string;
}

/** One call through a vendor's official client library (GA4's BigQuery client) instead of node:http. */
export interface SdkCall {
  readonly what: string;
  readonly method: HttpRequest['method'];
  /** The URL the SDK calls (for host names in messages). */
  readonly url: string;
  /** What an error thrown by the SDK means; undefined: not a vendor or network failure (a bug, thrown as is). */
  describe(err: unknown): SdkFailure | undefined;
  readonly classify?: HttpRequest['classify'];
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, gzip already inflated (strictly). */
  readonly body: Readable;
}

export interface HttpTimeouts {
  /** Until the response headers arrive. */
  readonly headersMs: number;
  /** Longest gap between two chunks of the body. */
  readonly idleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { headersMs: 120_000, idleMs: 60_000 };

export interface HttpEvents {
  /** Body bytes received (before inflating). */
  onBytes?(n: number): void;
  /** Time spent waiting: on rate limits (limiter, Retry-After) or on backoff before a retry. */
  onWait?(kind: 'rate_limit' | 'backoff', ms: number): void;
  onRetry?(info: { what: string; attempt: number; code: string; delayMs: number }): void;
  onRequest?(): void;
}

export interface HttpClientOptions {
  /** The vendor's name, for messages. */
  readonly source: string;
  readonly limiter: RateLimiter;
  readonly backoff?: BackoffPolicy;
  readonly timeouts?: HttpTimeouts;
  readonly clock?: ExportClock;
  readonly random?: () => number;
  /** Values never to print (credentials). */
  readonly secrets?: readonly string[];
  /** What to do when the credentials are refused (names the variables, the region setting). */
  readonly authHint: string;
  /** A specific error for a refused response (e.g. "too large"); undefined falls back to the generic one. */
  readonly classify?: (status: number, bodyText: string, request: HttpRequest) => UsageLabError | undefined;
  readonly events?: HttpEvents;
  readonly signal?: AbortSignal;
}

/** A refusal that may succeed later; carries the server's Retry-After. */
class RetryableStatus extends UsageLabError {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(status === 429 ? 'export_rate_limited' : 'export_remote_unavailable', message, { exitCode: EXIT.unavailable, retryable: true });
  }
}

class TimeoutError extends Error {
  readonly code = 'USAGELAB_TIMEOUT';
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);
const ZLIB_CODES = new Set(['Z_BUF_ERROR', 'Z_DATA_ERROR', 'Z_STREAM_ERROR', 'Z_NEED_DICT']);
const ERROR_BODY_LIMIT = 16_384;

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export class HttpClient {
  private readonly backoff: BackoffPolicy;
  private readonly timeouts: HttpTimeouts;
  private readonly clock: ExportClock;
  private readonly random: () => number;
  private readonly secrets: string[];

  constructor(private readonly options: HttpClientOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.secrets = [...(options.secrets ?? [])];
  }

  /**
   * Sends the request and hands the response to `read`, retrying the whole exchange (request and read) on
   * transient failures. `read` must therefore be repeatable: it consumes the body and may not have side
   * effects that a second call would duplicate (write to a file it truncates, not to the window's output).
   */
  async request<T>(req: HttpRequest, read: (res: HttpResponse) => Promise<T>): Promise<T> {
    return this.retrying(req, () => this.attempt(req, read));
  }

  /**
   * Runs `fn`, a call of a vendor's official client library with its own retries turned off, under this client's
   * limiter, retries, events and refusal mapping: `call.describe` turns the library's errors into statuses or
   * network failures; errors it does not recognise propagate unchanged.
   */
  async call<T>(call: SdkCall, fn: () => Promise<T>): Promise<T> {
    const req: HttpRequest = { method: call.method, url: call.url, what: call.what, ...(call.classify === undefined ? {} : { classify: call.classify }) };
    return this.retrying(req, async () => {
      const permit = await this.options.limiter.acquire(this.options.signal);
      if (permit.waitedMs > 0) this.options.events?.onWait?.('rate_limit', permit.waitedMs);
      try {
        this.options.events?.onRequest?.();
        return await fn();
      } catch (err) {
        const failure = call.describe(err);
        if (failure === undefined) throw err;
        if (failure.status !== undefined) throw this.refusal(failure.status, failure.headers ?? {}, failure.body ?? failure.message, req);
        throw Object.assign(new Error(failure.message), { code: failure.networkCode });
      } finally {
        permit.release();
      }
    });
  }

  private async retrying<T>(req: HttpRequest, attemptOnce: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (raw) {
        const err = this.explain(raw, req);
        if (!err.retryable) throw err;
        const retryAfter = err instanceof RetryableStatus ? err.retryAfterMs : undefined;
        if (retryAfter !== undefined && retryAfter > this.backoff.maxRetryAfterMs) {
          throw new UsageLabError('export_remote_unavailable', `${this.options.source} asked to wait ${Math.ceil(retryAfter / 1000)} s before ${req.what} (Retry-After)`, {
            exitCode: EXIT.unavailable,
            hint: 'the source is rate limiting this project; run the export again later with --resume',
            place: { source: this.options.source },
            cause: err,
          });
        }
        if (attempt >= this.backoff.maxAttempts) {
          // Statuses, timeouts and network errors mean the source is unavailable (exit 4); a body that keeps
          // arriving broken is partial data and keeps its own code (exit 5).
          const unavailable = err.exitCode === EXIT.unavailable;
          throw new UsageLabError(unavailable ? 'export_remote_unavailable' : err.code, `${req.what}: gave up after ${attempt} attempts; last error: ${err.message}`, {
            exitCode: err.exitCode,
            hint: unavailable
              ? 'the source kept failing or rate limiting; run the export again later with --resume (done windows are kept)'
              : (err.hint ?? 'the source kept sending a broken body; run the export again later with --resume'),
            place: { source: this.options.source },
            cause: err,
          });
        }
        const delayMs = retryAfter ?? fullJitterDelay(attempt, this.backoff, this.random);
        this.options.events?.onRetry?.({ what: req.what, attempt, code: err.code, delayMs });
        if (err instanceof RetryableStatus && err.status === 429) {
          // A 429 speaks for the whole source: every request waits, and the wait shows as rate limiting.
          this.options.limiter.pauseUntil(this.clock.now() + delayMs);
        } else {
          const before = this.clock.now();
          await this.clock.sleep(delayMs, this.options.signal);
          this.options.events?.onWait?.('backoff', this.clock.now() - before);
        }
      }
    }
  }

  private async attempt<T>(req: HttpRequest, read: (res: HttpResponse) => Promise<T>): Promise<T> {
    const permit = await this.options.limiter.acquire(this.options.signal);
    if (permit.waitedMs > 0) this.options.events?.onWait?.('rate_limit', permit.waitedMs);
    try {
      this.options.events?.onRequest?.();
      const res = await this.send(req);
      const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
      const status = res.statusCode ?? 0;
      if (!accept(status)) {
        const text = await this.readText(res);
        throw this.refusal(status, res.headers, text, req);
      }
      const body = this.decoded(res, req);
      try {
        return await read({ status, headers: res.headers, body });
      } finally {
        body.destroy();
        res.destroy();
      }
    } finally {
      permit.release();
    }
  }

  private send(req: HttpRequest): Promise<IncomingMessage> {
    const url = new URL(req.url);
    const transport = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = {
      'user-agent': `usagelab/${toolVersion()}`,
      'accept-encoding': 'gzip',
      ...(req.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(req.body)) }),
      ...req.headers,
    };
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'authorization' && !this.secrets.includes(value)) {
        this.secrets.push(value, value.replace(/^\S+\s+/, ''));
        // Known process-wide too: a Basic header's base64 holds the secret in a form no variable has.
        registerSecret(value.replace(/^\S+\s+/, ''));
      }
    }
    return new Promise((resolve, reject) => {
      const r = transport.request(url, { method: req.method, headers, ...(this.options.signal === undefined ? {} : { signal: this.options.signal }) });
      const timer = setTimeout(() => r.destroy(new TimeoutError(`no response within ${this.timeouts.headersMs} ms`)), this.timeouts.headersMs);
      r.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      r.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      r.end(req.body);
    });
  }

  /** The body with byte counting, an idle timeout and strict gzip inflation. */
  private decoded(res: IncomingMessage, req: HttpRequest): Readable {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => res.destroy(new TimeoutError(`${req.what}: no body data for ${this.timeouts.idleMs} ms`)), this.timeouts.idleMs);
    };
    arm();
    const onBytes = this.options.events?.onBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        arm();
        onBytes?.(chunk.length);
        done(null, chunk);
      },
      flush(done) {
        clearTimeout(timer);
        done();
      },
    });
    const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
    const stages: (Readable | Transform)[] = [res, counter];
    if (encoding === 'gzip' || encoding === 'x-gzip') stages.push(createGunzip());
    const cleanup = (): void => clearTimeout(timer);
    // Errors reach the consumer through the last stage (pipeline destroys every stage with the error).
    const last = pipeline(stages, cleanup) as unknown as Readable;
    last.once('close', cleanup);
    return last;
  }

  private async readText(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
      const body: Readable = encoding === 'gzip' ? res.pipe(createGunzip()) : res;
      for await (const chunk of body) {
        const b = chunk as Buffer;
        chunks.push(b);
        size += b.length;
        if (size >= ERROR_BODY_LIMIT) break;
      }
    } catch {
      // The status is what matters; a broken error body is not worth another error.
    } finally {
      res.destroy();
    }
    return Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_LIMIT);
  }

  private refusal(status: number, headers: IncomingHttpHeaders, text: string, req: HttpRequest): UsageLabError {
    const excerpt = redact(text.replace(/\s+/g, ' ').trim().slice(0, 300), this.secrets);
    const detail = excerpt === '' ? '' : `: ${excerpt}`;
    const own = req.classify?.(status, text);
    if (own !== undefined) return own;
    if (status === 429 || status === 408 || (status >= 500 && status <= 599)) {
      const classified = this.options.classify?.(status, text, req);
      if (classified !== undefined) return classified;
      return new RetryableStatus(status, `${req.what}: HTTP ${status}${detail}`, parseRetryAfter(headers['retry-after'], this.clock.now()));
    }
    if (status === 401 || status === 403) return authError(this.options.source, status, this.options.authHint);
    const classified = this.options.classify?.(status, text, req);
    if (classified !== undefined) return classified;
    return windowError('export_request_rejected', `${req.what}: ${this.options.source} answered HTTP ${status}${detail}`, {
      hint: 'the request was refused; check the source settings in usagelab.yaml (project id, host, region)',
      place: { source: this.options.source },
    });
  }

  /** Turns whatever an attempt threw into a UsageLabError that says whether to retry. */
  private explain(err: unknown, req: HttpRequest): UsageLabError {
    if (isUsageLabError(err)) {
      const message = redact(err.message, this.secrets);
      return message === err.message ? err : new UsageLabError(err.code, message, { ...this.optionsOf(err), cause: err });
    }
    if (this.options.signal?.aborted === true) throw err;
    const code = errorCode(err);
    const message = redact(err instanceof Error ? err.message : String(err), this.secrets);
    if (err instanceof TimeoutError) return transientError('export_timeout', `${req.what}: ${message}`, { cause: err, exitCode: EXIT.unavailable });
    if (code !== undefined && ZLIB_CODES.has(code)) {
      return transientError('export_body_truncated', `${req.what}: the compressed body is truncated or corrupt (${message})`, { cause: err });
    }
    if (code === 'ENOTFOUND') {
      return new UsageLabError('export_host_unreachable', `${req.what}: host ${new URL(req.url).host} not found`, {
        exitCode: EXIT.unavailable,
        hint: 'check the host / region setting of this source in usagelab.yaml, and the network',
        cause: err,
      });
    }
    if ((code !== undefined && NETWORK_CODES.has(code)) || /aborted|socket hang up|premature close/i.test(message)) {
      return transientError('export_network_error', `${req.what}: connection failed (${code ?? message})`, { cause: err, exitCode: EXIT.unavailable });
    }
    throw err;
  }

  private optionsOf(err: UsageLabError): ConstructorParameters<typeof UsageLabError>[2] {
    return { ...(err.hint === undefined ? {} : { hint: err.hint }), place: err.place, exitCode: err.exitCode, retryable: err.retryable };
  }
}
