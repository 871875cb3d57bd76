import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { mixpanelReader } from './mixpanel-reader.js';
import { stageFile, probeForTest, type StagedRows, stageAndQuery as stageAndQueryWith, expectUsageLabError } from '../../test-support/stage-file.js';
import { type UsageLabConfig } from '../../core/config-schema.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../..');
const SAMPLES = resolve(REPO_ROOT, '../shared/data/vendor-samples/mixpanel');
const FIXTURES = join(HERE, '__fixtures__');
const RAW = join(FIXTURES, 'raw-export.jsonl');
const RAW_LINES = readFileSync(RAW, 'utf8').split('\n').filter((l) => l !== '');
const DEVICE = '18e1f2a3b4c-0d9e8f7a6b5c4d-26011d51-1fa400-18e1f2a3b4c1a2';
const NEW_YORK = { sources: { mixpanel: { project_timezone: 'America/New_York' } } } as Partial<UsageLabConfig>;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'usagelab-mixpanel-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const write = (name: string, content: string | Uint8Array): string => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

const stageAndQuery = (path: string, sql: (relation: string) => string): Promise<Record<string, unknown>[]> =>
  stageAndQueryWith(mixpanelReader, path, sql);


describe('mixpanel reader: raw export NDJSON (fixture)', () => {
  let staged: StagedRows;
  beforeAll(async () => {
    staged = await stageFile(mixpanelReader, RAW);
  });
  const row = (line: number) => staged.rows.find((r) => r._line === String(line))!;

  it('detects the raw export with high confidence and stages every line', () => {
    expect(staged.detection).toEqual({ format: 'ndjson', confidence: 0.95, layout: 'Mixpanel raw event export (NDJSON)' });
    expect(staged.rows).toHaveLength(16);
    expect(staged.partial).toEqual([]);
    expect(staged.nativeRageClicks).toBe(true);
  });

  it('maps an autocaptured page view field by field (epoch seconds, anonymous $device: distinct_id)', () => {
    const { properties, ...columns } = row(1);
    expect(columns).toEqual({
      source: 'mixpanel',
      source_event_id: `$mp_web_page_view|$device:${DEVICE}|1710053999|pv1xkq2mtl0b3c4d`,
      event_name: '$mp_web_page_view',
      event_kind: 'page_view',
      occurred_at: '2024-03-10 06:59:59+00',
      received_at: '2024-03-10 07:00:02.901+00',
      user_id: null,
      anonymous_id: DEVICE,
      vendor_session_id: null,
      page_url: 'https://app.example.com/orders/42?tab=items',
      referrer: 'https://www.google.com/',
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: null,
      browser: 'Chrome',
      os: 'Mac OS X',
      country: 'NL',
      user_properties: null,
      _line: '1',
      _reject: null,
    });
    // properties is the record's own properties object, unchanged.
    expect(properties).toEqual(JSON.parse(RAW_LINES[0]!).properties);
  });

  it('maps an autocaptured click: same-second timestamp, unicode and newline, selector from tag, id and classes', () => {
    const r = row(2);
    expect([r.event_kind, r.occurred_at, r.element_text, r.element_selector]).toEqual([
      'click',
      row(1).occurred_at,
      'Käufen 🛒\nnow',
      'button#buy.btn.btn-primary',
    ]);
    expect((r.properties as Record<string, unknown>).$elements).toEqual([{ $tag_name: 'button', $id: 'buy', $classes: ['btn', 'btn-primary'], $nth_child: 2, $nth_of_type: 1 }]);
  });

  it('reads `time` in milliseconds by magnitude, and maps the rage click flag', () => {
    const r = row(3);
    expect([r.occurred_at, r.event_kind, r.rage_click, r.dead_click, r.element_selector]).toEqual([
      '2024-03-10 07:00:01.123+00',
      'click',
      true,
      false,
      'button.pay.primary',
    ]);
    expect(r.source_event_id).toBe(`$mp_rage_click|$device:${DEVICE}|1710054001|rg3xkq2mtl0b3c4d`);
  });

  it('reads `time` as fractional seconds (time_in_ms exports), and maps the dead click flag', () => {
    const r = row(4);
    expect([r.occurred_at, r.event_kind, r.rage_click, r.dead_click]).toEqual(['2024-03-10 07:00:02.602+00', 'click', false, true]);
    expect(r.source_event_id).toBe(`$mp_dead_click|$device:${DEVICE}|1710054002|dd4xkq2mtl0b3c4d`);
  });

  it('applies the identity rule: $user_id, else a distinct_id that is not a device id; device from $device_id or the $device: prefix', () => {
    const ids = (line: number) => [row(line).user_id, row(line).anonymous_id];
    expect(ids(1)).toEqual([null, DEVICE]);
    // $identify: no $device_id, the anonymous id comes from $anon_distinct_id.
    expect(ids(5)).toEqual(['user-42', DEVICE]);
    expect(row(5).event_kind).toBe('identify');
    expect(ids(6)).toEqual(['user-42', DEVICE]);
    // Server-side event: a numeric distinct_id beyond 2^53 stays exact; no device.
    expect(ids(9)).toEqual(['12345678901234567890', null]);
    // Original ID merge before identify: distinct_id equals $device_id, so it is not a user.
    expect(ids(10)).toEqual([null, 'a1b2c3-device']);
    expect(ids(16)).toEqual(['user-43', '7F3C2A10-1111-4222-8333-944455556666']);
  });

  it('keeps 64-bit ids exact as text in properties too', async () => {
    const rows = await stageAndQuery(RAW, (rel) => `SELECT properties->>'distinct_id' AS d, source_event_id FROM ${rel} WHERE _line = 9`);
    expect(rows).toEqual([{ d: '12345678901234567890', source_event_id: 'Invoice Paid|12345678901234567890|1710057600|md5:e4fea96b30c4dc7d3919e4e7c749223e' }]);
  });

  it('gives the same record the same source_event_id, also when exported with time in milliseconds', () => {
    const key = 'Purchase|user-42|1710054010|pu6xkq2mtl0b3c4d';
    expect([row(6).source_event_id, row(7).source_event_id, row(8).source_event_id]).toEqual([key, key, key]);
    expect(row(8).occurred_at).toBe(row(6).occurred_at);
    expect((row(6).properties as Record<string, unknown>).coupon).toBeNull();
  });

  it('maps submit, input, custom and mobile events', () => {
    expect([row(14).event_kind, row(14).element_selector]).toEqual(['submit', 'form#checkout']);
    expect([row(15).event_kind, row(15).element_selector]).toEqual(['input', 'input#email']);
    expect([row(16).event_kind, row(16).device_type, row(16).os, row(16).browser, row(16).country, row(16).page_url]).toEqual([
      'custom',
      'iphone',
      'iOS',
      null,
      'DE',
      null,
    ]);
  });

  it('stages unreadable lines and incomplete records as rejects with a reason', () => {
    expect(row(11)._reject).toBe('record: not a JSON object');
    expect(row(12)._reject).toBe('event: missing');
    expect(row(13)._reject).toBe('properties.time: unreadable timestamp "soon"');
    expect(staged.rows.filter((r) => r._reject !== null).map((r) => r._line)).toEqual(['11', '12', '13']);
  });
});

