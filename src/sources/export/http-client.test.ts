import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { FakeVendorServer, maybeGzip } from '../../test-support/fake-vendor-server.js';
import { FAST_BACKOFF } from '../../test-support/export-test-kit.js';
import { HttpClient, type HttpClientOptions, type HttpResponse } from './http-client.js';
import { RateLimiter } from './rate-limiter.js';

const BODY = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(40)}"}`).join('\n') + '\n';

let server: FakeVendorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Counters {
  retries: number;
  rateLimitMs: number;
  backoffMs: number;
  bytes: number;
}

function client(overrides: Partial<HttpClientOptions> = {}): { http: HttpClient; counters: Counters } {
  const counters: Counters = { retries: 0, rateLimitMs: 0, backoffMs: 0, bytes: 0 };
  const http = new HttpClient({
    source: 'Vendor',
    limiter: new RateLimiter({ concurrency: 4, rolling: [] }),
    backoff: FAST_BACKOFF,
    timeouts: { headersMs: 800, idleMs: 800 },
    secrets: ['sk_test_FAKE_NOT_A_KEY'],
    authHint: 'check VENDOR_KEY',
    events: {
      onRetry: () => void (counters.retries += 1),
      onWait: (kind, ms) => void (kind === 'rate_limit' ? (counters.rateLimitMs += ms) : (counters.backoffMs += ms)),
      onBytes: (n) => void (counters.bytes += n),
    },
    ...overrides,
  });
  return { http, counters };
}

async function text(res: HttpResponse): Promise<string> {
  let out = '';
  for await (const c of res.body) out += (c as Buffer).toString('utf8');
  return out;
}

const get = (url: string) => ({ method: 'GET' as const, url: `${url}/data`, what: 'the test request', headers: { authorization: 'Bearer sk_test_FAKE_NOT_A_KEY' } });

describe('HTTP client', () => {
  it('retries 500, 502 and 503 with backoff and returns the full body', async () => {
    server = await FakeVendorServer.start((req) => maybeGzip(req, BODY));
    for (const status of [500, 502, 503]) server.inject({ kind: 'status', status });
    const { http, counters } = client();
    expect(await http.request(get(server.url), text)).toBe(BODY);
    expect(server.requests.length).toBeGreaterThanOrEqual(4);
    expect(counters.retries).toBeGreaterThanOrEqual(3);
    expect(counters.rateLimitMs).toBe(0);
  });

  it('honours Retry-After on 429 and counts the wait as rate limiting, not backoff', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    server.inject({ kind: 'status', status: 429, retryAfter: '1' });
    const { http, counters } = client();
    const started = Date.now();
    expect(await http.request(get(server.url), text)).toBe('ok');
    const gap = server.requests[1]!.at - server.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(counters.rateLimitMs).toBeGreaterThanOrEqual(900);
    expect(counters.backoffMs).toBe(0);
  });

  it('retries a connection reset in the middle of the body', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: BODY }));
    server.inject({ kind: 'reset-mid-body' });
    const { http, counters } = client();
    expect(await http.request(get(server.url), text)).toBe(BODY);
    expect(counters.retries).toBeGreaterThanOrEqual(1);
  });

  it('a truncated gzip body is an error (retried), never a shorter success', async () => {
    server = await FakeVendorServer.start((req) => maybeGzip(req, BODY));
    server.inject({ kind: 'truncate-body', keep: 0.5 });
    const { http, counters } = client();
    expect(await http.request(get(server.url), text)).toBe(BODY);
    expect(counters.retries).toBeGreaterThanOrEqual(1);
    server.inject({ kind: 'truncate-body', keep: 0.5 }, { times: 10 });
    await expect(client().http.request(get(server.url), text)).rejects.toMatchObject({ code: 'export_body_truncated', exitCode: 5, message: expect.stringMatching(/gave up after 4 attempts.*truncated or corrupt/) });
  });

  it('times out slow answers and stalled bodies, then retries', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: BODY }));
    server.inject({ kind: 'slow', delayMs: 1_600 });
    server.inject({ kind: 'stall-body', ms: 1_600 });
    const { http, counters } = client();
    expect(await http.request(get(server.url), text)).toBe(BODY);
    expect(counters.retries).toBeGreaterThanOrEqual(2);
  });

  it('401 / 403 fail at once with export_auth_failed (exit 3) and the hint', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    server.inject({ kind: 'status', status: 403 });
    await expect(client().http.request(get(server.url), text)).rejects.toMatchObject({ code: 'export_auth_failed', exitCode: 3, hint: 'check VENDOR_KEY' });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after the last attempt with exit 4 and names the request', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    server.inject({ kind: 'status', status: 503 }, { times: 100 });
    await expect(client().http.request(get(server.url), text)).rejects.toMatchObject({
      code: 'export_remote_unavailable',
      exitCode: 4,
      message: expect.stringMatching(/^the test request: gave up after 4 attempts; last error: the test request: HTTP 503/),
    });
    expect(server.requests).toHaveLength(FAST_BACKOFF.maxAttempts);
  });

  it('refuses a Retry-After longer than the configured maximum instead of stalling', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    server.inject({ kind: 'status', status: 429, retryAfter: '3600' });
    await expect(client().http.request(get(server.url), text)).rejects.toMatchObject({ code: 'export_remote_unavailable', message: expect.stringMatching(/wait 3600 s/) });
    expect(server.requests).toHaveLength(1);
  });

  it('never puts a credential in an error message', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    server.inject({ kind: 'status', status: 422, body: 'bad key sk_test_FAKE_NOT_A_KEY in header Bearer sk_test_FAKE_NOT_A_KEY' });
    const err = (await client().http.request(get(server.url), text).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('export_request_rejected');
    expect(err.message).toContain('HTTP 422');
    expect(err.message).not.toContain('SECRET123');
    expect(err.message).toContain('[redacted]');
  });

  it('a refused connection is retried and then reported as unavailable', async () => {
    server = await FakeVendorServer.start(() => ({ status: 200, body: 'ok' }));
    const url = server.url;
    await server.close();
    server = undefined;
    await expect(client().http.request(get(url), text)).rejects.toMatchObject({ code: 'export_remote_unavailable', exitCode: 4, message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('counts body bytes as received and hands statuses the caller accepts to it', async () => {
    server = await FakeVendorServer.start(() => ({ status: 404, body: 'none' }));
    const { http, counters } = client();
    const status = await http.request({ ...get(server.url), accept: (s) => s === 200 || s === 404 }, async (res) => {
      await text(res);
      return res.status;
    });
    expect(status).toBe(404);
    expect(counters.bytes).toBe(4);
  });

  it('inflates gzip strictly: a gzip member with trailing garbage is refused', async () => {
    const good = gzipSync(BODY);
    server = await FakeVendorServer.start(() => ({ status: 200, headers: { 'content-encoding': 'gzip' }, body: Buffer.concat([good, Buffer.from('garbage')]) }));
    await expect(client({ backoff: { ...FAST_BACKOFF, maxAttempts: 1 } }).http.request(get(server.url), text)).rejects.toMatchObject({
      code: 'export_body_truncated',
    });
  });
});
