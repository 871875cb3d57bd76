import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fullstoryReader } from './fullstory-reader.js';
import { stageFile, probeForTest } from '../../test-support/stage-file.js';
import { DuckdbSession } from '../../warehouse/duckdb/duckdb-connection.js';
import { DuckdbStageContext } from '../../warehouse/duckdb/duckdb-stage-context.js';
import { configSchema } from '../../core/config-schema.js';
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import { UsageLabError } from '../../core/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, '__fixtures__', name);
const repoRoot = resolve(here, '../../..');
const samples = resolve(repoRoot, '../shared/data/vendor-samples/fullstory');

type Row = Record<string, unknown>;
const byLine = (rows: Row[], line: number): Row => {
  const row = rows.find((r) => Number(r._line) === line);
  if (row === undefined) throw new Error(`no row with _line ${line}`);
  return row;
};
const count = (rows: Row[], pred: (r: Row) => boolean): number => rows.filter(pred).length;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-fullstory-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Stages a file on a private DuckDB and runs `sql` (with {rel} = the staged relation) on the result. */
async function queryStaged(path: string, sql: string): Promise<Row[]> {
  const session = await DuckdbSession.open({ path: ':memory:' });
  try {
    const probe = await probeForTest(path);
    const ctx = await DuckdbStageContext.create(session, configSchema.parse({}), { columnMap: {} }, tmp);
    const staged = await fullstoryReader.stage(probe, fullstoryReader.detect(probe)!, ctx);
    return await session.all(sql.replaceAll('{rel}', staged.relation));
  } finally {
    session.close();
  }
}