describe('mixpanel reader: time zones of legacy projects', () => {
  const LEGACY = join(FIXTURES, 'legacy-project-time.jsonl');

  it('reads `time` as project-local wall-clock time when project_timezone is set (across both DST changes)', async () => {
    const staged = await stageFile(mixpanelReader, LEGACY, { config: NEW_YORK });
    expect(staged.rows.map((r) => [r.occurred_at, r.source_event_id])).toEqual([
      // 2024-03-10 01:59:59 EST and 03:00:00 EDT: one second apart in reality.
      ['2024-03-10 06:59:59+00', 'Login|user-1|1710035999|tz1'],
      ['2024-03-10 07:00:00+00', 'Login|user-1|1710039600|tz2'],
      // 01:30 on 2024-11-03 happens twice in New York; DuckDB takes the later (EST) one.
      ['2024-11-03 06:30:00+00', 'Login|user-1|1730597400|tz3'],
      ['2024-11-03 07:30:00.25+00', 'Login|user-1|1730601000|tz4'],
      // 02:30 on 2024-03-10 does not exist in New York; it is read with the standard-time offset.
      ['2024-03-10 07:30:00+00', 'Login|user-1|1710037800|tz5'],
    ]);
    // received_at (Mixpanel's processing time) is a true UTC epoch whatever the project zone.
    expect(staged.rows[0]!.received_at).toBe('2024-03-10 07:00:00+00');
  });

  it('reads `time` as UTC without project_timezone (projects created since 2023)', async () => {
    const staged = await stageFile(mixpanelReader, LEGACY);
    expect(staged.rows.map((r) => r.occurred_at)).toEqual([
      '2024-03-10 01:59:59+00',
      '2024-03-10 03:00:00+00',
      '2024-11-03 01:30:00+00',
      '2024-11-03 02:30:00.25+00',
      '2024-03-10 02:30:00+00',
    ]);
  });
});

