import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heapReader } from './heap-reader.js';
import { stageFile, probeForTest, type StagedRows } from '../../test-support/stage-file.js';
import { UsageLabError } from '../../core/errors.js';
import { HEAP_FIELDS, recordType, s3Url, writeAvro, writeManifest, type Codec, type FieldType } from './__fixtures__/heap-sync-writer.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SAMPLES = resolve(REPO_ROOT, '../shared/data/vendor-samples/heap');

// Heap ids are random longs: these are beyond 2^53 (9007199254740992), where a JS number would round.
const USER_A = 9007199254740993n;
const USER_B = 1234567890123456789n;
const USER_C = 18014398509481985n;
const SESSION_A = 9007199254740995n;
const SESSION_B = 4611686018427387905n;
const SESSION_C = 9223372036854775807n;
const PV1 = 9007199254740997n;
const PV2 = 9007199254740999n;
const PV3 = 9007199254741005n;
const PV4 = 9007199254741007n;
const CLICK1 = 9007199254741001n;
const CLICK2 = 9007199254741003n;
const CHECKOUT = 9007199254741011n;

const COLUMNS = (fields: Record<string, FieldType>): string[] => Object.keys(fields);
const CLICK_FIELDS = {
  event_id: 'long', user_id: 'long', session_id: 'long', time: 'long', type: 'string', target_text: 'string',
  hierarchy: 'string', domain: 'string', path: 'string', plan: 'string', browser: 'string',
} as const satisfies Record<string, FieldType>;

interface TableSpec {
  name: string;
  fields: Record<string, FieldType>;
  rows: Record<string, unknown>[];
  codec?: Codec;
}

/** Writes one dump (sync_<id>/<table>/part-00000-….avro per table) and returns its manifest tables. */
async function writeDump(root: string, dumpId: number, tables: TableSpec[], incremental: boolean) {
  const manifestTables = [];
  for (const t of tables) {
    const rel = `sync_${dumpId}/${t.name}/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro`;
    await writeAvro(join(root, rel), recordType(t.name, t.fields), t.rows, t.codec ?? 'snappy');
    manifestTables.push({ name: t.name, files: [s3Url(rel)], incremental: t.name === 'user_migrations' ? false : incremental, columns: COLUMNS(t.fields) });
  }
  return manifestTables;
}

