/**
 * Measures the scanners on a labelled corpus (__fixtures__/pii-corpus.ts: about 7,700 labelled values of every
 * kind and 8,000 look-alikes) and checks that the SQL masker gives exactly the TypeScript output on all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../core/config-schema.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { buildCorpus, Rng, type CorpusItem } from './__fixtures__/pii-corpus.js';
import { maskJsonText } from './pii-json.js';
import { PII_KINDS } from './pii-kinds.js';
import { findPii, maskText, scannersFrom } from './pii-scanners.js';
import { WarehouseMasking } from './pii-warehouse-masking.js';

const RECALL = 0.99;
const PRECISION = 0.95;
/** Per kind, precision may dip below the overall target where look-alikes are genuinely ambiguous (see docs/governance.md). */
const KIND_PRECISION = 0.9;

const corpus = buildCorpus();
const all: CorpusItem[] = [...corpus.positives, ...corpus.negatives];

interface Counts {
  tp: number;
  fn: number;
  fp: number;
}

function measure(items: readonly CorpusItem[]): { byKind: Map<string, Counts>; total: Counts } {
  const byKind = new Map<string, Counts>(PII_KINDS.map((k) => [k, { tp: 0, fn: 0, fp: 0 }]));
  const total: Counts = { tp: 0, fn: 0, fp: 0 };
  for (const item of items) {
    const found = findPii(item.text).map((f) => ({ kind: f.kind, value: f.value }));
    for (const label of item.labels) {
      const i = found.findIndex((f) => f.kind === label.kind && f.value === label.value);
      const c = byKind.get(label.kind)!;
      if (i >= 0) {
        found.splice(i, 1);
        c.tp++;
        total.tp++;
      } else {
        c.fn++;
        total.fn++;
      }
    }
    for (const f of found) {
      byKind.get(f.kind)!.fp++;
      total.fp++;
    }
  }
  return { byKind, total };
}

const recall = (c: Counts): number => c.tp / (c.tp + c.fn);
const precision = (c: Counts): number => c.tp / (c.tp + c.fp);

describe('pii scanners on the labelled corpus', () => {
  it('has several thousand positives across every kind and several thousand look-alikes', () => {
    expect(corpus.positives.length).toBeGreaterThan(5000);
    expect(corpus.negatives.length).toBeGreaterThan(5000);
    const kinds = new Set(corpus.positives.flatMap((p) => p.labels.map((l) => l.kind)));
    expect([...kinds].sort()).toEqual([...PII_KINDS].sort());
  });

  it(`finds ≥ ${RECALL * 100}% of the labelled values with ≥ ${PRECISION * 100}% precision, overall and per kind`, () => {
    const { byKind, total } = measure(all);
    const rows = [...byKind.entries()].map(([kind, c]) => `${kind.padEnd(7)} recall ${(recall(c) * 100).toFixed(2)}%  precision ${(precision(c) * 100).toFixed(2)}%  (tp ${c.tp}, fn ${c.fn}, fp ${c.fp})`);
    rows.push(`overall recall ${(recall(total) * 100).toFixed(2)}%  precision ${(precision(total) * 100).toFixed(2)}%  (tp ${total.tp}, fn ${total.fn}, fp ${total.fp})`);
    console.log(rows.join('\n'));
    expect(recall(total)).toBeGreaterThanOrEqual(RECALL);
    expect(precision(total)).toBeGreaterThanOrEqual(PRECISION);
    for (const [kind, c] of byKind) {
      expect(recall(c), `${kind} recall`).toBeGreaterThanOrEqual(RECALL);
      expect(precision(c), `${kind} precision`).toBeGreaterThanOrEqual(KIND_PRECISION);
    }
  });

  it('masks every labelled value with its typed mask and leaves no finding behind', () => {
    for (const item of corpus.positives) {
      const masked = maskText(item.text);
      expect(findPii(masked), item.text).toEqual([]);
      for (const label of item.labels) expect(masked, item.text).toContain(label.kind === 'secret' && label.value.endsWith('@') ? '[secret]@' : `[${label.kind}]`);
    }
  });
});

