/**
 * The canary test (docs/governance.md "Secrets"): every credential variable and the PII key hold a fake secret
 * starting with one canary string; a broad run of commands — including a vendor that echoes the key in an error
 * body and in an event, refused credentials, a config error and a failing statement that quotes the key — must
 * not print or write the canary anywhere: no stdout, no stderr, no file under the workspace (gzip files included).
 * The assertions that `[redacted]` does appear where the key was echoed make sure the secret really reached those
 * sinks, so the test fails if redaction is taken away.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REDACTED } from '../core/secret-redaction.js';
import { exportSource, openExportWorkspace } from '../library/export-source.js';
import { DAY_MS } from '../sources/export/export-window.js';
import { startAmplitudeFake } from '../test-support/amplitude-fake-server.js';
import { FAST_BACKOFF, FAST_TIMEOUTS } from '../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../test-support/fake-vendor-server.js';
import { startMixpanelFake } from '../test-support/mixpanel-fake-server.js';
import { posthogEvents, startPosthogFake } from '../test-support/posthog-fake-server.js';
import { main } from './main.js';
import { reportError, type Io } from './output.js';

const CANARY = 'CANARY-SECRET-7f3a9c';
const SECRETS: Record<string, string> = {
  AMPLITUDE_API_KEY: `${CANARY}-amplitude-api`,
  AMPLITUDE_SECRET_KEY: `${CANARY}-amplitude-secret`,
  MIXPANEL_SERVICE_ACCOUNT_SECRET: `${CANARY}-mixpanel`,
  POSTHOG_PERSONAL_API_KEY: `${CANARY}-posthog`,
  FULLSTORY_API_KEY: `${CANARY}-fullstory`,
  CLICKHOUSE_PASSWORD: `${CANARY}-clickhouse`,
  USAGELAB_PII_KEY: `${CANARY}-pii-key`,
};

type Capture = Io & { out: string; err: string };
const capture = (): Capture => {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
};

/** Every file below `dir`, as text (gzip inflated). */
function filesBelow(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesBelow(path));
    else {
      const raw = readFileSync(path);
      const text = name.endsWith('.gz') ? gunzipSync(raw).toString('latin1') : raw.toString('latin1');
      out.push({ path, text });
    }
  }
  return out;
}

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const FROM = today - 3 * DAY_MS;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

