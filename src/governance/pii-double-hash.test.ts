import { afterEach, describe, expect, it } from 'vitest';
import { exportSource, importNewExports } from '../library/export-source.js';
import { DAY_MS } from '../sources/export/export-window.js';
import { FAST_BACKOFF, FAST_TIMEOUTS } from '../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../test-support/fake-vendor-server.js';
import { posthogEvents, startPosthogFake } from '../test-support/posthog-fake-server.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { hashValue, isHashed } from './pii-hash.js';
import { maskJsonValue, maskTextValue } from './pii-mask.js';
import { piiPolicy } from './pii-policy.js';
import { WarehouseMasking } from './pii-warehouse-masking.js';
import { configSchema } from '../core/config-schema.js';

const KEY = 'FAKE-test-key-0000-double-hash';
const pii = (fields: Record<string, string>) => configSchema.parse({ pii: { hash_key: KEY, fields } }).pii;

describe('hashing is idempotent: an already hashed value is kept', () => {
  it('in TypeScript: values, columns and JSON members', () => {
    const once = hashValue(KEY, 'ann@example.com');
    expect(isHashed(once)).toBe(true);
    expect(hashValue(KEY, once)).toBe(once);
    // Only the exact form: other prefixes, upper case or another length are hashed.
    for (const lookalike of [`H${once.slice(1)}`, once.toUpperCase(), `${once}0`, once.slice(0, -1), ` ${once}`]) {
      expect(hashValue(KEY, lookalike)).not.toBe(lookalike);
    }
    const policy = piiPolicy(pii({ user_id: 'hash', 'user_properties.email': 'hash' }));
    expect(maskTextValue(policy, 'user_id', once)).toBe(once);
    expect(maskTextValue(policy, 'user_id', 'ann@example.com')).toBe(once);
    expect(maskJsonValue(policy, 'user_properties', { email: once })).toEqual({ email: once });
    // hash_if_pii keeps a hash too (it holds nothing the scanners find), with or without a key.
    const noKey = piiPolicy(configSchema.parse({}).pii, {});
    expect(maskTextValue(noKey, 'user_id', once)).toBe(once);
  });

  it('in DuckDB SQL: the same as TypeScript', async () => {
    const session = await DuckdbSession.open({ path: ':memory:' });
    try {
      const masking = await WarehouseMasking.open(session, pii({ user_id: 'hash' }), {});
      const once = hashValue(KEY, 'ann@example.com');
      await session.run(`CREATE TABLE t AS SELECT * FROM (VALUES ('ann@example.com'), ('${once}'), ('h:0123')) v(user_id)`);
      const rows = await session.all<{ user_id: string }>(await masking.maskedRelation('t', [{ column: 'user_id', as: 'user_id' }]));
      expect(rows.map((r) => r.user_id)).toEqual([once, once, hashValue(KEY, 'h:0123')]);
      await masking.close();
    } finally {
      session.close();
    }
  });
});

let server: FakeVendorServer | undefined;
let ws: TempWorkspace | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  ws?.cleanup();
  ws = undefined;
});

describe('export masked → import: the same ids', () => {
  it('ids hashed by the exporter are not hashed again by the import', async () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const from = today - 3 * DAY_MS;
    const events = posthogEvents(22, from, from + DAY_MS);
    server = await startPosthogFake({ apiKey: 'phx_FAKE_test_key_0000', projectId: '12', events });
    ws = tempWorkspace(`version: 1
sources:
  posthog:
    host: ${server.url}
    project_id: 12
    personal_api_key: \${POSTHOG_PERSONAL_API_KEY}
pii:
  hash_key: ${KEY}
  fields:
    user_id: hash
    anonymous_id: hash
`);
    ws.write('.env', 'POSTHOG_PERSONAL_API_KEY=phx_FAKE_test_key_0000\n');
    const opened = await ws.open();
    try {
      const env = {};
      const day = new Date(from).toISOString().slice(0, 10);
      const exported = await exportSource(opened, 'posthog', { from: day, to: day, env, backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS });
      expect(exported.rows).toBe(22);
      const imported = await importNewExports(opened);
      expect(imported.summary.imported).toBe(22);
      const ids = await opened.sql<{ id: string }>(`SELECT DISTINCT coalesce(user_id, anonymous_id) AS id FROM events ORDER BY 1`);
      const expected = [...new Set(events.map((e) => hashValue(KEY, e.distinct_id)))].sort();
      expect(ids.map((r) => r.id)).toEqual(expected);
      const persons = await opened.sql<{ n: string }>(`SELECT count(DISTINCT person_id) AS n FROM events`);
      expect(Number(persons[0]!.n)).toBe(11);
    } finally {
      opened.close();
    }
  });
});
