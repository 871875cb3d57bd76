/**
 * PII masking during import: a PostHog export with personal data planted in URLs, element text, properties and
 * identifiers; after the import no planted value is anywhere in the warehouse — not in a query over every table,
 * not in the bytes of the DuckDB file — while identity still resolves (hashed ids are stable).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashValue } from '../../governance/pii-hash.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';

const KEY = 'import-test-key-0123456789';

const PLANTED = [
  'anna@example.com',
  'anna%40example.com',
  'tok_abcdef123456',
  '81.2.3.4',
  '7946 0958',
  '4111111111111111',
  '4111 1111 1111 1111',
  'Anna Smith',
  '2001:db8:85a3::8a2e:370:7334',
  'bob@example.org',
  'hunter2pass',
];

const uuid = (n: number): string => `0190a1b2-0000-7000-8000-${String(n).padStart(12, '0')}`;

function posthogExport(): string {
  return ndjson([
    {
      uuid: uuid(1),
      event: '$pageview',
      distinct_id: 'dev-1',
      timestamp: '2024-03-10T10:00:00Z',
      properties: {
        $device_id: 'dev-1',
        $session_id: 's-1',
        $current_url: 'https://app.example.com/reset?token=tok_abcdef123456&email=anna%40example.com',
        $referrer: 'https://mail.example.com/?u=anna@example.com',
        $ip: '81.2.3.4',
        note: 'call +44 20 7946 0958',
        card: 4111111111111111,
        $set: { email: 'anna@example.com', name: 'Anna Smith' },
      },
    },
    {
      uuid: uuid(2),
      event: '$identify',
      distinct_id: 'anna@example.com',
      timestamp: '2024-03-10T10:01:00Z',
      properties: { $device_id: 'dev-1', $anon_distinct_id: 'dev-1', $session_id: 's-1', $set: { email: 'anna@example.com', name: 'Anna Smith' } },
    },
    {
      uuid: uuid(3),
      event: '$autocapture',
      distinct_id: 'anna@example.com',
      timestamp: '2024-03-10T10:02:00Z',
      properties: { $device_id: 'dev-1', $session_id: 's-1', $event_type: 'click', $el_text: 'Email me at anna@example.com', $current_url: 'https://app.example.com/u/anna@example.com/settings' },
    },
    {
      uuid: uuid(4),
      event: 'payment_failed',
      distinct_id: 'anna@example.com',
      timestamp: '2024-03-10T10:03:00Z',
      properties: { $device_id: 'dev-1', $session_id: 's-1', detail: 'card 4111 1111 1111 1111 from 2001:db8:85a3::8a2e:370:7334', login: 'https://anna:hunter2pass@db.example.com/' },
    },
    {
      uuid: uuid(5),
      event: 'note',
      distinct_id: 'dev-2',
      timestamp: '2024-03-10T10:04:00Z',
      properties: { $device_id: 'dev-2', text: 'line one\nwrite to bob@example.org "soon"' },
    },
  ]);
}

/** Every text of every table that holds event data, as one list of strings. */
async function everything(ws: Awaited<ReturnType<TempWorkspace['open']>>): Promise<string[]> {
  const rows = await ws.sql<{ v: string | null }>(`
    SELECT unnest([source_event_id, event_name, user_id, anonymous_id, vendor_session_id, page_url, page_path, referrer, element_text,
      element_selector, CAST(properties AS VARCHAR), CAST(user_properties AS VARCHAR), person_id, session_id]) AS v FROM events
    UNION ALL SELECT unnest([anonymous_id, user_id, other_anonymous_id]) FROM identity_links
    UNION ALL SELECT unnest([anonymous_id, person_id]) FROM identity_map
    UNION ALL SELECT unnest([person_id, landing_path]) FROM sessions`);
  return rows.map((r) => r.v).filter((v): v is string => v !== null);
}

function fileBytes(dir: string): Buffer {
  const db = join(dir, '.usagelab', 'warehouse.duckdb');
  return Buffer.concat([readFileSync(db), existsSync(`${db}.wal`) ? readFileSync(`${db}.wal`) : Buffer.alloc(0)]);
}

let ws: TempWorkspace | undefined;
afterEach(() => ws?.cleanup());

