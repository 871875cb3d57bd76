/**
 * Test helper: an HTTP server on 127.0.0.1 that plays a vendor's API (the per-tool fakes supply the protocol)
 * and injects the faults real exports meet: 429 with Retry-After, 5xx, a connection reset mid-body, a body cut
 * short (truncated gzip / zip), a slow answer, a body that stalls. It records every request and the highest
 * number of requests it had in flight at once, so tests can check the rate limiter from the server's side.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** Time the request arrived (Date.now()). */
  readonly at: number;
}

export interface FakeResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly body?: string }
  /** Headers with the full Content-Length, half the body, then the socket is destroyed. */
  | { readonly kind: 'reset-mid-body' }
  /** The body cut to `keep` of its length, sent with a matching Content-Length (the HTTP exchange is whole). */
  | { readonly kind: 'truncate-body'; readonly keep?: number }
  /** Waits before answering at all. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Sends half the body, then nothing for `ms`, then the rest. */
  | { readonly kind: 'stall-body'; readonly ms: number }
  /**
   * Sends the first `fraction` of the body, calls `reached`, and sends the rest once `release` resolves (a test
   * looks at the disk while a download is half in).
   */
  | { readonly kind: 'hold-body'; readonly fraction: number; readonly reached: () => void; readonly release: Promise<void> }
  /** Rewrites the body the protocol produced. */
  | { readonly kind: 'rewrite-body'; readonly rewrite: (body: Buffer) => Buffer };

interface FaultRule {
  readonly fault: Fault;
  readonly match: (req: FakeRequest) => boolean;
  remaining: number;
}

export type FakeHandler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export class FakeVendorServer {
  readonly requests: FakeRequest[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly rules: FaultRule[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(handler: FakeHandler): Promise<FakeVendorServer> {
    const holder: { self?: FakeVendorServer } = {};
    const server = http.createServer((req, res) => {
      void holder.self!.handle(req, res, handler);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.self = new FakeVendorServer(server, `http://127.0.0.1:${port}`);
    return holder.self;
  }

  /** Applies `fault` to the next `times` requests that match (default: any request, once). */
  inject(fault: Fault, options: { match?: (req: FakeRequest) => boolean; times?: number } = {}): void {
    this.rules.push({ fault, match: options.match ?? (() => true), remaining: options.times ?? 1 });
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(req: FakeRequest): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.match(req));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    return rule.fault;
  }

  private async handle(raw: IncomingMessage, res: ServerResponse, handler: FakeHandler): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => {
      this.inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    for await (const c of raw) chunks.push(c as Buffer);
    const url = new URL(raw.url ?? '/', 'http://127.0.0.1');
    const req: FakeRequest = { method: raw.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: raw.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
    this.requests.push(req);
    const fault = this.takeFault(req);
    try {
      if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'text/plain', ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }) });
        res.end(fault.body ?? `fake error ${fault.status}`);
        return;
      }
      const answer = await handler(req);
      let body = typeof answer.body === 'string' ? Buffer.from(answer.body) : (answer.body ?? Buffer.alloc(0));
      if (fault?.kind === 'rewrite-body') body = fault.rewrite(body);
      if (fault?.kind === 'truncate-body') body = body.subarray(0, Math.floor(body.length * (fault.keep ?? 0.6)));
      const headers = { ...answer.headers, 'content-length': String(body.length) };
      if (fault?.kind === 'reset-mid-body') {
        res.writeHead(answer.status, headers);
        res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (fault?.kind === 'hold-body') {
        const cut = Math.floor(body.length * fault.fraction);
        res.writeHead(answer.status, headers);
        res.write(body.subarray(0, cut));
        fault.reached();
        await fault.release;
        if (!res.destroyed) res.end(body.subarray(cut));
        return;
      }
      if (fault?.kind === 'stall-body') {
        res.writeHead(answer.status, headers);
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        await new Promise((r) => setTimeout(r, fault.ms));
        if (!res.destroyed) res.end(body.subarray(Math.floor(body.length / 2)));
        return;
      }
      res.writeHead(answer.status, headers);
      res.end(body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake server failure: ${(err as Error).message}`);
    }
  }
}

/** Basic auth of a request, decoded; undefined when absent. */
export function basicCredentials(req: FakeRequest): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const text = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const cut = text.indexOf(':');
  return cut < 0 ? undefined : { user: text.slice(0, cut), password: text.slice(cut + 1) };
}

/** Gzips a body when the client accepts it, as real APIs do. */
export function maybeGzip(req: FakeRequest, body: string, headers: Record<string, string> = {}): FakeResponse {
  const accepts = String(req.headers['accept-encoding'] ?? '').includes('gzip');
  return accepts
    ? { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(body) }
    : { status: 200, headers, body };
}
