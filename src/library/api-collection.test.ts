import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amplitudeEvents, startAmplitudeFake } from '../test-support/amplitude-fake-server.js';
import { BigQueryFake, fakeServiceAccount, ga4Rows } from '../test-support/bigquery-fake-server.js';
import { clockAt, FAST_BACKOFF, FAST_TIMEOUTS, tempExportDir } from '../test-support/export-test-kit.js';
import type { FakeRequest } from '../test-support/fake-vendor-server.js';
import { fullstoryEvents, startFullstoryFake } from '../test-support/fullstory-fake-server.js';
import { mixpanelEvents, startMixpanelFake } from '../test-support/mixpanel-fake-server.js';
import { posthogEvents, startPosthogFake } from '../test-support/posthog-fake-server.js';
import { runExport } from '../sources/export/export-run.js';
import { runSyncExport } from '../sources/export/sync-export-run.js';
import { HEAP_FIELDS, recordType, s3Url, writeAvro, writeManifest } from '../sources/heap/__fixtures__/heap-sync-writer.js';
import { objectsFromFolder, startS3Fake } from '../test-support/s3-fake-server.js';
import type { ExporterDefinition, ExporterSettings, SyncExporterDefinition, WindowExporterDefinition } from '../sources/export/exporter-definition.js';
import { EXPORTERS } from '../sources/export/exporter-registry.js';
import { HOUR_MS } from '../sources/export/export-window.js';
import { apiNotes, collectionVariables, endpointMatches, postmanCollection, postmanProblems, writeApiFiles } from './api-collection.js';

const DAY = Date.parse('2024-03-10T00:00:00Z');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Exports one day through the source's definition against its fake, runs its check probe, returns what the fake received. */
async function traffic(def: ExporterDefinition, settings: ExporterSettings, now: string, from: string, requests: () => FakeRequest[]): Promise<FakeRequest[]> {
  const dir = tempExportDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const exporter = (def as WindowExporterDefinition).create(settings);
  const result = await runExport({ exporter, dir, from, to: from, toolVersion: 'test', clock: clockAt(now), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS });
  expect(result.exit_code).toBe(0);
  expect(result.rows).toBeGreaterThan(0);
  await expect(def.probe!(settings, { timeouts: FAST_TIMEOUTS })).resolves.toMatchObject({ ok: true });
  return requests();
}

