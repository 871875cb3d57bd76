/**
 * Test helper: FullStory's Segment Export as documented (vendor-export-apis.md §1) — `POST /segments/v1/exports`
 * → `{operationId}`; `GET /operations/v1/{id}` → PENDING a few times (a slow job), then COMPLETED with
 * `results.searchExportId` (or FAILED); `GET /search/v1/exports/{id}/results` → `{location, expires}`; the
 * location is a pre-signed-style URL on the same server that refuses an Authorization header (as S3 refuses two
 * auth mechanisms) and answers 403 "Request has expired" for links the test marks expired. The file is gzipped
 * FORMAT_JSON / FORMAT_NDJSON / FORMAT_CSV of the events whose EventStart lies in [start, end).
 */
import { gzipSync } from 'node:zlib';
import { FakeVendorServer, type FakeResponse } from './fake-vendor-server.js';

export interface FullstoryFakeOptions {
  readonly apiKey: string;
  /** Segment Export records; EventStart RFC 3339. Bigints are written as bare digits. */
  readonly events: readonly Record<string, unknown>[];
  /** Polls answered PENDING before a job completes (a slow job). */
  readonly pendingPolls?: number;
  /** The first N jobs end FAILED. */
  readonly failJobs?: number;
  /** The first N download links handed out are already expired. */
  readonly expiredLinks?: number;
}

export interface FullstoryFake {
  readonly server: FakeVendorServer;
  /** Jobs created, in order: their time range and format. */
  readonly jobs: { start: string; end: string; format: string; segmentId: string; fields: unknown }[];
}

