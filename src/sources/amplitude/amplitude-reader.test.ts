import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { amplitudeReader } from './amplitude-reader.js';
import { stageFile, probeForTest, type StagedRows, stageAndQuery as stageAndQueryWith, expectUsageLabError } from '../../test-support/stage-file.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const SAMPLES = resolve(REPO_ROOT, '../shared/data/vendor-samples/amplitude');
const FIXTURE = join(HERE, '__fixtures__', 'export-events.jsonl');
const FIXTURE_LINES = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-amplitude-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, content: string | Uint8Array): string => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

const stageAndQuery = (path: string, sql: (relation: string) => string): Promise<Record<string, unknown>[]> =>
  stageAndQueryWith(amplitudeReader, path, sql);


describe('amplitude reader: Export API records (NDJSON fixture)', () => {
  let staged: StagedRows;
  beforeAll(async () => {
    staged = await stageFile(amplitudeReader, FIXTURE);
  });
  const row = (line: number) => staged.rows.find((r) => r._line === String(line))!;

  it('detects the file as Amplitude with high confidence and stages every line', () => {
    expect(staged.detection).toEqual({ format: 'ndjson', confidence: 0.95, layout: 'Amplitude Export API events (NDJSON)' });
    expect(staged.rows).toHaveLength(16);
    expect(staged.partial).toEqual([]);
  });

  it('maps a web page view field by field (naive µs UTC timestamps, session id, browser in os_name)', () => {
    const { properties, ...columns } = row(1);
    expect(columns).toEqual({
      source: 'amplitude',
      source_event_id: '5f1f2c8e-0b1a-4c3d-9e8f-000000000001',
      event_name: '[Amplitude] Page Viewed',
      event_kind: 'page_view',
      occurred_at: '2024-03-10 06:59:59.123456+00',
      received_at: '2024-03-10 07:00:02.345678+00',
      user_id: 'user-1',
      anonymous_id: 'dev-1',
      vendor_session_id: '1710053990000',
      page_url: 'https://app.example.com/orders/42?tab=items',
      referrer: 'https://www.google.com/',
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: 'mac',
      browser: 'Chrome',
      os: 'Mac OS X',
      country: 'Netherlands',
      user_properties: { plan: 'pro', initial_referrer: 'https://www.google.com/' },
      _line: '1',
      _reject: null,
    });
    const props = properties as Record<string, unknown>;
    // Event properties and the record's other fields side by side; the two property bags and nulls are not.
    expect(props['[Amplitude] Page Title']).toBe('Order 42');
    expect(props['[Amplitude] Page Counter']).toBe(3);
    expect(props.library).toBe('amplitude-ts/2.11.1');
    expect(props.processed_time).toBe('2024-03-10 07:00:03.000000');
    expect(props.data).toEqual({ path: '/2/httpapi', group_first_event: {}, group_ids: {} });
    expect(props).not.toHaveProperty('event_properties');
    expect(props).not.toHaveProperty('user_properties');
    expect(props).not.toHaveProperty('idfa');
  });

  it('keeps 64-bit ids exact: amplitude_id / event_id in properties, user ids as text', async () => {
    const rows = await stageAndQuery(
      FIXTURE,
      (rel) => `SELECT _line, properties->>'amplitude_id' AS amplitude_id, properties->>'event_id' AS event_id, user_id
        FROM ${rel} WHERE _line IN (1, 16) ORDER BY _line`,
    );
    expect(rows).toEqual([
      { _line: '1', amplitude_id: '9007199254740993', event_id: '9223372036854775807', user_id: 'user-1' },
      { _line: '16', amplitude_id: '18446744073709551617', event_id: '5', user_id: '12345678901234567890' },
    ]);
  });

  it('reads RFC 3339 timestamps with an offset too (DST-change day in the US), and keeps event properties', () => {
    const r = row(16);
    expect(r.occurred_at).toBe('2024-11-03 05:30:00.5+00');
    expect(r.received_at).toBe('2024-11-03 05:31:00+00');
    const props = r.properties as Record<string, unknown>;
    expect(props.amount).toBe(12.5);
    expect(props.currency).toBe('EUR');
    expect(props.items).toEqual([{ sku: 'A-1' }]);
    // json_merge_patch semantics: a null-valued property is dropped.
    expect(props).not.toHaveProperty('coupon');
  });

  it('gives equal instants to events with equal timestamps', () => {
    expect(row(2).occurred_at).toBe(row(1).occurred_at);
  });

  it('maps an autocaptured click: unicode and newline in the text, selector built from tag, id and classes', () => {
    const r = row(2);
    expect(r.event_kind).toBe('click');
    expect(r.element_text).toBe('Käufen 🛒\nnow');
    expect(r.element_selector).toBe('button#buy.btn.btn-primary');
    expect(r.page_url).toBe('https://app.example.com/orders/42');
    expect(r.device_type).toBe('web');
  });

  it('maps frustration events onto the flags; session_id -1 is no session', () => {
    expect([row(3).event_kind, row(3).rage_click, row(3).dead_click, row(3).error_click]).toEqual(['click', true, false, false]);
    expect(row(3).element_selector).toBe('form > button.pay');
    expect(row(3).vendor_session_id).toBeNull();
    expect([row(4).event_kind, row(4).rage_click, row(4).dead_click, row(4).error_click]).toEqual(['click', false, true, false]);
    expect(row(4).element_selector).toBe('span');
    // A failed network request is an error; a successful one (captured by a custom rule) is not.
    expect([row(5).event_kind, row(5).error_click]).toEqual(['error', true]);
    expect([row(6).event_kind, row(6).error_click]).toEqual(['custom', false]);
    expect(staged.nativeRageClicks).toBe(true);
  });

  it('maps $identify and keeps its user_properties operations', () => {
    expect(row(7).event_kind).toBe('identify');
    expect(row(7).user_id).toBe('user-2');
    expect(row(7).user_properties).toEqual({ $set: { plan: 'free' } });
  });

  it('gives a record exported twice the same source_event_id', () => {
    expect(row(8).source_event_id).toBe(row(1).source_event_id);
    expect(row(8)).toEqual({ ...row(1), _line: '8' });
  });

  it('falls back to device_id|$insert_id, then to a hash of the record, when uuid is missing', () => {
    expect(row(9).source_event_id).toBe('insert_id:dev-3|ins-0009');
    expect(row(9).event_kind).toBe('custom');
    expect(row(15).source_event_id).toBe('md5:188a89c7d96f4750912163eb3b1cc9f5');
    expect(row(15).occurred_at).toBe('2020-02-15 01:00:00.123456+00');
    expect(row(15).received_at).toBe('2020-02-18 01:00:00.234567+00');
  });

  it('matches autocapture names without the [Amplitude] prefix as well', () => {
    expect(row(10).event_kind).toBe('page_view');
    expect(row(10).page_url).toBe('https://app.example.com/settings');
  });

  it('maps a mobile screen view: screen name as page_url, os from os_name, no browser', () => {
    const r = row(14);
    expect([r.event_kind, r.page_url, r.os, r.browser, r.device_type, r.country]).toEqual([
      'screen_view',
      'Checkout',
      'ios',
      null,
      'apple iphone 13',
      'Germany',
    ]);
  });

  it('stages unreadable lines and incomplete records as rejects with a reason', () => {
    expect(row(11)._reject).toBe('record: not a JSON object');
    expect(row(12)._reject).toBe('event_type: missing');
    expect(row(13)._reject).toBe('event_time: unreadable timestamp "yesterday"');
    expect(staged.rows.filter((r) => r._reject !== null).map((r) => r._line)).toEqual(['11', '12', '13']);
  });
});

