import { afterEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitCode } from '../../core/exit-codes.js';
import { DAY_MS } from '../../sources/export/export-window.js';
import type { FakeVendorServer } from '../../test-support/fake-vendor-server.js';
import { posthogEvents, startPosthogFake } from '../../test-support/posthog-fake-server.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import type { CommandContext } from '../command-context.js';
import { reportError, type Io } from '../output.js';
import { registerExportCommand } from './export-command.js';

interface Run {
  code: ExitCode | undefined;
  out: string;
  err: string;
}

async function cli(ws: TempWorkspace, args: string[]): Promise<Run> {
  const io: Io & { out: string; err: string } = { out: '', err: '', isTTY: false, stdout: (t) => void (io.out += t), stderr: (t) => void (io.err += t) };
  let code: ExitCode | undefined;
  let json = false;
  const ctx: CommandContext = { io, workspace: () => ws.dir, setJson: (j) => void (json = j), setExitCode: (c) => void (code = c) };
  const program = new Command('usagelab').exitOverride();
  registerExportCommand(program, ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    code = reportError(io, err, json);
  }
  return { code, out: io.out, err: io.err };
}

// PostHog on a "self-hosted" host (the fake): real time, so the range is the last days before today.
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const FROM = today - 3 * DAY_MS;
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const EVENTS = posthogEvents(40, FROM, FROM + 2 * DAY_MS);

let server: FakeVendorServer | undefined;
let ws: TempWorkspace | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  ws?.cleanup();
  ws = undefined;
});

async function posthogWorkspace(key = 'phx_clitest'): Promise<TempWorkspace> {
  server = await startPosthogFake({ apiKey: 'phx_clitest', projectId: '12', events: EVENTS });
  ws = tempWorkspace(`version: 1\nsources:\n  posthog:\n    host: ${server.url}\n    project_id: 12\n    personal_api_key: \${POSTHOG_PERSONAL_API_KEY}\n`);
  ws.write('.env', `POSTHOG_PERSONAL_API_KEY=${key}\n`);
  return ws;
}

describe('usagelab export', () => {
  it('exports, prints a summary with rows and rate-limit wait, and one progress line per window on stderr', async () => {
    const w = await posthogWorkspace();
    const run = await cli(w, ['export', 'posthog', '--from', day(FROM), '--to', day(FROM + DAY_MS)]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^posthog: 2 of 2 window\(s\) exported \(0 empty\), 40 rows, [\d.]+ (B|KB) written in \d+s — waited 0s on rate limits, 0 retries\n/);
    expect(run.out).toContain(`manifest: ${join(w.dir, 'exports', 'posthog', 'manifest.json')}`);
    expect(run.err.trim().split('\n').filter((l) => l.startsWith('posthog '))).toHaveLength(3);
    expect(run.err).toMatch(/posthog 2\/2 windows \| 40 rows \| .* \| rate-limit wait 0s/);
    expect(run.out + run.err).not.toContain('phx_clitest');
    expect(readdirSync(join(w.dir, 'exports', 'posthog')).filter((f) => f.endsWith('.jsonl.gz'))).toHaveLength(2);
  });

  it('--json prints the documented result; --import loads the files; NDJSON progress on stderr', async () => {
    const w = await posthogWorkspace();
    const run = await cli(w, ['export', 'posthog', '--from', day(FROM), '--to', day(FROM + DAY_MS), '--import', '--json', '--page-size', '7']);
    expect(run.code).toBe(0);
    // Pages of 7 rows: per day, the full pages plus one short (possibly empty) page.
    const firstDay = EVENTS.filter((e) => e.timestamp < (FROM + DAY_MS) * 1000).length;
    const pages = Math.floor(firstDay / 7) + 1 + Math.floor((40 - firstDay) / 7) + 1;
    expect(server!.requests.filter((r) => r.body.includes('LIMIT 7'))).toHaveLength(pages);
    const result = JSON.parse(run.out) as Record<string, unknown>;
    expect(result).toMatchObject({
      version: 1,
      source: 'posthog',
      mode: 'range',
      status: 'complete',
      exit_code: 0,
      rows: 40,
      windows: { planned: 2, exported: 2, empty: 0, skipped: 0, failed: 0 },
      failed: [],
      import: { files: 2, imported: 40, rejected: 0, partial: false },
    });
    const progress = run.err.trim().split('\n').map((l) => JSON.parse(l) as { event: string; phase: string });
    expect(progress.every((p) => p.event === 'export_progress')).toBe(true);
    expect(progress[progress.length - 1]!.phase).toBe('done');
  });

  it('--dry-run lists the windows and touches nothing', async () => {
    const w = await posthogWorkspace();
    const run = await cli(w, ['export', 'posthog', '--from', day(FROM), '--to', day(FROM + DAY_MS), '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('posthog: would export 2 window(s)');
    expect(run.out).toMatch(/window\s+action/);
    expect(server!.requests).toHaveLength(0);
    expect(existsSync(join(w.dir, 'exports', 'posthog'))).toBe(false);
  });

  it('refused credentials exit 3 with the code and a hint naming the variable', async () => {
    const w = await posthogWorkspace('phx_wrong');
    const run = await cli(w, ['export', 'posthog', '--from', day(FROM), '--to', day(FROM)]);
    expect(run.code).toBe(3);
    expect(run.err).toContain('error[export_auth_failed]: PostHog refused the credentials (HTTP 401)');
    expect(run.err).toMatch(/hint: check POSTHOG_PERSONAL_API_KEY/);
    expect(run.err).not.toContain('phx_wrong');
  });

  it('usage errors exit 2: unknown source, missing credentials, bad dates, bad --concurrency', async () => {
    ws = tempWorkspace('version: 1\n');
    const unknown = await cli(ws, ['export', 'generic']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toContain('error[export_source_unsupported]');
    const missing = await cli(ws, ['export', 'amplitude', '--from', '2024-03-01', '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.err)).toMatchObject({ code: 'export_credentials_missing', error: expect.stringContaining('AMPLITUDE_API_KEY') });
    ws.write('.env', 'AMPLITUDE_API_KEY=a\nAMPLITUDE_SECRET_KEY=b\n');
    expect((await cli(ws, ['export', 'amplitude', '--from', '2024-02-30'])).err).toContain('error[export_range_invalid]');
    expect((await cli(ws, ['export', 'amplitude', '--from', '2024-02-01', '--concurrency', '0'])).code).toBe(2);
    const first = await cli(ws, ['export', 'amplitude']);
    expect(first.err).toContain('error[export_from_required]');
  });
});