/** The main fixture: two complete dumps (full 100, incremental 101) and one without a manifest (102). */
async function buildMainSync(root: string): Promise<void> {
  const dump100 = await writeDump(
    root,
    100,
    [
      {
        name: 'users',
        fields: HEAP_FIELDS.users,
        rows: [
          { user_id: USER_A, identity: 'user-42', joindate: 1700000000000n, last_modified: 1710000000000n, email: 'alice@example.com', plan_tier: 'pro' },
          { user_id: USER_B, joindate: 1700000001000n, last_modified: 1700000001000n },
        ],
      },
      {
        name: 'sessions',
        fields: HEAP_FIELDS.sessions,
        codec: 'deflate',
        rows: [
          {
            session_id: SESSION_A, user_id: USER_A, time: 1710053000000n, library: 'web', platform: 'Mac OS X', device_type: 'Desktop',
            device: 'Mac', country: 'United States', region: 'NY', city: 'New York', ip: '203.0.113.7',
            referrer: 'https://news.ycombinator.com/', landing_page: 'www.example.com/pricing', browser: 'Chrome', utm_source: 'hn',
          },
          {
            session_id: SESSION_B, user_id: USER_B, time: 1711846000000n, library: 'iOS', platform: 'iOS 17.4', device_type: 'Mobile',
            country: 'Deutschland', city: 'München', browser: 'Safari',
          },
        ],
      },
      {
        name: 'pageviews',
        fields: HEAP_FIELDS.pageviews,
        rows: [
          // 06:59:59Z and 07:00:00Z on 2024-03-10: the instant New York springs forward.
          { event_id: PV1, user_id: USER_A, session_id: SESSION_A, time: 1710053999000n, domain: 'www.example.com', path: '/pricing', query: '?plan=pro', hash: '#faq', title: 'Pricing – Ünïcode ✓' },
          { event_id: PV2, user_id: USER_A, session_id: SESSION_A, time: 1710053999000n, domain: 'www.example.com/', path: 'docs/start', query: 'a=1', title: 'Docs\nLine two', heap_previous_page: 'https://www.example.com/pricing' },
          // Microseconds (ul_instant reads epochs by magnitude): 2024-03-31T01:00:00Z, when Europe springs forward.
          { event_id: PV3, user_id: USER_B, session_id: SESSION_B, time: 1711846800000000n, path: '/app/home' },
        ],
      },
      {
        name: 'click_on_anything',
        fields: CLICK_FIELDS,
        codec: 'deflate',
        rows: [
          { event_id: CLICK1, user_id: USER_A, session_id: SESSION_A, time: 1710054000000n, type: 'click', target_text: 'Buy now', hierarchy: '@body;#app;button.buy;', domain: 'www.example.com', path: '/pricing', plan: 'pro' },
          // Seconds: 2024-03-31T01:00:01Z.
          { event_id: CLICK2, user_id: USER_B, session_id: SESSION_B, time: 1711846801n, type: 'touch', target_text: 'Start' },
          { event_id: 9007199254741013n, user_id: USER_B, session_id: SESSION_B, type: 'click' },
          { event_id: 9007199254741015n, session_id: SESSION_B, time: 1711846802000n, type: 'click' },
        ],
      },
      {
        // The same click also matched the "Add to cart" definition.
        name: 'add_to_cart',
        fields: CLICK_FIELDS,
        rows: [{ event_id: CLICK1, user_id: USER_A, session_id: SESSION_A, time: 1710054000000n, type: 'click', target_text: 'Buy now', plan: 'pro' }],
      },
      {
        name: 'all_events',
        fields: HEAP_FIELDS.all_events,
        rows: [
          { event_id: CLICK1, user_id: USER_A, session_id: SESSION_A, time: 1710054000000n, event_table_name: 'click_on_anything' },
          { event_id: CLICK1, user_id: USER_A, session_id: SESSION_A, time: 1710054000000n, event_table_name: 'add_to_cart' },
          { event_id: CLICK2, user_id: USER_B, session_id: SESSION_B, time: 1711846801n, event_table_name: 'click_on_anything' },
          { event_id: CLICK2, user_id: USER_B, session_id: SESSION_B, time: 1711846801n, event_table_name: 'click_on_anything' },
          { event_id: CHECKOUT, user_id: USER_A, session_id: SESSION_A, time: 1710054060000n, event_table_name: 'checkout_completed' },
          { event_id: 9007199254741017n, user_id: USER_B, session_id: SESSION_B, time: 1711846803000n },
        ],
      },
      { name: 'user_migrations', fields: HEAP_FIELDS.user_migrations, rows: [{ from_user_id: USER_C, to_user_id: USER_A, time: 1710050000000n }] },
    ],
    false,
  );
  writeManifest(root, 'sync_100.json', 100, dump100);
  // A file in a dump folder that no manifest lists is not imported.
  await writeAvro(join(root, 'sync_100/pageviews/part-99999-stray.avro'), recordType('pageviews', HEAP_FIELDS.pageviews), [{ event_id: 1n, user_id: 1n, time: 1710053999000n }], 'null');

  const pageviewsWithTextTime = { ...HEAP_FIELDS.pageviews, time: 'string' } as const;
  const dump101 = await writeDump(
    root,
    101,
    [
      // User B identified in the later dump: the latest row wins.
      { name: 'users', fields: HEAP_FIELDS.users, rows: [{ user_id: USER_B, identity: 'user-77', joindate: 1700000001000n, last_modified: 1711900000000n }] },
      {
        name: 'pageviews',
        fields: pageviewsWithTextTime,
        codec: 'null',
        rows: [
          // Re-sent by the incremental dump: same record, same source_event_id, staged once.
          { event_id: PV3, user_id: USER_B, session_id: SESSION_B, time: '1711846800000', path: '/app/home' },
          // A naive date-time string is UTC.
          { event_id: PV4, user_id: USER_C, session_id: SESSION_C, time: '2024-03-31 02:30:00', domain: 'https://shop.example.com', path: '/' },
          { event_id: 9007199254741019n, user_id: USER_C, session_id: SESSION_C, time: 'not a time', path: '/' },
        ],
      },
      { name: 'user_migrations', fields: HEAP_FIELDS.user_migrations, rows: [{ from_user_id: USER_C, to_user_id: USER_A, time: 1710050000000n }] },
    ],
    true,
  );
  writeManifest(root, 'sync_101.json', 101, dump101);
  // Dump 102 is still being written: no manifest yet.
  await writeAvro(join(root, 'sync_102/pageviews/part-00000-x.avro'), recordType('pageviews', HEAP_FIELDS.pageviews), [{ event_id: 5n, user_id: 5n, time: 1712000000000n }], 'snappy');
}

