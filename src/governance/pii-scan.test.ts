/**
 * `pii scan` on files of every readable format and on a warehouse: findings by kind and field with their places,
 * exact counts, never the values; masked data scans clean.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ev, insertEvents, openTestWarehouse } from '../test-support/analysis-events.js';
import { hashValue } from './pii-hash.js';
import { scanFiles, scanWarehouse, type ScanReport } from './pii-scan.js';
import { DEFAULT_SCANNERS, scannersFrom } from './pii-scanners.js';

const summary = (r: ScanReport): string[] => r.findings.map((f) => `${f.kind} ${f.field} ${f.count} @ ${f.locations.map((l) => l.replace(/^.*\//, '')).join(', ')}`);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pii-scan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('pii scan: files', () => {
  it('reads NDJSON, JSON arrays, CSV (quoted line breaks), gzipped text; skips binary formats; masked values are not findings', async () => {
    const w = (name: string, content: string | Buffer): string => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    w(
      'events.ndjson',
      [
        JSON.stringify({ user: { email: 'a@b.co' }, url: 'https://x.co/?token=abc123', n: 4111111111111111, t: 1710000000123 }),
        JSON.stringify({ ok: 'nothing here', masked: '[email] [phone]', h: hashValue('k'.repeat(16), 'x'), ip: '81.2.3.0' }),
        'not json, mail bob@example.com',
      ].join('\n'),
    );
    w('events.json', JSON.stringify([{ ip: '81.2.3.4', list: ['+44 20 7946 0958', 'x'] }, { url: 'https://x.co/?email=[email]' }]));
    w('data.csv', 'id,comment,phone\n1,"line one\nmail bob@example.com, thanks",+1 (415) 555-2671\n2,plain,none\n');
    w('log.txt.gz', gzipSync('started\nclient 10.1.2.3 connected\n'));
    w('export.parquet', Buffer.from('PAR1 binary'));
    const report = await scanFiles([dir], DEFAULT_SCANNERS);
    expect(summary(report)).toEqual([
      'card n 1 @ events.ndjson:1',
      'email (text) 1 @ events.ndjson:3',
      'email comment 1 @ data.csv:2',
      'email user.email 1 @ events.ndjson:1',
      'ip (text) 1 @ log.txt.gz:2',
      'ip ip 1 @ events.json:#1',
      'phone list[] 1 @ events.json:#1',
      'phone phone 1 @ data.csv:2',
      'token url 1 @ events.ndjson:1',
    ]);
    expect(report.total).toBe(9);
    expect(report.scanned.files).toBe(4);
    expect(report.scanned.records).toBe(3 + 2 + 2 + 2);
    expect(report.skipped.map((s) => s.path.replace(/^.*\//, ''))).toEqual(['export.parquet']);
    expect(JSON.stringify(report)).not.toMatch(/a@b\.co|bob@example|abc123|4111|81\.2\.3\.4|7946|555-2671|10\.1\.2\.3/);
  });

  it("uses the policy's scanners: kinds off, custom patterns, keep list", async () => {
    writeFileSync(join(dir, 'a.txt'), 'ORD-123456 by anna@example.com, support@example.com, 1.2.3.4\n');
    const scanners = scannersFrom({ scan: { kinds: ['email'], custom: [{ name: 'order_ref', pattern: 'ORD-[0-9]{6}', ignore_case: false }] }, keep: ['support@example\\.com'] });
    expect(summary(await scanFiles([join(dir, 'a.txt')], scanners))).toEqual(['custom:order_ref (text) 1 @ a.txt:1', 'email (text) 1 @ a.txt:1']);
  });

  it('a missing path is an error naming it', async () => {
    await expect(scanFiles([join(dir, 'nope')], DEFAULT_SCANNERS)).rejects.toMatchObject({ code: 'pii_scan_path_missing' });
  });
});

describe('pii scan: warehouse', () => {
  it('finds what was not masked, by column and JSON path, in batches; identity tables too', async () => {
    const session = await openTestWarehouse();
    try {
      const events = [
        ev('p1', '2024-03-10T10:00:00Z', 'page', { page_url: 'https://x.co/u/bob@example.com', properties: { $ip: '81.2.3.4', nested: { phone: '+44 20 7946 0958' } } }),
        ev('p2', '2024-03-10T10:01:00Z', 'page', { page_url: 'https://x.co/u/[email]', properties: { $ip: '81.2.3.0' }, user_properties: { email: null } }),
        ev('p3', '2024-03-10T10:02:00Z', 'signup', { user_id: 'anna@example.com', element_text: 'Card 4111 1111 1111 1111' }),
        ...Array.from({ length: 5 }, (_, i) => ev(`q${i}`, '2024-03-10T11:00:00Z', 'click', { element_selector: `a[href="mailto:q${i}@example.com"]` })),
      ];
      await insertEvents(session, events);
      await session.run(`INSERT INTO identity_links VALUES ('generic', 'dev-1', 'anna@example.com', NULL, now())`);
      const report = await scanWarehouse(session, DEFAULT_SCANNERS, 2);
      expect(report.findings.map((f) => `${f.kind} ${f.field} ${f.count}`)).toEqual([
        'email element_selector 5',
        'card element_text 1',
        'email identity_links.user_id 1',
        'email page_url 1',
        'email user_id 1',
        'ip properties.$ip 1',
        'phone properties.nested.phone 1',
      ]);
      expect(report.total).toBe(11);
      expect(report.scanned.records).toBe(8);
      expect(report.findings.find((f) => f.field === 'element_selector')!.locations).toHaveLength(5);
      expect(report.findings.find((f) => f.field === 'page_url')!.locations[0]).toMatch(/^events event_id=[0-9a-f-]{36}$/);
    } finally {
      session.close();
    }
  });

  it('an empty warehouse scans clean', async () => {
    const session = await openTestWarehouse();
    try {
      const report = await scanWarehouse(session, DEFAULT_SCANNERS);
      expect(report).toMatchObject({ target: 'warehouse', total: 0, findings: [] });
    } finally {
      session.close();
    }
  });
});
