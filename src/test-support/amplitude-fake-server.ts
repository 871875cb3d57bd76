/**
 * Test helper: Amplitude's Export API as documented (vendor-export-apis.md §2) — `GET /api/2/export?start=&end=`
 * with YYYYMMDDTHH hours, both included, selecting by server_upload_time; Basic auth api_key:secret_key; a zip of
 * gzipped NDJSON members named `<app>/<app>_<YYYY-MM-DD>_<hour>#<n>.json.gz`; 404 for a range without data; 400
 * when a range is "too large" (the test decides which ranges are).
 */
import { zipSync } from 'fflate';
import { gzipSync } from 'node:zlib';
import { basicCredentials, FakeVendorServer, type FakeResponse } from './fake-vendor-server.js';

export interface AmplitudeFakeOptions {
  readonly apiKey: string;
  readonly secretKey: string;
  readonly app?: number;
  /** Export records; each must have server_upload_time "YYYY-MM-DD HH:MM:SS.ffffff". */
  readonly events: readonly Record<string, unknown>[];
  /** Ranges (ms, end exclusive) the server refuses as larger than its 4 GB limit. */
  readonly tooLarge?: (start: number, end: number) => boolean;
  /** Events per member before a second member (#1) is started for the hour. */
  readonly memberSize?: number;
}

const HOUR = 3_600_000;

function parseHour(text: string | null): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})$/.exec(text ?? '');
  return m === null ? undefined : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

function uploadHour(record: Record<string, unknown>): number {
  const t = String(record.server_upload_time);
  return Math.floor(Date.parse(`${t.slice(0, 19).replace(' ', 'T')}Z`) / HOUR) * HOUR;
}

/** Wire lines with big ids kept exact (the fixture writes them as bare digits). */
function line(record: Record<string, unknown>): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? `@@big:${v}` : v)).replace(/"@@big:(-?\d+)"/g, '$1');
}

export async function startAmplitudeFake(options: AmplitudeFakeOptions): Promise<FakeVendorServer> {
  const app = options.app ?? 187520;
  const memberSize = options.memberSize ?? 1000;
  return FakeVendorServer.start((req): FakeResponse => {
    if (req.path !== '/api/2/export') return { status: 404, body: 'not found' };
    const creds = basicCredentials(req);
    if (creds?.user !== options.apiKey || creds.password !== options.secretKey) return { status: 401, body: 'Invalid API key or secret' };
    const start = parseHour(req.query.get('start'));
    const last = parseHour(req.query.get('end'));
    if (start === undefined || last === undefined || last < start) return { status: 400, body: 'Invalid start or end' };
    const end = last + HOUR;
    if (options.tooLarge?.(start, end) === true) return { status: 400, body: 'Raw data files were too large to export' };
    const byHour = new Map<number, Record<string, unknown>[]>();
    for (const e of options.events) {
      const h = uploadHour(e);
      if (h < start || h >= end) continue;
      let list = byHour.get(h);
      if (list === undefined) byHour.set(h, (list = []));
      list.push(e);
    }
    if (byHour.size === 0) return { status: 404, body: 'No data for the requested time range' };
    const files: Record<string, Uint8Array> = {};
    for (const [h, events] of [...byHour.entries()].sort((a, b) => a[0] - b[0])) {
      const d = new Date(h);
      const date = d.toISOString().slice(0, 10);
      for (let part = 0; part * memberSize < events.length; part++) {
        const lines = events.slice(part * memberSize, (part + 1) * memberSize).map(line).join('\n');
        files[`${app}/${app}_${date}_${d.getUTCHours()}#${part}.json.gz`] = gzipSync(`${lines}\n`);
      }
    }
    return { status: 200, headers: { 'content-type': 'application/zip' }, body: Buffer.from(zipSync(files, { level: 0 })) };
  });
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Amplitude's wire time format: naive UTC with microseconds. */
export function amplitudeTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`;
}

/**
 * `count` events uploaded evenly between `from` and `to` (ms), deterministic. Each has a unique uuid, an
 * amplitude_id above 2^53 (to prove ids survive), and an e-mail in its event properties (for masking tests).
 */
export function amplitudeEvents(count: number, from: number, to: number): Record<string, unknown>[] {
  const step = (to - from) / count;
  return Array.from({ length: count }, (_, i) => {
    const uploaded = Math.floor(from + i * step);
    return {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      event_type: i % 3 === 0 ? '[Amplitude] Page Viewed' : 'clicked_button',
      user_id: `user-${i % 17}`,
      device_id: `device-${i % 23}`,
      amplitude_id: 9007199254740993n + BigInt(i),
      event_id: i,
      session_id: 1710000000000 + (i % 5),
      event_time: amplitudeTime(uploaded - 30_000),
      server_upload_time: amplitudeTime(uploaded),
      server_received_time: amplitudeTime(uploaded),
      client_event_time: amplitudeTime(uploaded - 30_000),
      event_properties: { '[Amplitude] Page URL': `https://app.example.com/p/${i}`, contact: `person${i}@example.com` },
      user_properties: { plan: i % 2 === 0 ? 'pro' : 'free' },
      platform: 'Web',
      country: 'Netherlands',
    };
  });
}
