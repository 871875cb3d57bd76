import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { posthogReader } from './posthog-reader.js';
import { stageFile, probeForTest, type StagedRows, stageAndQuery as stageAndQueryWith } from '../../test-support/stage-file.js';
import { UsageLabError } from '../../core/errors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const SAMPLES = resolve(REPO_ROOT, '../shared/data/vendor-samples/posthog');
const FIXTURES = join(HERE, '__fixtures__');
const JSONL = join(FIXTURES, 'batch-export.jsonl');
const DEVICE = '0190a1b2-aaaa-7000-8000-00000000d001';
const SESSION = '0190a1b2-5e55-7000-8000-000000000001';
const PERSON = '0190a1b2-9999-7000-8000-000000000001';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-posthog-test-'));
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
  stageAndQueryWith(posthogReader, path, sql);

async function rejection(promise: Promise<unknown>): Promise<UsageLabError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageLabError);
  return err as UsageLabError;
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

describe('posthog reader: detection', () => {
  it('recognises every PostHog layout with high confidence', async () => {
    expect(posthogReader.detect(await probeForTest(JSONL))).toEqual({ format: 'ndjson', confidence: 0.95, layout: 'PostHog batch export (JSONL)' });
    expect(posthogReader.detect(await probeForTest(join(FIXTURES, 'query-results.json')))).toEqual({
      format: 'json-object',
      confidence: 0.95,
      layout: 'PostHog query API results (JSON)',
    });
    expect(posthogReader.detect(await probeForTest(join(FIXTURES, 'events.csv')))).toEqual({ format: 'csv', confidence: 0.9, layout: 'PostHog events (CSV)' });
    expect(posthogReader.detect(await probeForTest(join(FIXTURES, 'ui-export.csv')))?.confidence).toBe(0.9);
  });

  it('judges a JSONL file by the first line that parses when the first is broken', async () => {
    const lines = readFileSync(JSONL, 'utf8').split('\n');
    const path = write('broken-first.jsonl', ['{"uuid": "x", "event": ', ...lines.slice(0, 2)].join('\n'));
    expect(posthogReader.detect(await probeForTest(path))?.confidence).toBe(0.95);
  });

  it('recognises a query-API page bigger than the probe head by its text', async () => {
    const row = (i: number): unknown[] => [`0190a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`, '$pageview', '2024-03-31T01:00:00Z', DEVICE, JSON.stringify({ $lib: 'web', pad: 'x'.repeat(200) })];
    const page = { columns: ['uuid', 'event', 'timestamp', 'distinct_id', 'properties'], results: Array.from({ length: 400 }, (_, i) => row(i)), hasMore: false };
    const path = write('big-page.json', JSON.stringify(page));
    const probe = await probeForTest(path);
    expect(probe.firstRecord).toBeUndefined();
    expect(posthogReader.detect(probe)).toEqual({ format: 'json-object', confidence: 0.9, layout: 'PostHog query API results (JSON)' });
    const staged = await stageFile(posthogReader, path);
    expect(staged.rows).toHaveLength(400);
    expect(staged.rows[399]).toMatchObject({ _line: '400', source_event_id: '0190a1b2-0000-7000-8000-000000000399', _reject: null });
  });

  it('does not claim other tools’ exports or generic event logs', async () => {
    const others: [string, string][] = [
      ['generic.csv', 'user,event,time\nu1,signup,2024-01-01T00:00:00Z\n'],
      ['generic-uuid.csv', 'uuid,user,event,time\n1,u1,signup,2024-01-01T00:00:00Z\n'],
      [
        'amplitude.jsonl',
        '{"uuid":"a7c1b2d4-0000-4000-8000-000000000001","event_type":"Page Viewed","user_id":"u1","device_id":"d1","event_time":"2024-03-31 01:00:00.000000","event_properties":{},"amplitude_id":123}\n',
      ],
      ['mixpanel.jsonl', '{"event":"Signed Up","properties":{"time":1711846800,"distinct_id":"u1","$insert_id":"abc","mp_lib":"web"}}\n'],
      ['segment.jsonl', '{"event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2024-03-31T01:00:00Z","properties":{}}\n'],
      [
        'ga4.jsonl',
        '{"event_date":"20240331","event_timestamp":"1711846800000000","event_name":"page_view","event_params":[{"key":"ga_session_id","value":{"int_value":"1"}}],"user_pseudo_id":"1.2"}\n',
      ],
      ['fullstory.json', '[{"EventStart":"2024-03-31T01:00:00.000Z","EventType":"click","IndvId":1,"UserId":2,"SessionId":3,"PageId":4}]'],
      ['not-a-page.json', '{"results": [{"foo": 1}], "next": null}'],
    ];
    for (const [name, content] of others) {
      expect(posthogReader.detect(await probeForTest(write(name, content))), name).toBeUndefined();
    }
  });
});