let dir: string;
const servers: FakeVendorServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'usagelab-canary-'));
  for (const [name, value] of Object.entries(SECRETS)) vi.stubEnv(name, value);
  vi.stubEnv('MIXPANEL_SERVICE_ACCOUNT_USER', 'usagelab-test-service-account');
  vi.stubEnv('MIXPANEL_PROJECT_ID', '42');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('secrets: the canary never shows', () => {
  it('appears in no output and no file after a broad run of commands', async () => {
    const outputs: Capture[] = [];
    const run = async (args: string[]): Promise<number> => {
      const io = capture();
      outputs.push(io);
      return main(['--workspace', dir, ...args], io);
    };

    expect(await main(['init', dir], capture())).toBe(0);
    // The vendor echoes the key: in one event's properties, and in the error body of one window.
    const events = posthogEvents(30, FROM, FROM + 2 * DAY_MS);
    const echoed = events.map((e, i) => (i === 3 ? { ...e, properties: { ...e.properties, debug: `client configured with ${SECRETS.POSTHOG_PERSONAL_API_KEY}` } } : e));
    const posthog = await startPosthogFake({ apiKey: SECRETS.POSTHOG_PERSONAL_API_KEY!, projectId: '12', events: echoed });
    servers.push(posthog);
    posthog.inject({ kind: 'status', status: 400, body: `{"detail": "token ${SECRETS.POSTHOG_PERSONAL_API_KEY} is not allowed this query"}` });
    writeFileSync(
      join(dir, 'usagelab.yaml'),
      `version: 1
project:
  name: Canary
sources:
  posthog:
    host: ${posthog.url}
    project_id: 12
    personal_api_key: \${POSTHOG_PERSONAL_API_KEY}
  amplitude:
    api_key: \${AMPLITUDE_API_KEY}
    secret_key: \${AMPLITUDE_SECRET_KEY}
  mixpanel:
    service_account_user: \${MIXPANEL_SERVICE_ACCOUNT_USER}
    service_account_secret: \${MIXPANEL_SERVICE_ACCOUNT_SECRET}
    project_id: \${MIXPANEL_PROJECT_ID}
pii:
  hash_key: \${USAGELAB_PII_KEY}
retention:
  exports_days: 3650
exclusions:
  internal:
    email_domains: [example.com]
`,
    );

    // check: every secret as set (…last 4). (--offline: Amplitude and Mixpanel here would be the real vendors.)
    expect(await run(['check', '--offline'])).toBe(0);
    const check = capture();
    expect(await main(['--workspace', dir, 'check', '--offline', '--json'], check)).toBe(0);
    outputs.push(check);
    const checked = JSON.parse(check.out) as { configuration: { secrets: { field: string; shown: string; variable: string }[]; values: Record<string, unknown> } };
    expect(checked.configuration.secrets).toEqual([
      { field: 'sources.amplitude.api_key', variable: 'AMPLITUDE_API_KEY', set: true, shown: 'set (…-api)' },
      { field: 'sources.amplitude.secret_key', variable: 'AMPLITUDE_SECRET_KEY', set: true, shown: 'set (…cret)' },
      { field: 'sources.mixpanel.service_account_secret', variable: 'MIXPANEL_SERVICE_ACCOUNT_SECRET', set: true, shown: 'set (…anel)' },
      { field: 'sources.posthog.personal_api_key', variable: 'POSTHOG_PERSONAL_API_KEY', set: true, shown: 'set (…thog)' },
      { field: 'pii.hash_key', variable: 'USAGELAB_PII_KEY', set: true, shown: 'set (…-key)' },
    ]);
    expect(checked.configuration.values['pii.hash_key']).toBe('set (…-key)');

    // import a fixture; analyses as JSON and CSV.
    const fixture = join(dir, 'fixture.ndjson');
    writeFileSync(
      fixture,
      ['signup', 'pay', 'signup', 'help']
        .map((event, i) => JSON.stringify({ user_id: i < 2 ? 'ann@example.com' : 'bob@example.org', event, time: new Date(FROM + i * 60_000).toISOString() }))
        .join('\n'),
    );
    expect(await run(['import', fixture])).toBe(0);
    const funnelCode = await run(['funnel', '--steps', 'signup,pay', '--json', '--exclude', '']);
    expect(funnelCode, outputs[outputs.length - 1]!.err).toBe(0);
    expect(await run(['trends', '--csv'])).toBe(0);

    // export: a query refused with the echoed key (PostHog's 400 means a bug: exit 1, the error and its cause chain
    // printed), then the export again, writing the event that echoes the key.
    expect(await run(['export', 'posthog', '--from', day(FROM), '--to', day(FROM + DAY_MS), '--import'])).toBe(1);
    expect(outputs[outputs.length - 1]!.err).toContain(`token ${REDACTED} is not allowed`);
    expect(await run(['export', 'posthog', '--from', day(FROM), '--to', day(FROM + DAY_MS), '--import', '--json'])).toBe(0);
    const windowFiles = filesBelow(join(dir, 'exports', 'posthog')).filter((f) => f.path.endsWith('.jsonl.gz'));
    expect(windowFiles.some((f) => f.text.includes(`client configured with ${REDACTED}`))).toBe(true);
    expect(readFileSync(join(dir, 'exports', 'posthog', 'manifest.json'), 'utf8')).toBeTruthy();

    // refused credentials (401) from Amplitude and Mixpanel, printed by the CLI's error printer.
    const amplitude = await startAmplitudeFake({ apiKey: 'FAKE-other-key-0000', secretKey: 'FAKE-other-secret-0000', events: [] });
    const mixpanel = await startMixpanelFake({ user: 'someone-else', secret: 'FAKE-other-secret-0000', projectId: '42', events: [] });
    servers.push(amplitude, mixpanel);
    for (const [source, server] of [['amplitude', amplitude], ['mixpanel', mixpanel]] as const) {
      for (const json of [false, true]) {
        const io = capture();
        outputs.push(io);
        const err = await exportSource(openExportWorkspace(dir), source, { from: day(FROM), to: day(FROM), endpoint: server.url, backoff: FAST_BACKOFF, timeouts: FAST_TIMEOUTS }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(reportError(io, err, json)).toBe(3);
        expect(io.err).toContain('export_auth_failed');
      }
    }

    // the report, insights, tags, pii scan, retention with its audit log.
    const month = day(FROM).slice(0, 7);
    expect(await run(['report', '--month', month, '--html'])).toBe(0);
    expect(await run(['tags', 'list', '--json'])).toBe(0);
    expect(await run(['pii', 'scan', '--warehouse'])).toBe(0);
    expect(await run(['retention', 'apply', '--json'])).toBe(0);

    // a failing statement quoting the key: the message and its cause chain are printed redacted.
    expect(await run(['sql', `SELECT error('${SECRETS.USAGELAB_PII_KEY}')`])).toBe(1);
    expect(outputs[outputs.length - 1]!.err).toContain(REDACTED);

    // a config error.
    writeFileSync(join(dir, 'usagelab.yaml'), `version: 1\ntimezone: \${USAGELAB_PII_KEY}\n`);
    expect(await run(['check', '--offline'])).toBe(2);
    expect(outputs[outputs.length - 1]!.err).toContain('error[config_invalid]');

    for (const io of outputs) {
      expect(io.out).not.toContain(CANARY);
      expect(io.err).not.toContain(CANARY);
    }
    const files = filesBelow(dir);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(f.text.includes(CANARY), f.path).toBe(false);
  }, 120_000);
});

describe('secrets: never from flags', () => {
  it('no command or subcommand has an option for a key, token, secret or password', async () => {
    const help = async (args: string[]): Promise<string> => {
      const io = capture();
      await main([...args, '--help'], io);
      return io.out;
    };
    const commandsOf = (text: string): string[] => {
      const section = text.split(/^Commands:$/m)[1] ?? '';
      return section
        .split('\n')
        .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
        .filter((c): c is string => c !== undefined && c !== 'help');
    };
    const seen: string[] = [];
    const visit = async (path: string[]): Promise<void> => {
      const text = await help(path);
      const options = [...text.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
      for (const o of options) expect(o, `${path.join(' ')} ${o}`).not.toMatch(/key|token|secret|password|passwd|credential|auth/);
      seen.push(path.join(' '));
      for (const c of commandsOf(text)) await visit([...path, c]);
    };
    await visit([]);
    expect(seen).toEqual(expect.arrayContaining(['export', 'import', 'check', 'retention apply', 'tags refresh', 'pii scan']));
  });
});
