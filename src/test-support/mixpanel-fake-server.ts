/**
 * Test helper: Mixpanel's raw export as documented (vendor-export-apis.md §3) — `GET /api/2.0/export?project_id=
 * &from_date=&to_date=` (dates included), service-account Basic auth plus project_id, NDJSON (gzip when
 * accepted). A record belongs to the date of its stored `time` read as UTC (which, for a pre-2023 project, is
 * its local wall-clock date: Mixpanel stored local time as if it were UTC). `today` bounds to_date like the real
 * API ("to_date cannot be later than today").
 */
import { basicCredentials, FakeVendorServer, maybeGzip, type FakeResponse } from './fake-vendor-server.js';

export interface MixpanelFakeOptions {
  readonly user: string;
  readonly secret: string;
  readonly projectId: string;
  readonly events: readonly { event: string; properties: Record<string, unknown> }[];
  /** YYYY-MM-DD; a later to_date is refused with 400. */
  readonly today?: string;
}

function storedDate(time: unknown): string {
  const n = Number(time);
  return new Date(n > 1e11 ? n : n * 1000).toISOString().slice(0, 10);
}

export async function startMixpanelFake(options: MixpanelFakeOptions): Promise<FakeVendorServer> {
  return FakeVendorServer.start((req): FakeResponse => {
    if (req.path !== '/api/2.0/export') return { status: 404, body: 'not found' };
    const creds = basicCredentials(req);
    if (creds?.user !== options.user || creds.password !== options.secret) return { status: 401, body: '{"error": "Invalid credentials"}' };
    if (req.query.get('project_id') !== options.projectId) return { status: 403, body: '{"error": "service account has no access to project"}' };
    const from = req.query.get('from_date') ?? '';
    const to = req.query.get('to_date') ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) return { status: 400, body: '{"error": "from_date and to_date are required"}' };
    if (options.today !== undefined && to > options.today) return { status: 400, body: '{"error": "to_date cannot be later than today"}' };
    const lines = options.events.filter((e) => {
      const d = storedDate(e.properties.time);
      return d >= from && d <= to;
    });
    return maybeGzip(req, lines.map((l) => `${JSON.stringify(l)}\n`).join(''), { 'content-type': 'text/plain; charset=utf-8' });
  });
}

/** `count` events spread evenly over [from, to) ms, deterministic; `time` in epoch seconds (UTC project). */
export function mixpanelEvents(count: number, from: number, to: number): { event: string; properties: Record<string, unknown> }[] {
  const step = (to - from) / count;
  return Array.from({ length: count }, (_, i) => {
    const at = Math.floor(from + i * step);
    return {
      event: i % 4 === 0 ? '$mp_web_page_view' : 'Clicked Button',
      properties: {
        time: Math.floor(at / 1000),
        distinct_id: `user-${i % 13}`,
        $device_id: `dev-${i % 19}`,
        $insert_id: `ins-${String(i).padStart(8, '0')}`,
        mp_processing_time_ms: at + 5_000,
        $current_url: `https://app.example.com/page/${i % 7}`,
        mp_lib: 'web',
        $email: `person${i}@example.com`,
      },
    };
  });
}