const DRIVERS: Record<string, () => Promise<FakeRequest[]>> = {
  async amplitude() {
    const server = await startAmplitudeFake({ apiKey: 'FAKE-amp-key-0000', secretKey: 'FAKE-amp-secret-0000', events: amplitudeEvents(30, DAY, DAY + 24 * HOUR_MS) });
    cleanups.push(() => server.close());
    const settings = { section: { region: 'us' }, credentials: { api_key: 'FAKE-amp-key-0000', secret_key: 'FAKE-amp-secret-0000' }, origins: {}, endpoint: server.url };
    return traffic(EXPORTERS.amplitude!, settings, '2024-03-12T09:00:00Z', '2024-03-10', () => server.requests);
  },
  async mixpanel() {
    const server = await startMixpanelFake({ user: 'fake-sa.0000.mp-service-account', secret: 'FAKE-mp-secret-0000', projectId: '4242', events: mixpanelEvents(20, DAY, DAY + 24 * HOUR_MS) });
    cleanups.push(() => server.close());
    const settings = { section: { region: 'us' }, credentials: { service_account_user: 'fake-sa.0000.mp-service-account', service_account_secret: 'FAKE-mp-secret-0000', project_id: '4242' }, origins: {}, endpoint: server.url };
    return traffic(EXPORTERS.mixpanel!, settings, '2024-03-12T09:00:00Z', '2024-03-10', () => server.requests);
  },
  async posthog() {
    const server = await startPosthogFake({ apiKey: 'phx_FAKE0000', projectId: '4242', events: posthogEvents(15, DAY, DAY + 24 * HOUR_MS) });
    cleanups.push(() => server.close());
    const settings = { section: {}, credentials: { personal_api_key: 'phx_FAKE0000', project_id: '4242' }, origins: {}, endpoint: server.url };
    return traffic(EXPORTERS.posthog!, settings, '2024-03-12T09:00:00Z', '2024-03-10', () => server.requests);
  },
  async ga4() {
    const fake = await BigQueryFake.start({ project: 'fake-project-0000', dataset: 'analytics_1', tables: new Map([['events_20240310', ga4Rows('2024-03-10', 5)], ['events_intraday_20240312', ga4Rows('2024-03-12', 3)]]), keys: new Map() });
    cleanups.push(() => fake.close());
    const account = fakeServiceAccount(fake.tokenUri);
    fake.options.keys.set(account.clientEmail, account.publicKey);
    const settings = { section: { dataset: 'analytics_1' }, credentials: { credentials_json: account.json }, origins: {}, endpoint: fake.url };
    // The 10th from its daily table, then today (the 12th) from its intraday table through a query job.
    const daily = await traffic(EXPORTERS.ga4!, settings, '2099-03-12T09:00:00Z', '2024-03-10', () => []);
    const dir = tempExportDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const live = await runExport({ exporter: (EXPORTERS.ga4 as WindowExporterDefinition).create(settings), dir, from: '2024-03-12', toolVersion: 'test', clock: clockAt('2024-03-12T09:00:00Z'), backoff: FAST_BACKOFF });
    expect(live).toMatchObject({ exit_code: 0, rows: 3 });
    return [...daily, ...fake.server.requests];
  },
  async fullstory() {
    const fake = await startFullstoryFake({ apiKey: 'FAKE-fs-key-0000', events: fullstoryEvents(20, DAY, DAY + 24 * HOUR_MS) });
    cleanups.push(() => fake.server.close());
    const settings = { section: {}, credentials: { api_key: 'FAKE-fs-key-0000' }, origins: {}, endpoint: fake.server.url };
    return traffic(EXPORTERS.fullstory!, settings, '2024-03-13T09:30:00Z', '2024-03-10', () => fake.server.requests);
  },  async heap() {
    // A bucket with one finished dump, served by the fake S3; the connector reads it through the AWS SDK.
    const bucket = mkdtempSync(join(tmpdir(), 'usagelab-api-heap-'));
    cleanups.push(() => rmSync(bucket, { recursive: true, force: true }));
    const rel = 'sync_852/pageviews/part-00000-4a06bab5-0ef3-4b21-b9af-e772fbb37b0e-c000.avro';
    await writeAvro(join(bucket, rel), recordType('pageviews', HEAP_FIELDS.pageviews), [{ event_id: 1n, user_id: 7n, session_id: 3n, time: 1710053999000n, path: '/pricing' }], 'snappy');
    writeManifest(bucket, 'sync_852.json', 852, [{ name: 'pageviews', files: [s3Url(rel)], incremental: true, columns: Object.keys(HEAP_FIELDS.pageviews) }]);
    const server = await startS3Fake({ bucket: 'heap-rs3-test', accessKeyId: 'FAKE-access-key-id-0000', objects: objectsFromFolder(bucket) });
    cleanups.push(() => server.close());
    const settings = { section: { s3_bucket: 'heap-rs3-test', s3_region: 'us-east-1' }, credentials: { aws_access_key_id: 'FAKE-access-key-id-0000', aws_secret_access_key: 'FAKE-aws-secret-0000' }, origins: {}, endpoint: server.url };
    const def = EXPORTERS.heap as SyncExporterDefinition;
    const dir = tempExportDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const exporter = def.createSyncExporter(settings);
    try {
      const result = await runSyncExport({ exporter, dir, toolVersion: 'test', backoff: FAST_BACKOFF });
      expect(result).toMatchObject({ exit_code: 0, rows: 1 });
    } finally {
      exporter.close?.();
    }
    await expect(def.probe!(settings, { timeouts: FAST_TIMEOUTS })).resolves.toMatchObject({ ok: true });
    return server.requests;
  },
};

