/**
 * An HTTP client for one cheap authenticated call (`usagelab check`): the export client's strict reading,
 * redaction and refusal mapping, but few retries — a check should answer in seconds, not wait out an outage.
 */
import { HttpClient, type HttpTimeouts } from './http-client.js';
import { RateLimiter } from './rate-limiter.js';

export const PROBE_TIMEOUTS: HttpTimeouts = { headersMs: 20_000, idleMs: 20_000 };

export function probeHttpClient(options: {
  readonly source: string;
  readonly authHint: string;
  readonly secrets: readonly string[];
  readonly timeouts?: HttpTimeouts | undefined;
  readonly signal?: AbortSignal | undefined;
}): HttpClient {
  return new HttpClient({
    source: options.source,
    limiter: new RateLimiter({ concurrency: 1, rolling: [] }),
    backoff: { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 },
    timeouts: options.timeouts ?? PROBE_TIMEOUTS,
    secrets: options.secrets,
    authHint: options.authHint,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
