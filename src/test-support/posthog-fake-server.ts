/**
 * Test helper: PostHog's query API as the exporter uses it (vendor-export-apis.md §5) — `POST /api/projects/{id}/
 * query/` with a HogQLQuery whose `values` carry the window and the keyset cursor; Bearer auth; JSON
 * `{columns, results, hasMore}`; timestamps rendered in the project's time zone with an offset (+02:00 here), as
 * PostHog does. The fake evaluates the two query shapes the exporter sends (a page in (timestamp, uuid) order,
 * and a count) on its event list, and can misbehave: cap pages silently (`pageCap`, with or without hasMore).
 */
import { FakeVendorServer, maybeGzip, type FakeRequest, type FakeResponse } from './fake-vendor-server.js';

export interface PosthogFakeEvent {
  readonly uuid: string;
  readonly event: string;
  readonly distinct_id: string;
  readonly person_id: string | null;
  readonly properties: Record<string, unknown>;
  /** µs since epoch, UTC. */
  readonly timestamp: number;
  readonly elements_chain: string;
}

export interface PosthogFakeOptions {
  readonly apiKey: string;
  readonly projectId: string;
  readonly events: readonly PosthogFakeEvent[];
  /** Rows per page the server returns at most, whatever LIMIT says. */
  pageCap?: number;
  /** Whether a capped page says hasMore: true (honest) or nothing (the silent cap). */
  honestCap?: boolean;
}

const OFFSET_US = 2 * 3_600_000_000;

/** µs → "2024-03-10T07:00:00.123456+02:00" (the project's zone, as the query API renders it). */
export function renderTimestamp(us: number): string {
  const local = us + OFFSET_US;
  const ms = Math.floor(local / 1000);
  const frac = String(local % 1_000_000).padStart(6, '0');
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}.${frac}+02:00`;
}

/** "2024-03-10 05:00:00.123456" (UTC) → µs. */
function utcTextMicros(text: string): number {
  const [whole, frac = '0'] = text.split('.');
  return Date.parse(`${whole!.replace(' ', 'T')}Z`) * 1000 + Number(frac.padEnd(6, '0'));
}

interface Values {
  window_start?: string;
  window_end?: string;
  after_timestamp?: string;
  after_uuid?: string;
}

function handle(options: PosthogFakeOptions, req: FakeRequest): FakeResponse {
  if (req.method !== 'POST' || req.path !== `/api/projects/${options.projectId}/query/`) return { status: 404, body: '{"detail": "Not found."}' };
  if (req.headers.authorization !== `Bearer ${options.apiKey}`) return { status: 401, body: '{"detail": "Invalid personal API key."}' };
  const body = JSON.parse(req.body) as { query?: { kind?: string; query?: string; values?: Values } };
  const q = body.query;
  if (q?.kind !== 'HogQLQuery' || typeof q.query !== 'string') return { status: 400, body: '{"detail": "query.kind must be HogQLQuery"}' };
  const v = q.values ?? {};
  if (v.window_start === undefined || v.window_end === undefined) return { status: 400, body: '{"detail": "unknown placeholder"}' };
  const lo = utcTextMicros(v.window_start);
  const hi = utcTextMicros(v.window_end);
  let rows = options.events.filter((e) => e.timestamp >= lo && e.timestamp < hi);
  if (/^SELECT count\(\) FROM events/.test(q.query)) {
    return maybeGzip(req, JSON.stringify({ columns: ['count()'], types: [['count()', 'UInt64']], results: [[rows.length]], hasMore: false }));
  }
  if (!/ORDER BY timestamp ASC, toString\(uuid\) ASC/.test(q.query)) return { status: 400, body: '{"detail": "unsupported query in the fake"}' };
  if (q.query.includes('{after_timestamp}')) {
    if (v.after_timestamp === undefined || v.after_uuid === undefined) return { status: 400, body: '{"detail": "missing placeholder value"}' };
    const ts = utcTextMicros(v.after_timestamp);
    const uuid = v.after_uuid;
    rows = rows.filter((e) => e.timestamp > ts || (e.timestamp === ts && e.uuid > uuid));
  }
  rows.sort((a, b) => a.timestamp - b.timestamp || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  const limit = Number(/LIMIT (\d+)\s*$/.exec(q.query)?.[1] ?? 100);
  const take = Math.min(limit, options.pageCap ?? Infinity);
  const page = rows.slice(0, take);
  const capped = page.length < Math.min(limit, rows.length);
  const columns = ['uuid', 'event', 'distinct_id', 'person_id', 'properties', 'timestamp', 'created_at', 'elements_chain'];
  const results = page.map((e) => [e.uuid, e.event, e.distinct_id, e.person_id, JSON.stringify(e.properties), renderTimestamp(e.timestamp), renderTimestamp(e.timestamp + 2_000_000), e.elements_chain]);
  const hasMore = capped ? options.honestCap !== false : rows.length > limit;
  return maybeGzip(req, JSON.stringify({ columns, results, hasMore: capped && options.honestCap === false ? undefined : hasMore, is_cached: false }), {
    'content-type': 'application/json',
  });
}

export async function startPosthogFake(options: PosthogFakeOptions): Promise<FakeVendorServer> {
  return FakeVendorServer.start((req) => handle(options, req));
}

/**
 * `count` events between `from` and `to` (ms), deterministic; every `tie`-th group of events shares one timestamp
 * (so page boundaries fall inside runs of equal timestamps), uuids are not in time order.
 */
export function posthogEvents(count: number, from: number, to: number, tie = 7): PosthogFakeEvent[] {
  const step = Math.max(1, Math.floor(((to - from) * 1000) / count));
  return Array.from({ length: count }, (_, i) => {
    const group = Math.floor(i / tie);
    const ts = from * 1000 + group * tie * step + 123;
    const scrambled = ((i * 7919) % 100_000).toString(16).padStart(8, '0');
    return {
      uuid: `${scrambled}-0000-7000-8000-${String(i).padStart(12, '0')}`,
      event: i % 5 === 0 ? '$pageview' : '$autocapture',
      distinct_id: `distinct-${i % 11}`,
      person_id: `0190aaaa-0000-7000-8000-${String(i % 11).padStart(12, '0')}`,
      properties: { $current_url: `https://app.example.com/x/${i % 9}`, $session_id: `sess-${i % 4}`, $lib: 'web', email: `person${i}@example.com` },
      timestamp: ts,
      elements_chain: i % 5 === 0 ? '' : 'button:text="Save"nth-child="1"',
    };
  });
}