describe('Postman collections from the connectors', () => {
  it('every registered exporter lists its endpoints, and its collection is valid Postman v2.1', () => {
    expect(Object.keys(EXPORTERS).sort()).toEqual(['amplitude', 'fullstory', 'ga4', 'heap', 'mixpanel', 'posthog']);
    for (const def of Object.values(EXPORTERS)) {
      const endpoints = def.endpoints ?? [];
      expect(endpoints.length, def.source).toBeGreaterThan(0);
      expect(new Set(endpoints.map((e) => e.name)).size, def.source).toBe(endpoints.length);
      const json = postmanCollection(def);
      expect(postmanProblems(json), def.source).toEqual([]);
      expect((json.item as unknown[]).length).toBe(endpoints.length);
    }
  });

  it('each request the connector sends to its fake server is a listed endpoint, and each listed endpoint is called', async () => {
    for (const [source, drive] of Object.entries(DRIVERS)) {
      const def = EXPORTERS[source]!;
      const requests = await drive();
      expect(requests.length, source).toBeGreaterThan(0);
      for (const r of requests) {
        expect(def.endpoints!.some((e) => endpointMatches(e, r)), `${source}: ${r.method} ${r.path}?${r.query.toString()} is not a listed endpoint`).toBe(true);
      }
      for (const e of def.endpoints!) {
        expect(requests.some((r) => endpointMatches(e, r)), `${source}: the listed endpoint "${e.name}" (${e.method} ${e.url}) was never called`).toBe(true);
      }
    }
    expect(Object.keys(DRIVERS).sort()).toEqual(Object.keys(EXPORTERS).sort());
  }, 60_000);

  it('keys are empty collection variables; the auth is set per tool', () => {
    const amplitude = postmanCollection(EXPORTERS.amplitude!) as { variable: { key: string; value: string }[]; item: { request: { auth: unknown; url: { raw: string; host: string[]; query: { key: string }[] } } }[] };
    expect(amplitude.variable).toContainEqual(expect.objectContaining({ key: 'AMPLITUDE_API_KEY', value: '' }));
    expect(amplitude.variable).toContainEqual(expect.objectContaining({ key: 'AMPLITUDE_HOST', value: 'https://amplitude.com' }));
    expect(amplitude.item[0]!.request.auth).toEqual({
      type: 'basic',
      basic: [
        { key: 'username', value: '{{AMPLITUDE_API_KEY}}', type: 'string' },
        { key: 'password', value: '{{AMPLITUDE_SECRET_KEY}}', type: 'string' },
      ],
    });
    expect(amplitude.item[0]!.request.url).toMatchObject({ raw: '{{AMPLITUDE_HOST}}/api/2/export?start={{START_HOUR}}&end={{END_HOUR}}', host: ['{{AMPLITUDE_HOST}}'], query: [{ key: 'start' }, { key: 'end' }] });
    const auths = (source: string) => (postmanCollection(EXPORTERS[source]!).item as { request: { auth: { type: string } } }[]).map((i) => i.request.auth.type);
    expect(auths('posthog')).toEqual(['bearer']);
    expect(auths('ga4')).toEqual(['noauth', 'bearer', 'bearer', 'bearer', 'bearer', 'bearer', 'bearer']);
    expect(auths('heap').every((t) => t === 'awsv4')).toBe(true);
    expect(auths('fullstory')).toContain('apikey');
    expect(collectionVariables(EXPORTERS.ga4!).find((v) => v.name === 'GA4_ACCESS_TOKEN')).toMatchObject({ secret: true, value: '' });
  });

  it('every variable a request uses that is not a credential has an example value and a description', () => {
    for (const def of Object.values(EXPORTERS)) {
      for (const v of collectionVariables(def).filter((x) => !x.secret)) {
        const credential = def.credentials.some((c) => c.variable === v.name);
        // Non-secret credentials (an AWS key id, a project id) are left for the user to fill in.
        if (credential) continue;
        expect(def.endpointVariables?.[v.name], `${def.source}: {{${v.name}}} has no example value`).toBeDefined();
        expect(v.description, `${def.source}: {{${v.name}}}`).not.toBe('set before sending');
      }
    }
    const vars = (source: string) => Object.fromEntries(collectionVariables(EXPORTERS[source]!).map((v) => [v.name, v.value]));
    expect(vars('fullstory')).toMatchObject({ FULLSTORY_BASE_URL: 'https://api.fullstory.com' });
    expect(vars('heap')).toMatchObject({ HEAP_S3_ENDPOINT: 'https://s3.us-east-1.amazonaws.com', HEAP_S3_BUCKET: 'heap-rs3-yours', HEAP_S3_REGION: 'us-east-1', HEAP_S3_PREFIX: '' });
  });

  it('the checker catches what would make a collection invalid', () => {
    const good = postmanCollection(EXPORTERS.posthog!) as Record<string, unknown> & { info: Record<string, unknown>; item: Record<string, unknown>[] };
    expect(postmanProblems({ ...good, info: { ...good.info, schema: 'https://schema.getpostman.com/json/collection/v2.0.0/collection.json' } })[0]).toMatch(/^info\.schema/);
    const badMethod = { ...good, item: [{ ...good.item[0], request: { ...(good.item[0]!.request as object), method: 'FETCH' } }] };
    expect(postmanProblems(badMethod)[0]).toMatch(/^item\.0\.request\.method/);
    expect(postmanProblems({ ...good, variable: [] })).toContain('{{POSTHOG_HOST}} is not a collection variable');
    expect(postmanProblems({ ...good, item: [] })[0]).toMatch(/^item/);
  });

  it('writes api/<source>.postman_collection.json and api/<source>.md, the same bytes on every run', () => {
    const api = mkdtempSync(join(tmpdir(), 'usagelab-api-'));
    cleanups.push(() => rmSync(api, { recursive: true, force: true }));
    const written = writeApiFiles(api);
    expect(written.map((w) => w.source).sort()).toEqual(Object.keys(EXPORTERS).sort());
    const first = readFileSync(join(api, 'ga4.postman_collection.json'), 'utf8');
    writeApiFiles(api, 'ga4');
    expect(readFileSync(join(api, 'ga4.postman_collection.json'), 'utf8')).toBe(first);
    expect(JSON.parse(first)).toMatchObject({ info: { name: 'usagelab: GA4', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' } });
    const notes = readFileSync(join(api, 'ga4.md'), 'utf8');
    expect(notes).toBe(apiNotes(EXPORTERS.ga4!));
    expect(notes).toContain('### tabledata.list');
    expect(notes).toContain('- **Limits**: BigQuery API: 100 requests per second per user per method');
    expect(() => writeApiFiles(api, 'hubspot')).toThrow(expect.objectContaining({ code: 'api_source_unknown' }));
  });

  it('matches requests to endpoints by method, path segments and the query parameters the endpoint names', () => {
    const e = EXPORTERS.ga4!.endpoints!.find((x) => x.name === 'tabledata.list')!;
    const req = (method: string, path: string, query = 'maxResults=10&formatOptions.useInt64Timestamp=true') => ({ method, path, query: new URLSearchParams(query) });
    expect(endpointMatches(e, req('GET', '/bigquery/v2/projects/p/datasets/d/tables/events_20240310/data'))).toBe(true);
    expect(endpointMatches(e, req('POST', '/bigquery/v2/projects/p/datasets/d/tables/events_20240310/data'))).toBe(false);
    expect(endpointMatches(e, req('GET', '/bigquery/v2/projects/p/datasets/d/tables/events_20240310'))).toBe(false);
    expect(endpointMatches(e, req('GET', '/bigquery/v2/projects/p/datasets/d/tables/events_20240310/data', 'maxResults=10'))).toBe(false);
  });
});
