import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { ga4Reader } from './ga4-reader.js';
import { stageFile, probeForTest, type StagedRows, stageAndQuery as stageAndQueryWith } from '../../test-support/stage-file.js';
import { UsageLabError } from '../../core/errors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const SAMPLES = resolve(REPO_ROOT, '../shared/data/vendor-samples/ga4');
const DAILY = join(HERE, '__fixtures__', 'events_20240331.jsonl');
const INTRADAY = join(HERE, '__fixtures__', 'events_intraday_20240331.jsonl');
const PSEUDO = '1234567890.1711846000';
const APP_PSEUDO = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const USER = '9007199254740993123';

/** The top-level fields every web row of the fixture carries into properties. */
const WEB_TOP_LEVEL = {
  event_date: '20240331',
  event_bundle_sequence_id: '9007199254740993',
  event_server_timestamp_offset: '1200',
  privacy_info: { analytics_storage: 'Yes', ads_storage: 'No', uses_transient_token: 'No' },
  user_first_touch_timestamp: '1700000000000000',
  device: {
    category: 'desktop',
    operating_system: 'Windows',
    operating_system_version: 'Windows 11',
    language: 'de-de',
    is_limited_ad_tracking: 'No',
    web_info: { browser: 'Chrome', browser_version: '123.0.6312.86', hostname: 'shop.example.com' },
  },
  geo: { continent: 'Europe', sub_continent: 'Western Europe', country: 'Germany', region: 'Berlin', city: 'Berlin', metro: '(not set)' },
  traffic_source: { name: '(direct)', medium: '(none)', source: '(direct)' },
  stream_id: '4567890123',
  platform: 'WEB',
  items: [],
  is_active_user: true,
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-ga4-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, content: string | Uint8Array): string => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

const byLine = (staged: StagedRows, line: number): Record<string, unknown> => {
  const row = staged.rows.find((r) => Number(r._line) === line);
  if (row === undefined) throw new Error(`no staged row for line ${line}`);
  return row;
};

const stageAndQuery = (path: string, sql: (relation: string) => string): Promise<Record<string, unknown>[]> =>
  stageAndQueryWith(ga4Reader, path, sql);

async function rejection(promise: Promise<unknown>): Promise<UsageLabError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageLabError);
  return err as UsageLabError;
}

/** One event_params element as a typed BigQuery STRUCT literal (the Parquet export's shape). */
function paramSql(key: string, value: { s?: string; i?: string; d?: number }): string {
  const s = value.s === undefined ? 'NULL::VARCHAR' : `'${value.s.replace(/'/g, "''")}'`;
  const i = value.i === undefined ? 'NULL::BIGINT' : `${value.i}::BIGINT`;
  const d = value.d === undefined ? 'NULL::DOUBLE' : `${value.d}::DOUBLE`;
  return `{'key': '${key}', 'value': {'string_value': ${s}, 'int_value': ${i}, 'float_value': NULL::DOUBLE, 'double_value': ${d}}}`;
}