describe('import masks PII before anything is written', () => {
  it('no planted value reaches the warehouse; identity still resolves through hashed ids', async () => {
    ws = tempWorkspace(`version: 1\npii:\n  hash_key: ${KEY}\n`);
    const file = ws.write('posthog.ndjson', posthogExport());
    const w = await ws.open();
    try {
      // Strings stored uncompressed, so that the byte check below would see any value that got in.
      await w.sql(`SET force_compression = 'uncompressed'`);
      const result = await w.import({ files: [file] });
      expect(result).toMatchObject({ imported: 5, rejected: 0 });
      const values = await everything(w);
      for (const planted of PLANTED) expect(values.filter((v) => v.includes(planted)), planted).toEqual([]);

      const anna = hashValue(KEY, 'anna@example.com');
      const events = await w.sql<Record<string, string | null>>(
        `SELECT source_event_id, user_id, anonymous_id, person_id, page_url, page_path, referrer, element_text, CAST(properties AS VARCHAR) AS properties,
           CAST(user_properties AS VARCHAR) AS user_properties FROM events ORDER BY source_event_id`,
      );
      expect(events.map((e) => e.user_id)).toEqual([null, anna, anna, anna, null]);
      // The anonymous page view joins Anna once her device is identified: one person, keyed by the hash.
      expect(events.slice(0, 4).map((e) => e.person_id)).toEqual(Array(4).fill(`u:${anna}`));
      expect(events[0]).toMatchObject({
        page_url: 'https://app.example.com/reset?token=[token]&email=[email]',
        page_path: '/reset',
        referrer: 'https://mail.example.com/?u=[email]',
      });
      expect(JSON.parse(events[0]!.properties!)).toMatchObject({ $ip: '81.2.3.0', note: 'call [phone]', card: '[card]', $set: null });
      expect(JSON.parse(events[1]!.user_properties!)).toEqual({ email: null, name: null });
      expect(events[2]).toMatchObject({ element_text: 'Email me at [email]', page_path: '/u/[email]/settings' });
      expect(JSON.parse(events[3]!.properties!)).toMatchObject({ detail: 'card [card] from [ip]', login: 'https://[secret]@db.example.com/' });
      expect(JSON.parse(events[4]!.properties!)).toMatchObject({ text: 'line one\nwrite to [email] "soon"' });
      const links = await w.sql<{ user_id: string }>(`SELECT DISTINCT user_id FROM identity_links WHERE user_id IS NOT NULL`);
      expect(links).toEqual([{ user_id: anna }]);

      // Re-importing the same file adds nothing: dedup keys do not depend on masking.
      expect(await w.import({ files: [file] })).toMatchObject({ imported: 0, duplicates: 5 });
    } finally {
      w.close();
    }
    const bytes = fileBytes(ws.dir);
    for (const planted of PLANTED) expect(bytes.includes(Buffer.from(planted)), planted).toBe(false);
    expect(bytes.includes(Buffer.from('[email]'))).toBe(true);
  });

  it('control: with every field kept, the planted values are in the file bytes (so the check above can see them)', async () => {
    const keepAll = ['user_id', 'anonymous_id', 'source_event_id', 'vendor_session_id', 'event_name', 'page_url', 'referrer', 'element_text', 'element_selector', 'properties', 'user_properties'];
    ws = tempWorkspace(`version: 1\npii:\n  fields:\n${keepAll.map((f) => `    ${f}: keep\n`).join('')}`);
    const file = ws.write('posthog.ndjson', posthogExport());
    const w = await ws.open();
    try {
      await w.sql(`SET force_compression = 'uncompressed'`);
      await w.import({ files: [file] });
    } finally {
      w.close();
    }
    const bytes = fileBytes(ws.dir);
    expect(bytes.includes(Buffer.from('anna@example.com'))).toBe(true);
    expect(bytes.includes(Buffer.from('tok_abcdef123456'))).toBe(true);
  });

  it('without a hash key, identifiers holding e-mail addresses stop the import before anything is written', async () => {
    ws = tempWorkspace('version: 1\n');
    const file = ws.write('posthog.ndjson', posthogExport());
    // Two files: their rows are combined (and masked) before the transaction opens, so a rollback alone would leave them.
    const second = ws.write('posthog-2.ndjson', posthogExport());
    const w = await ws.open();
    try {
      await expect(w.import({ files: [file, second] })).rejects.toMatchObject({ code: 'pii_key_missing', place: { field: 'user_id' } });
      expect(await w.sql(`SELECT count(*) AS n FROM events`)).toEqual([{ n: '0' }]);
      expect(await w.sql(`SELECT count(*) AS n FROM identity_links`)).toEqual([{ n: '0' }]);
      // Nothing of the failed import stays in the session.
      expect(
        await w.sql(`SELECT table_name AS name FROM duckdb_tables() WHERE temporary AND (starts_with(table_name, '_stage_') OR starts_with(table_name, '_import_'))
          UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND (starts_with(view_name, '_stage_') OR starts_with(view_name, '_import_'))`),
      ).toEqual([]);
    } finally {
      w.close();
    }
  });
});
