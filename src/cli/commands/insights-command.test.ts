import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ev, seedWorkspace, type TestEvent } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import type { InsightsResult } from '../../reports/insights/insight-result.js';
import { runCommand, type CommandRun } from '../../test-support/command-test-kit.js';
import { registerInsightsCommand } from './insights-command.js';

const insights = (ws: TempWorkspace, args: string[]): Promise<CommandRun> => runCommand(registerInsightsCommand, ws.dir, ['insights', ...args]);

/** UTC. February: 10 of 40 starters finish; March: 30 of 40. */
function events(): TestEvent[] {
  const out: TestEvent[] = [];
  for (let i = 0; i < 40; i++) {
    const feb = `2024-02-${String(5 + (i % 20)).padStart(2, '0')}T10:00:00Z`;
    const mar = `2024-03-${String(5 + (i % 20)).padStart(2, '0')}T10:00:00Z`;
    out.push(ev(`f${i}`, feb, 'start', { session_id: `f${i}` }), ev(`m${i}`, mar, 'start', { session_id: `m${i}` }));
    if (i < 10) out.push(ev(`f${i}`, feb.replace('T10', 'T11'), 'finish', { session_id: `f${i}` }));
    if (i < 30) out.push(ev(`m${i}`, mar.replace('T10', 'T11'), 'finish', { session_id: `m${i}` }));
  }
  out.push(ev('late', '2024-04-02T00:00:00Z', 'start', { session_id: 'late' }));
  return out;
}

let ws: TempWorkspace;
beforeEach(async () => {
  ws = tempWorkspace();
  ws.write('queries/checkout.yaml', 'kind: funnel\nname: Checkout\nsteps: [{ event: start }, { event: finish }]\nwindow: 1d\n');
  await seedWorkspace(ws, events());
});
afterEach(() => ws.cleanup());

describe('usagelab insights', () => {
  it('prints the ranked table and writes data-insights/2024-03-insights.md and .json', async () => {
    const ctx = await insights(ws, ['--month', '2024-03']);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.out).toContain('Insights for 2024-03 (against 2024-02): 1 comparisons tested, 1 stand out.');
    expect(ctx.out).toContain('start → finish conversion went up in 2024-03');
    expect(ctx.out).toContain('75.0%');
    expect(ctx.out).toContain('25.0% (2024-02)');
    expect(ctx.out).toContain('+50.0%');
    const md = join(ws.dir, 'data-insights', '2024-03-insights.md');
    expect(readFileSync(md, 'utf8')).toContain('## 1. start → finish conversion went up in 2024-03');
    const saved = JSON.parse(readFileSync(join(ws.dir, 'data-insights', '2024-03-insights.json'), 'utf8')) as InsightsResult;
    expect(saved.insights[0]!.current).toEqual({ label: '2024-03', x: 30, n: 40, value: 0.75 });
  });

  it('--json prints the documented result', async () => {
    const ctx = await insights(ws, ['--month', '2024-03', '--json']);
    expect(ctx.json).toBe(true);
    const r = JSON.parse(ctx.out) as InsightsResult;
    expect(r).toMatchObject({ kind: 'insights', version: 1, month: '2024-03', tested: 1, significant: 1 });
    expect(r.insights[0]!.baseline).toEqual({ label: '2024-02', x: 10, n: 40, value: 0.25 });
    expect(r.insights[0]!.test.name).toBe('two-proportion z-test');
  });

  it('--csv prints one row per insight', async () => {
    const ctx = await insights(ws, ['--month', '2024-03', '--csv']);
    const lines = ctx.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith('rank,id,kind,comparison,title')).toBe(true);
    expect(lines[1]).toContain('conversion:mom:checkout:start>finish');
  });

  it('rejects a bad --month and --top before writing anything', async () => {
    await expect(insights(ws, ['--month', 'March'])).rejects.toMatchObject({ code: 'insights_month_invalid' });
    await expect(insights(ws, ['--top', '0'])).rejects.toMatchObject({ code: 'insights_top_invalid' });
    expect(existsSync(join(ws.dir, 'data-insights', 'March-insights.md'))).toBe(false);
  });
});