async function writeParquet(path: string, select: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (${select}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('ga4 reader: detection', () => {
  it('recognises daily and intraday export tables', async () => {
    expect(ga4Reader.detect(await probeForTest(DAILY))).toEqual({ format: 'ndjson', confidence: 0.95, layout: 'GA4 BigQuery export, daily table (NDJSON)' });
    expect(ga4Reader.detect(await probeForTest(INTRADAY))).toEqual({
      format: 'ndjson',
      confidence: 0.95,
      layout: 'GA4 BigQuery export, intraday table (NDJSON)',
    });
  });

  it('judges an NDJSON file by the first line that parses when the first is broken', async () => {
    const lines = readFileSync(DAILY, 'utf8').split('\n');
    const path = write('events_20240331-broken.jsonl', ['{"event_date":"20240331","event_timestamp":', ...lines.slice(0, 2)].join('\n'));
    expect(ga4Reader.detect(await probeForTest(path))?.confidence).toBe(0.95);
    expect((await stageFile(ga4Reader, path)).rows.map((r) => r._reject)).toEqual(['record: not a JSON object', null, null]);
  });

  it('does not claim other tools’ exports or generic event logs', async () => {
    const others: [string, string][] = [
      ['generic.csv', 'user,event,time\nu1,signup,2024-01-01T00:00:00Z\n'],
      ['generic.jsonl', '{"event_name":"signup","event_timestamp":"2024-01-01T00:00:00Z","user":"u1"}\n'],
      [
        'posthog.jsonl',
        '{"uuid":"0190a1b2-0000-7000-8000-000000000001","event":"$pageview","distinct_id":"d","timestamp":"2024-03-31T01:00:00Z","properties":{"$lib":"web"},"elements_chain":""}\n',
      ],
      [
        'amplitude.jsonl',
        '{"uuid":"a7c1b2d4-0000-4000-8000-000000000001","event_type":"Page Viewed","user_id":"u1","device_id":"d1","event_time":"2024-03-31 01:00:00.000000","event_properties":{}}\n',
      ],
      ['mixpanel.jsonl', '{"event":"Signed Up","properties":{"time":1711846800,"distinct_id":"u1","$insert_id":"abc"}}\n'],
      ['heap.jsonl', '{"event_id":"123","time":1711846800000,"user_id":"9","session_id":"8","type":"click"}\n'],
      ['fullstory.json', '[{"EventStart":"2024-03-31T01:00:00.000Z","EventType":"click","IndvId":1,"UserId":2,"SessionId":3,"PageId":4}]'],
      ['params-not-ga4.jsonl', '{"event_name":"x","event_timestamp":"1711846800000000","event_params":{"a":1}}\n'],
    ];
    for (const [name, content] of others) {
      expect(ga4Reader.detect(await probeForTest(write(name, content))), name).toBeUndefined();
    }
  });
});

describe('ga4 reader: daily table (NDJSON, INT64 as strings)', () => {
  let staged: StagedRows;
  beforeAll(async () => {
    staged = await stageFile(ga4Reader, DAILY);
  });

  it('stages every line; GA4 flags no rage clicks itself', () => {
    expect(staged.rows).toHaveLength(13);
    expect(staged.nativeRageClicks).toBe(false);
  });

  it('maps a web page_view field by field (params flattened, numbers kept as numbers, top-level fields kept)', () => {
    expect(byLine(staged, 1)).toEqual({
      source: 'ga4',
      source_event_id: `${PSEUDO}|1711846799999999|page_view|9007199254740993|1|5|1711846000000`,
      event_name: 'page_view',
      event_kind: 'page_view',
      occurred_at: '2024-03-31 00:59:59.999999+00',
      received_at: null,
      user_id: USER,
      anonymous_id: PSEUDO,
      vendor_session_id: '1711846000',
      page_url: 'https://shop.example.com/preise?ref=nav',
      referrer: 'https://www.google.de/',
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Windows',
      country: 'Germany',
      properties: {
        page_location: 'https://shop.example.com/preise?ref=nav',
        page_referrer: 'https://www.google.de/',
        ga_session_id: 1711846000,
        ga_session_number: 3,
        page_title: 'Preise — Übersicht 🚀',
        engagement_time_msec: 1500,
        value: 12.5,
        big_counter: 9007199254740992, // JSON.parse in the test; the stored digits are exact (next test)
        ...WEB_TOP_LEVEL,
        batch_event_index: '1',
        batch_ordering_id: '5',
        batch_page_id: '1711846000000',
      },
      user_properties: { plan: 'pro' },
      _line: '1',
      _reject: null,
    });
  });

  it('keeps INT64 values beyond 2^53 exact', async () => {
    const rows = await stageAndQuery(DAILY, (rel) => `SELECT user_id, properties->>'$.big_counter' AS counter FROM ${rel} WHERE _line = 1`);
    expect(rows).toEqual([{ user_id: USER, counter: '9007199254740993' }]);
  });

  it('maps an enhanced-measurement click and form_submit at the same microsecond to distinct events', () => {
    expect(byLine(staged, 2)).toMatchObject({
      event_kind: 'click',
      occurred_at: '2024-03-31 01:00:00.000001+00',
      element_text: 'Docs ↗',
      element_selector: 'a#docs-link.nav.external',
      page_url: 'https://shop.example.com/preise?ref=nav',
      properties: { link_url: 'https://docs.example.com/', outbound: 'true' },
    });
    expect(byLine(staged, 3)).toMatchObject({
      event_kind: 'submit',
      occurred_at: '2024-03-31 01:00:00.000001+00',
      properties: { form_id: 'newsletter', note: 'zeile eins\nzeile zwei' },
    });
    expect(byLine(staged, 2).source_event_id).not.toBe(byLine(staged, 3).source_event_id);
  });

  it('maps app rows: screen name as page_url, exceptions as errors, across the US DST change', () => {
    expect(byLine(staged, 4)).toMatchObject({
      source_event_id: `${APP_PSEUDO}|1710053999999999|screen_view|9007199254740993|1|1|1`,
      event_kind: 'screen_view',
      occurred_at: '2024-03-10 06:59:59.999999+00', // 01:59:59.999999 EST, just before the spring-forward
      user_id: null,
      anonymous_id: APP_PSEUDO,
      vendor_session_id: '1710053000',
      page_url: 'Checkout',
      device_type: 'mobile',
      browser: null,
      os: 'Android',
      properties: { firebase_screen: 'Checkout', platform: 'ANDROID', event_date: '20240309' },
    });
    expect(byLine(staged, 5)).toMatchObject({
      event_kind: 'error',
      error_click: true,
      occurred_at: '2024-03-10 07:00:00+00', // 03:00 EDT
      page_url: 'Checkout',
      properties: { fatal: 1, timestamp: 1710054000000 },
    });
  });

  it('keeps login and sign_up custom; first of duplicate parameters wins; a parameter named like a column keeps its name', () => {
    expect(byLine(staged, 6)).toMatchObject({ event_kind: 'custom', properties: { method: 'Google', platform: 'web-app', '_export.platform': 'WEB' } });
    expect(byLine(staged, 7)).toMatchObject({ event_kind: 'custom', properties: { method: 'email' } });
  });

  it('keys rows without batch_* fields by a hash of their parameters (order-independent)', () => {
    const [a, b] = [byLine(staged, 9), byLine(staged, 10)];
    expect(a.source_event_id).toMatch(new RegExp(`^${PSEUDO.replace('.', '\\.')}\\|1711846999000000\\|scroll\\|42\\|\\|\\|\\|[0-9a-f]{32}$`));
    expect(b.source_event_id).not.toBe(a.source_event_id);
    expect(a.occurred_at).toBe(b.occurred_at);
  });

  it('maps a consent-mode row without user_pseudo_id and an empty user_properties list', () => {
    expect(byLine(staged, 11)).toMatchObject({
      source_event_id: '|1711847000000000|page_view|9007199254740993|1|1|1711847000000',
      user_id: null,
      anonymous_id: null,
      user_properties: null,
      _reject: null,
    });
  });

  it('stages unreadable lines and incomplete rows as rejects with a reason', () => {
    expect(staged.rows.filter((r) => r._reject !== null).map((r) => [r._line, r._reject, r.source_event_id])).toEqual([
      ['8', 'record: not a JSON object', null],
      ['12', 'event_timestamp: missing', null],
      ['13', 'event_params: not a list of {key, value}', `${PSEUDO}|1711847100000000|page_view|9007199254740993|1|2|1711847000000`],
    ]);
  });

  it('reads an unreadable event_timestamp as a reject', async () => {
    const path = write('bad-ts.jsonl', '{"event_date":"20240331","event_timestamp":"soon","event_name":"page_view","event_params":[],"user_pseudo_id":"1.2"}\n');
    expect((await stageFile(ga4Reader, path)).rows.map((r) => r._reject)).toEqual(['event_timestamp: unreadable timestamp "soon"']);
  });

  it('writes parameter and user-property keys that need escaping as they are, with their typed values', async () => {
    const keys = ['a"b', 'c\\d', 'café', '😀', 'tab\tx', 'nl\nx', '\u0001', '/slash', ''];
    const params = keys.map((key, i) => ({ key, value: i % 3 === 0 ? { int_value: String(i) } : i % 3 === 1 ? { string_value: `v"\\\n${i}` } : { double_value: i + 0.5 } }));
    const row = {
      event_date: '20240331',
      event_timestamp: '1711846800000000',
      event_name: 'odd_keys',
      user_pseudo_id: '1.2',
      event_params: params,
      user_properties: [{ key: 'plan "x"', value: { string_value: 'pro', set_timestamp_micros: '1711846800000000' } }],
    };
    const staged = await stageFile(ga4Reader, write('odd-keys.jsonl', `${JSON.stringify(row)}\n`));
    const only = staged.rows[0]!;
    expect(only._reject).toBeNull();
    const expected: Record<string, unknown> = {};
    params.forEach((p, i) => (expected[p.key] = i % 3 === 0 ? i : i % 3 === 1 ? `v"\\\n${i}` : i + 0.5));
    expect(only.properties).toMatchObject(expected);
    expect(Object.keys(only.properties as object).filter((k) => keys.includes(k))).toEqual(keys);
    expect(only.user_properties).toEqual({ 'plan "x"': 'pro' });
  });
});

describe('ga4 reader: intraday and daily tables of one date', () => {
  it('give the same events the same source_event_id, so they never double count', async () => {
    const daily = await stageFile(ga4Reader, DAILY);
    const intraday = await stageFile(ga4Reader, INTRADAY);
    const dailyIds = new Set(daily.rows.filter((r) => r._reject === null).map((r) => r.source_event_id));
    const intradayIds = intraday.rows.map((r) => r.source_event_id as string);
    // Lines 1-4 are events also in the daily table (re-ordered keys and params, enrichment not filled yet).
    expect(intradayIds.slice(0, 4).every((id) => dailyIds.has(id))).toBe(true);
    expect(dailyIds.has(intradayIds[4]!)).toBe(false);
    expect(new Set([...dailyIds, ...intradayIds]).size).toBe(dailyIds.size + 1);
    const pick = (r: Record<string, unknown>): unknown[] => [r.source_event_id, r.occurred_at, r.user_id, r.anonymous_id, r.vendor_session_id, r.page_url];
    expect(pick(intraday.rows[0]!)).toEqual(pick(byLine(daily, 1)));
    expect(pick(intraday.rows[3]!)).toEqual(pick(byLine(daily, 10)));
  });
});

describe('ga4 reader: other containers', () => {
  it('reads the Parquet export (event_params as LIST<STRUCT>, INT64 columns) with the same keys as NDJSON', async () => {
    const path = join(tmp, 'events_20240331.parquet');
    const web = `{'category': 'desktop', 'operating_system': 'Windows', 'web_info': {'browser': 'Chrome', 'browser_version': '123.0'}}`;
    await writeParquet(
      path,
      `SELECT * FROM (VALUES
        ('20240331', 1711846799999999::BIGINT, 'page_view',
         [${paramSql('page_location', { s: 'https://shop.example.com/preise?ref=nav' })}, ${paramSql('page_referrer', { s: 'https://www.google.de/' })},
          ${paramSql('ga_session_id', { i: '1711846000' })}, ${paramSql('value', { d: 12.5 })}, ${paramSql('big_counter', { i: '9007199254740993' })}],
         '${USER}', '${PSEUDO}', 9007199254740993::BIGINT, 1::BIGINT, 5::BIGINT, 1711846000000::BIGINT,
         [${paramSql('plan', { s: 'pro' })}], ${web}, {'country': 'Germany', 'city': 'Berlin'}, 'WEB'),
        ('20240331', 1711846999000000::BIGINT, 'scroll',
         [${paramSql('percent_scrolled', { i: '90' })}, ${paramSql('ga_session_id', { i: '1711846000' })}, ${paramSql('page_location', { s: 'https://shop.example.com/preise?ref=nav' })}],
         '${USER}', '${PSEUDO}', 42::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT,
         [], ${web}, {'country': 'Germany', 'city': 'Berlin'}, 'WEB')
      ) t(event_date, event_timestamp, event_name, event_params, user_id, user_pseudo_id, event_bundle_sequence_id,
          batch_event_index, batch_ordering_id, batch_page_id, user_properties, device, geo, platform)`,
    );
    const staged = await stageFile(ga4Reader, path);
    expect(staged.detection).toEqual({ format: 'parquet', confidence: 0.95, layout: 'GA4 BigQuery export, daily table (Parquet)' });
    const daily = await stageFile(ga4Reader, DAILY);
    const pick = (r: Record<string, unknown>): unknown[] => [
      r.source_event_id,
      r.event_kind,
      r.occurred_at,
      r.user_id,
      r.anonymous_id,
      r.vendor_session_id,
      r.page_url,
      r.referrer,
      r.device_type,
      r.browser,
      r.os,
      r.country,
    ];
    expect(staged.rows.map(pick)).toEqual([pick(byLine(daily, 1)), pick(byLine(daily, 9))]);
    expect(staged.rows[0]).toMatchObject({ properties: { ga_session_id: 1711846000, value: 12.5, platform: 'WEB', event_bundle_sequence_id: 9007199254740992 }, user_properties: { plan: 'pro' } });
    expect(staged.rows[1]!.user_properties).toBeNull();
    const exact = await stageAndQuery(path, (rel) => `SELECT properties->>'$.big_counter' AS counter FROM ${rel} WHERE _line = 1`);
    expect(exact).toEqual([{ counter: '9007199254740993' }]);
  });

  it('reads a JSON array of rows (bq --format=prettyjson) and single pretty-printed rows', async () => {
    const rows = readFileSync(DAILY, 'utf8').split('\n').slice(0, 2).map((l) => JSON.parse(l) as unknown);
    const arrayFile = write('rows.json', JSON.stringify(rows, null, 2));
    const fromArray = await stageFile(ga4Reader, arrayFile);
    expect(fromArray.detection.format).toBe('json-array');
    const objectsFile = write('rows-objects.json', rows.map((r) => JSON.stringify(r, null, 2)).join('\n'));
    const fromObjects = await stageFile(ga4Reader, objectsFile);
    expect(fromObjects.detection.format).toBe('json-object');
    const daily = await stageFile(ga4Reader, DAILY);
    for (const staged of [fromArray, fromObjects]) {
      expect(staged.rows.map((r) => [r._line, r.source_event_id, r.properties])).toEqual([
        ['1', byLine(daily, 1).source_event_id, byLine(daily, 1).properties],
        ['2', byLine(daily, 2).source_event_id, byLine(daily, 2).properties],
      ]);
    }
  });

  it('reads gzip; reports truncated gzip as corrupt and empty files as empty', async () => {
    const body = readFileSync(DAILY);
    expect((await stageFile(ga4Reader, write('events.jsonl.gz', gzipSync(body)))).rows).toHaveLength(13);
    const whole = gzipSync(Buffer.concat(Array.from({ length: 100 }, () => body)));
    const truncated = write('truncated.jsonl.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const err = await rejection(stageFile(ga4Reader, truncated));
    expect(err.code).toBe('import_file_corrupt');
    expect(err.place.file).toBe(truncated);
    const pretty = readFileSync(DAILY, 'utf8').split('\n').slice(0, 3).map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n');
    const gzPretty = gzipSync(pretty);
    const cut = write('rows-cut.json.gz', gzPretty.subarray(0, gzPretty.length - 4));
    const cutErr = await rejection(stageFile(ga4Reader, cut));
    expect(cutErr.code).toBe('import_file_corrupt');
    expect(cutErr.message).toContain('rows-cut.json.gz');
    const empty = await rejection(stageFile(ga4Reader, write('events_20240401.jsonl', '')));
    expect(empty.code).toBe('import_file_empty');
  });
});

describe.skipIf(!existsSync(SAMPLES))('ga4 reader: real samples in vendor-samples/ga4 (skipped when absent)', () => {
  it('stages the trimmed web rows exactly', async () => {
    const staged = await stageFile(ga4Reader, join(SAMPLES, 'bigquery_export_rows_trimmed_from_test_fixture.ndjson'));
    expect(staged.detection.confidence).toBe(0.95);
    expect(staged.rows.map((r) => [r.event_name, r.event_kind, r.occurred_at, r.vendor_session_id, r.page_url, r.referrer, r._reject])).toEqual([
      ['scroll', 'custom', '2023-10-05 01:47:32.486466+00', '123526748', 'https://mobile.deexam.ph/', null, null],
      ['page_view', 'page_view', '2023-10-05 01:46:58.877027+00', '84321567', 'https://web.deexam.ph/', 'http://m.facebook.com/', null],
    ]);
    expect(staged.rows[0]!.source_event_id).toMatch(/^\|1696470452486466\|scroll\|\|\|\|\|[0-9a-f]{32}$/);
    expect(staged.rows[0]!.properties).toEqual({
      ga_session_id: 123526748,
      engaged_session_event: 1,
      session_engaged: '1',
      page_location: 'https://mobile.deexam.ph/',
      percent_scrolled: 90,
      ignore_referrer: 'true',
      page_title: "J's Angels",
      event_date: '20231005',
    });
  });

  it('stages the app row snippet (pretty-printed JSON) with its user properties', async () => {
    const staged = await stageFile(ga4Reader, join(SAMPLES, 'bigquery_export_app_row_snippet_from_test_fixture.json'));
    expect(staged.rows).toHaveLength(1);
    expect(staged.rows[0]).toMatchObject({
      event_name: 'screen_view',
      event_kind: 'screen_view',
      occurred_at: '2021-09-10 14:45:16.932001+00',
      vendor_session_id: '1631285116',
      properties: { firebase_event_origin: 'auto', ga_session_id: 1631285116, privacy_info: { analytics_storage: 'Yes' }, user_first_touch_timestamp: '1628325521168000' },
      user_properties: { ga_session_id: 1631285116, first_open_time: 1628326800000 },
      _reject: null,
    });
  });
});
