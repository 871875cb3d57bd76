import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerApiCommand } from '../cli/commands/api-command.js';
import { checkCommand } from '../cli/commands/check-command.js';
import { loadConfig } from '../core/config-load.js';
import { EXIT } from '../core/exit-codes.js';
import { amplitudeEvents, startAmplitudeFake } from '../test-support/amplitude-fake-server.js';
import { BigQueryFake, fakeServiceAccount } from '../test-support/bigquery-fake-server.js';
import { runCommand } from '../test-support/command-test-kit.js';
import { FAST_TIMEOUTS } from '../test-support/export-test-kit.js';
import type { FakeVendorServer } from '../test-support/fake-vendor-server.js';
import { posthogEvents, startPosthogFake } from '../test-support/posthog-fake-server.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { workspacePaths } from '../core/workspace.js';
import { checkCredentials, formatCredentialChecks, type CredentialCheckOptions } from './credential-check.js';

const AMP_KEY = 'FAKE-amp-key-0000';
const AMP_SECRET = 'FAKE-amp-secret-0000';
const CONFIG = `version: 1
sources:
  amplitude:
    region: us
  posthog:
    project_id: "4242"
  mixpanel:
    service_account_user: fake-sa.0000.mp
`;

const servers: { close(): Promise<void> }[] = [];
let tw: TempWorkspace | undefined;
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  tw?.cleanup();
  tw = undefined;
});

async function amplitudeFake(apiKey: string): Promise<FakeVendorServer> {
  const s = await startAmplitudeFake({ apiKey, secretKey: AMP_SECRET, events: amplitudeEvents(3, Date.parse('2024-03-10T00:00:00Z'), Date.parse('2024-03-10T03:00:00Z')) });
  servers.push(s);
  return s;
}

function check(config: string, env: Record<string, string>, options: CredentialCheckOptions) {
  tw = tempWorkspace(config);
  const ws = { root: tw.dir, paths: workspacePaths(tw.dir), config: loadConfig(tw.dir, env).config };
  return checkCredentials(ws, { env, timeouts: FAST_TIMEOUTS, ...options });
}

