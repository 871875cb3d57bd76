import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { EXIT } from '../core/exit-codes.js';
import { amplitudeEvents, startAmplitudeFake } from '../test-support/amplitude-fake-server.js';
import { allRecords, clockAt, FAST_BACKOFF, FAST_TIMEOUTS, readManifestFile } from '../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../test-support/fake-vendor-server.js';
import { mixpanelEvents, startMixpanelFake } from '../test-support/mixpanel-fake-server.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { HOUR_MS } from '../sources/export/export-window.js';
import { exportSource, importNewExports, vendorRecordMasker, type ExportSourceOptions } from './export-source.js';
import { AMPLITUDE_RECORD_LAYOUT } from '../sources/amplitude/amplitude-export.js';
import { MIXPANEL_RECORD_LAYOUT } from '../sources/mixpanel/mixpanel-export.js';
import { POSTHOG_RECORD_LAYOUT } from '../sources/posthog/posthog-export.js';
import { configSchema } from '../core/config-schema.js';

const DAY1 = Date.parse('2024-03-01T00:00:00Z');
const AMP_EVENTS = amplitudeEvents(300, DAY1, DAY1 + 30 * 24 * HOUR_MS);
const NOW = '2024-04-02T00:00:00Z';

const AMPLITUDE_CONFIG = `version: 1
sources:
  amplitude:
    api_key: \${AMPLITUDE_API_KEY}
    secret_key: \${AMPLITUDE_SECRET_KEY}
`;
const ENV = 'AMPLITUDE_API_KEY=amp-key\nAMPLITUDE_SECRET_KEY=amp-secret\n';

let server: FakeVendorServer | undefined;
const workspaces: TempWorkspace[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const w of workspaces.splice(0)) w.cleanup();
});

function workspace(config = AMPLITUDE_CONFIG, env = ENV): TempWorkspace {
  const w = tempWorkspace(config);
  if (env !== '') w.write('.env', env);
  workspaces.push(w);
  return w;
}

async function exportWith(tw: TempWorkspace, source: string, options: ExportSourceOptions) {
  const ws = await tw.open();
  try {
    return await exportSource(ws, source, { endpoint: server!.url, env: {}, clock: clockAt(NOW), backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS, ...options });
  } finally {
    ws.close();
  }
}

