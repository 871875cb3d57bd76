import { afterEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../core/exit-codes.js';
import { BigQueryFake, completeRow, fakeServiceAccount, ga4Rows, GA4_SCHEMA, type FakeServiceAccount, type Ga4Row } from '../../test-support/bigquery-fake-server.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile, tempExportDir, windowRecords } from '../../test-support/export-test-kit.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { runExport, type ExportRunOptions } from '../export/export-run.js';
import type { ExporterSettings } from '../export/exporter-definition.js';
import { rowObject } from './bigquery-rows.js';
import { createGa4Exporter, ga4Config, ga4ExporterDefinition, GA4_RECORD_LAYOUT, type Ga4ExportOptions } from './ga4-export.js';
import { vendorRecordMasker } from '../../library/export-source.js';
import { configSchema } from '../../core/config-schema.js';
import { parseServiceAccountKey } from './ga4-service-account.js';
import { toRestRow } from '../../test-support/bigquery-fake-server.js';

const PROJECT = 'fake-project-0000';
const DATASET = 'analytics_123456789';

let fake: BigQueryFake | undefined;
let account: FakeServiceAccount;
let dir = '';
let ws: TempWorkspace | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  ws?.cleanup();
  ws = undefined;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function setup(tables: Record<string, Ga4Row[]>, extra: Partial<ConstructorParameters<typeof BigQueryFake>[0]> = {}): Promise<BigQueryFake> {
  fake = await BigQueryFake.start({ project: PROJECT, dataset: DATASET, tables: new Map(Object.entries(tables)), keys: new Map(), pageRows: 10, ...extra });
  account = fakeServiceAccount(fake.tokenUri);
  fake.options.keys.set(account.clientEmail, account.publicKey);
  dir = tempExportDir();
  return fake;
}

function exporter(now: string, client: Partial<Ga4ExportOptions> = {}) {
  return createGa4Exporter({
    key: parseServiceAccountKey(account.json, 'GA4_SERVICE_ACCOUNT_JSON'),
    project: PROJECT,
    dataset: DATASET,
    endpoint: fake!.url,
    now: () => Date.parse(now),
    origin: 'GA4_SERVICE_ACCOUNT_JSON',
    ...client,
  });
}

function exportAt(now: string, extra: Partial<ExportRunOptions> = {}, client: Partial<Ga4ExportOptions> = {}) {
  return runExport({ exporter: exporter(now, client), dir, toolVersion: 'test', clock: clockAt(now), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...extra });
}

const timestamps = (rows: readonly Ga4Row[]): string[] => rows.map((r) => String(r.event_timestamp)).sort();
const dataRequests = (f: BigQueryFake, table: string) => f.apiRequests().filter((r) => r.path.endsWith(`/tables/${table}/data`));

describe('GA4 export through the BigQuery client', () => {
  it('reads daily tables page by page, writes rows in BigQuery JSON form, one token for the run', async () => {
    const d1 = ga4Rows('2024-03-10', 25);
    const d2 = ga4Rows('2024-03-11', 7);
    await setup({ events_20240310: d1, events_20240311: d2, events_20240309: ga4Rows('2024-03-09', 3) }, { tablesPageSize: 2 });
    const result = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-11' });
    expect(result).toMatchObject({ exit_code: 0, status: 'complete', rows: 32, windows: { exported: 2, failed: 0 } });
    const m = readManifestFile(dir);
    expect(m.windows.map((w) => [w.label, w.rows, w.provisional ?? false])).toEqual([
      ['2024-03-10', 25, false],
      ['2024-03-11', 7, false],
    ]);
    expect(m.windows[0]!.cursor).toEqual({ table: 'events_20240310', kind: 'daily', rows: 25, last_modified: '2024-03-11T12:00:00.000Z' });
    // The newest event_timestamp of the day, to the microsecond.
    expect(m.windows[0]!.high_water_mark).toBe('2024-03-10T00:24:24.002969Z');
    const written = windowRecords(join(dir, m.windows[0]!.file!));
    // Exactly the table's rows: INT64 as strings, nested params and user properties as GA4 has them.
    expect(written).toEqual(d1.map((r) => completeRow(GA4_SCHEMA, r)));
    expect(written[0]!.event_params).toContainEqual({ key: 'big_counter', value: { string_value: null, int_value: '9007199254740993', float_value: null, double_value: null } });
    // 25 rows at 10 per page: 3 pages; tables.list paged by 2 over 3 tables: 2 pages per window.
    expect(dataRequests(fake!, 'events_20240310')).toHaveLength(3);
    expect(fake!.apiRequests().filter((r) => r.path.endsWith('/tables'))).toHaveLength(4);
    expect(fake!.server.requests.filter((r) => r.path === '/token')).toHaveLength(1);
    expect(fake!.apiRequests().every((r) => r.headers.authorization === 'Bearer FAKE-ya29-token-1')).toBe(true);
  });

  it('a day with a daily table never takes intraday rows; today is provisional from intraday, replaced by the daily table', async () => {
    const daily11 = ga4Rows('2024-03-11', 12, 'daily');
    const intraday11 = ga4Rows('2024-03-11', 9, 'intraday');
    const intraday12 = ga4Rows('2024-03-12', 14, 'intraday');
    const f = await setup({ events_20240311: daily11, events_intraday_20240311: intraday11, events_intraday_20240312: intraday12 }, { pendingPolls: 1 });
    const first = await exportAt('2024-03-12T15:00:00Z', { from: '2024-03-11' });
    expect(first).toMatchObject({ exit_code: 0, rows: 26, windows: { exported: 2 } });
    let m = readManifestFile(dir);
    expect(m.windows.map((w) => [w.label, w.rows, w.provisional ?? false, (w.cursor as { kind: string }).kind])).toEqual([
      ['2024-03-11', 12, false, 'daily'],
      ['2024-03-12', 14, true, 'intraday'],
    ]);
    expect(timestamps(windowRecords(join(dir, m.windows[0]!.file!)))).toEqual(timestamps(daily11));
    expect(windowRecords(join(dir, m.windows[1]!.file!)).map((r) => (r.event_params as { value: { string_value: string } }[])[0]!.value.string_value)).toEqual(
      intraday12.map((r) => (r.event_params as { value: { string_value: string } }[])[0]!.value.string_value),
    );
    // Only the intraday table of the unfinished day was queried.
    const queries = f.apiRequests().filter((r) => r.method === 'POST');
    expect(queries.map((r) => (JSON.parse(r.body) as { configuration: { query: { query: string } } }).configuration.query.query)).toEqual([`SELECT * FROM \`${PROJECT}.${DATASET}.events_intraday_20240312\``]);

    // Next day: GA4 wrote the daily table of the 12th and dropped its intraday table.
    const daily12 = ga4Rows('2024-03-12', 17, 'daily');
    f.options.tables.set('events_20240312', daily12);
    f.options.tables.delete('events_intraday_20240312');
    f.options.tables.delete('events_intraday_20240311');
    const second = await exportAt('2024-03-13T10:00:00Z', {}, { intraday: false });
    expect(second.mode).toBe('incremental');
    m = readManifestFile(dir);
    const day12 = m.windows.find((w) => w.label === '2024-03-12')!;
    expect(day12).toMatchObject({ rows: 17, cursor: { kind: 'daily', table: 'events_20240312' } });
    expect(day12.provisional).toBeUndefined();
    expect(timestamps(windowRecords(join(dir, day12.file!)))).toEqual(timestamps(daily12));
    expect(allRecords(dir)).toHaveLength(12 + 17);
  });

  it('an unfinished day with no table yet is provisional and empty; a day past the 72-hour horizon without one is missing', async () => {
    await setup({ events_20240305: ga4Rows('2024-03-05', 2), events_20240307: ga4Rows('2024-03-07', 3) });
    const result = await exportAt('2024-03-12T09:00:00Z', { from: '2024-03-06', to: '2024-03-11' }, { intraday: false });
    expect(result).toMatchObject({ status: 'partial', exit_code: EXIT.partial, rows: 3 });
    expect(result.failed.map((w) => [w.window, w.code])).toEqual([
      ['2024-03-06', 'export_day_missing'],
      ['2024-03-08', 'export_day_missing'],
    ]);
    expect(result.failed[0]!.hint).toMatch(/first table is events_20240305/);
    const m = readManifestFile(dir);
    expect(m.windows.filter((w) => w.status === 'complete').map((w) => [w.label, w.rows, w.provisional ?? false])).toEqual([
      ['2024-03-07', 3, false],
      ['2024-03-09', 0, true],
      ['2024-03-10', 0, true],
      ['2024-03-11', 0, true],
    ]);
  });

  it('a workspace with only provisional days continues from the first of them', async () => {
    const f = await setup({ events_intraday_20240312: ga4Rows('2024-03-12', 4, 'intraday') });
    expect(await exportAt('2024-03-12T15:00:00Z', { from: '2024-03-12' })).toMatchObject({ exit_code: 0, rows: 4 });
    f.options.tables.set('events_intraday_20240312', ga4Rows('2024-03-12', 6, 'intraday'));
    const again = await exportAt('2024-03-12T18:00:00Z');
    expect(again).toMatchObject({ mode: 'incremental', exit_code: 0, rows: 6, from: '2024-03-12T00:00:00.000Z', to: '2024-03-13T00:00:00.000Z' });
    expect(readManifestFile(dir).windows).toMatchObject([{ label: '2024-03-12', rows: 6, provisional: true }]);
  });

  it('windows are days of the property time zone: the table date is the local date', async () => {
    await setup({ events_20240310: ga4Rows('2024-03-10', 4) });
    const result = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' }, { timezone: 'America/Los_Angeles' });
    expect(result).toMatchObject({ exit_code: 0, rows: 4 });
    expect(readManifestFile(dir).windows[0]).toMatchObject({ label: '2024-03-10', start: '2024-03-10T08:00:00.000Z', end: '2024-03-11T07:00:00.000Z' });
  });

  it('retries 429 and 5xx through the shared client and loses nothing', async () => {
    const rows = ga4Rows('2024-03-10', 25);
    const f = await setup({ events_20240310: rows });
    f.server.inject({ kind: 'status', status: 429, retryAfter: '1' }, { match: (r) => r.path.endsWith('/data') });
    f.server.inject({ kind: 'status', status: 503 }, { match: (r) => r.query.has('pageToken') });
    f.server.inject({ kind: 'status', status: 500 }, { match: (r) => r.path.endsWith('/tables') });
    const result = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' });
    expect(result).toMatchObject({ exit_code: 0, rows: 25, retries: 3 });
    expect(result.rate_limit_wait_ms).toBeGreaterThanOrEqual(900);
    expect(timestamps(allRecords(dir))).toEqual(timestamps(rows));
  });

  it('rows missing from the pages and a page token that loops fail the window (exit 5), nothing written', async () => {
    await setup({ events_20240310: ga4Rows('2024-03-10', 25) }, { dropRows: 3 });
    const short = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' });
    expect(short).toMatchObject({ status: 'partial', exit_code: EXIT.partial, rows: 0 });
    expect(short.failed[0]).toMatchObject({ code: 'export_incomplete', message: expect.stringMatching(/BigQuery counts 25 rows but 22 were received/) });
    expect(allRecords(dir)).toEqual([]);

    fake!.options.dropRows = 0;
    fake!.options.tokenLoop = true;
    const loop = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' });
    expect(loop).toMatchObject({ exit_code: EXIT.partial });
    expect(loop.failed[0]).toMatchObject({ code: 'export_incomplete', message: expect.stringMatching(/page token .* came back a second time after 20 rows/) });
  });

  it('a key the token service refuses stops the run with exit 3 and says where the key came from', async () => {
    await setup({ events_20240310: ga4Rows('2024-03-10', 2) });
    const stranger = fakeServiceAccount(fake!.tokenUri, 'stranger');
    const err = await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' }, { key: parseServiceAccountKey(stranger.json, 'x') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth, hint: expect.stringMatching(/GA4_SERVICE_ACCOUNT_JSON.*BigQuery Data Viewer/) });
    expect(String((err as Error).message)).not.toContain('PRIVATE KEY');
  });

  it('the written files import through the GA4 reader with nested params intact', async () => {
    await setup({ events_20240310: ga4Rows('2024-03-10', 6) });
    await exportAt('2024-03-20T09:00:00Z', { from: '2024-03-10', to: '2024-03-10' });
    const file = join(dir, readManifestFile(dir).windows[0]!.file!);
    ws = tempWorkspace();
    const w = await ws.open();
    try {
      const imported = await w.import({ files: [file], source: 'ga4' });
      expect(imported).toMatchObject({ imported: 6, rejected: 0 });
      const rows = await w.sql<{ page_url: string; big: string; session: string; plan: string }>(
        `SELECT page_url, json_extract_string(properties, '$.big_counter') AS big, vendor_session_id AS session, json_extract_string(user_properties, '$.plan') AS plan
         FROM events WHERE source = 'ga4' ORDER BY occurred_at LIMIT 1`,
      );
      expect(rows[0]).toEqual({ page_url: 'https://shop.example.com/p/0?tag=d', big: '9007199254740993', session: '1711000000', plan: 'pro' });
    } finally {
      w.close();
    }
  });
});

describe('GA4 settings', () => {
  it('reads the key from a file relative to the workspace, the project from the key, the dataset from the property id', async () => {
    await setup({});
    ws = tempWorkspace();
    writeFileSync(join(ws.dir, 'ga4-key.json'), account.json);
    const config = ga4Config({ section: { property_id: 123456789 }, credentials: { credentials_file: 'ga4-key.json' }, origins: { credentials_file: 'GOOGLE_APPLICATION_CREDENTIALS' }, root: ws.dir });
    expect(config).toMatchObject({ project: PROJECT, dataset: DATASET, jobProject: PROJECT, origin: 'GOOGLE_APPLICATION_CREDENTIALS' });
  });

  it('names what is missing: credentials, project id, dataset, a non-service-account key', async () => {
    await setup({});
    const noProject = JSON.stringify({ ...JSON.parse(account.json), project_id: undefined });
    const settings = (section: Record<string, unknown>, json?: string): ExporterSettings => ({ section, credentials: json === undefined ? {} : { credentials_json: json }, origins: {} });
    expect(() => ga4Config(settings({ dataset: DATASET }))).toThrow(expect.objectContaining({ code: 'export_credentials_missing', exitCode: EXIT.usage }));
    expect(() => ga4Config(settings({ dataset: DATASET }, noProject))).toThrow(expect.objectContaining({ code: 'ga4_project_missing', hint: expect.stringContaining('sources.ga4.gcp_project') }));
    expect(() => ga4Config(settings({}, account.json))).toThrow(expect.objectContaining({ code: 'ga4_dataset_missing' }));
    expect(() => ga4Config(settings({ dataset: DATASET }, '{"type":"authorized_user","client_id":"x"}'))).toThrow(expect.objectContaining({ code: 'ga4_credentials_invalid', message: expect.stringContaining('a credential of type "authorized_user"') }));
    expect(() => ga4Config(settings({ dataset: DATASET, gcp_project: 'My Project' }, account.json))).toThrow(expect.objectContaining({ code: 'ga4_project_invalid' }));
  });

  it('the probe answers with the dataset, or names the refusal', async () => {
    await setup({}, { location: 'EU' });
    const settings = { section: { dataset: DATASET }, credentials: { credentials_json: account.json }, origins: { credentials_json: 'GA4_SERVICE_ACCOUNT_JSON' }, endpoint: fake!.url };
    await expect(ga4ExporterDefinition.probe!(settings)).resolves.toEqual({ ok: true, detail: `dataset ${PROJECT}.${DATASET} (EU) is readable by ${account.clientEmail}` });
    await expect(ga4ExporterDefinition.probe!({ ...settings, section: { dataset: 'analytics_999' } })).rejects.toMatchObject({ code: 'ga4_dataset_not_found', exitCode: EXIT.usage });
    fake!.options.denied = new Set([account.clientEmail]);
    await expect(ga4ExporterDefinition.probe!(settings)).rejects.toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth, message: expect.stringContaining('HTTP 403') });
  });
});

