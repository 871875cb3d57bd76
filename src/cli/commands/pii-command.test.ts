import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import type { ExitCode } from '../../core/exit-codes.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import type { CommandContext } from '../command-context.js';
import { registerPiiCommand, type PiiScanOutput } from './pii-command.js';

interface TestContext extends CommandContext {
  out: string;
  err: string;
  exitCode: ExitCode | undefined;
  json: boolean;
}

function testContext(dir: string | undefined): TestContext {
  const ctx: TestContext = {
    out: '',
    err: '',
    exitCode: undefined,
    json: false,
    io: { stdout: (t) => void (ctx.out += t), stderr: (t) => void (ctx.err += t), isTTY: false },
    workspace: () => dir,
    setJson: (json) => void (ctx.json = json),
    setExitCode: (code) => void (ctx.exitCode = code),
  };
  return ctx;
}

async function pii(dir: string | undefined, args: string[]): Promise<TestContext> {
  const ctx = testContext(dir);
  const program = new Command('usagelab').exitOverride();
  registerPiiCommand(program, ctx);
  await program.parseAsync(['pii', ...args], { from: 'user' });
  return ctx;
}

const LEAKY = ndjson([
  { user_id: 'u1', event: 'signup', time: '2024-03-10T10:00:00Z', url: 'https://x.co/?email=anna%40example.com', note: 'call +44 20 7946 0958' },
  { user_id: 'u2', event: 'page', time: '2024-03-10T10:01:00Z', url: 'https://x.co/home', note: 'nothing' },
]);

let ws: TempWorkspace;
beforeEach(() => {
  ws = tempWorkspace('version: 1\npii:\n  scan:\n    kinds: [email, phone, ip]\n');
});
afterEach(() => ws.cleanup());

describe('usagelab pii scan', () => {
  it('files: a table by kind and field with places, never the values; exit code 6', async () => {
    const file = ws.write('exports/events.ndjson', LEAKY);
    const ctx = await pii(ws.dir, ['scan', file]);
    expect(ctx.exitCode).toBe(6);
    expect(ctx.json).toBe(false);
    const lines = ctx.out.split('\n');
    expect(lines[0]).toBe('files: 1 scanned, 2 records');
    expect(lines.find((l) => l.startsWith('email'))).toMatch(/^email\s+url\s+1\s+\S+events\.ndjson:1$/);
    expect(lines.find((l) => l.startsWith('phone'))).toMatch(/^phone\s+note\s+1\s+\S+events\.ndjson:1$/);
    expect(ctx.out).toContain('2 finding(s); values are never printed');
    expect(ctx.out).not.toMatch(/anna|7946/);
  });

  it('--json: the documented shape', async () => {
    const file = ws.write('exports/events.ndjson', LEAKY);
    const ctx = await pii(ws.dir, ['scan', file, '--json']);
    expect(ctx.json).toBe(true);
    expect(ctx.exitCode).toBe(6);
    const out = JSON.parse(ctx.out) as PiiScanOutput;
    expect(out).toMatchObject({ version: 1, total: 2, reports: [{ version: 1, target: 'files', scanned: { files: 1, records: 2 }, skipped: [], total: 2 }] });
    expect(out.reports[0]!.findings.map((f) => [f.kind, f.field, f.count])).toEqual([
      ['email', 'url', 1],
      ['phone', 'note', 1],
    ]);
    expect(out.reports[0]!.findings[0]!.locations[0]).toMatch(/events\.ndjson:1$/);
  });

  it("the workspace's kinds apply: a card number is not looked for when card is off", async () => {
    const file = ws.write('a.txt', 'card 4111 1111 1111 1111\n');
    const ctx = await pii(ws.dir, ['scan', file]);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.out).toContain('no unmasked personal data found');
  });

  it('--warehouse after an import scans clean (exit 0); files and warehouse can be scanned together', async () => {
    const file = ws.write('events.ndjson', LEAKY);
    const w = await ws.open();
    try {
      await w.import({ files: [file] });
    } finally {
      w.close();
    }
    const ctx = await pii(ws.dir, ['scan', '--warehouse']);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.out).toBe('warehouse: 2 events\nno unmasked personal data found\n\n');
    const both = await pii(ws.dir, ['scan', file, '--warehouse', '--json']);
    const out = JSON.parse(both.out) as PiiScanOutput;
    expect(out.reports.map((r) => [r.target, r.total])).toEqual([
      ['files', 2],
      ['warehouse', 0],
    ]);
    expect(both.exitCode).toBe(6);
  });

  it('nothing to scan is a usage error', async () => {
    await expect(pii(ws.dir, ['scan'])).rejects.toMatchObject({ code: 'pii_scan_nothing' });
  });
});