describe('amplitude reader: Export API zip archives', () => {
  const member = (lines: string[]): Uint8Array => gzipSync(lines.join('\n') + '\n');

  it('unions every gzipped member; _line is the line within its member and rejects name the member', async () => {
    const archive = zipSync(
      {
        '636686/636686_2024-03-10_6#0.json.gz': member(FIXTURE_LINES.slice(0, 3)),
        '636686/636686_2024-03-10_7#0.json.gz': member([FIXTURE_LINES[3]!, 'not json']),
        '636686/README.txt': new TextEncoder().encode('ignored'),
      },
      { level: 0 },
    );
    const path = write('export.zip', archive);
    const staged = await stageFile(amplitudeReader, path);
    expect(staged.detection).toEqual({ format: 'zip', confidence: 0.95, layout: 'Amplitude Export API archive (zip of gzipped NDJSON)' });
    const summary = staged.rows.map((r) => [r._line, r.source_event_id, r._reject]);
    expect(summary).toEqual([
      ['1', '5f1f2c8e-0b1a-4c3d-9e8f-000000000001', null],
      ['1', '5f1f2c8e-0b1a-4c3d-9e8f-000000000004', null],
      ['2', '5f1f2c8e-0b1a-4c3d-9e8f-000000000002', null],
      ['2', null, 'record: not a JSON object (in 636686/636686_2024-03-10_7#0.json.gz)'],
      ['3', '5f1f2c8e-0b1a-4c3d-9e8f-000000000003', null],
    ]);
  });

  it('rejects a truncated zip at probe time (import_file_corrupt, naming the file)', async () => {
    const archive = zipSync({ '636686/636686_2024-03-10_6#0.json.gz': member(FIXTURE_LINES) }, { level: 0 });
    const path = write('truncated.zip', archive.subarray(0, Math.floor(archive.length / 2)));
    await expectUsageLabError(probeForTest(path), 'import_file_corrupt', path);
  });

  it('rejects a zip whose gzip member is truncated (import_file_corrupt, naming archive and member)', async () => {
    const gz = member(Array.from({ length: 200 }, () => FIXTURE_LINES[0]!));
    const archive = zipSync({ '636686/636686_2024-03-10_6#0.json.gz': gz.subarray(0, gz.length - 40) }, { level: 0 });
    const path = write('bad-member.zip', archive);
    const err = await expectUsageLabError(stageFile(amplitudeReader, path), 'import_file_corrupt', 'member 636686/636686_2024-03-10_6#0.json.gz');
    expect(err.message).toMatch(/truncated or corrupt/);
    expect(err.message).toContain(path);
    expect(err.place.file).toBe(path);
  });

  it('stages no rows from an empty member, and does not claim a zip without event files', async () => {
    const path = write('no-events.zip', zipSync({ 'notes/x_2024-01-01_1#0.json.gz': member([]) }, { level: 0 }));
    // An empty gzip member is still an event file: it stages zero rows rather than failing.
    expect((await stageFile(amplitudeReader, path)).rows).toEqual([]);
    const other = write('other.zip', zipSync({ 'a.csv': new TextEncoder().encode('a,b\n1,2\n') }, { level: 0 }));
    expect(amplitudeReader.detect(await probeForTest(other))).toBeUndefined();
  });
});