describe('mixpanel reader: export bodies', () => {
  it('drops a final `terminated early` line and marks the file partial, without a reject', async () => {
    const staged = await stageFile(mixpanelReader, join(FIXTURES, 'terminated-early.jsonl'));
    expect(staged.rows.map((r) => [r._line, r.event_name, r.user_id, r._reject])).toEqual([
      ['1', 'Signed up', 'u1', null],
      ['2', 'Signed up', 'u2', null],
    ]);
    expect(staged.partial).toHaveLength(1);
    expect(staged.partial[0]).toMatch(/terminated early.*line 3/);
  });

  it('reads a gzip body like the plain one', async () => {
    const path = write('export.jsonl.gz', gzipSync(readFileSync(RAW)));
    const staged = await stageFile(mixpanelReader, path);
    const plain = await stageFile(mixpanelReader, RAW);
    expect(staged.rows).toEqual(plain.rows);
  });

  it('fails on a truncated gzip body with import_file_corrupt naming the file', async () => {
    const body = Array.from({ length: 400 }, () => RAW_LINES[1]!).join('\n') + '\n';
    const gz = gzipSync(body);
    const path = write('cut.jsonl.gz', gz.subarray(0, Math.floor(gz.length * 0.7)));
    const err = await expectUsageLabError(stageFile(mixpanelReader, path), 'import_file_corrupt', /truncated or corrupt/);
    expect(err.place.file).toBe(path);
  });

  it('reads pretty-printed, concatenated records', async () => {
    const pretty = RAW_LINES.slice(5, 7)
      .map((l) => JSON.stringify(JSON.parse(l), null, 4))
      .join('\n');
    const path = write('pretty.json', pretty + '\n');
    const staged = await stageFile(mixpanelReader, path);
    expect(staged.detection).toEqual({ format: 'json-object', confidence: 0.95, layout: 'Mixpanel events (pretty-printed JSON objects)' });
    expect(staged.rows.map((r) => [r._line, r.source_event_id])).toEqual([
      ['1', 'Purchase|user-42|1710054010|pu6xkq2mtl0b3c4d'],
      ['2', 'Purchase|user-42|1710054010|pu6xkq2mtl0b3c4d'],
    ]);
  });

  it('throws import_file_empty for an empty file (probe)', async () => {
    await expectUsageLabError(probeForTest(write('empty.jsonl', '')), 'import_file_empty', 'empty');
    await expectUsageLabError(probeForTest(write('empty.jsonl.gz', gzipSync(''))), 'import_file_empty', 'no data');
  });
});

