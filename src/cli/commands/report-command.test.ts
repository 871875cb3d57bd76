import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import type { ExitCode } from '../../core/exit-codes.js';
import { ev, insertEvents } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import type { CommandContext } from '../command-context.js';
import { registerReportCommand } from './report-command.js';

interface TestContext extends CommandContext {
  out: string;
  err: string;
  exitCode: ExitCode | undefined;
  json: boolean;
}

function testContext(dir: string): TestContext {
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

async function report(ws: TempWorkspace, args: string[]): Promise<TestContext> {
  const ctx = testContext(ws.dir);
  const program = new Command('usagelab').exitOverride();
  registerReportCommand(program, ctx);
  await program.parseAsync(['report', ...args], { from: 'user' });
  return ctx;
}

describe('usagelab report', () => {
  let tw: TempWorkspace;

  beforeEach(async () => {
    tw = tempWorkspace('version: 1\ntimezone: Europe/Berlin\n');
    const ws = await tw.open();
    try {
      await insertEvents(ws.warehouse, [
        ev('a', '2024-05-10T10:00:00Z', 'login', { session_id: 'a1' }),
        ev('b', '2024-05-31T22:30:00Z', 'login', { session_id: 'b1' }), // June 1, 00:30 in Berlin
        ev('c', '2024-04-30T22:30:00Z', 'login', { session_id: 'c1' }), // May 1, 00:30 in Berlin
      ]);
    } finally {
      ws.close();
    }
  });

  afterEach(() => tw.cleanup());

  it('writes the month and says where', async () => {
    const ctx = await report(tw, ['--month', '2024-05']);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.out).toContain('report for 2024-05: reports/2024-05-usage-report.md\n');
    expect(ctx.out).toMatch(/charts: \d+ in reports\/2024-05\/\n/);
    // No import recorded: the source is provisional.
    expect(ctx.err).toContain('note: provisional numbers (late data may still arrive): generic');
    const md = readFileSync(join(tw.dir, 'reports', '2024-05-usage-report.md'), 'utf8');
    expect(md).toContain('| People active in the month | 2 | 0 | – |');
    expect(existsSync(join(tw.dir, 'reports', '2024-05-usage-report.html'))).toBe(false);
  });

  it('prints JSON and writes HTML with --html', async () => {
    const ctx = await report(tw, ['--month', '2024-05', '--html', '--json']);
    expect(ctx.json).toBe(true);
    const out = JSON.parse(ctx.out) as { month: string; markdown: string; html: string; charts: string[]; provisional_sources: string[] };
    expect(out.month).toBe('2024-05');
    expect(out.markdown).toBe(join(tw.dir, 'reports', '2024-05-usage-report.md'));
    expect(out.html).toBe(join(tw.dir, 'reports', '2024-05-usage-report.html'));
    expect(out.charts.every((c) => c.startsWith(join(tw.dir, 'reports', '2024-05')) && c.endsWith('.svg'))).toBe(true);
    expect(out.provisional_sources).toEqual(['generic']);
  });

  it('refuses a malformed month', async () => {
    await expect(report(tw, ['--month', '2024-5'])).rejects.toMatchObject({ code: 'report_month_invalid' });
  });
});
