import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import type { TrendsResult } from '../../analyses/trends/trends-result.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { runCommand, type CommandRun } from '../../test-support/command-test-kit.js';
import { registerTrendsCommand } from './trends-command.js';

const trends = (ws: TempWorkspace, args: string[]): Promise<CommandRun> => runCommand(registerTrendsCommand, ws.dir, ['trends', ...args]);

let ws: TempWorkspace;
beforeEach(async () => {
  // Days are local to America/New_York: 03-11T03:30Z is 2024-03-10 23:30 there.
  ws = tempWorkspace('version: 1\ntimezone: America/New_York\n');
  const file = ws.write(
    'events.ndjson',
    ndjson([
      { user_id: 'ann', event: 'login', time: '2024-03-09T15:00:00Z', device: 'mobile' },
      { user_id: 'ann', event: 'login', time: '2024-03-11T03:30:00Z', device: 'mobile' },
      { user_id: 'bob', event: 'login', time: '2024-03-10T15:00:00Z', device: 'desktop' },
      { user_id: 'bob', event: 'upgrade', time: '2024-03-11T15:00:00Z', device: 'desktop' },
      { user_id: 'cat', event: 'login', time: '2024-03-11T15:00:00Z', device: 'mobile' },
    ]),
  );
  const workspace = await ws.open();
  try {
    await workspace.import({ files: [file] });
  } finally {
    workspace.close();
  }
});
afterEach(() => ws.cleanup());

describe('usagelab trends', () => {
  it('prints a table per series with flags and the distinct total', async () => {
    const ctx = await trends(ws, ['login', '--measure', 'people', '--from', '2024-03-09', '--to', '2024-03-12']);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.json).toBe(false);
    expect(ctx.out).toContain('ad hoc  (measure people, interval day, 2024-03-09 to 2024-03-12, time zone America/New_York)');
    const lines = ctx.out.split('\n');
    expect(lines).toContain('login');
    expect(lines.find((l) => l.startsWith('2024-03-10'))).toMatch(/^2024-03-10\s+2\s*$/);
    expect(lines.find((l) => l.startsWith('2024-03-11'))).toMatch(/^2024-03-11\s+1\s*$/);
    expect(lines.find((l) => l.startsWith('2024-03-12'))).toMatch(/^2024-03-12\s+0\s+no data$/);
    expect(ctx.out).toContain('total: 3 distinct people over the range (not the sum of the rows)');
  });

  it('--json prints the documented result with the workspace time zone and week start', async () => {
    const ctx = await trends(ws, ['--measure', 'active_users', '--interval', 'week', '--wau', '2', '--mau', '3', '--from', '2024-03-04', '--to', '2024-03-17', '--json']);
    expect(ctx.json).toBe(true);
    const result = JSON.parse(ctx.out) as TrendsResult;
    expect(result.kind).toBe('trends');
    expect(result.version).toBe(1);
    expect(result.definition).toMatchObject({ measure: 'active_users', interval: 'week', week_start: 'monday', timezone: 'America/New_York', active_windows: { wau: 2, mau: 3 }, events: [{ event: '$any' }] });
    expect(result.data_span).toEqual({ first_day: '2024-03-09', last_day: '2024-03-11' });
    expect(result.series[0]!.points.map((p) => [p.period_start, (p as { people: number }).people, p.partial])).toEqual([
      // Both weeks reach outside the data (03-09 to 03-11).
      ['2024-03-04', 2, true],
      ['2024-03-11', 2, true],
    ]);
  });

  it('--csv prints one row per series and point, with the breakdown value (unmapped columns are properties)', async () => {
    const ctx = await trends(ws, ['login', '--breakdown', 'properties.device', '--breakdown-limit', '1', '--from', '2024-03-10', '--to', '2024-03-11', '--csv']);
    const rows = ctx.out.trimEnd().split('\n');
    expect(rows[0]).toBe('series,event,breakdown_value,breakdown_other,period_start,period_end,first_day,last_day,events,partial,no_data');
    expect(rows.slice(1)).toEqual([
      'login,login,mobile,false,2024-03-10,2024-03-10,2024-03-10,2024-03-10,1,false,false',
      'login,login,mobile,false,2024-03-11,2024-03-11,2024-03-11,2024-03-11,1,false,false',
      'login,login,,true,2024-03-10,2024-03-10,2024-03-10,2024-03-10,1,false,false',
      'login,login,,true,2024-03-11,2024-03-11,2024-03-11,2024-03-11,0,false,false',
    ]);
  });

  it('lifecycle and stickiness tables name their columns', async () => {
    const life = await trends(ws, ['login', '--measure', 'lifecycle', '--from', '2024-03-10', '--to', '2024-03-11']);
    expect(life.out).toContain('new = first_activity');
    expect(life.out).toMatch(/period\s+new\s+returning\s+resurrecting\s+dormant/);
    expect(life.out).toContain('total (person-intervals): new 2, returning 1, resurrecting 0, dormant -2');
    const sticky = await trends(ws, ['--measure', 'stickiness', '--interval', 'week', '--mau', '7', '--from', '2024-03-04', '--to', '2024-03-10']);
    expect(sticky.out).toMatch(/period\s+dau\/mau\s+mean dau\s+mean mau\s+people\s+active days/);
    expect(sticky.out).toContain('1d:1 2d:1');
  });

  it('refuses a bad flag value with the rule code', async () => {
    const err = await trends(ws, ['--measure', 'active_users', '--wau', 'abc']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('trends_invalid');
    expect((err as UsageLabError).place.field).toBe('active_windows.wau');
    const zero = await trends(ws, ['--measure', 'active_users', '--mau', '0']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((zero as UsageLabError).code).toBe('trends_window_invalid');
    const bad = await trends(ws, ['--measure', 'sessions']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((bad as UsageLabError).code).toBe('trends_invalid');
  });
});