describe('mixpanel reader: detection', () => {
  const detect = async (name: string, content: string) => mixpanelReader.detect(await probeForTest(write(name, content)));

  it('recognises a raw export line even after a line that is not JSON', async () => {
    expect((await detect('after-bad.jsonl', `oops\n${RAW_LINES[0]}\n`))?.confidence).toBe(0.95);
  });

  it('does not claim other tools’ files', async () => {
    expect(await detect('generic.csv', 'user,event,time\nu1,signup,2024-01-01T00:00:00Z\n')).toBeUndefined();
    const amplitude = readFileSync(join(HERE, '../amplitude/__fixtures__/export-events.jsonl'), 'utf8').split('\n')[0]!;
    expect(await detect('amplitude.jsonl', amplitude + '\n')).toBeUndefined();
    // PostHog events also have event + properties, but with uuid/timestamp beside them and no properties.time.
    expect(
      await detect('posthog.jsonl', '{"uuid":"0190a1b2-0000-7000-8000-000000000001","event":"$pageview","distinct_id":"d1","timestamp":"2024-07-01T10:00:00Z","properties":{"$session_id":"s1","$lib":"web"}}\n'),
    ).toBeUndefined();
    expect(await detect('ga4.jsonl', '{"event_date":"20240101","event_timestamp":"1704067200000000","event_name":"page_view","user_pseudo_id":"1.2"}\n')).toBeUndefined();
  });

  it('claims Mixpanel-shaped records without Mixpanel property names only with low confidence', async () => {
    expect(await detect('shaped.jsonl', '{"event":"signup","properties":{"time":1704067200,"plan":"pro"}}\n')).toEqual({
      format: 'ndjson',
      confidence: 0.6,
      layout: 'Mixpanel raw event export (NDJSON)',
    });
    expect((await detect('segment.jsonl', '{"type":"track","event":"signup","properties":{"time":1704067200},"messageId":"m1"}\n'))?.confidence).toBe(0.3);
  });
});

describe.skipIf(!existsSync(SAMPLES))('mixpanel reader: real samples in vendor-samples/mixpanel (skipped when absent)', () => {
  it('stages the official export example (no distinct_id)', async () => {
    const staged = await stageFile(mixpanelReader, join(SAMPLES, 'official_export_example.jsonl'));
    expect(staged.detection.confidence).toBe(0.95);
    expect(staged.rows.map((r) => [r.source_event_id, r.event_name, r.event_kind, r.occurred_at, r.received_at, r.user_id, r.anonymous_id, r._reject])).toEqual([
      ['Signed up||1602611311|hpuDqcvpltpCjBsebtxwadtEBDnFAdycabFb', 'Signed up', 'custom', '2020-10-13 17:48:31+00', '2020-10-13 21:48:31.874+00', null, null, null],
      ['Signed up||1602787121|jajcebutltmvhbbholfhxtCcycwnBjDtndha', 'Signed up', 'custom', '2020-10-15 18:38:41+00', '2020-10-15 22:38:41.561+00', null, null, null],
    ]);
  });

  it('stages the pretty-printed raw item quoted by Airbyte', async () => {
    const staged = await stageFile(mixpanelReader, join(SAMPLES, 'airbyte_source_mixpanel_raw_item_example.json'));
    expect(staged.detection).toEqual({ format: 'json-object', confidence: 0.95, layout: 'Mixpanel events (pretty-printed JSON objects)' });
    const { properties, ...columns } = staged.rows[0]!;
    expect(columns).toEqual({
      source: 'mixpanel',
      source_event_id: 'Viewed E-commerce Page|1d694fd9-31a5-4b99-9eef-ae63112063ed|1623860880|c5eed127-c747-59c8-a5ed-d766f48e39a4',
      event_name: 'Viewed E-commerce Page',
      event_kind: 'custom',
      occurred_at: '2021-06-16 16:28:00+00',
      received_at: '2021-06-16 23:28:03.321+00',
      user_id: '1d694fd9-31a5-4b99-9eef-ae63112063ed',
      anonymous_id: null,
      vendor_session_id: null,
      page_url: 'https://unblockdata.com/solutions/e-commerce/',
      referrer: null,
      element_text: null,
      element_selector: null,
      rage_click: false,
      dead_click: false,
      error_click: false,
      device_type: null,
      browser: 'Chrome',
      os: null,
      country: null,
      user_properties: null,
      _line: '1',
      _reject: null,
    });
    expect(properties).toMatchObject({ mp_lib: 'Segment: analytics-wordpress', noninteraction: true, $browser_version: '91.0.4472.101' });
  });
});
