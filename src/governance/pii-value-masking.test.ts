/**
 * Masking value by value (the import's path) gives exactly what row-by-row masking gives, and counts what it
 * masked per field and kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../core/config-schema.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { WarehouseMasking } from './pii-warehouse-masking.js';
import { scanSlices } from './pii-value-masking.js';
import { truncateIp } from './pii-ip.js';
import { VALID } from './pii-patterns.js';
import type { MaskedColumn } from './pii-sql.js';

const KEY = 'FAKE-test-key-0000-value-masking';

const COLUMNS: MaskedColumn[] = [
  { column: 'source_event_id', as: 'source_event_id' },
  { column: 'user_id', as: 'user_id' },
  { column: 'page_url', as: 'page_url' },
  { column: 'element_text', as: 'element_text' },
  { column: 'properties', as: 'properties' },
];

// id, source_event_id, user_id, page_url, element_text, properties
const ROWS: (string | null)[][] = [
  ['1', 'e-1', 'u-1', 'https://app.example.com/a?email=anna@example.com', 'Save', '{"plan":"pro"}'],
  ['2', 'e-2', 'anna@example.com', 'https://app.example.com/a?email=anna@example.com', 'Save', '{"$ip":"81.2.3.4","plan":"pro"}'],
  ['3', 'bob@example.org', 'anna@example.com', 'https://app.example.com/b', 'Call +44 20 7946 0958', '{"note":"mail bob@example.org","email":"bob@example.org"}'],
  ['4', 'e-4', null, null, null, null],
  ['5', 'e-5', 'u-1', 'https://app.example.com/b', 'line\u001ewith separator anna@example.com', '{"text":"escaped \\" quote anna@example.com"}'],
  ['6', 'e-6', 'u-2', 'https://app.example.com/c?token=tok_abcdef123456', 'Save', '{"card":4111111111111111}'],
  // Escapes: \" alone cannot hide anything (not even a candidate); \u0040 and \/ can (masked in TypeScript).
  ['7', 'e-7', 'u-3', null, null, '{"chain":"input:attr__id=\\"email\\"nth-child=\\"2\\""}'],
  ['8', 'e-8', 'u-3', null, null, '{"hidden":"anna\\u0040example.com"}'],
  ['9', 'e-9', 'u-3', null, null, '{"url":"https:\\/\\/bob:pw@host.example.com\\/x"}'],
];

describe('value-by-value masking', () => {
  let session: DuckdbSession;

  beforeAll(async () => {
    session = await DuckdbSession.open({ path: ':memory:' });
    await session.run(`CREATE TABLE rows (id VARCHAR, source_event_id VARCHAR, user_id VARCHAR, page_url VARCHAR, element_text VARCHAR, properties JSON)`);
    const placeholders = ROWS.map((_, r) => `(${Array.from({ length: 6 }, (_x, c) => `$${r * 6 + c + 1}`).join(', ')})`);
    await session.run(`INSERT INTO rows VALUES ${placeholders.join(', ')}`, ROWS.flat() as string[]);
  });

  afterAll(() => session.close());

  it('gives row-by-row masking output on every row and column', async () => {
    const pii = configSchema.parse({ pii: { hash_key: KEY } }).pii;
    const masking = await WarehouseMasking.open(session, pii, {});
    const reference = await session.all<Record<string, string | null>>(
      `SELECT id, ${COLUMNS.map((c) => `CAST(${c.column} AS VARCHAR) AS ${c.column}`).join(', ')} FROM (${await masking.maskedRelation('rows', COLUMNS)}) ORDER BY id`,
    );
    const masks = await masking.maskValues('rows', COLUMNS);
    const byValue = await session.all<Record<string, string | null>>(
      `SELECT g.id, ${COLUMNS.map((c) => `CAST(${masks.column(c.column, 'g')} AS VARCHAR) AS ${c.column}`).join(', ')} FROM rows g ${masks.joins('g')} ORDER BY g.id`,
    );
    expect(byValue).toEqual(reference);
    // Sanity: masking did change the planted values (so equality above is not two unmasked copies).
    expect(byValue[1]!.page_url).toBe('https://app.example.com/a?email=[email]');
    expect(byValue[1]!.user_id).toMatch(/^h:[0-9a-f]{32}$/);
    expect(byValue[0]!.user_id).toBe('u-1');
    expect(byValue[6]!.properties).toBe(ROWS[6]![5]);
    expect(byValue[7]!.properties).toBe('{"hidden":"[email]"}');
    expect(byValue[8]!.properties).toBe('{"url":"https://[secret]@host.example.com/x"}');
    // Columns that hold nothing to mask are read as they are, with no join.
    expect(masks.mapped).toEqual(['source_event_id', 'user_id', 'page_url', 'element_text', 'properties']);
    await masking.close();
  });

  it('gives the same output whether the candidates are masked in one scan or in slices side by side', async () => {
    const pii = configSchema.parse({ pii: { hash_key: KEY } }).pii;
    const read = async (threads: number): Promise<Record<string, string | null>[]> => {
      await session.run(`SET threads = ${threads}`);
      const masking = await WarehouseMasking.open(session, pii, {});
      const masks = await masking.maskValues('rows', COLUMNS);
      const rows = await session.all<Record<string, string | null>>(
        `SELECT g.id, ${COLUMNS.map((c) => `CAST(${masks.column(c.column, 'g')} AS VARCHAR) AS ${c.column}`).join(', ')} FROM rows g ${masks.joins('g')} ORDER BY g.id`,
      );
      await masking.close();
      return rows;
    };
    try {
      const one = await read(1);
      expect(one[2]!.properties).toContain('[email]');
      expect(await read(4)).toEqual(one);
      expect(await read(3)).toEqual(one);
    } finally {
      await session.run('RESET threads');
    }
  });

  it('slices the candidates by the threads DuckDB has while their table is too small for DuckDB to scan in parallel', async () => {
    const host = (threads: number) => ({ all: async <T>() => [{ threads }] as T[] });
    expect(await scanSlices(host(4), 0)).toBe(1);
    expect(await scanSlices(host(4), 1)).toBe(1);
    expect(await scanSlices(host(4), 3)).toBe(3);
    expect(await scanSlices(host(4), 101_339)).toBe(4);
    expect(await scanSlices(host(1), 101_339)).toBe(1);
    expect(await scanSlices(host(2), 122_879)).toBe(2);
    // From 122,880 rows DuckDB scans the table with more than one thread itself.
    expect(await scanSlices(host(16), 122_880)).toBe(1);
  });

  it('counts masked values per field and kind, over the rows given', async () => {
    const pii = configSchema.parse({ pii: { hash_key: KEY } }).pii;
    const masking = await WarehouseMasking.open(session, pii, {});
    const masks = await masking.maskValues('rows', COLUMNS);
    const counts = await masks.counts(session, 'rows');
    const sorted = [...counts].sort((a, b) => `${a.field} ${a.kind}`.localeCompare(`${b.field} ${b.kind}`));
    expect(sorted).toEqual([
      { field: 'element_text', kind: 'email', values: 1 },
      { field: 'element_text', kind: 'phone', values: 1 },
      { field: 'page_url', kind: 'email', values: 2 },
      { field: 'page_url', kind: 'token', values: 1 },
      { field: 'properties', kind: 'card', values: 1 },
      { field: 'properties', kind: 'email', values: 3 },
      { field: 'properties', kind: 'member_rule', values: 2 },
      { field: 'properties', kind: 'secret', values: 1 },
      { field: 'source_event_id', kind: 'email', values: 1 },
      { field: 'source_event_id', kind: 'hashed', values: 1 },
      { field: 'user_id', kind: 'email', values: 2 },
      { field: 'user_id', kind: 'hashed', values: 2 },
    ]);
    // Over a subset of the rows (e.g. those an import actually wrote), only those rows count.
    const subset = await masks.counts(session, `(SELECT * FROM rows WHERE id IN ('1', '6'))`);
    expect(subset.sort((a, b) => `${a.field} ${a.kind}`.localeCompare(`${b.field} ${b.kind}`))).toEqual([
      { field: 'page_url', kind: 'email', values: 1 },
      { field: 'page_url', kind: 'token', values: 1 },
      { field: 'properties', kind: 'card', values: 1 },
    ]);
    await masking.close();
  });

  it('refuses identifiers holding personal data without a key, naming the column and the records', async () => {
    const pii = configSchema.parse({}).pii;
    const masking = await WarehouseMasking.open(session, pii, {});
    await expect(masking.maskValues('rows', COLUMNS)).rejects.toMatchObject({
      code: 'pii_key_missing',
      message: expect.stringContaining('source_event_id holds personal data (e.g. an e-mail address) in 1 record(s)') as unknown,
    });
    await expect(masking.maskValues('rows', COLUMNS.filter((c) => c.column !== 'source_event_id'))).rejects.toMatchObject({
      message: expect.stringContaining('user_id holds personal data (e.g. an e-mail address) in 2 record(s)') as unknown,
    });
    await masking.close();
  });

  it('drop, hash and truncate rules act on every non-null value and are counted as such', async () => {
    const pii = configSchema.parse({ pii: { hash_key: KEY, fields: { element_text: 'drop', page_url: 'hash', user_id: 'keep' } } }).pii;
    const masking = await WarehouseMasking.open(session, pii, {});
    const cols = COLUMNS.filter((c) => ['element_text', 'page_url', 'user_id'].includes(c.column));
    const masks = await masking.maskValues('rows', cols);
    const rows = await session.all<Record<string, string | null>>(
      `SELECT g.id, ${cols.map((c) => `${masks.column(c.column, 'g')} AS ${c.column}`).join(', ')} FROM rows g ${masks.joins('g')} ORDER BY g.id`,
    );
    expect(rows.map((r) => r.element_text)).toEqual([null, null, null, null, null, null, null, null, null]);
    expect(rows[2]!.user_id).toBe('anna@example.com');
    expect(rows[0]!.page_url).toMatch(/^h:[0-9a-f]{32}$/);
    expect(rows[3]!.page_url).toBeNull();
    const counts = await masks.counts(session, 'rows');
    expect(counts.sort((a, b) => a.field.localeCompare(b.field))).toEqual([
      { field: 'element_text', kind: 'dropped', values: 5 },
      { field: 'page_url', kind: 'hashed', values: 5 },
    ]);
    await masking.close();
  });

  it('knows the values truncate leaves as they are: exactly those, and every value it writes', () => {
    const fixed = new RegExp(`^(?:${VALID.truncatedValue})$`);
    const octets = ['0', '1', '9', '10', '01', '99', '100', '199', '200', '249', '250', '255', '256', '300', '000', '1000'];
    const values: string[] = [];
    for (const a of ['10', '203', '256', '01']) for (const c of octets) for (const d of octets) values.push(`${a}.0.${c}.${d}`);
    const groups = ['0', '00', '1', '01', 'a', 'A', 'db8', '0db8', 'fffF', 'ffff', '12345', ''];
    for (const a of groups) for (const b of groups) for (const c of groups) {
      for (const tail of ['::', '::1', ':0::', ':0:0:0:0:0:1', '']) values.push(`${a}:${b}:${c}${tail}`);
      values.push(`${a}::${c}`, `::${a}:${b}`, `${a}:${b}::`);
    }
    values.push('::', '::1', '1::', '1.2.3', 'unknown', '');
    let checked = 0;
    for (const v of values) {
      const t = truncateIp(v);
      // Nothing truncate would change is taken for a fixed point (that would let an address through unmasked)...
      if (fixed.test(JSON.stringify(v))) expect(t, v).toBe(v);
      // ...and everything truncate writes is one, so masked files are not masked again.
      if (t !== null) {
        expect(fixed.test(JSON.stringify(t)), t).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
    expect(fixed.test('null')).toBe(true);
    for (const v of ['5', 'true', '{"a":1}', '[]', '"10.0.0.1"', '"2001:db8::1"', '"2001:DB8::"', '"10.0.0.0 "']) expect(fixed.test(v), v).toBe(false);
  });

  it('does not mask documents again whose truncated members hold what truncate writes, and masks the others', async () => {
    const pii = configSchema.parse({ pii: { hash_key: KEY } }).pii;
    await session.run(`CREATE OR REPLACE TABLE ips (id VARCHAR, properties JSON)`);
    const docs = [
      '{"ip_address":"203.0.113.0","plan":"pro"}',
      '{"$ip":"198.51.100.0","nested":{"client_ip":null}}',
      '{"ip": "10.1.2.0" , "x":1}',
    ];
    await session.run(`INSERT INTO ips VALUES ${docs.map((_, i) => `('${i + 1}', $${i + 1})`).join(', ')}`, docs);
    const read = async (): Promise<{ mapped: readonly string[]; rows: Record<string, string | null>[] }> => {
      const masking = await WarehouseMasking.open(session, pii, {});
      const masks = await masking.maskValues('ips', [{ column: 'properties', as: 'properties' }]);
      const rows = await session.all<Record<string, string | null>>(`SELECT g.id, CAST(${masks.column('properties', 'g')} AS VARCHAR) AS properties FROM ips g ${masks.joins('g')} ORDER BY g.id`);
      const reference = await session.all<Record<string, string | null>>(
        `SELECT id, CAST(properties AS VARCHAR) AS properties FROM (${await masking.maskedRelation('ips', [{ column: 'properties', as: 'properties' }])}) ORDER BY id`,
      );
      expect(rows).toEqual(reference);
      await masking.close();
      return { mapped: masks.mapped, rows };
    };
    // Already truncated (what usagelab's exporters write): not even a candidate, so no table of masked values.
    const clean = await read();
    expect(clean.mapped).toEqual([]);
    expect(clean.rows.map((r) => r.properties)).toEqual(docs);

    const raw = [
      '{"ip_address":"203.0.113.7","plan":"pro"}',
      // (A "::" sends a document to the scanners anyway: the IPv6 gate; truncate leaves the network as it is.)
      '{"$ip":"2001:db8::"}',
      '{"$ip":"2001:db8:0:1::5"}',
      '{"nested":{"client_ip":"10.0.0.1"}}',
      '{"ip":5}',
      '{"ip":{"v":"10.0.0.1"}}',
      '{"ip":"10.1.2.0","IP_ADDRESS":"10.1.2.3"}',
    ];
    await session.run(`INSERT INTO ips VALUES ${raw.map((_, i) => `('${String.fromCharCode(97 + i)}', $${i + 1})`).join(', ')}`, raw);
    const mixed = await read();
    expect(mixed.mapped).toEqual(['properties']);
    expect(mixed.rows.map((r) => r.properties)).toEqual([
      ...docs,
      '{"ip_address":"203.0.113.0","plan":"pro"}',
      '{"$ip":"2001:db8::"}',
      '{"$ip":"2001:db8::"}',
      '{"nested":{"client_ip":"10.0.0.0"}}',
      '{"ip":null}',
      '{"ip":null}',
      '{"ip":"10.1.2.0","IP_ADDRESS":"10.1.2.0"}',
    ]);
  });
});