describe('GA4 masking before the write', () => {
  it('scans event_params values and nested objects, keeps the row shape and INT64 text', () => {
    const mask = vendorRecordMasker(configSchema.parse({}).pii, GA4_RECORD_LAYOUT, {});
    const row = completeRow(GA4_SCHEMA, ga4Rows('2024-03-10', 1)[0]!);
    (row.event_params as { key: string; value: { string_value: string | null } }[])[0]!.value.string_value = 'https://shop.example.com/?mail=bob@example.com';
    (row.geo as Record<string, unknown>).city = 'call +49 30 1234567';
    const masked = mask(row);
    expect(Object.keys(masked)).toEqual(Object.keys(row));
    expect((masked.event_params as { value: { string_value: string } }[])[0]!.value.string_value).toBe('https://shop.example.com/?mail=[email]');
    expect((masked.geo as Record<string, unknown>).city).toBe('call [phone]');
    expect(masked.event_timestamp).toBe(row.event_timestamp);
    expect((masked.event_params as { key: string; value: { int_value: string | null } }[])[2]).toEqual({ key: 'big_counter', value: { string_value: null, int_value: '9007199254740993', float_value: null, double_value: null } });
  });
});

describe('BigQuery REST rows', () => {
  it('turn back into the JSON export form: INT64 text, floats, booleans, records, repeated, nulls, timestamps', () => {
    const fields = [
      { name: 'n', type: 'INTEGER' },
      { name: 'x', type: 'FLOAT' },
      { name: 'b', type: 'BOOLEAN' },
      { name: 'r', type: 'RECORD', fields: [{ name: 's', type: 'STRING' }] },
      { name: 'a', type: 'INTEGER', mode: 'REPEATED' },
      { name: 'z', type: 'STRING' },
      { name: 't', type: 'TIMESTAMP' },
      { name: 'nan', type: 'FLOAT' },
    ];
    const row = { f: [{ v: '9007199254740993' }, { v: '1.5' }, { v: 'true' }, { v: { f: [{ v: 'x' }] } }, { v: [{ v: '1' }, { v: '2' }] }, { v: null }, { v: '1711846799999999' }, { v: 'NaN' }] };
    expect(rowObject(fields, row)).toEqual({ n: '9007199254740993', x: 1.5, b: true, r: { s: 'x' }, a: ['1', '2'], z: null, t: '2024-03-31 00:59:59.999999 UTC', nan: 'NaN' });
    const sample = ga4Rows('2024-03-10', 1)[0]!;
    expect(rowObject(GA4_SCHEMA, toRestRow(GA4_SCHEMA, sample))).toEqual(completeRow(GA4_SCHEMA, sample));
  });
});