describe('the SQL masker gives the TypeScript output on the whole corpus', () => {
  let session: DuckdbSession;
  beforeAll(async () => {
    session = await DuckdbSession.open({ path: ':memory:', threads: 2 });
  });
  afterAll(() => session.close());

  async function load(table: string, columns: string, rows: readonly (readonly (string | null)[])[]): Promise<void> {
    await session.run(`CREATE OR REPLACE TABLE ${table} (${columns})`);
    const width = rows[0]?.length ?? 0;
    for (let i = 0; i < rows.length; i += 300) {
      const batch = rows.slice(i, i + 300);
      const placeholders = batch.map((_, r) => `(${Array.from({ length: width }, (_x, c) => `$${r * width + c + 1}`).join(', ')})`);
      await session.run(`INSERT INTO ${table} VALUES ${placeholders.join(', ')}`, batch.flat() as string[]);
    }
  }

  it('texts: identical output for every corpus text (default scanners)', async () => {
    await load('texts', 'id VARCHAR, page_url VARCHAR', all.map((item, i) => [String(i), item.text]));
    const masking = await WarehouseMasking.open(session, configSchema.parse({}).pii, {});
    const sql = await masking.maskedRelation('texts', [{ column: 'page_url', as: 'page_url' }]);
    const rows = await session.all<{ id: string; page_url: string }>(`SELECT id, page_url FROM (${sql})`);
    expect(rows.length).toBe(all.length);
    const mismatches = rows.filter((r) => r.page_url !== maskText(all[Number(r.id)]!.text));
    expect(mismatches.slice(0, 5).map((r) => ({ text: all[Number(r.id)]!.text, sql: r.page_url, ts: maskText(all[Number(r.id)]!.text) }))).toEqual([]);
    await masking.close();
  });

  it('texts: identical output with custom patterns, a keep list and some kinds switched off', async () => {
    const pii = configSchema.parse({
      pii: {
        scan: { kinds: ['email', 'card', 'ip', 'phone'], custom: [{ name: 'order_ref', pattern: 'ORD-[0-9]{4}-[0-9]{6}' }, { name: 'ticket', pattern: '^TCK[0-9]+$', ignore_case: true }] },
        keep: ['support@example\\.com', '10\\.[0-9.]+'],
      },
    }).pii;
    const extra = ['support@example.com and anna@example.com', 'tck123', 'TCK9 x', 'hosts 10.1.2.3 and 11.1.2.3', 'ORD-2024-000123 shipped'];
    const texts = [...all.slice(0, 4000).map((i) => i.text), ...all.slice(-3000).map((i) => i.text), ...extra];
    await load('texts2', 'id VARCHAR, page_url VARCHAR, element_text VARCHAR', texts.map((t, i) => [String(i), t, t.toUpperCase()]));
    const masking = await WarehouseMasking.open(session, pii, {});
    const sql = await masking.maskedRelation('texts2', [
      { column: 'page_url', as: 'page_url' },
      { column: 'element_text', as: 'element_text' },
    ]);
    const rows = await session.all<{ id: string; page_url: string; element_text: string }>(`SELECT id, page_url, element_text FROM (${sql})`);
    const scanners = scannersFrom(pii);
    const bad = rows.filter((r) => r.page_url !== maskText(texts[Number(r.id)]!, scanners) || r.element_text !== maskText(texts[Number(r.id)]!.toUpperCase(), scanners));
    expect(bad.slice(0, 5)).toEqual([]);
    expect(maskText('support@example.com and anna@example.com', scanners)).toBe('support@example.com and [email]');
    expect(maskText('tck123', scanners)).toBe('[custom:ticket]');
    expect(maskText('ORD-2024-000123 shipped', scanners)).toBe('[custom:order_ref] shipped');
    await masking.close();
  });

  it('JSON: identical documents for corpus values placed in JSON (members, nesting, numbers, escapes)', async () => {
    const rng = new Rng(7);
    const docs: string[] = [];
    for (let i = 0; i < all.length; i += 3) {
      const a = all[i]!.text;
      const b = all[(i + 1) % all.length]!.text;
      const c = all[(i + 2) % all.length]!.text;
      const doc: Record<string, unknown> = {
        note: a,
        nested: { list: [b, rng.int(0, 1e6), null, true], deeper: { text: c } },
        count: rng.int(0, 1000),
        $ip: `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      };
      if (i % 9 === 0) doc.email = a;
      // Card numbers (and a timestamp) written as JSON numbers.
      if (i % 12 === 0) doc.id = rng.pick([4111111111111111, 5500005555555559, 4012888888881881, 1710000000123456, 3530111333300000]);
      if (i % 15 === 0) doc.multiline = `${a}\n${b}\t"quoted"`;
      if (i % 21 === 0) doc[a.slice(0, 30)] = 'a key made of corpus text';
      if (i % 24 === 0) doc.address = { street: b, n: [1, { deep: { deeper: { deepest: c } } }] };
      docs.push(JSON.stringify(doc));
    }
    await load('docs', 'id VARCHAR, properties JSON', docs.map((d, i) => [String(i), d]));
    const pii = configSchema.parse({}).pii;
    const masking = await WarehouseMasking.open(session, pii, {});
    const sql = await masking.maskedRelation('docs', [{ column: 'properties', as: 'properties' }]);
    const rows = await session.all<{ id: string; properties: string }>(`SELECT id, CAST(properties AS VARCHAR) AS properties FROM (${sql})`);
    expect(rows.length).toBe(docs.length);
    const ctx = { scanners: masking.policy.scanners, rules: masking.policy.members.properties, key: undefined, column: 'properties' };
    const bad = rows.filter((r) => JSON.stringify(JSON.parse(r.properties)) !== JSON.stringify(JSON.parse(maskJsonText(docs[Number(r.id)]!, ctx))));
    expect(bad.slice(0, 3).map((r) => ({ sql: r.properties, ts: maskJsonText(docs[Number(r.id)]!, ctx) }))).toEqual([]);
    await masking.close();
  });
});
