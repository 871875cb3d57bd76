/**
 * The demo plants PII in free-text properties (src/demo/planted-pii.ts); none of it may reach exports/ (the demo
 * masks its vendor records as `usagelab export` does) or the warehouse, and `pii scan` must find nothing in
 * either. The planted values are regenerated here from the seed; the workspace never holds them in plaintext.
 * A small demo (150 people, one month) keeps this to well under a minute on an idle machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { plantedPiiPool, PLANTED_KINDS } from '../demo/planted-pii.js';
import { readAvro, readZip } from '../demo/__fixtures__/read-demo-files.js';
import { scanFiles, scanWarehouse } from '../governance/pii-scan.js';
import { scannersFrom } from '../governance/pii-scanners.js';
import { stringifyLossless } from '../sources/export/lossless-json.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { runDemo } from './run-demo.js';
import { openWorkspace } from './workspace.js';

const SEED = 42;
const pool = plantedPiiPool(SEED);
const secrets = [...new Set(pool.flatMap((v) => v.secrets))];

let tmp: TempWorkspace;
/** Every exports/ file's text (decompressed; Avro rows as JSON lines), by path relative to exports/. */
const texts = new Map<string, string>();

async function readAll(dir: string, root: string): Promise<void> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      await readAll(path, root);
      continue;
    }
    const key = relative(root, path);
    if (name.endsWith('.zip')) {
      for (const [member, data] of await readZip(path)) texts.set(`${key}!${member}`, (member.endsWith('.gz') ? gunzipSync(data) : data).toString('utf8'));
    } else if (name.endsWith('.gz')) {
      texts.set(key, gunzipSync(readFileSync(path)).toString('utf8'));
    } else if (name.endsWith('.avro')) {
      texts.set(key, (await readAvro(path)).records.map((r) => stringifyLossless(r)).join('\n'));
    } else {
      texts.set(key, readFileSync(path, 'utf8'));
    }
  }
}

beforeAll(async () => {
  tmp = tempWorkspace('version: 1\npii:\n  hash_key: demo-pii-test-key-0123456789abcdef\n');
  await runDemo(tmp.dir, { people: 150, months: 1, seed: SEED, now: new Date('2026-11-28T00:00:00Z') });
  await readAll(join(tmp.dir, 'exports'), join(tmp.dir, 'exports'));
}, 600_000);
afterAll(() => tmp?.cleanup());

describe('PII the demo plants', () => {
  it('has every kind in the pool, and reaches the files masked: the carrying texts are there, the values are not', () => {
    expect(new Set(pool.map((v) => v.kind))).toEqual(new Set(PLANTED_KINDS));
    const leaks = [...texts].flatMap(([file, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${file}: ${pool.find((v) => v.secrets.includes(s))!.kind}`));
    expect(leaks).toEqual([]);
    const all = [...texts.values()].join('\n');
    // The planted texts made it into the vendor files (so the check above is not vacuous), with masks in place.
    expect(all).toContain('Please add [email] to the workspace');
    expect(all).toContain('Call me back on [phone] after 3pm');
    expect(all).toContain('My number is [phone], thanks');
    expect(all).toContain('Sync fails from office IP [ip] since Monday');
    expect(all).toContain('Our VPN exits at [ip] - please allow it');
    expect(all).toContain('"billing_form_input"');
    expect(all).toContain('/invite/accept?email=[email]&token=[token]');
    expect(all).toContain('https://app.acmeboards.com/share/[token]');
  });

  it('is in no text or JSON column of any warehouse table', async () => {
    const ws = await openWorkspace(tmp.dir, { env: {} });
    try {
      const columns = await ws.warehouse.all<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'main' AND (data_type = 'VARCHAR' OR data_type = 'JSON' OR data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%' OR data_type LIKE '%[]')
         ORDER BY table_name, column_name`,
      );
      expect(columns.some((c) => c.table_name === 'events' && c.column_name === 'properties')).toBe(true);
      const pattern = secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
      const leaks: string[] = [];
      for (const { table_name: table, column_name: column } of columns) {
        const rows = await ws.warehouse.all<{ n: number | bigint }>(
          `SELECT count(*) AS n FROM "${table}" WHERE regexp_matches(CAST("${column}" AS VARCHAR), $1)`,
          [pattern],
        );
        if (Number(rows[0]!.n) > 0) leaks.push(`${table}.${column}: ${Number(rows[0]!.n)}`);
      }
      expect(leaks).toEqual([]);
      const scan = await scanWarehouse(ws.warehouse, scannersFrom(ws.config.pii));
      expect(scan.findings).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it('leaves nothing `pii scan` finds in exports/', async () => {
    const scan = await scanFiles([join(tmp.dir, 'exports')], scannersFrom({ scan: { kinds: ['email', 'phone', 'card', 'ip', 'token', 'secret'], custom: [] }, keep: [] }));
    expect(scan.scanned.files).toBeGreaterThan(0);
    expect(scan.findings).toEqual([]);
  });
});
