/**
 * The masking rules one by one, with exact outputs, in TypeScript and in SQL (which must agree): scanners and
 * their masks, hashing, truncation, JSON member rules, the policy and its config, identifiers without a key.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../core/config-load.js';
import { configSchema, type PiiConfig } from '../core/config-schema.js';
import { UsageLabError } from '../core/errors.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { hashValue, hmacPads } from './pii-hash.js';
import { truncateIp } from './pii-ip.js';
import { maskJsonText } from './pii-json.js';
import { maskRecord } from './pii-mask.js';
import { piiPolicy, type PiiPolicy } from './pii-policy.js';
import { findPii, maskText } from './pii-scanners.js';
import { SqlMasker } from './pii-sql.js';
import { luhnValid } from './pii-validators.js';
import { WarehouseMasking } from './pii-warehouse-masking.js';

const KEY = 'test-key-0123456789abcdef';
const HOSTILE = "x'; DROP TABLE events; --";

const pii = (input: object = {}): PiiConfig => configSchema.parse({ pii: input }).pii;
const policyOf = (input: object = {}, env: NodeJS.ProcessEnv = {}): PiiPolicy => piiPolicy(pii(input), env);

/** Text in, masked text out (default scanners). */
const TEXT_CASES: readonly [string, string][] = [
  [HOSTILE, HOSTILE],
  ['Mail bob@example.com or call +1 (415) 555-2671', 'Mail [email] or call [phone]'],
  ['card 4111-1111-1111-1111, not 4111-1111-1111-1112', 'card [card], not 4111-1111-1111-1112'],
  ['from 192.168.0.17:443 via 2001:db8::7 and 10.0.0.0', 'from [ip]:443 via [ip] and 10.0.0.0'],
  [
    'https://anna:s3cret@db.example.com/x?token=abc123&email=a%40b.co#access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig',
    'https://[secret]@db.example.com/x?token=[token]&email=[email]#access_token=[token]',
  ],
  ['Authorization: Bearer abcdefghijklmnopqrstuvwxyz', 'Authorization: Bearer [token]'],
  ['version 1.2.3, build 10.0.19045.3803, v2.1.0.7', 'version 1.2.3, build 10.0.19045.3803, v2.1.0.7'],
  ['logo@2x.png and @scope/pkg@1.2.3', 'logo@2x.png and @scope/pkg@1.2.3'],
  ['020 7946 0958 / 06 12 34 56 78 / 01.02.2024', '[phone] / [phone] / 01.02.2024'],
  ['tel:+442079460958', 'tel:[phone]'],
  ['sk_test_FAKEfakeFAKEfake1234 AKIAFAKEFAKEFAKEFAKE', '[token] [token]'],
  ['?password=hunter2&pwd=x&client_secret=y&name=z', '?password=[secret]&pwd=[secret]&client_secret=[secret]&name=z'],
  ['?email=[email]&token=[token]', '?email=[email]&token=[token]'],
  ['user 4155552671 id 1710000000123 order 12345678', 'user 4155552671 id 1710000000123 order 12345678'],
  ['ünïcode bob@example.com 🙂', 'ünïcode [email] 🙂'],
];