describe('FullStory Segment Export, FORMAT_JSON (JSON array)', () => {
  let rows: Row[];
  let result: Awaited<ReturnType<typeof stageFile>>;
  beforeAll(async () => {
    result = await stageFile(fullstoryReader, fixture('segment-export.json'));
    rows = result.rows;
  });

  it('is detected as a Segment Export and flags rage clicks natively', () => {
    expect(result.detection).toEqual({ format: 'json-array', confidence: 0.95, layout: 'FullStory Segment Export (JSON array)' });
    expect(result.nativeRageClicks).toBe(true);
    expect(rows).toHaveLength(21);
  });

  it('keeps 64-bit ids exact as text', () => {
    const r = byLine(rows, 1);
    expect(r.anonymous_id).toBe('9007199254740993');
    expect(r.vendor_session_id).toBe('9223372036854775807');
    expect(r.source_event_id).toBe('9007199254740993|9223372036854775807|1234567890123456789|2021-03-28T00:59:59.999000Z|uservar|||0|');
  });

  it('maps identity, page and device fields', () => {
    const r = byLine(rows, 1);
    expect(r).toMatchObject({
      source: 'fullstory',
      event_name: 'uservar',
      event_kind: 'identify',
      user_id: 'user-42',
      page_url: 'https://app.example.com/#/checkout',
      referrer: 'https://www.google.com/',
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Windows',
      country: null,
      received_at: null,
      _reject: null,
    });
    expect(r.user_properties).toEqual({ user_plan_str: 'pro', user_seats_int: 12, UserDisplayName: 'Zoë Ångström', UserEmail: 'zoe@example.com' });
    const props = r.properties as Row;
    expect(props.EventType).toBe('uservar');
    expect(props.PageLatLong).toBe('52.3676,4.9041');
    for (const mapped of ['UserId', 'UserAppKey', 'SessionId', 'EventStart', 'PageUrl', 'PageDevice', 'UserEmail', 'user_plan_str']) {
      expect(props).not.toHaveProperty(mapped);
    }
  });

  it('keeps 64-bit ids exact inside properties and stages exactly the canonical columns', async () => {
    const out = await queryStaged(fixture('segment-export.json'), `SELECT CAST(properties AS VARCHAR) AS p FROM {rel} WHERE _line = 1`);
    expect(out[0]!.p).toContain('"IndvId":9007199254740993');
    expect(out[0]!.p).toContain('"PageId":1234567890123456789');
    const cols = await queryStaged(fixture('segment-export.json'), `SELECT column_name, column_type FROM (DESCRIBE {rel})`);
    const expected = [...STAGED_COLUMNS.map((c) => c.name), '_line', '_reject'];
    expect(cols.map((c) => c.column_name).sort()).toEqual(expected.sort());
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
    expect(types).toMatchObject({ occurred_at: 'TIMESTAMP WITH TIME ZONE', rage_click: 'BOOLEAN', properties: 'JSON', _line: 'BIGINT' });
  });

  it('reads RFC 3339, offset and naive timestamps as UTC instants, across DST changes', () => {
    expect(byLine(rows, 1).occurred_at).toBe('2021-03-28 00:59:59.999+00');
    expect(byLine(rows, 2).occurred_at).toBe('2021-03-28 01:00:00+00');
    // naive: a wall time that does not exist in Europe on that day, read as UTC whatever TZ the process has
    expect(byLine(rows, 15).occurred_at).toBe('2021-03-28 02:30:00+00');
    expect(byLine(rows, 16).occurred_at).toBe('2021-03-28 01:30:00.123+00');
    // US DST end: 06:30Z is the second 01:30 in New York
    expect(byLine(rows, 9).occurred_at).toBe('2021-11-07 06:30:00+00');
  });

  it('maps rage clicks from EventModFrustrated and keeps a series distinct, even at equal timestamps', () => {
    const series = [3, 4, 5].map((l) => byLine(rows, l));
    expect(series.map((r) => r.rage_click)).toEqual([true, true, true]);
    expect(series[1]!.occurred_at).toBe(series[2]!.occurred_at);
    expect(new Set(series.map((r) => r.source_event_id)).size).toBe(3);
    expect(series[2]!.source_event_id).toBe(
      '9007199254740993|9223372036854775807|1234567890123456789|2021-03-28T01:00:01.300000Z|click|||3|dc43d347334cff0d3cb0aa4c4b5f2824',
    );
    expect((series[2]!.properties as Row).EventModFrustrated).toBe(3);
  });

  it('decodes the tokenised selector and takes EventTargetSelector as given', () => {
    expect(byLine(rows, 3).element_selector).toBe('html.no-js body.ng-scope div.btn-group button.btn.btn-primary');
    expect(byLine(rows, 3).element_text).toBe('Pay now');
    expect(byLine(rows, 6).element_selector).toBe('html.no-js body div.footer small');
  });

  it('maps dead clicks, error clicks and error events', () => {
    expect(byLine(rows, 6)).toMatchObject({ event_kind: 'click', dead_click: true, rage_click: false, error_click: false });
    expect(byLine(rows, 7)).toMatchObject({ event_kind: 'click', error_click: true, dead_click: false });
    expect((byLine(rows, 7).properties as Row).EventModError).toBe(3);
    expect(byLine(rows, 11)).toMatchObject({ event_name: 'exception', event_kind: 'error', error_click: true });
    expect(byLine(rows, 12)).toMatchObject({ event_name: 'console_message', event_kind: 'error', error_click: true });
    expect(count(rows, (r) => r.dead_click === true)).toBe(1);
    expect(count(rows, (r) => r.rage_click === true)).toBe(4);
  });

  it('keeps unicode and embedded newlines in text', () => {
    expect(byLine(rows, 8)).toMatchObject({ event_kind: 'input', element_text: 'Zoë 🚀\nsecond line, with comma', element_selector: 'html body form input#name' });
  });

  it('names custom events and keeps their variables; same-millisecond custom events stay distinct', () => {
    const [a, b] = [byLine(rows, 9), byLine(rows, 10)];
    expect(a).toMatchObject({ event_name: 'Checkout Error', event_kind: 'custom', error_click: false });
    expect((a.properties as Row)['evt_order.total_real']).toBe(8.54);
    expect(a.source_event_id).not.toBe(b.source_event_id);
    // custom_error is a custom event whose variables failed validation, not an application error
    expect(byLine(rows, 13)).toMatchObject({ event_name: 'Product Added', event_kind: 'custom', error_click: false });
    expect(byLine(rows, 20)).toMatchObject({ event_name: 'thrash', event_kind: 'custom' });
  });

  it('gives a duplicated record the same source_event_id', () => {
    expect(byLine(rows, 14).source_event_id).toBe(byLine(rows, 3).source_event_id);
  });

  it('stages unreadable records with a reason', () => {
    expect(byLine(rows, 17)).toMatchObject({ _reject: 'record: not a JSON object', source_event_id: null });
    expect(byLine(rows, 18)._reject).toBe('EventStart: unreadable timestamp "abc"');
    expect(byLine(rows, 19)._reject).toBe('EventType: missing');
    expect(byLine(rows, 21)._reject).toMatch(/^UserId: missing/);
    expect(count(rows, (r) => r._reject !== null)).toBe(4);
  });

  it('reads the gzip-compressed export the same way', async () => {
    const gz = join(tmp, 'segment.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('segment-export.json'))));
    const zipped = await stageFile(fullstoryReader, gz);
    expect(zipped.detection.layout).toBe('FullStory Segment Export (JSON array)');
    expect(zipped.rows).toEqual(rows);
  });

  it('refuses a truncated gzip export with import_file_corrupt', async () => {
    const full = gzipSync(readFileSync(fixture('segment-export.json')));
    const cut = join(tmp, 'segment-cut.json.gz');
    writeFileSync(cut, full.subarray(0, Math.floor(full.length * 0.6)));
    const err = await stageFile(fullstoryReader, cut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
  });
});

describe('FullStory Segment Export, FORMAT_NDJSON', () => {
  it('reads lines, rejects the ones that are not JSON objects, and maps app screens', async () => {
    const { rows, detection } = await stageFile(fullstoryReader, fixture('segment-export.ndjson'));
    expect(detection.layout).toBe('FullStory Segment Export (NDJSON)');
    expect(rows.map((r) => r._reject)).toEqual([null, 'record: not a JSON object', null, 'record: not a JSON object', null]);
    expect(byLine(rows, 3)).toMatchObject({ event_kind: 'click', rage_click: true, anonymous_id: '9007199254740993' });
    expect(byLine(rows, 5)).toMatchObject({ event_kind: 'screen_view', page_url: 'CheckoutActivity', referrer: null });
  });

  it('gives the same record the same key in the JSON and NDJSON exports', async () => {
    const json = (await stageFile(fullstoryReader, fixture('segment-export.json'))).rows;
    const nd = (await stageFile(fullstoryReader, fixture('segment-export.ndjson'))).rows;
    expect(byLine(nd, 3).source_event_id).toBe(byLine(json, 3).source_event_id);
    expect(byLine(nd, 1).source_event_id).toBe(byLine(json, 2).source_event_id);
  });

  it('refuses a truncated gzip NDJSON export', async () => {
    const full = gzipSync(Buffer.from(readFileSync(fixture('segment-export.ndjson'), 'utf8').repeat(200)));
    const cut = join(tmp, 'segment-cut.ndjson.gz');
    writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    const err = await stageFile(fullstoryReader, cut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
  });
});

describe('FullStory Segment Export, FORMAT_CSV', () => {
  let rows: Row[];
  beforeAll(async () => {
    const staged = await stageFile(fullstoryReader, fixture('segment-export.csv'));
    expect(staged.detection.layout).toBe('FullStory Segment Export (CSV)');
    rows = staged.rows;
  });
  const find = (pred: (r: Row) => boolean): Row => rows.find(pred)!;

  it('reads zero-valued mod columns as not set, and the same record gets the JSON export key', async () => {
    const json = (await stageFile(fullstoryReader, fixture('segment-export.json'))).rows;
    const click = find((r) => r.element_text === 'Pay now');
    expect(click).toMatchObject({ rage_click: true, dead_click: false, error_click: false, anonymous_id: '9007199254740993' });
    expect(click.source_event_id).toBe(byLine(json, 3).source_event_id);
    expect(find((r) => r.element_text === 'Help')).toMatchObject({ dead_click: true, rage_click: false, element_selector: 'html body a.help' });
  });

  it('keeps quoted text with quotes, commas, unicode and a newline', () => {
    expect(find((r) => r.event_kind === 'input').element_text).toBe('He said "hi", Zoë 🚀\nline 2');
  });

  it('drops empty cells, keeps custom variables, and reads an empty UserAppKey as no user id', () => {
    const signup = find((r) => r.event_name === 'Signup');
    expect(signup.properties).toMatchObject({ evt_code_str: 'X1', EventModDead: '0' });
    expect(signup.properties).not.toHaveProperty('EventSubType');
    expect(signup.user_properties).toEqual({ user_plan_str: 'pro', UserDisplayName: 'Zoë Ångström', UserEmail: 'zoe@example.com' });
    const nav = find((r) => r.event_kind === 'page_view');
    expect(nav).toMatchObject({ user_id: null, anonymous_id: '5189870820212736', occurred_at: '2021-03-28 02:30:00.5+00' });
    expect(nav.user_properties).toEqual({ UserDisplayName: 'User 90791' });
  });

  it('rejects an unreadable EventStart', () => {
    expect(count(rows, (r) => r._reject === 'EventStart: unreadable timestamp "not-a-time"')).toBe(1);
    expect(count(rows, (r) => r._reject !== null)).toBe(1);
  });
});

describe('FullStory events table (Data Destinations layout)', () => {
  it('maps the CSV layout: ids, url, target, frustration fields, identify, custom names', async () => {
    const { rows, detection, nativeRageClicks } = await stageFile(fullstoryReader, fixture('events-table.csv'));
    expect(detection).toEqual({ format: 'csv', confidence: 0.95, layout: 'FullStory events table (CSV)' });
    expect(nativeRageClicks).toBe(false);
    const byId = (id: string): Row => rows.find((r) => r.source_event_id === id)!;
    expect(byId('evt-1')).toMatchObject({
      event_name: 'navigate',
      event_kind: 'page_view',
      occurred_at: '2021-03-28 00:59:59.999+00',
      received_at: '2021-03-28 02:00:00+00',
      anonymous_id: '5916567459329906423',
      vendor_session_id: '5916567459329906424',
      page_url: 'https://app.example.com/checkout?step=2',
      referrer: 'https://www.google.com/',
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Windows',
      country: 'Netherlands',
    });
    expect(byId('evt-1').properties).toMatchObject({ event_type: 'navigate', view_id: '1', source_type: 'web', updated_time: '2021-03-28T02:00:00Z' });
    expect(byId('evt-3')).toMatchObject({ element_text: 'Zoë 🚀\nline 2, "quoted"', element_selector: 'a.help', dead_click: true, rage_click: false });
    expect(byId('evt-4')).toMatchObject({ error_click: true, event_kind: 'click' });
    expect(byId('evt-5')).toMatchObject({ event_kind: 'identify', user_id: 'user-42' });
    expect(byId('evt-5').user_properties).toEqual({ plan: 'pro', user_email: 'zoe@example.com', user_display_name: 'Zoë' });
    expect(byId('evt-5').properties).not.toHaveProperty('user_id');
    expect(byId('evt-6')).toMatchObject({ event_name: 'Order Completed', event_kind: 'custom' });
    expect(byId('evt-7')).toMatchObject({ event_kind: 'error', error_click: true });
    expect(byId('evt-8')).toMatchObject({ event_kind: 'screen_view', page_url: 'CheckoutActivity', device_type: 'mobile' });
    expect(byId('evt-11').occurred_at).toBe('2021-03-28 02:30:00+00');
    expect(byId('evt-12').occurred_at).toBe('2021-03-28 01:30:00.123456+00');
    // duplicate delivery (at-least-once sync), id written with a trailing space: one source_event_id
    const dupes = rows.filter((r) => r.source_event_id === 'evt-2');
    expect(dupes).toHaveLength(2);
    expect(dupes.map((r) => r.rage_click)).toEqual([true, true]);
    expect(rows.filter((r) => r._reject !== null).map((r) => r._reject)).toEqual([
      'event_properties: not a JSON object',
      'event_time: unreadable timestamp "yesterday"',
      'event_id: missing',
    ]);
  });

  it('maps the NDJSON layout with nested objects, JSON-text properties and numeric 64-bit ids', async () => {
    const { rows, detection } = await stageFile(fullstoryReader, fixture('events-table.ndjson'));
    expect(detection.layout).toBe('FullStory events table (NDJSON)');
    expect(byLine(rows, 1)).toMatchObject({ anonymous_id: '5916567459329906423', vendor_session_id: '5916567459329906424', rage_click: true, element_text: 'Pay now' });
    expect(byLine(rows, 2)._reject).toBe('record: not a JSON object');
    expect(byLine(rows, 3)).toMatchObject({ event_kind: 'identify', user_id: 'user-42', user_properties: null });
    expect(byLine(rows, 4)).toMatchObject({ vendor_session_id: null, page_url: null, _reject: null });
    expect(byLine(rows, 5)._reject).toBe('event_properties: not a JSON object');
  });

  it('reads the Parquet layout with typed columns', async () => {
    const path = join(tmp, 'events.parquet');
    const session = await DuckdbSession.open({ path: ':memory:' });
    try {
      await session.run(`COPY (
        SELECT 'pq-1' AS event_id, TIMESTAMPTZ '2021-03-28 01:00:00.25+00' AS event_time, TIMESTAMP '2021-03-28 02:00:00' AS processed_time,
          TIMESTAMP '2021-03-28 02:00:00' AS updated_time, 5916567459329906423::BIGINT AS device_id, 42::BIGINT AS session_id,
          7::BIGINT AS view_id, 'click' AS event_type, '{"target":{"text":"Go","raw_selector":"a.go"},"fs_rage_count":2}' AS event_properties,
          'web' AS source_type, '{"url":{"full_url":"https://app.example.com/"}}' AS source_properties
      ) TO '${path}' (FORMAT parquet)`);
    } finally {
      session.close();
    }
    const { rows, detection } = await stageFile(fullstoryReader, path);
    expect(detection).toEqual({ format: 'parquet', confidence: 0.95, layout: 'FullStory events table (Parquet)' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      source_event_id: 'pq-1',
      occurred_at: '2021-03-28 01:00:00.25+00',
      received_at: '2021-03-28 02:00:00+00',
      anonymous_id: '5916567459329906423',
      vendor_session_id: '42',
      element_text: 'Go',
      element_selector: 'a.go',
      rage_click: true,
      page_url: 'https://app.example.com/',
      _reject: null,
    });
  });
});

describe('FullStory detection', () => {
  const write = (name: string, text: string): string => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };

  it('does not claim other tools’ files or generic event logs', async () => {
    const others = [
      write('generic.csv', 'user,event,time\nu1,signup,2021-03-28T01:00:00Z\n'),
      write('heap.csv', 'event_id,time,user_id,session_id,type\n1,2021-03-28 01:00:00,2,3,click\n'),
      write(
        'amplitude.jsonl',
        JSON.stringify({
          $insert_id: 'a1',
          amplitude_id: 1263130950579,
          event_id: 12,
          event_time: '2021-03-28 01:00:00.123000',
          event_type: 'click',
          device_id: 'f48913e6',
          session_id: 1617000000000,
          event_properties: {},
          user_properties: {},
          processed_time: '2021-03-28 01:00:01.000000',
          uuid: '4b7b0b1e-0000-0000-0000-000000000000',
        }) + '\n',
      ),
      write('posthog.jsonl', JSON.stringify({ uuid: 'u', event: '$pageview', distinct_id: 'd', properties: {}, timestamp: '2021-03-28T01:00:00Z' }) + '\n'),
      write('mixpanel.jsonl', JSON.stringify({ event: 'Signed up', properties: { time: 1602611311, distinct_id: 'd', $insert_id: 'x' } }) + '\n'),
      write('ga4.jsonl', JSON.stringify({ event_date: '20231005', event_timestamp: '1696470452486466', event_name: 'scroll', user_pseudo_id: 'p' }) + '\n'),
      write('not-segment.json', JSON.stringify([{ EventType: 'click', time: 1 }])),
    ];
    for (const path of others) expect(fullstoryReader.detect(await probeForTest(path)), path).toBeUndefined();
  });

  it('recognises a Segment Export whose first NDJSON line is damaged', async () => {
    const lines = readFileSync(fixture('segment-export.ndjson'), 'utf8').split('\n');
    const p = write('damaged-first.ndjson', ['{"UserId": 1, "Even', ...lines].join('\n'));
    expect(fullstoryReader.detect(await probeForTest(p))?.layout).toBe('FullStory Segment Export (NDJSON)');
  });

  it('the probe refuses an empty file with import_file_empty', async () => {
    const err = await probeForTest(write('empty.json', '')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_file_empty');
  });
});

describe.skipIf(!existsSync(samples))('FullStory real samples (vendor-samples/fullstory, read in place)', () => {
  it('hauser_testdata_raw.json: 144 events of a real Segment Export', async () => {
    const { rows, detection } = await stageFile(fullstoryReader, join(samples, 'hauser_testdata_raw.json'));
    expect(detection.layout).toBe('FullStory Segment Export (JSON array)');
    expect(rows).toHaveLength(144);
    expect(count(rows, (r) => r._reject !== null)).toBe(0);
    expect(new Set(rows.map((r) => r.source_event_id)).size).toBe(144);
    expect(count(rows, (r) => r.event_kind === 'click')).toBe(42);
    expect(new Set(rows.map((r) => r.anonymous_id)).size).toBe(4);
    expect(count(rows, (r) => r.anonymous_id === '6730658309947392')).toBe(53);
    expect(count(rows, (r) => r.dead_click === true)).toBe(8);
    expect(count(rows, (r) => r.error_click === true)).toBe(11);
    expect(count(rows, (r) => r.rage_click === true)).toBe(0);
    expect(count(rows, (r) => r.event_name === 'Checkout Error')).toBe(33);
    expect(count(rows, (r) => r.element_selector !== null)).toBe(68);
    expect(count(rows, (r) => r.user_id !== null)).toBe(0);
    const seen = rows.find((r) => r.event_name === 'seen')!;
    expect(seen.element_selector).toBe(
      'html.no-js body.ng-scope div.content div.ng-scope div.home-features.ng-scope div.container div.row div.col-sm-12.ng-scope div.featured-fruit',
    );
    const checkout = rows.find((r) => r.occurred_at === '2020-08-27 06:21:08.256+00' && r.event_name === 'Checkout Error')!;
    expect(checkout.properties).toMatchObject({ 'evt_order.total_real': 8.54, evt_code_str: 'OOS-134B' });
  });

  it('dbt_fullstory_integration_seeds_v2_events.csv: 85 rows of the events-table layout', async () => {
    const { rows, detection } = await stageFile(fullstoryReader, join(samples, 'dbt_fullstory_integration_seeds_v2_events.csv'));
    expect(detection.layout).toBe('FullStory events table (CSV)');
    expect(rows).toHaveLength(85);
    expect(count(rows, (r) => r._reject !== null)).toBe(0);
    expect(new Set(rows.map((r) => r.source_event_id)).size).toBe(83);
    expect(count(rows, (r) => r.source_event_id === 'duplicate_event_id_test_1')).toBe(3);
    expect(count(rows, (r) => r.event_kind === 'identify')).toBe(18);
    expect(count(rows, (r) => r.user_id !== null)).toBe(15);
    expect(new Set(rows.filter((r) => r.user_id !== null).map((r) => r.user_id)).size).toBe(8);
    expect(count(rows, (r) => r.page_url !== null)).toBe(8);
    expect(count(rows, (r) => r.user_properties !== null)).toBe(7);
    expect(count(rows, (r) => r.event_kind === 'error')).toBe(6);
    expect(new Set(rows.map((r) => r.anonymous_id)).size).toBe(13);
    const target = rows.find((r) => r.source_event_id === 'event_properties_target_test_1')!;
    expect(target).toMatchObject({ element_text: 'Test Button ****', element_selector: '.test-button' });
  });
});