let tmp: string;
let mainResult: StagedRows | undefined;
let mainError: unknown;
/** The main fixture staged once; a staging failure fails each test that reads it, with the cause. */
function main(): StagedRows {
  if (mainResult === undefined) throw mainError;
  return mainResult;
}
const byId = (id: string): Record<string, unknown> => {
  const row = main().rows.find((r) => r.source_event_id === id);
  if (row === undefined) throw new Error(`no row ${id}`);
  return row;
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-heap-'));
  mkdirSync(join(tmp, 'main'));
  await buildMainSync(join(tmp, 'main'));
  mainResult = await stageFile(heapReader, join(tmp, 'main')).catch((err: unknown) => {
    mainError = err;
    return undefined;
  });
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('heap reader: detection', () => {
  it('recognises a bucket copy with manifests and Avro sync folders', () => {
    expect(main().detection).toEqual({ format: 'avro-folder', confidence: 0.95, layout: 'Heap Connect S3 sync (manifests + Avro)' });
  });

  it('recognises one sync_<id> folder on its own', async () => {
    const probe = await probeForTest(join(tmp, 'main', 'sync_100'));
    expect(heapReader.detect(probe)).toEqual({ format: 'avro-folder', confidence: 0.9, layout: 'Heap Connect sync folder (Avro)' });
  });

  it('does not claim other tools\' files or generic folders', async () => {
    const csv = join(tmp, 'generic.csv');
    writeFileSync(csv, 'user,event,time\nu1,signup,2024-01-01T00:00:00Z\n');
    const amplitude = join(tmp, 'amplitude.jsonl');
    writeFileSync(amplitude, '{"event_type":"Page Viewed","user_id":"u1","device_id":"d1","event_time":"2024-01-01 00:00:00.000000","uuid":"a7c9f3e0-0000-4000-8000-000000000000"}\n');
    const folder = join(tmp, 'other-folder');
    mkdirSync(join(folder, 'exports'), { recursive: true });
    writeFileSync(join(folder, 'exports', 'events.avro'), 'Obj\x01');
    writeFileSync(join(folder, 'exports', 'manifest.json'), '{}');
    const loneAvro = join(tmp, 'main', 'sync_100', 'pageviews', 'part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro');
    for (const path of [csv, amplitude, folder, loneAvro]) {
      expect(heapReader.detect(await probeForTest(path)), path).toBeUndefined();
    }
  });
});

describe('heap reader: events', () => {
  it('stages one row per (user_id, event_id) across pageviews, event tables and all_events', () => {
    expect(main().rows.map((r) => r.source_event_id).sort()).toEqual(
      [
        `${USER_A}|${PV1}`,
        `${USER_A}|${PV2}`,
        `${USER_B}|${PV3}`,
        `${USER_C}|${PV4}`,
        `${USER_A}|${CLICK1}`,
        `${USER_B}|${CLICK2}`,
        `${USER_A}|${CHECKOUT}`,
        `${USER_B}|9007199254741013`,
        `${USER_B}|9007199254741017`,
        `${USER_C}|9007199254741019`,
        null,
      ].sort(),
    );
    expect(main().rows.every((r) => r.source === 'heap')).toBe(true);
  });

  it('maps a pageview with ids beyond 2^53 kept exact, the URL built from its parts and the session joined', () => {
    expect(byId(`${USER_A}|${PV1}`)).toMatchObject({
      event_name: 'pageviews',
      event_kind: 'page_view',
      occurred_at: '2024-03-10 06:59:59+00',
      received_at: null,
      user_id: 'user-42',
      anonymous_id: '9007199254740993',
      vendor_session_id: '9007199254740995',
      page_url: 'https://www.example.com/pricing?plan=pro#faq',
      referrer: 'https://news.ycombinator.com/',
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Mac OS X',
      country: 'United States',
      _reject: null,
      properties: {
        domain: 'www.example.com',
        path: '/pricing',
        query: '?plan=pro',
        hash: '#faq',
        title: 'Pricing – Ünïcode ✓',
        event_table_name: 'pageviews',
        heap_event_tables: ['pageviews'],
        heap_session: {
          time: '1710053000000',
          library: 'web',
          platform: 'Mac OS X',
          device_type: 'Desktop',
          device: 'Mac',
          country: 'United States',
          region: 'NY',
          city: 'New York',
          ip: '203.0.113.7',
          referrer: 'https://news.ycombinator.com/',
          landing_page: 'www.example.com/pricing',
          browser: 'Chrome',
          utm_source: 'hn',
        },
      },
      user_properties: { identity: 'user-42', joindate: '1700000000000', last_modified: '1710000000000', email: 'alice@example.com', plan_tier: 'pro' },
    });
  });

  it('keeps equal timestamps, embedded newlines, previous page as referrer and normalises URL parts', () => {
    const pv2 = byId(`${USER_A}|${PV2}`);
    expect(pv2).toMatchObject({
      occurred_at: '2024-03-10 06:59:59+00',
      page_url: 'https://www.example.com/docs/start?a=1',
      referrer: 'https://www.example.com/pricing',
    });
    expect((pv2.properties as Record<string, unknown>).title).toBe('Docs\nLine two');
    expect(byId(`${USER_A}|${PV1}`).occurred_at).toBe(pv2.occurred_at);
  });

  it('reads epoch milliseconds, microseconds, seconds and naive date-time strings (UTC) across DST changes', () => {
    expect(byId(`${USER_A}|${CLICK1}`).occurred_at).toBe('2024-03-10 07:00:00+00');
    expect(byId(`${USER_B}|${PV3}`).occurred_at).toBe('2024-03-31 01:00:00+00');
    expect(byId(`${USER_B}|${CLICK2}`).occurred_at).toBe('2024-03-31 01:00:01+00');
    expect(byId(`${USER_C}|${PV4}`).occurred_at).toBe('2024-03-31 02:30:00+00');
  });

  it('dedups an event found in several tables: per-event table first, alphabetically first name, all names kept', () => {
    expect(byId(`${USER_A}|${CLICK1}`)).toMatchObject({
      event_name: 'add_to_cart',
      event_kind: 'click',
      element_text: 'Buy now',
      element_selector: null,
      page_url: null,
      device_type: 'desktop',
      properties: { type: 'click', target_text: 'Buy now', plan: 'pro', event_table_name: 'add_to_cart', heap_event_tables: ['add_to_cart', 'click_on_anything'] },
    });
    // all_events listed CLICK2 twice with the same table name; the click_on_anything row carries its properties.
    expect(byId(`${USER_B}|${CLICK2}`)).toMatchObject({
      event_name: 'click_on_anything',
      event_kind: 'click',
      element_text: 'Start',
      user_id: 'user-77',
      device_type: 'mobile',
      os: 'iOS 17.4',
      browser: 'Safari',
      country: 'Deutschland',
      referrer: null,
      properties: { event_table_name: 'click_on_anything', heap_event_tables: ['click_on_anything'] },
    });
  });

  it('stages events that only all_events has under their event_table_name', () => {
    expect(byId(`${USER_A}|${CHECKOUT}`)).toMatchObject({
      event_name: 'checkout_completed',
      event_kind: 'custom',
      occurred_at: '2024-03-10 07:01:00+00',
      user_id: 'user-42',
      vendor_session_id: '9007199254740995',
      properties: { event_table_name: 'checkout_completed', heap_event_tables: ['checkout_completed'] },
    });
  });

  it('takes the latest dump for users and re-sent events, and reads an absolute domain as is', () => {
    expect(byId(`${USER_B}|${PV3}`).user_id).toBe('user-77');
    expect(main().rows.filter((r) => r.source_event_id === `${USER_B}|${PV3}`)).toHaveLength(1);
    expect(byId(`${USER_C}|${PV4}`)).toMatchObject({ user_id: null, anonymous_id: '18014398509481985', vendor_session_id: '9223372036854775807', page_url: 'https://shop.example.com/', user_properties: null });
  });

  it('keeps rows missing user_id, time or event_table_name, or with an unreadable time, as rejects naming the file and record', () => {
    const rejects = main().rows.filter((r) => r._reject !== null).map((r) => r._reject);
    expect(rejects.sort()).toEqual([
      'event_table_name: missing (sync_100/all_events/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro record 6)',
      'time: missing (sync_100/click_on_anything/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro record 3)',
      'time: unreadable timestamp "not a time" (sync_101/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro record 3)',
      'user_id: missing (sync_100/click_on_anything/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro record 4)',
    ]);
  });

  it('has no frustration signals: all false, nativeRageClicks false', () => {
    expect(main().nativeRageClicks).toBe(false);
    expect(main().rows.some((r) => r.rage_click || r.dead_click || r.error_click)).toBe(false);
  });

  it('ignores files no manifest lists and skips a dump without a manifest as partial', () => {
    expect(main().rows.some((r) => r.anonymous_id === '1' || r.anonymous_id === '5')).toBe(false);
    expect(main().partial).toEqual(['sync_102 has no manifest (Heap has not finished writing it, or the sync failed): skipped']);
  });
});

describe('heap reader: identity links', () => {
  it('links users.identity and user_migrations', () => {
    expect(main().links).toEqual([
      { anonymous_id: '1234567890123456789', user_id: 'user-77', other_anonymous_id: null, linked_at: '2024-03-31 15:46:40+00' },
      { anonymous_id: '18014398509481985', user_id: null, other_anonymous_id: '9007199254740993', linked_at: '2024-03-10 05:53:20+00' },
      { anonymous_id: '9007199254740993', user_id: 'user-42', other_anonymous_id: null, linked_at: '2024-03-09 16:00:00+00' },
    ]);
  });
});

describe('heap reader: layouts and dumps', () => {
  it('reads one sync_<id> folder with its manifest from ../manifests', async () => {
    const staged = await stageFile(heapReader, join(tmp, 'main', 'sync_101'));
    expect(staged.rows.map((r) => r.source_event_id).sort()).toEqual([`${USER_B}|${PV3}`, `${USER_C}|${PV4}`, `${USER_C}|9007199254741019`]);
    expect(staged.partial).toEqual([]);
    expect(staged.links.map((l) => l.anonymous_id)).toEqual(['1234567890123456789', '18014398509481985']);
  });

  it('starts each table at its latest full dump', async () => {
    const root = join(tmp, 'full-dumps');
    for (const [dumpId, eventId] of [
      [200, 11n],
      [201, 12n],
      [202, 13n],
    ] as const) {
      const tables = await writeDump(
        root,
        dumpId,
        [{ name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: [{ event_id: eventId, user_id: 7n, session_id: 8n, time: 1710053999000n }] }],
        dumpId === 202,
      );
      writeManifest(root, `manifest_${dumpId}.json`, dumpId, tables);
    }
    const staged = await stageFile(heapReader, root);
    expect(staged.rows.map((r) => r.source_event_id)).toEqual(['7|12', '7|13']);
  });
});

describe('heap reader: broken input', () => {
  async function oneTableSync(name: string, codec: Codec = 'snappy', rows = 3000): Promise<{ root: string; file: string }> {
    const root = join(tmp, name);
    const records = Array.from({ length: rows }, (_, i) => ({ event_id: BigInt(i + 1), user_id: USER_A, session_id: SESSION_A, time: 1710053999000n + BigInt(i), path: `/p/${i}` }));
    const tables = await writeDump(root, 300, [{ name: 'pageviews', fields: HEAP_FIELDS.pageviews, rows: records, codec }], false);
    writeManifest(root, 'sync_300.json', 300, tables);
    return { root, file: join(root, tables[0]!.files[0]!.replace('s3://heap-rs3-test/', '')) };
  }

  async function stageError(path: string): Promise<UsageLabError> {
    const err = await stageFile(heapReader, path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageLabError);
    return err as UsageLabError;
  }

  it('reads many blocks of a snappy file', async () => {
    const { root } = await oneTableSync('many-blocks');
    const staged = await stageFile(heapReader, root);
    expect(staged.rows).toHaveLength(3000);
    expect(staged.rows[2999]).toMatchObject({ source_event_id: `${USER_A}|3000`, page_url: '/p/2999', occurred_at: '2024-03-10 07:00:01.999+00' });
  });

  it('fails on a truncated Avro file, naming it', async () => {
    const { root, file } = await oneTableSync('truncated', 'deflate');
    truncateSync(file, statSync(file).size - 40);
    const err = await stageError(root);
    expect(err.code).toBe('import_file_corrupt');
    expect(err.message).toContain(file);
    expect(err.message).toContain('truncated');
  });

  it('fails on an Avro file cut inside its header, naming it', async () => {
    const { root, file } = await oneTableSync('cut-header');
    writeFileSync(file, readFileSync(file).subarray(0, 30));
    const err = await stageError(root);
    expect(err.code).toBe('import_file_corrupt');
    expect(err.message).toBe(`${file} is truncated or corrupt: it ends inside the header (30 bytes)`);
  });

  it('fails on an empty part file; the probe rejects an empty file', async () => {
    const { root, file } = await oneTableSync('empty-part');
    writeFileSync(file, '');
    const err = await stageError(root);
    expect(err.code).toBe('import_file_empty');
    expect(err.message).toContain(file);
    await expect(probeForTest(file)).rejects.toMatchObject({ code: 'import_file_empty' });
  });

  it('fails when a manifest lists a missing file, naming it and the manifest', async () => {
    const { root } = await oneTableSync('missing-file', 'snappy', 2);
    const file = join(root, 'sync_300', 'pageviews', 'part-00001-missing.avro');
    const manifest = JSON.parse(readFileSync(join(root, 'manifests', 'sync_300.json'), 'utf8'));
    manifest.tables[0].files.push(s3Url('sync_300/pageviews/part-00001-missing.avro'));
    writeFileSync(join(root, 'manifests', 'sync_300.json'), JSON.stringify(manifest));
    const err = await stageError(root);
    expect(err.code).toBe('import_file_missing');
    expect(err.message).toBe(`${file} is listed in ${join(root, 'manifests', 'sync_300.json')} (table pageviews) but is missing`);
  });

  it('fails when there is no manifest at all', async () => {
    const { root } = await oneTableSync('no-manifest');
    rmSync(join(root, 'manifests'), { recursive: true });
    const probe = await probeForTest(root);
    expect(heapReader.detect(probe)).toEqual({ format: 'avro-folder', confidence: 0.9, layout: 'Heap Connect S3 sync (Avro, manifests missing)' });
    const err = await stageError(root);
    expect(err.code).toBe('import_heap_manifest_missing');
  });

  it('fails on a manifest that is not Heap\'s JSON, naming the field', async () => {
    const { root } = await oneTableSync('bad-manifest');
    const manifest = join(root, 'manifests', 'sync_300.json');
    writeFileSync(manifest, JSON.stringify({ dump_id: 300, tables: [{ name: 'pageviews', files: 'nope' }] }));
    const err = await stageError(root);
    expect(err.code).toBe('import_heap_manifest_invalid');
    expect(err.message).toContain(`${manifest}: tables.0.files:`);
    writeFileSync(manifest, '{"dump_id": 300, "tables": [');
    expect((await stageError(root)).message).toContain(`${manifest}: not valid JSON`);
  });

  it('fails on an unsupported codec', async () => {
    const { root, file } = await oneTableSync('codec', 'null', 2);
    // Same length as "null", so the header stays well-formed.
    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from('avro.codec'));
    const patched = Buffer.from(bytes);
    patched.write('lzma', bytes.indexOf(Buffer.from('null'), at), 'latin1');
    writeFileSync(file, patched);
    const err = await stageError(root);
    expect(err.code).toBe('import_format_unsupported');
    expect(err.message).toContain('"lzma"');
  });
});

// Optional tier: real Heap Connect files, if someone drops a copy into the shared samples folder.
describe.skipIf(!existsSync(SAMPLES))('heap reader: real Heap Connect samples (skipped: no files in vendor-samples/heap)', () => {
  it('stages every event of the sample copy without rejects', async () => {
    const staged = await stageFile(heapReader, SAMPLES);
    expect(staged.rows.length).toBeGreaterThan(0);
    expect(staged.rows.filter((r) => r._reject !== null)).toEqual([]);
  });
});