describe('posthog reader: batch-export JSONL', () => {
  let staged: StagedRows;
  beforeAll(async () => {
    staged = await stageFile(posthogReader, JSONL);
  });

  it('stages every line, flags native rage clicks', () => {
    expect(staged.rows).toHaveLength(15);
    expect(staged.nativeRageClicks).toBe(true);
    expect(staged.partial).toEqual([]);
  });

  it('maps an anonymous $pageview field by field', () => {
    expect(byLine(staged, 1)).toEqual({
      source: 'posthog',
      source_event_id: '0190a1b2-0000-7000-8000-000000000001',
      event_name: '$pageview',
      event_kind: 'page_view',
      occurred_at: '2024-03-31 00:59:59.999999+00',
      received_at: '2024-03-31 01:00:01.5+00',
      user_id: null,
      anonymous_id: DEVICE,
      vendor_session_id: SESSION,
      page_url: 'https://app.example.com/projects/42?tab=1',
      referrer: 'https://www.google.com/',
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: 'desktop',
      browser: 'Chrome',
      os: 'Mac OS X',
      country: 'NL',
      properties: {
        $lib: 'web',
        $lib_version: '1.160.0',
        $device_id: DEVICE,
        $session_id: SESSION,
        $window_id: '0190a1b2-5e55-7000-8000-0000000000w1',
        $browser: 'Chrome',
        $os: 'Mac OS X',
        $device_type: 'Desktop',
        $geoip_country_code: 'NL',
        distinct_id: DEVICE,
        $current_url: 'https://app.example.com/projects/42?tab=1',
        $pathname: '/projects/42',
        $referrer: 'https://www.google.com/',
        $insert_id: 'ins1',
        person_id: PERSON,
        team_id: 2,
        _inserted_at: '2024-03-31T01:00:05.000000Z',
      },
      user_properties: { email: 'anna@example.com', plan: 'pro' },
      _line: '1',
      _reject: null,
    });
  });

  it('reads elements_chain: text of the nearest element that has one (unicode, escaped quotes) and a CSS-like selector', () => {
    expect(byLine(staged, 2)).toMatchObject({
      event_kind: 'click',
      element_text: 'Sign "up" — jetzt 🚀',
      element_selector: 'body > div.hero > button#cta.btn.btn-primary > span.icon',
      page_url: 'https://app.example.com/',
      referrer: null,
    });
    expect((byLine(staged, 2).properties as Record<string, unknown>).elements_chain).toContain('text="Sign \\"up\\" — jetzt 🚀"');
    expect(byLine(staged, 3)).toMatchObject({ event_kind: 'input', element_text: 'Search…', element_selector: 'form#search-form > input#q.search' });
    expect(byLine(staged, 4)).toMatchObject({ event_kind: 'submit', element_text: null, element_selector: 'form#search-form' });
    // $dead_click sends its chain as the $elements_chain property.
    expect(byLine(staged, 6)).toMatchObject({ element_text: 'text', element_selector: 'body' });
  });

  it('reads every timestamp form as a UTC instant: Z, naive (UTC), offsets, across DST changes', () => {
    const times = [1, 2, 3, 4, 5, 6, 14].map((l) => byLine(staged, l).occurred_at);
    expect(times).toEqual([
      '2024-03-31 00:59:59.999999+00', // Z, one µs before Europe's spring-forward
      '2024-03-31 01:00:00.000001+00', // naive ClickHouse form "2024-03-31 01:00:00.000001" is UTC
      '2024-03-31 01:00:00.000001+00', // +02:00 after the change: the same instant as line 2
      '2024-11-03 05:30:00+00', // 01:30 EDT (-04:00), before the US fall-back
      '2024-11-03 06:30:00+00', // 01:30 EST (-05:00), the repeated wall-clock hour
      '2024-11-03 06:31:00+00',
      '2024-11-03 06:36:00.123456+00',
    ]);
    expect(byLine(staged, 2).received_at).toBe('2024-03-31 01:00:02+00');
  });

  it('maps event kinds and frustration events', () => {
    const kinds = staged.rows
      .filter((r) => r._reject === null)
      .map((r) => [r.event_name, r.event_kind, r.rage_click, r.dead_click, r.error_click]);
    expect(kinds).toEqual([
      ['$pageview', 'page_view', false, false, false],
      ['$autocapture', 'click', false, false, false],
      ['$autocapture', 'input', false, false, false],
      ['$autocapture', 'submit', false, false, false],
      ['$rageclick', 'click', true, false, false],
      ['$dead_click', 'click', false, true, false],
      ['$exception', 'error', false, false, true],
      ['$identify', 'identify', false, false, false],
      ['Report Exported', 'custom', false, false, false],
      ['$pageview', 'page_view', false, false, false],
      ['$screen', 'screen_view', false, false, false],
      ['$pageleave', 'custom', false, false, false],
    ]);
    expect(byLine(staged, 5)).toMatchObject({ element_text: 'Sign "up" — jetzt 🚀', page_url: 'https://app.example.com/billing' });
  });

  it('applies the identity rule: distinct_id is the user unless it is the device / anonymous id', () => {
    const ids = [1, 2, 8, 9, 14, 15].map((l) => [byLine(staged, l).user_id, byLine(staged, l).anonymous_id]);
    expect(ids).toEqual([
      [null, DEVICE], // distinct_id = $device_id: anonymous
      ['user-42@example.com', DEVICE], // identified
      ['9007199254740993', DEVICE], // $identify: the new id (beyond 2^53, exact) and $anon_distinct_id
      ['u-7', null], // $user_id property, server-side (no device)
      [null, 'anon-device-9'], // $is_identified: false and no $device_id
      ['u-7', null],
    ]);
  });

  it('gives a record exported twice the same source_event_id', () => {
    expect(byLine(staged, 10).source_event_id).toBe(byLine(staged, 1).source_event_id);
    const { _line: _a, ...first } = byLine(staged, 1);
    const { _line: _b, ...again } = byLine(staged, 10);
    expect(again).toEqual(first);
  });

  it('keeps unicode, embedded newlines and colliding top-level fields in properties', () => {
    expect(byLine(staged, 9)).toMatchObject({
      event_kind: 'custom',
      user_properties: { plan: 'free' }, // person_properties sent as JSON text
      properties: {
        note: 'line one\nline two',
        名前: 'データ 👍',
        team_id: 'custom', // the event's own property keeps its name
        '_export.team_id': 2, // the batch export's team_id is kept beside it
        person_id: PERSON,
        distinct_id: 'u-7',
      },
    });
  });

  it('keeps numbers beyond 2^53 exact in properties', async () => {
    const rows = await stageAndQuery(JSONL, (rel) => `SELECT properties->>'$.rows' AS n FROM ${rel} WHERE _line = 9`);
    expect(rows).toEqual([{ n: '12345678901234567890' }]);
  });

  it('reads properties sent as JSON text, screen names as page_url, and $set/$set_once as user properties', () => {
    expect(byLine(staged, 14)).toMatchObject({
      event_kind: 'screen_view',
      page_url: 'Settings',
      device_type: 'mobile',
      os: 'iOS',
      received_at: '2024-11-03 06:36:01+00',
      properties: { $screen_name: 'Settings', $is_identified: false, distinct_id: 'anon-device-9' },
    });
    expect(byLine(staged, 15).user_properties).toEqual({ first_seen: '2024-01-01', plan: 'team' });
    expect(byLine(staged, 8).user_properties).toEqual({ email: 'big@example.com' });
  });

  it('stages unreadable lines and incomplete records as rejects with a reason', () => {
    expect(staged.rows.filter((r) => r._reject !== null).map((r) => [r._line, r._reject, r.source_event_id])).toEqual([
      ['11', 'record: not a JSON object', null],
      ['12', 'event: missing', '0190a1b2-0000-7000-8000-00000000000c'],
      ['13', 'timestamp: unreadable timestamp "yesterday"', '0190a1b2-0000-7000-8000-00000000000d'],
    ]);
  });

  it('rejects a record without uuid and one whose properties are not an object', async () => {
    const path = write(
      'no-uuid.jsonl',
      [
        JSON.stringify({ event: '$pageview', distinct_id: 'u', timestamp: '2024-01-01T00:00:00Z', properties: { $lib: 'web' }, uuid: null, team_id: 1 }),
        JSON.stringify({ uuid: 'x-2', event: '$pageview', distinct_id: 'u', timestamp: '2024-01-01T00:00:00Z', properties: [1, 2] }),
      ].join('\n'),
    );
    const rows = (await stageFile(posthogReader, path)).rows.map((r) => [r._line, r._reject]);
    expect(rows).toEqual([
      ['1', 'uuid: missing'],
      ['2', 'properties: not a JSON object'],
    ]);
  });

  it('reads gzip, and reports a truncated gzip as a corrupt file', async () => {
    const body = readFileSync(JSONL);
    const gz = write('events.jsonl.gz', gzipSync(body));
    const staged2 = await stageFile(posthogReader, gz);
    expect(staged2.rows.map((r) => r.source_event_id)).toEqual(staged.rows.map((r) => r.source_event_id));
    const whole = gzipSync(Buffer.concat(Array.from({ length: 200 }, () => body)));
    const truncated = write('truncated.jsonl.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const err = await rejection(stageFile(posthogReader, truncated));
    expect(err.code).toBe('import_file_corrupt');
    expect(err.place.file).toBe(truncated);
  });

  it('reports an empty file', async () => {
    const files: [string, string][] = [
      ['empty.jsonl', ''],
      ['blank.jsonl', '\n\n  \n'],
    ];
    for (const [name, content] of files) {
      const err = await rejection(stageFile(posthogReader, write(name, content)));
      expect(err.code).toBe('import_file_empty');
      expect(err.message).toContain(name);
    }
  });
});

describe('posthog reader: other containers', () => {
  it('reads a saved query-API page, zipping results with columns (offsets in the project time zone)', async () => {
    const staged = await stageFile(posthogReader, join(FIXTURES, 'query-results.json'));
    expect(staged.rows.map((r) => [r._line, r.source_event_id, r.event_kind, r.occurred_at, r.received_at, r.user_id, r.anonymous_id])).toEqual([
      ['1', '0190a1b2-0000-7000-8000-000000000101', 'page_view', '2024-03-31 01:00:00.25+00', '2024-03-31 01:00:01+00', null, DEVICE],
      ['2', '0190a1b2-0000-7000-8000-000000000102', 'click', '2024-03-31 00:59:59.75+00', '2024-03-31 01:00:02+00', 'user-42@example.com', DEVICE],
      ['3', '0190a1b2-0000-7000-8000-000000000103', 'click', '2024-03-31 01:00:00.25+00', null, 'user-42@example.com', DEVICE],
    ]);
    expect(staged.rows[0]).toMatchObject({ browser: 'Firefox', country: 'DE', device_type: 'desktop', page_url: 'https://app.example.com/', vendor_session_id: 's-1' });
    expect(staged.rows[1]).toMatchObject({ element_text: 'Pricing', element_selector: 'nav.top > a.nav-link' });
    expect(staged.rows[2]).toMatchObject({ rage_click: true, element_text: 'Buy', element_selector: 'button.buy', properties: { $device_id: DEVICE, distinct_id: 'user-42@example.com' } });
  });

  it('reads a gzipped page, and refuses a page that did not select the event columns', async () => {
    const gz = write('page.json.gz', gzipSync(readFileSync(join(FIXTURES, 'query-results.json'))));
    expect((await stageFile(posthogReader, gz)).rows).toHaveLength(3);
    const page = { columns: ['uuid', 'event', 'distinct_id'], results: [['u1', '$pageview', 'd']], hasMore: false };
    const err = await rejection(stageFile(posthogReader, write('no-timestamp.json', JSON.stringify(page))));
    expect(err.code).toBe('import_layout_unsupported');
    expect(err.message).toContain('no-timestamp.json');
    expect(err.message).toContain('timestamp');
    const row = (i: number): unknown[] => [`0190a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`, '$pageview', '2024-03-31T01:00:00Z', DEVICE, JSON.stringify({ n: i })];
    const bigPage = { columns: ['uuid', 'event', 'timestamp', 'distinct_id', 'properties'], results: Array.from({ length: 5000 }, (_, i) => row(i)) };
    const wholePage = gzipSync(JSON.stringify(bigPage, null, 2));
    const truncated = write('page-trunc.json.gz', wholePage.subarray(0, Math.floor(wholePage.length * 0.75)));
    const cutPage = await rejection(stageFile(posthogReader, truncated));
    expect(cutPage.code).toBe('import_file_corrupt');
    expect(cutPage.message).toContain('page-trunc.json.gz');
    // Cut after a complete object: DuckDB alone would read it as a whole file.
    const twoEvents = readFileSync(JSONL, 'utf8').split('\n').slice(0, 2).map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n');
    const gzTwo = gzipSync(twoEvents);
    const cut = write('events-cut.json.gz', gzTwo.subarray(0, gzTwo.length - 4));
    expect((await rejection(stageFile(posthogReader, cut))).code).toBe('import_file_corrupt');
  });

  it('reads an events-API page of event objects ("id" is the uuid)', async () => {
    const page = {
      next: null,
      results: [{ id: '0190a1b2-0000-7000-8000-000000000401', event: '$pageview', distinct_id: 'u-1', timestamp: '2024-03-31T01:00:00+00:00', properties: { $lib: 'web', $current_url: 'https://x.example/' }, elements: [], elements_chain: '' }],
    };
    const staged = await stageFile(posthogReader, write('events-api.json', JSON.stringify(page, null, 2)));
    expect(staged.detection.layout).toBe('PostHog events API page (JSON)');
    expect(staged.rows).toEqual([
      expect.objectContaining({ source_event_id: '0190a1b2-0000-7000-8000-000000000401', user_id: 'u-1', page_url: 'https://x.example/', properties: { $lib: 'web', $current_url: 'https://x.example/', distinct_id: 'u-1', elements: [] }, _reject: null }),
    ]);
  });

  it('reads a JSON array of events and rejects elements that are not objects', async () => {
    const lines = readFileSync(JSONL, 'utf8').split('\n');
    const path = write('events.json', `[${lines[0]},${lines[1]},5]`);
    const staged = await stageFile(posthogReader, path);
    expect(staged.detection.format).toBe('json-array');
    expect(staged.rows.map((r) => [r._line, r.source_event_id, r._reject])).toEqual([
      ['1', '0190a1b2-0000-7000-8000-000000000001', null],
      ['2', '0190a1b2-0000-7000-8000-000000000002', null],
      ['3', null, 'record: not a JSON object'],
    ]);
  });

  it('reads the CSV export: JSON properties text with commas, quotes and newlines; duplicates; rejects', async () => {
    const staged = await stageFile(posthogReader, join(FIXTURES, 'events.csv'));
    expect(staged.rows.map((r) => [r._line, r.source_event_id, r.occurred_at, r.user_id, r.anonymous_id, r._reject])).toEqual([
      ['2', '0190a1b2-0000-7000-8000-000000000201', '2024-10-27 00:59:59.999999+00', null, DEVICE, null],
      ['3', '0190a1b2-0000-7000-8000-000000000202', '2024-10-27 01:00:00+00', '9007199254740993', DEVICE, null],
      ['4', '0190a1b2-0000-7000-8000-000000000201', '2024-10-27 00:59:59.999999+00', null, DEVICE, null],
      ['5', '0190a1b2-0000-7000-8000-000000000204', null, 'u-9', null, 'timestamp: unreadable timestamp "not a time"'],
      ['6', '0190a1b2-0000-7000-8000-000000000205', '2024-10-27 02:00:00+00', 'u-9', null, 'properties: not a JSON object'],
    ]);
    expect(staged.rows[0]).toMatchObject({
      page_url: 'https://app.example.com/a,b',
      received_at: '2024-10-27 01:00:00.5+00',
      os: 'Windows',
      properties: { note: 'multi\nline, "quoted"', person_id: PERSON, distinct_id: DEVICE },
    });
    expect(staged.rows[1]).toMatchObject({ event_kind: 'submit', element_selector: 'form#signup.signup', properties: { city: 'Zürich' } });
  });

  it('reads the UI CSV export with flattened "*.properties.<name>" columns', async () => {
    const staged = await stageFile(posthogReader, join(FIXTURES, 'ui-export.csv'));
    expect(staged.rows.map((r) => [r.source_event_id, r.event_name, r.occurred_at, r.user_id, r.anonymous_id, r.vendor_session_id, r.page_url, r.browser])).toEqual([
      ['0190a1b2-0000-7000-8000-000000000301', '$pageview', '2024-03-31 00:30:00+00', null, DEVICE, 's-9', 'https://app.example.com/settings', 'Safari'],
      ['0190a1b2-0000-7000-8000-000000000302', 'Signed Up', '2024-03-31 00:31:00+00', 'user-42@example.com', DEVICE, 's-9', null, 'Safari'],
    ]);
    // Empty cells are properties the event did not have; display-only columns are kept too.
    expect(staged.rows[1]!.properties).toEqual({ $browser: 'Safari', $device_id: DEVICE, $session_id: 's-9', distinct_id: 'user-42@example.com', person: 'anna@example.com' });
  });

  it('reads the Parquet batch export (JSON-encoded properties, TIMESTAMP µs) like the JSONL', async () => {
    const path = join(tmp, 'events.parquet');
    await writeParquet(
      path,
      `SELECT * FROM (VALUES
        ('0190a1b2-0000-7000-8000-000000000001', '$pageview', '${DEVICE}', TIMESTAMP '2024-03-31 00:59:59.999999', TIMESTAMP '2024-03-31 01:00:01.5',
         '{"$current_url":"https://app.example.com/projects/42?tab=1","$device_id":"${DEVICE}","$session_id":"${SESSION}","$device_type":"Desktop","distinct_id":"${DEVICE}"}',
         '', '${PERSON}', '{"email":"anna@example.com"}', 2::BIGINT),
        ('0190a1b2-0000-7000-8000-000000000008', '$identify', '9007199254740993', TIMESTAMP '2024-11-03 06:33:00', NULL,
         '{"$anon_distinct_id":"${DEVICE}","n":12345678901234567890}', NULL, NULL, '{}', 9007199254740993::BIGINT)
      ) t(uuid, event, distinct_id, "timestamp", created_at, properties, elements_chain, person_id, person_properties, team_id)`,
    );
    const probe = await probeForTest(path);
    expect(posthogReader.detect(probe)).toEqual({ format: 'parquet', confidence: 0.9, layout: 'PostHog batch export (Parquet)' });
    const staged = await stageFile(posthogReader, path);
    expect(staged.rows.map((r) => [r.source_event_id, r.event_kind, r.occurred_at, r.received_at, r.user_id, r.anonymous_id, r.device_type, r.page_url])).toEqual([
      ['0190a1b2-0000-7000-8000-000000000001', 'page_view', '2024-03-31 00:59:59.999999+00', '2024-03-31 01:00:01.5+00', null, DEVICE, 'desktop', 'https://app.example.com/projects/42?tab=1'],
      ['0190a1b2-0000-7000-8000-000000000008', 'identify', '2024-11-03 06:33:00+00', null, '9007199254740993', DEVICE, null, null],
    ]);
    expect(staged.rows[0]!.user_properties).toEqual({ email: 'anna@example.com' });
    expect(staged.rows[1]!.user_properties).toBeNull();
    const exact = await stageAndQuery(path, (rel) => `SELECT properties->>'$.team_id' AS team, properties->>'$.n' AS n FROM ${rel} ORDER BY _line`);
    expect(exact).toEqual([
      { team: '2', n: null },
      { team: '9007199254740993', n: '12345678901234567890' },
    ]);
  });
});

describe.skipIf(!existsSync(SAMPLES))('posthog reader: real samples in vendor-samples/posthog (skipped when absent)', () => {
  it('stages the dyrector.io example event (pretty-printed JSON object) exactly', async () => {
    const staged = await stageFile(posthogReader, join(SAMPLES, 'event_example_from_dyrectorio_docs.json'));
    expect(staged.detection).toEqual({ format: 'json-object', confidence: 0.95, layout: 'PostHog event (JSON)' });
    expect(staged.rows).toHaveLength(1);
    expect(staged.rows[0]).toMatchObject({
      source_event_id: '018b8632-5d72-7461-95e1-985aaa8590e7',
      event_name: 'select-chip',
      event_kind: 'custom',
      occurred_at: '2023-10-31 14:45:35.05+00',
      received_at: '2023-10-31 14:45:35.132+00',
      user_id: null, // distinct_id equals $device_id: not identified yet
      anonymous_id: '018b860e-5987-79b1-ac1e-eaf008c67fcd',
      vendor_session_id: '018b860e-5988-748e-9880-ab38ffb8c284',
      referrer: null, // "$direct"
      device_type: 'desktop',
      browser: 'Firefox',
      os: 'Linux',
      _reject: null,
    });
    const properties = staged.rows[0]!.properties as Record<string, unknown>;
    expect(properties).toMatchObject({ elementType: 'button', label: 'nodeType-docker', $referrer: '$direct', team_id: 10816 });
    expect(properties).not.toHaveProperty('elements_chain');
    expect(staged.rows[0]!.user_properties).toMatchObject({ $initial_os: 'Linux', $os: 'Linux', $browser_version: 119 });
  });

  it('maps the posthog-js $dead_click property set (read in place, wrapped as one export line)', async () => {
    const sample = JSON.parse(readFileSync(join(SAMPLES, 'dead_click_properties_from_posthog_js_unit_test.json'), 'utf8')) as { event: string; properties: Record<string, unknown> };
    const line = { uuid: '0190a1b2-0000-7000-8000-000000000501', event: sample.event, distinct_id: 'u-1', timestamp: '2024-03-31T01:00:00Z', properties: sample.properties, elements_chain: '' };
    const staged = await stageFile(posthogReader, write('dead-click.jsonl', `${JSON.stringify(line)}\n`));
    expect(staged.rows[0]).toMatchObject({
      event_kind: 'click',
      dead_click: true,
      rage_click: false,
      element_text: 'text',
      element_selector: 'body',
      properties: { $dead_click_absolute_delay_ms: -900, $dead_click_selection_changed_timeout: true },
      _reject: null,
    });
  });
});