describe('usagelab check: credentials', () => {
  it('ok, refused key, key of the other region, missing project id — each says what to change', async () => {
    const us = await amplitudeFake('FAKE-someone-else-0000');
    const eu = await amplitudeFake(AMP_KEY);
    const posthog = await startPosthogFake({ apiKey: 'phx_FAKE0000', projectId: '4242', events: posthogEvents(5, Date.now() - 3_600_000, Date.now()) });
    servers.push(posthog);
    const env = { AMPLITUDE_API_KEY: AMP_KEY, AMPLITUDE_SECRET_KEY: AMP_SECRET, POSTHOG_PERSONAL_API_KEY: 'phx_FAKE0000', MIXPANEL_SERVICE_ACCOUNT_SECRET: 'FAKE-mp-secret-0000' };
    const result = await check(CONFIG, env, { endpoints: { amplitude: us.url, posthog: posthog.url }, regionEndpoints: { amplitude: { eu: eu.url } } });
    const by = Object.fromEntries(result.checks.map((c) => [c.source, c]));
    expect(Object.keys(by)).toEqual(['amplitude', 'mixpanel', 'posthog']);
    expect(by.amplitude).toMatchObject({
      status: 'failed',
      code: 'check_wrong_region',
      exit_code: EXIT.usage,
      message: `Amplitude refused the credentials at ${us.url} (US) but accepts them at ${eu.url} (EU)`,
      hint: expect.stringContaining('set sources.amplitude.region: eu'),
    });
    expect(by.posthog).toMatchObject({ status: 'ok', detail: expect.stringMatching(/project 4242 readable \(\d+ events in the last hour\)$/) });
    expect(by.mixpanel).toMatchObject({ status: 'failed', code: 'export_credentials_missing', exit_code: EXIT.usage, message: expect.stringContaining('MIXPANEL_PROJECT_ID (sources.mixpanel.project_id)') });
    expect(result.exit_code).toBe(EXIT.usage);
    // The refused key itself: without another region that accepts it, a plain 401 with the hint (exit 3).
    const refused = await check(CONFIG, { ...env, MIXPANEL_PROJECT_ID: '1' }, { endpoints: { amplitude: us.url, posthog: posthog.url, mixpanel: 'http://127.0.0.1:9' } });
    const amp = refused.checks.find((c) => c.source === 'amplitude')!;
    expect(amp).toMatchObject({ status: 'failed', code: 'export_auth_failed', exit_code: EXIT.auth, message: 'Amplitude refused the credentials (HTTP 401)' });
    expect(amp.hint).toMatch(/AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY.*sources\.amplitude\.region: eu/);
    expect(refused.checks.find((c) => c.source === 'mixpanel')).toMatchObject({ status: 'failed', exit_code: EXIT.unavailable });
    expect(refused.exit_code).toBe(EXIT.auth);
    const text = formatCredentialChecks(refused.checks);
    expect(text).toContain('amplitude  FAILED   Amplitude refused the credentials (HTTP 401) [export_auth_failed]');
    expect(text).not.toContain(AMP_KEY);
  });

  it('GA4: the service account key from the environment, datasets.get; a missing project id is named', async () => {
    const fake = await BigQueryFake.start({ project: 'fake-project-0000', dataset: 'analytics_42', tables: new Map(), keys: new Map() });
    servers.push(fake);
    const account = fakeServiceAccount(fake.tokenUri);
    fake.options.keys.set(account.clientEmail, account.publicKey);
    const config = 'version: 1\nsources:\n  ga4:\n    property_id: 42\n';
    const ok = await check(config, { GA4_SERVICE_ACCOUNT_JSON: account.json }, { endpoints: { ga4: fake.url } });
    expect(ok.checks).toEqual([{ source: 'ga4', status: 'ok', detail: `dataset fake-project-0000.analytics_42 (US) is readable by ${account.clientEmail}`, code: null, message: null, hint: null, exit_code: null }]);
    const noProject = JSON.stringify({ ...JSON.parse(account.json), project_id: undefined });
    const missing = await check(config, { GA4_SERVICE_ACCOUNT_JSON: noProject }, { endpoints: { ga4: fake.url } });
    expect(missing.checks[0]).toMatchObject({ status: 'failed', code: 'ga4_project_missing', exit_code: EXIT.usage, hint: expect.stringContaining('sources.ga4.gcp_project') });
  });

  it('--offline makes no call; the check command prints the credentials section and exits with its code', async () => {
    const us = await amplitudeFake('FAKE-someone-else-0000');
    const env = { AMPLITUDE_API_KEY: AMP_KEY, AMPLITUDE_SECRET_KEY: AMP_SECRET };
    const offline = await check('version: 1\nsources:\n  amplitude: {}\n', env, { offline: true, endpoints: { amplitude: us.url } });
    expect(offline).toEqual({ checks: [{ source: 'amplitude', status: 'skipped', detail: 'offline: no call made', code: null, message: null, hint: null, exit_code: null }], exit_code: EXIT.ok });
    expect(us.requests).toHaveLength(0);

    let out = '';
    const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, isTTY: false };
    expect(await checkCommand(io, { workspace: tw!.dir, offline: true })).toBe(EXIT.ok);
    expect(out).toContain('credentials\n  amplitude  skipped  offline: no call made\n');
  });
});

describe('usagelab api postman', () => {
  it('writes the collection and notes into the workspace api/ folder', async () => {
    tw = tempWorkspace();
    const run = await runCommand(registerApiCommand, tw.dir, ['api', 'postman', 'ga4']);
    expect(run.exitCode).toBe(EXIT.ok);
    expect(run.out).toMatch(/ga4\s+7\s+api\/ga4\.postman_collection\.json\s+api\/ga4\.md/);
    const collection = JSON.parse(readFileSync(join(tw.dir, 'api', 'ga4.postman_collection.json'), 'utf8')) as { item: unknown[] };
    expect(collection.item).toHaveLength(7);
    expect(existsSync(join(tw.dir, 'api', 'ga4.md'))).toBe(true);
    await expect(runCommand(registerApiCommand, tw.dir, ['api', 'postman', 'nope'])).rejects.toMatchObject({ code: 'api_source_unknown', exitCode: EXIT.usage });
  });
});