function fileText(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .map((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8'))
    .join('');
}

describe('exportSource (library)', () => {
  it('exports with credentials from .env, masks PII before the write, and --import loads what is new once', async () => {
    server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'amp-secret', events: AMP_EVENTS });
    const tw = workspace();
    const result = await exportWith(tw, 'amplitude', { from: '2024-03-01', to: '2024-03-05', import: true });
    expect(result).toMatchObject({ exit_code: 0, rows: 50, windows: { exported: 5 }, import: { files: 5, imported: 50, duplicates: 0, rejected: 0, partial: false } });
    const dir = join(tw.dir, 'exports', 'amplitude');
    const text = fileText(dir);
    // The e-mail addresses in event_properties never reach the disk; ids and the rest stay as sent.
    expect(text).not.toMatch(/@example\.com/);
    expect(text).toContain('"contact":"[email]"');
    expect(text).toContain('"amplitude_id":9007199254740993');
    expect(allRecords(dir).map((r) => r.uuid).sort()).toEqual(AMP_EVENTS.slice(0, 50).map((e) => e.uuid).sort());
    const manifest = readManifestFile(dir);
    expect(manifest.windows.every((w) => w.imported !== null && w.imported.sha256 === w.sha256)).toBe(true);

    const ws = await tw.open();
    try {
      expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE source = 'amplitude'`))[0]!.n)).toBe(50);
      // Nothing is new now; a later export of more days makes only those new.
      expect((await importNewExports(ws)).summary).toMatchObject({ files: 0, imported: 0 });
    } finally {
      ws.close();
    }
    const more = await exportWith(tw, 'amplitude', { from: '2024-03-06', to: '2024-03-07' });
    expect(more.windows.exported).toBe(2);
    const ws2 = await tw.open();
    try {
      const again = await importNewExports(ws2);
      expect(again.summary).toMatchObject({ files: 2, imported: 20 });
      expect(Object.keys(again.files)).toEqual(['amplitude']);
    } finally {
      ws2.close();
    }
  });

  it('falls back to the .env.example variables when the config names no credentials', async () => {
    server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'amp-secret', events: AMP_EVENTS });
    const tw = workspace('version: 1\n');
    expect(await exportWith(tw, 'amplitude', { from: '2024-03-01', to: '2024-03-01' })).toMatchObject({ exit_code: 0, rows: 10 });
  });

  it('names the missing variables, refuses a secret written into usagelab.yaml, and an unknown source', async () => {
    server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'amp-secret', events: AMP_EVENTS });
    const none = workspace('version: 1\n', '');
    await expect(exportWith(none, 'amplitude', { from: '2024-03-01' })).rejects.toMatchObject({
      code: 'export_credentials_missing',
      exitCode: EXIT.usage,
      message: expect.stringContaining('AMPLITUDE_API_KEY (sources.amplitude.api_key), AMPLITUDE_SECRET_KEY (sources.amplitude.secret_key)'),
    });
    const literal = workspace('version: 1\nsources:\n  amplitude:\n    api_key: abc123\n    secret_key: ${AMPLITUDE_SECRET_KEY}\n');
    const err = await exportWith(literal, 'amplitude', { from: '2024-03-01' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_secret_in_config', place: { field: 'sources.amplitude.api_key' } });
    expect(JSON.stringify(err)).not.toContain('abc123');
    await expect(exportWith(literal, 'generic', {})).rejects.toMatchObject({ code: 'export_source_unsupported', hint: expect.stringContaining('usagelab import') });
  });

  it('an auth failure names the variable the config used', async () => {
    server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'other', events: AMP_EVENTS });
    const tw = workspace('version: 1\nsources:\n  amplitude:\n    api_key: ${MY_AMP_KEY}\n    secret_key: ${MY_AMP_SECRET}\n', 'MY_AMP_KEY=amp-key\nMY_AMP_SECRET=amp-secret\n');
    const err = await exportWith(tw, 'amplitude', { from: '2024-03-01', to: '2024-03-01' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'export_auth_failed', exitCode: EXIT.auth, hint: expect.stringContaining('check MY_AMP_KEY and MY_AMP_SECRET') });
    expect(JSON.stringify(err)).not.toContain('amp-secret');
  });

  it('Mixpanel through the library: service account from .env, masked identity-named properties', async () => {
    server = await startMixpanelFake({ user: 'sa', secret: 'sa-secret', projectId: '77', events: mixpanelEvents(30, DAY1, DAY1 + 3 * 24 * HOUR_MS) });
    const tw = workspace(
      'version: 1\nsources:\n  mixpanel:\n    service_account_user: ${MIXPANEL_SERVICE_ACCOUNT_USER}\n    service_account_secret: ${MIXPANEL_SERVICE_ACCOUNT_SECRET}\n    project_id: 77\n',
      'MIXPANEL_SERVICE_ACCOUNT_USER=sa\nMIXPANEL_SERVICE_ACCOUNT_SECRET=sa-secret\n',
    );
    const result = await exportWith(tw, 'mixpanel', { from: '2024-03-01', to: '2024-03-03', import: true });
    expect(result).toMatchObject({ exit_code: 0, rows: 30, import: { imported: 30 } });
    const text = fileText(join(tw.dir, 'exports', 'mixpanel'));
    expect(text).not.toMatch(/@example\.com/);
    expect(text).toContain('"distinct_id":"user-0"');
  });

  it('the masker applies each column rule to the vendor field that feeds it', () => {
    const pii = configSchema.parse({ pii: { fields: { user_id: 'hash', 'properties.plan': 'drop' }, hash_key: 'k'.repeat(32) } }).pii;
    const mask = vendorRecordMasker(pii, AMPLITUDE_RECORD_LAYOUT, {});
    const out = mask({
      uuid: 'u-1',
      user_id: 'jane@example.com',
      device_id: 'd-1',
      ip_address: '203.0.113.77',
      event_type: 'Signed up',
      event_properties: { plan: 'pro', note: 'call me at jane@example.com', '[Amplitude] Page URL': 'https://x.test/?email=jane@example.com' },
      user_properties: { email: 'jane@example.com', plan: 'pro' },
      amplitude_id: 9007199254740993n,
    });
    expect(out.user_id).toMatch(/^h:[0-9a-f]{32}$/);
    expect(out.device_id).toBe('d-1');
    expect(out.ip_address).toBe('203.0.113.0');
    expect(out.amplitude_id).toBe(9007199254740993n);
    expect(out.event_properties).toMatchObject({ plan: null, note: 'call me at [email]' });
    expect(JSON.stringify((out.event_properties as Record<string, unknown>)['[Amplitude] Page URL'])).not.toContain('jane@');
    expect(out.user_properties).toEqual({ email: null, plan: 'pro' });
    // Default policy: an identifier holding an e-mail is hashed (keyed), so one person stays one person.
    const record = { event: 'x', properties: { distinct_id: 'jane@example.com', $email: 'jane@example.com', time: 1, $current_url: 'https://a.test/u/jane@example.com' } };
    const mp = vendorRecordMasker(configSchema.parse({}).pii, MIXPANEL_RECORD_LAYOUT, { USAGELAB_PII_KEY: 'x'.repeat(32) });
    expect(mp(record)).toEqual({ event: 'x', properties: { distinct_id: expect.stringMatching(/^h:[0-9a-f]{32}$/), $email: null, time: 1, $current_url: 'https://a.test/u/[email]' } });
    // Key order is the vendor's.
    expect(Object.keys((mp(record).properties as object))).toEqual(['distinct_id', '$email', 'time', '$current_url']);
    // Without a key that identifier cannot be written safely: the export stops with pii_key_missing.
    expect(() => vendorRecordMasker(configSchema.parse({}).pii, MIXPANEL_RECORD_LAYOUT, {})(record)).toThrow(expect.objectContaining({ code: 'pii_key_missing' }));
  });

  it('PostHog person properties get the user-property rules, as the import stores them (a bare name is dropped)', () => {
    const ph = vendorRecordMasker(configSchema.parse({}).pii, POSTHOG_RECORD_LAYOUT, {});
    const out = ph({
      uuid: 'e-1',
      event: '$pageview',
      distinct_id: 'd-1',
      properties: { name: 'Pricing page', $current_url: 'https://a.test/pricing' },
      person_properties: { email: 'noah.martin@example.com', name: 'Noah Martin', plan: 'free' },
    });
    expect(out.person_properties).toEqual({ email: null, name: null, plan: 'free' });
    // In event properties a bare `name` is usually a page or feature name: kept.
    expect(out.properties).toEqual({ name: 'Pricing page', $current_url: 'https://a.test/pricing' });
  });
});

const child = fileURLToPath(new URL('../test-support/export-child.ts', import.meta.url));

/** Complete windows in a source folder's manifest (0 before the first one is written). */
function completeWindows(dir: string): number {
  return existsSync(join(dir, 'manifest.json')) ? readManifestFile(dir).windows.filter((w) => w.status === 'complete').length : 0;
}

/**
 * Runs the export in a child process. With `kill`, the child is SIGKILLed once the manifest shows at least
 * `kill.atComplete` complete windows, plus `kill.extraMs` (so the kill lands inside the next window's work).
 */
function runChild(args: string[], kill: { dir: string; atComplete: number; extraMs: number } | null): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exited = false;
    let armed = kill !== null;
    const watch = (): void => {
      if (exited) return;
      if (completeWindows(kill!.dir) >= kill!.atComplete) setTimeout(() => p.kill('SIGKILL'), kill!.extraMs);
      else setTimeout(watch, 5);
    };
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (armed && out.includes('started')) {
        armed = false;
        watch();
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', () => {
      exited = true;
      if (out.includes('done 0')) resolve('done');
      else if (out.includes('done')) reject(new Error(`export exited non-zero: ${out}\n${err}`));
      else resolve('killed');
    });
  });
}

describe('export crash safety', () => {
  it('SIGKILL at random points, then --resume, gives exactly the files of an uninterrupted run', async () => {
    server = await startAmplitudeFake({ apiKey: 'amp-key', secretKey: 'amp-secret', events: AMP_EVENTS });
    // Every answer takes a moment, so kills land before, during and between windows.
    server.inject({ kind: 'slow', delayMs: 25 }, { times: 100_000 });
    const range = ['--from', '2024-03-01', '--to', '2024-03-30'];

    // The uninterrupted run, in this process.
    const reference = workspace();
    expect(await exportWith(reference, 'amplitude', { from: '2024-03-01', to: '2024-03-30' })).toMatchObject({ exit_code: 0, rows: 300 });

    const crashed = workspace();
    const crashDir = join(crashed.dir, 'exports', 'amplitude');
    // Kill points: before any window, then after 7, 15 and 24 of the 30 windows are done, each a seeded random
    // few milliseconds later (inside the work on the next windows: downloading, writing, renaming).
    let seed = 20240301;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const outcomes: string[] = [];
    const completeAfterKill: number[] = [];
    for (const atComplete of [0, 7, 15, 24]) {
      outcomes.push(await runChild([crashed.dir, 'amplitude', server.url, NOW, ...range, '--resume'], { dir: crashDir, atComplete, extraMs: Math.floor(random() * 40) }));
      completeAfterKill.push(completeWindows(crashDir));
    }
    expect(outcomes.filter((o) => o === 'killed').length).toBeGreaterThanOrEqual(3);
    // The kills landed in the middle of the run, with work left each time.
    expect(completeAfterKill.filter((n) => n > 0 && n < 30).length).toBeGreaterThanOrEqual(2);
    expect(await runChild([crashed.dir, 'amplitude', server.url, NOW, ...range, '--resume'], null)).toBe('done');

    const refDir = join(reference.dir, 'exports', 'amplitude');
    const refManifest = readManifestFile(refDir);
    const crashManifest = readManifestFile(crashDir);
    expect(crashManifest.windows.map((w) => [w.key, w.status, w.rows, w.sha256])).toEqual(refManifest.windows.map((w) => [w.key, w.status, w.rows, w.sha256]));
    const refRecords = allRecords(refDir).map((r) => String(r.uuid));
    const crashRecords = allRecords(crashDir).map((r) => String(r.uuid));
    expect(crashRecords.length).toBe(300);
    expect(new Set(crashRecords).size).toBe(300);
    expect(crashRecords.sort()).toEqual(refRecords.sort());
    // No temp file, work folder or lock survives the last run.
    expect(readdirSync(crashDir).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 120_000);
});