describe('amplitude reader: single files', () => {
  it('reads one gzipped member file on its own, detected by its Export API name', async () => {
    const path = write('636686_2024-03-10_6#0.json.gz', gzipSync(FIXTURE_LINES.slice(0, 2).join('\n') + '\n'));
    const staged = await stageFile(amplitudeReader, path);
    expect(staged.detection.confidence).toBe(0.95);
    expect(staged.rows.map((r) => r.event_name)).toEqual(['[Amplitude] Page Viewed', '[Amplitude] Element Clicked']);
  });

  it('fails on a truncated gzip file with import_file_corrupt naming it', async () => {
    const gz = gzipSync(Array.from({ length: 300 }, () => FIXTURE_LINES[1]!).join('\n') + '\n');
    const path = write('cut.json.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    const err = await expectUsageLabError(stageFile(amplitudeReader, path), 'import_file_corrupt', /truncated or corrupt/);
    expect(err.place.file).toBe(path);
  });

  it('does not read JSON arrays (not an Amplitude export layout)', async () => {
    const path = write('events.json', `[${FIXTURE_LINES[0]},\n${FIXTURE_LINES[2]}]`);
    expect(amplitudeReader.detect(await probeForTest(path))).toBeUndefined();
  });

  it('reports no native rage clicks when the file has no frustration events', async () => {
    const path = write('no-frustration.jsonl', [FIXTURE_LINES[0], FIXTURE_LINES[1]].join('\n') + '\n');
    expect((await stageFile(amplitudeReader, path)).nativeRageClicks).toBe(false);
  });

  it('throws import_file_empty for an empty file (probe)', async () => {
    await expectUsageLabError(probeForTest(write('empty.jsonl', '')), 'import_file_empty', 'empty');
    await expectUsageLabError(probeForTest(write('blank.jsonl', '\n\n  \n')), 'import_file_empty', 'no data');
  });
});

describe('amplitude reader: detection', () => {
  const detect = async (name: string, content: string) => amplitudeReader.detect(await probeForTest(write(name, content)));

  it('does not claim other tools’ files', async () => {
    expect(await detect('generic.csv', 'user,event,time\nu1,signup,2024-01-01T00:00:00Z\n')).toBeUndefined();
    expect(await detect('mixpanel.jsonl', '{"event":"Signed up","properties":{"time":1602611311,"distinct_id":"u1","$insert_id":"x","mp_processing_time_ms":1602625711874}}\n')).toBeUndefined();
    expect(
      await detect('posthog.jsonl', '{"uuid":"0190a1b2-0000-7000-8000-000000000001","event":"$pageview","distinct_id":"d1","timestamp":"2024-07-01T10:00:00Z","properties":{"$session_id":"s1"}}\n'),
    ).toBeUndefined();
    expect(await detect('ga4.jsonl', '{"event_date":"20240101","event_timestamp":"1704067200000000","event_name":"page_view","user_pseudo_id":"1.2"}\n')).toBeUndefined();
    expect(await detect('fullstory.json', '[{"EventStart":"2024-01-01T00:00:00.000Z","EventType":"click","IndvId":1,"UserId":2,"SessionId":3}]')).toBeUndefined();
    // event_type alone, in a generic log, is not enough.
    expect(await detect('log.jsonl', '{"event_type":"signup","user_id":"u1","time":1704067200}\n')).toBeUndefined();
  });

  it('recognises Amplitude records even when the first line is not JSON', async () => {
    const det = await detect('first-bad.jsonl', `oops\n${FIXTURE_LINES[0]}\n`);
    expect(det?.confidence).toBe(0.95);
  });
});

describe.skipIf(!existsSync(SAMPLES))('amplitude reader: real samples in vendor-samples/amplitude (skipped when absent)', () => {
  it('stages the raw export line from a public test fixture exactly', async () => {
    const staged = await stageFile(amplitudeReader, join(SAMPLES, 'raw_export_line_from_rust_test_fixture.jsonl'));
    expect(staged.rows).toHaveLength(1);
    const { properties, ...columns } = staged.rows[0]!;
    expect(columns).toEqual({
      source: 'amplitude',
      source_event_id: 'a6ec45f6-0016-4907-b433-5bf4e4a56908',
      event_name: 'Property Drop Purchased',
      event_kind: 'custom',
      occurred_at: '2025-07-01 16:34:54.837+00',
      received_at: '2025-07-01 17:14:33.145+00',
      user_id: '2b59c518-dc2b-43f6-9444-85a84d5b1e1f',
      anonymous_id: 'f48913e6-c106-5429-a296-9f9588859c3b',
      vendor_session_id: null,
      page_url: null,
      referrer: null,
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: null,
      browser: null,
      os: null,
      country: null,
      user_properties: {},
      _line: '1',
      _reject: null,
    });
    expect(properties).toMatchObject({ 'Total Price': 6396, 'Drop Id': 2, Property: 'Property 0', amplitude_id: 1263130950579, event_id: 991179682, $insert_id: 'Property Drop Purchased:2' });
  });

  it('stages the DSAR documentation example (no uuid: keyed by a hash of the record)', async () => {
    const staged = await stageFile(amplitudeReader, join(SAMPLES, 'official_dsar_output_example.jsonl'));
    expect(staged.rows.map((r) => [r.event_name, r.occurred_at, r.received_at, r._reject])).toEqual([
      ['first_event', '2020-02-15 01:00:00.123456+00', '2020-02-18 01:00:00.234567+00', null],
      ['second_event', '2020-02-15 01:00:11.345678+00', '2020-02-18 01:00:11.456789+00', null],
      ['third_event', '2020-02-15 01:02:00.123456+00', '2020-02-18 01:02:00.234567+00', null],
    ]);
    expect(staged.rows.every((r) => String(r.source_event_id).startsWith('md5:'))).toBe(true);
    expect(new Set(staged.rows.map((r) => r.source_event_id)).size).toBe(3);
  });

  it('stages the Airbyte expected record (event under `data`, RFC 3339 timestamps)', async () => {
    const staged = await stageFile(amplitudeReader, join(SAMPLES, 'airbyte_expected_records_events_rfc3339_transformed.jsonl'));
    expect(staged.detection.layout).toBe('Amplitude events in Airbyte record messages (NDJSON)');
    const r = staged.rows[0]!;
    expect([r.source_event_id, r.event_name, r.occurred_at, r.received_at, r.anonymous_id, r.vendor_session_id, r.user_id]).toEqual([
      '37bcd2f0-2688-47d5-ba90-76b0bd13b0f8',
      'Daily Ad Metrics',
      '2023-08-24 07:00:00+00',
      '2023-08-25 11:04:55.821+00',
      'google-ad-4651612872-643022056303',
      null,
      null,
    ]);
    expect((r.properties as Record<string, unknown>).campaign_name).toBe('Brand awareness and reach-Display-1');
    expect((r.user_properties as Record<string, unknown>).City).toBe('London');
  });
});