const json = (body: unknown, status = 200): FakeResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** JSON with bigints as bare digits (FullStory's ids exceed 2^53). */
export function fsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `@@big:${v}` : v)).replace(/"@@big:(-?\d+)"/g, '$1');
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const text = String(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderExport(events: readonly Record<string, unknown>[], format: string): string {
  if (format === 'FORMAT_NDJSON') return events.map((e) => `${fsJson(e)}\n`).join('');
  if (format === 'FORMAT_JSON') return `[\n${events.map((e) => fsJson(e)).join(',\n')}\n]`;
  const columns = [...new Set(events.flatMap((e) => Object.keys(e)))];
  return [columns.join(','), ...events.map((e) => columns.map((c) => csvCell(e[c])).join(','))].join('\r\n') + '\r\n';
}

export async function startFullstoryFake(options: FullstoryFakeOptions): Promise<FullstoryFake> {
  const jobs: FullstoryFake['jobs'] = [];
  const ops = new Map<string, { job: number; polls: number; failed: boolean }>();
  const links = new Map<string, { job: number; expired: boolean }>();
  let linkCount = 0;
  const holder: { url?: string } = {};
  const authorised = (h: string | undefined): boolean => h === `Basic ${options.apiKey}`;

  const server = await FakeVendorServer.start((req): FakeResponse => {
    const download = /^\/download\/(\d+)\/([a-z0-9-]+)$/.exec(req.path);
    if (download !== null) {
      if (req.headers.authorization !== undefined) return { status: 400, body: '<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>' };
      const link = links.get(download[2]!);
      if (link === undefined || link.expired) return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' };
      const job = jobs[link.job]!;
      const start = Date.parse(job.start);
      const end = Date.parse(job.end);
      const inRange = options.events.filter((e) => {
        const at = Date.parse(String(e.EventStart));
        return at >= start && at < end;
      });
      return { status: 200, headers: { 'content-type': 'application/gzip', 'content-disposition': `attachment; filename="segment.${job.format}.gz"` }, body: gzipSync(renderExport(inRange, job.format)) };
    }
    if (!authorised(req.headers.authorization)) return json({ code: 'unauthenticated', message: 'invalid API key' }, 401);
    if (req.method === 'POST' && req.path === '/segments/v1/exports') {
      const body = JSON.parse(req.body) as { segmentId: string; type: string; format: string; timeRange: { start: string; end: string }; fields?: unknown };
      if (body.segmentId !== 'everyone') return json({ code: 'not_found', message: `segment ${body.segmentId} not found` }, 404);
      if (body.type !== 'TYPE_EVENT' || !['FORMAT_JSON', 'FORMAT_NDJSON', 'FORMAT_CSV'].includes(body.format)) return json({ code: 'invalid_argument' }, 400);
      jobs.push({ start: body.timeRange.start, end: body.timeRange.end, format: body.format, segmentId: body.segmentId, fields: body.fields });
      const id = `op-${jobs.length}`;
      ops.set(id, { job: jobs.length - 1, polls: 0, failed: jobs.length <= (options.failJobs ?? 0) });
      return json({ operationId: id });
    }
    if (req.method === 'GET' && req.path === '/operations/v1') return json({ operations: [...ops.keys()].map((id) => ({ id, type: 'SEARCH_EXPORT' })), nextPaginationToken: '' });
    const op = /^\/operations\/v1\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && op !== null) {
      const state = ops.get(decodeURIComponent(op[1]!));
      if (state === undefined) return json({ code: 'not_found' }, 404);
      state.polls += 1;
      if (state.polls <= (options.pendingPolls ?? 0)) return json({ id: op[1], type: 'SEARCH_EXPORT', state: 'PENDING', estimatePctComplete: 50 });
      if (state.failed) return json({ id: op[1], type: 'SEARCH_EXPORT', state: 'FAILED', errorDetails: 'internal export error' });
      return json({ id: op[1], type: 'SEARCH_EXPORT', state: 'COMPLETED', estimatePctComplete: 100, results: { searchExportId: `exp-${state.job}`, expires: new Date(Date.now() + 3_600_000).toISOString() } });
    }
    const results = /^\/search\/v1\/exports\/exp-(\d+)\/results$/.exec(req.path);
    if (req.method === 'GET' && results !== null) {
      linkCount += 1;
      const token = `t${linkCount}-${Number(results[1])}`;
      links.set(token, { job: Number(results[1]), expired: linkCount <= (options.expiredLinks ?? 0) });
      return json({ location: `${holder.url}/download/${results[1]}/${token}?X-Amz-Signature=fake`, expires: new Date(Date.now() + 3_600_000).toISOString() });
    }
    return json({ code: 'not_found' }, 404);
  });
  holder.url = server.url;
  return { server, jobs };
}

/**
 * `count` Segment Export events between `from` and `to` (ms), deterministic: UserId above 2^53 (ids must stay
 * exact), an e-mail in UserEmail and in a custom variable (masking), clicks with rage counts.
 */
export function fullstoryEvents(count: number, from: number, to: number): Record<string, unknown>[] {
  const step = (to - from) / count;
  return Array.from({ length: count }, (_, i) => {
    const at = Math.floor(from + i * step);
    const click = i % 3 !== 0;
    return {
      IndvId: 9007199254740993n + BigInt(i % 11),
      UserId: 9007199254740993n + BigInt(i % 11),
      SessionId: 5916567459329906423n + BigInt(i % 4),
      PageId: 1234567890123456789n + BigInt(i % 7),
      UserAppKey: `user-${i % 11}`,
      UserEmail: `person${i % 11}@example.com`,
      EventStart: new Date(at).toISOString(),
      EventType: click ? 'click' : 'navigate',
      ...(click ? { EventTargetText: `Button ${i}`, EventTargetSelector: `div > button.b${i % 5}` } : {}),
      ...(click && i % 7 === 1 ? { EventModFrustrated: 1 } : {}),
      PageUrl: `https://app.example.com/p/${i % 9}`,
      PageBrowser: 'Chrome',
      PageDevice: 'Desktop',
      PageOperatingSystem: 'Windows',
      evt_note_str: `seq ${i}`,
    };
  });
}