describe('scanners: each kind masked with its typed mask', () => {
  it.each(TEXT_CASES)('%s', (input, expected) => {
    expect(maskText(input)).toBe(expected);
    expect(findPii(expected)).toEqual([]);
  });

  it('Luhn: known test numbers pass, one digit off fails', () => {
    expect(['4111111111111111', '5500005555555559', '378282246310005', '6011111111111117'].every(luhnValid)).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('scan.kinds switches scanners off; custom patterns mask as [custom:NAME]; keep lets values through', () => {
    const p = policyOf({ scan: { kinds: ['email'], custom: [{ name: 'order_ref', pattern: 'ORD-[0-9]{6}' }] }, keep: ['support@example\\.com'] });
    expect(maskText('ORD-123456 by anna@example.com, cc support@example.com, ip 1.2.3.4', p.scanners)).toBe(
      '[custom:order_ref] by [email], cc support@example.com, ip 1.2.3.4',
    );
  });
});

describe('UUIDs are not phone numbers', () => {
  it('leaves a UUID whose middle groups are all digits whole, and still finds a phone number beside it', () => {
    for (const id of ['61995373-0129-0499-0791-9279f29bd9d7', 'c4bbac87-0026-6949-53a9-1cbd99149a13', 'user_ADD7A048-0496-7197-0976-F3E18F21ADE3']) {
      expect(maskText(id)).toBe(id);
      expect(maskText(`{"$session_id":"${id}","tel":"call 0612 345 678"}`)).toBe(`{"$session_id":"${id}","tel":"call [phone]"}`);
    }
  });
});

describe('hash and truncate', () => {
  it('hash is HMAC-SHA256 keyed by the secret, "h:" + 32 hex digits, stable', () => {
    const expected = `h:${createHmac('sha256', KEY).update('anna@example.com').digest('hex').slice(0, 32)}`;
    expect(hashValue(KEY, 'anna@example.com')).toBe(expected);
    expect(hashValue(KEY, 'anna@example.com')).toMatch(/^h:[0-9a-f]{32}$/);
    expect(hashValue(`${KEY}x`, 'anna@example.com')).not.toBe(expected);
  });

  it.each([
    ['81.2.3.4', '81.2.3.0'],
    ['2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::'],
    ['2001:DB8::1', '2001:db8::'],
    ['::1', '::'],
    ['fe80:0:0:1::5', 'fe80::'],
    ['1:2:3:4:5:6:7:8', '1:2:3::'],
    ['0:0:1::', '0:0:1::'],
    ['not an ip', null],
    ['1.2.3.256', null],
    ['01.2.3.4', null],
  ])('truncate %s → %s', (input, expected) => {
    expect(truncateIp(input)).toBe(expected);
  });
});

describe('JSON: member rules by name at any depth, scanners on every string, valid JSON out', () => {
  const doc = JSON.stringify({
    EMAIL: 'a@b.co',
    $set: { name: 'x' },
    Email_Verified: true,
    user: { work_email: 'w@x.co', first_name: 'Ann' },
    ip_address: '10.1.2.3',
    phone: 5551234,
    plan: 'pro',
    n: 4111111111111111,
    t: 1710000000123,
    url: 'https://x.co/?email=a@b.co',
    address: { street: 'Main', n: [1, { a: { b: { c: 1 } } }] },
    home: { address: { street: 'x' } },
  });
  const expectedProperties = {
    EMAIL: null,
    $set: null,
    Email_Verified: true,
    user: { work_email: null, first_name: null },
    ip_address: '10.1.2.0',
    phone: null,
    plan: 'pro',
    n: '[card]',
    t: 1710000000123,
    url: 'https://x.co/?email=[email]',
    // Nested deeper than four levels: the rule cannot take the whole value; members inside go by their own names.
    address: { street: null, n: [1, { a: { b: { c: 1 } } }] },
    home: { address: null },
  };

  it('default rules for properties', () => {
    const p = policyOf();
    expect(JSON.parse(maskJsonText(doc, { scanners: p.scanners, rules: p.members.properties, key: undefined, column: 'properties' }))).toEqual(expectedProperties);
  });

  it('default rules for user_properties drop names; IPv6 is truncated to /48', () => {
    const p = policyOf();
    const u = JSON.stringify({ name: 'Ann Lee', plan: 'pro', user_display_name: 'Ann', $name: 'x', Name: 'y', company: 'Acme', ip: '2001:db8:1:2::5' });
    expect(JSON.parse(maskJsonText(u, { scanners: p.scanners, rules: p.members.user_properties, key: undefined, column: 'user_properties' }))).toEqual({
      name: null,
      plan: 'pro',
      user_display_name: null,
      $name: null,
      Name: null,
      company: 'Acme',
      ip: '2001:db8:1::',
    });
  });

  it("the team's rules come first: keep, hash, hash_if_pii", () => {
    const p = policyOf({ hash_key: KEY, fields: { 'user_properties.email': 'hash', 'user_properties.support_*': 'keep', 'user_properties.contact': 'hash_if_pii' } });
    const u = JSON.stringify({ email: 'a@b.co', support_email: 'help@acme.example', contact: 'call +44 20 7946 0958', contact2: 'x', nested: { contact: 'none' } });
    expect(JSON.parse(maskJsonText(u, { scanners: p.scanners, rules: p.members.user_properties, key: KEY, column: 'user_properties' }))).toEqual({
      email: hashValue(KEY, 'a@b.co'),
      support_email: 'help@acme.example',
      contact: hashValue(KEY, 'call +44 20 7946 0958'),
      contact2: 'x',
      nested: { contact: 'none' },
    });
  });
});

describe('maskRecord: a row of events columns, for exporters', () => {
  it('applies each column rule; columns without a rule pass through', () => {
    const p = policyOf({ hash_key: KEY, fields: { device_type: 'drop' } });
    const row = {
      source: 'posthog',
      occurred_at: '2024-03-10T10:00:00Z',
      user_id: 'anna@example.com',
      anonymous_id: 'dev-1',
      event_name: 'signup',
      page_url: 'https://x.co/?email=anna%40example.com',
      device_type: 'mobile',
      country: 'NL',
      properties: { $ip: '81.2.3.4', note: 'call +1 415-555-2671', n: 1 },
      user_properties: { email: 'anna@example.com', plan: 'pro' },
    };
    expect(maskRecord(p, row)).toEqual({
      source: 'posthog',
      occurred_at: '2024-03-10T10:00:00Z',
      user_id: hashValue(KEY, 'anna@example.com'),
      anonymous_id: 'dev-1',
      event_name: 'signup',
      page_url: 'https://x.co/?email=[email]',
      device_type: null,
      country: 'NL',
      properties: { $ip: '81.2.3.0', note: 'call [phone]', n: 1 },
      user_properties: { email: null, plan: 'pro' },
    });
  });
});

describe('config: the pii section', () => {
  it('no section: the safe defaults', () => {
    expect(configSchema.parse({}).pii).toEqual({ fields: {}, scan: { kinds: ['email', 'phone', 'card', 'ip', 'token', 'secret'], custom: [] }, keep: [] });
    const p = policyOf();
    expect(p.columns).toMatchObject({ user_id: 'hash_if_pii', page_url: 'mask', properties: 'mask', country: 'keep' });
  });

  it.each([
    ['pii:\n  fields:\n    email: drop\n', 'pii.fields.email', /unknown field "email"/],
    ['pii:\n  fields:\n    user_id: drop\n', 'pii.fields.user_id', /user_id accepts keep, hash, hash_if_pii \(not drop\)/],
    ['pii:\n  fields:\n    properties.: drop\n', 'pii.fields.properties.', /name a member after "properties\."/],
    ['pii:\n  scan:\n    custom:\n      - name: x\n        pattern: "a(?=b)"\n', 'pii.scan.custom.0.pattern', /lookaround/],
    ['pii:\n  scan:\n    custom:\n      - name: x\n        pattern: "a\\\\sb"\n', 'pii.scan.custom.0.pattern', /\\s/],
    ['pii:\n  scan:\n    custom:\n      - name: x\n        pattern: "a*"\n', 'pii.scan.custom.0.pattern', /empty text/],
    ['pii:\n  scan:\n    kinds: [email, ssn]\n', 'pii.scan.kinds.1', /./],
  ])('%j is refused at %s', (yaml, field, message) => {
    try {
      parseConfigText(`version: 1\n${yaml}`, 'usagelab.yaml', {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageLabError);
      const e = err as UsageLabError;
      expect(e.code).toBe('config_invalid');
      expect(e.place.field).toBe(field);
      expect(e.message).toMatch(message);
    }
  });

  it('a hash rule without a key is an error naming the variable; a short key from the environment is refused', () => {
    expect(() => policyOf({ fields: { 'user_properties.email': 'hash' } })).toThrow(/pii\.fields\.user_properties\.email is hash/);
    try {
      policyOf({ fields: { 'user_properties.email': 'hash' } });
    } catch (err) {
      expect((err as UsageLabError).code).toBe('pii_key_missing');
      expect((err as UsageLabError).hint).toContain('USAGELAB_PII_KEY');
    }
    expect(() => policyOf({}, { USAGELAB_PII_KEY: 'short' })).toThrow(/shorter than 16/);
    expect(policyOf({}, { USAGELAB_PII_KEY: KEY }).key).toBe(KEY);
    expect(policyOf({ hash_key: `${KEY}!` }, { USAGELAB_PII_KEY: KEY }).key).toBe(`${KEY}!`);
  });
});

describe('SQL masker: same results as TypeScript', () => {
  let session: DuckdbSession;
  beforeAll(async () => {
    session = await DuckdbSession.open({ path: ':memory:', threads: 1 });
  });
  afterAll(() => session.close());

  async function table(name: string, rows: readonly Record<string, string | null>[]): Promise<void> {
    const cols = Object.keys(rows[0]!);
    await session.run(`CREATE OR REPLACE TABLE ${name} (${cols.map((c) => `${c} ${c.endsWith('properties') ? 'JSON' : 'VARCHAR'}`).join(', ')})`);
    for (const r of rows) await session.run(`INSERT INTO ${name} VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((c) => r[c]!));
  }

  it('texts, including the separator character and a hostile value', async () => {
    const inputs = [...TEXT_CASES.map(([i]) => i), 'a\u001eb bob@example.com', `${HOSTILE}\u001e?token=abc`];
    await table('t', inputs.map((v, i) => ({ id: String(i), page_url: v })));
    const masking = await WarehouseMasking.open(session, pii(), {});
    const rows = await session.all<{ id: string; page_url: string }>(`SELECT id, page_url FROM (${await masking.maskedRelation('t', [{ column: 'page_url', as: 'page_url' }])}) ORDER BY id::INT`);
    expect(rows.map((r) => r.page_url)).toEqual(inputs.map((v) => maskText(v)));
    expect(rows.at(-2)!.page_url).toBe('a\u001eb [email]');
    await masking.close();
  });

  it('hash: the HMAC in DuckDB equals the TypeScript one; the key is never in the SQL text', async () => {
    const values = ['anna@example.com', '', 'ünï 🙂', HOSTILE, 'x'.repeat(200)];
    await table('h', values.map((v, i) => ({ id: String(i), user_id: v })));
    const masking = await WarehouseMasking.open(session, pii({ hash_key: KEY, fields: { user_id: 'hash' } }), {});
    const sql = await masking.maskedRelation('h', [{ column: 'user_id', as: 'user_id' }]);
    const pads = hmacPads(KEY);
    expect(sql).not.toContain(KEY);
    expect(sql).not.toContain(pads.inner);
    const rows = await session.all<{ id: string; user_id: string }>(`SELECT id, user_id FROM (${sql}) ORDER BY id::INT`);
    expect(rows.map((r) => r.user_id)).toEqual(values.map((v) => hashValue(KEY, v)));
    await masking.close();
  });

  it('truncate in DuckDB equals the TypeScript one', async () => {
    const m = new SqlMasker(policyOf().scanners, false);
    const inputs = ['81.2.3.4', '2001:db8:85a3::8a2e:370:7334', '2001:DB8::1', '::1', 'fe80:0:0:1::5', '1:2:3:4:5:6:7:8', '0:0:1::', 'not an ip', '1.2.3.256', '01.2.3.4'];
    await table('ips', inputs.map((v) => ({ ip: v })));
    const rows = await session.all<{ ip: string; t: string | null }>(`SELECT ip, ${m.truncate('ip')} AS t FROM ips`);
    for (const r of rows) expect(r.t, r.ip).toBe(truncateIp(r.ip));
  });

  it('JSON: default rules, the team’s rules with a key, kept and hash_if_pii members (masked in TypeScript)', async () => {
    const docs = [
      JSON.stringify({ EMAIL: 'a@b.co', $set: { name: 'x' }, user: { work_email: 'w@x.co' }, ip_address: '10.1.2.3', n: 4111111111111111, url: 'https://x.co/?email=a@b.co' }),
      JSON.stringify({ email: 'a@b.co', support_email: 'help@acme.example', contact: 'call +44 20 7946 0958', note: `${HOSTILE} bob@example.com` }),
      JSON.stringify({ list: [{ ip: '81.2.3.4' }, 'x\ny bob@example.com'], deep: { a: { b: { email: 'c@d.co' } } } }),
    ];
    await table('j', docs.map((d, i) => ({ id: String(i), user_properties: d })));
    const config = pii({ hash_key: KEY, fields: { 'user_properties.email': 'hash', 'user_properties.support_*': 'keep', 'user_properties.contact': 'hash_if_pii' } });
    const masking = await WarehouseMasking.open(session, config, {});
    const rows = await session.all<{ id: string; u: string }>(
      `SELECT id, CAST(user_properties AS VARCHAR) AS u FROM (${await masking.maskedRelation('j', [{ column: 'user_properties', as: 'user_properties' }])}) ORDER BY id::INT`,
    );
    const ctx = { scanners: masking.policy.scanners, rules: masking.policy.members.user_properties, key: KEY, column: 'user_properties' };
    expect(rows.map((r) => JSON.parse(r.u) as unknown)).toEqual(docs.map((d) => JSON.parse(maskJsonText(d, ctx)) as unknown));
    expect(JSON.parse(rows[1]!.u)).toEqual({
      email: hashValue(KEY, 'a@b.co'),
      support_email: 'help@acme.example',
      contact: hashValue(KEY, 'call +44 20 7946 0958'),
      note: `${HOSTILE} [email]`,
    });
    await masking.close();
  });

  it('identifiers: kept when clean, hashed when they hold PII; without a key, an error naming the column', async () => {
    await table('ids', [
      { id: '1', user_id: 'usr_1a2b3c', anonymous_id: 'dev-1' },
      { id: '2', user_id: 'anna@example.com', anonymous_id: 'dev-2' },
    ]);
    const cols = [
      { column: 'user_id', as: 'user_id' },
      { column: 'anonymous_id', as: 'anonymous_id' },
    ];
    const withKey = await WarehouseMasking.open(session, pii({ hash_key: KEY }), {});
    const rows = await session.all<{ user_id: string }>(`SELECT user_id FROM (${await withKey.maskedRelation('ids', cols)}) ORDER BY id`);
    expect(rows.map((r) => r.user_id)).toEqual(['usr_1a2b3c', hashValue(KEY, 'anna@example.com')]);
    await withKey.close();

    const noKey = await WarehouseMasking.open(session, pii(), {});
    await expect(noKey.maskedRelation('ids', cols, 'export.ndjson')).rejects.toMatchObject({
      code: 'pii_key_missing',
      place: { file: 'export.ndjson', field: 'user_id' },
    });
    const kept = await WarehouseMasking.open(session, pii({ fields: { user_id: 'keep' } }), {});
    const plain = await session.all<{ user_id: string }>(`SELECT user_id FROM (${await kept.maskedRelation('ids', cols)}) ORDER BY id`);
    expect(plain.map((r) => r.user_id)).toEqual(['usr_1a2b3c', 'anna@example.com']);
  });
});
