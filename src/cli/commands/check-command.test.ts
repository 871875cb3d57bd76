import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { Io } from '../output.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';

const capture = (): Io & { out: string; err: string } => {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
};

let ws: TempWorkspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

describe('usagelab check: the resolved configuration', () => {
  it('shows every setting, and secrets only as set (…last 4) / not set with their variable', async () => {
    ws = tempWorkspace(`version: 1
timezone: Europe/Amsterdam
sources:
  posthog:
    project_id: 12
    personal_api_key: \${POSTHOG_PERSONAL_API_KEY}
  amplitude:
    region: eu
retention:
  warehouse_days: 400
`);
    ws.write('.env', 'POSTHOG_PERSONAL_API_KEY=phx_FAKE_test_key_0000_9c0f\nAMPLITUDE_API_KEY=short\n');
    const io = capture();
    expect(await main(['--workspace', ws.dir, 'check', '--offline'], io)).toBe(0);
    const lines = io.out.split('\n');
    const line = (key: string): string | undefined => lines.find((l) => l.trimStart().startsWith(`${key} `));
    expect(line('timezone')).toMatch(/^ {2}timezone\s+Europe\/Amsterdam$/);
    expect(line('sources.posthog.project_id')).toMatch(/\s12$/);
    expect(line('retention.warehouse_days')).toMatch(/\s400$/);
    expect(line('exclusions.bots.max_events_per_minute')).toMatch(/\s300$/);
    expect(line('sources.posthog.personal_api_key')).toMatch(/\sset \(…9c0f\)$/);
    expect(io.out).toContain('secrets\n');
    const secrets = io.out.slice(io.out.indexOf('secrets\n'));
    expect(secrets).toMatch(/sources\.posthog\.personal_api_key\s+set \(…9c0f\)\s+\(POSTHOG_PERSONAL_API_KEY\)/);
    // Not in usagelab.yaml: the variable the exporter falls back to; shorter than 12 characters: no ending shown.
    expect(secrets).toMatch(/sources\.amplitude\.api_key\s+set\s+\(AMPLITUDE_API_KEY\)/);
    expect(secrets).toMatch(/sources\.amplitude\.secret_key\s+not set\s+\(AMPLITUDE_SECRET_KEY\)/);
    expect(secrets).toMatch(/pii\.hash_key\s+not set\s+\(USAGELAB_PII_KEY\)/);
    expect(io.out).not.toContain('phx_FAKE_test_key_0000');
    expect(io.out).not.toContain('short\n');

    const json = capture();
    expect(await main(['--workspace', ws.dir, 'check', '--offline', '--json'], json)).toBe(0);
    const result = JSON.parse(json.out) as { configuration: { values: Record<string, unknown> } };
    expect(result.configuration.values).toMatchObject({ timezone: 'Europe/Amsterdam', 'sources.posthog.personal_api_key': 'set (…9c0f)', 'sources.posthog.project_id': 12 });
    expect(json.out).not.toContain('phx_FAKE_test_key_0000');
  });
});
