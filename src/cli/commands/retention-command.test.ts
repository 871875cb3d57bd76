import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import type { RetentionResult } from '../../analyses/retention/retention-result.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { runCommand, type CommandRun } from '../../test-support/command-test-kit.js';
import { registerRetentionCommand } from './retention-command.js';

const retention = (ws: TempWorkspace, args: string[]): Promise<CommandRun> => runCommand(registerRetentionCommand, ws.dir, ['retention', ...args]);

let ws: TempWorkspace;
// One import for all tests (they only read): importing is the slow part.
beforeAll(async () => {
  // Weeks start on Monday in America/New_York: 2024-03-04 and 2024-03-11 (DST starts Sunday 03-10).
  ws = tempWorkspace('version: 1\ntimezone: America/New_York\n');
  const file = ws.write(
    'events.ndjson',
    ndjson([
      { user_id: 'ann', event: 'signup', time: '2024-03-04T15:00:00Z', device: 'mobile' },
      { user_id: 'ann', event: 'login', time: '2024-03-11T15:00:00Z', device: 'mobile' },
      { user_id: 'bob', event: 'signup', time: '2024-03-05T15:00:00Z', device: 'desktop' },
      { user_id: 'bob', event: 'login', time: '2024-03-06T15:00:00Z', device: 'desktop' },
      // Sunday 03-10 23:30 EDT: still the week of 03-04 in New York (03-11 in UTC).
      { user_id: 'cat', event: 'signup', time: '2024-03-11T03:30:00Z', device: 'mobile' },
      { user_id: 'cat', event: 'login', time: '2024-03-18T15:00:00Z', device: 'mobile' },
      { user_id: 'dan', event: 'signup', time: '2024-03-12T15:00:00Z', device: 'desktop' },
      { user_id: 'eve', event: 'view', time: '2024-03-30T15:00:00Z', device: 'desktop' },
    ]),
  );
  const workspace = await ws.open();
  try {
    await workspace.import({ files: [file] });
  } finally {
    workspace.close();
  }
});
afterAll(() => ws.cleanup());

const args = ['signup', '--returning', 'login', '--intervals', '2', '--from', '2024-03-04', '--to', '2024-03-17'];

describe('usagelab retention', () => {
  it('prints the matrix: a row per cohort, rates per interval, blanks where the interval is not over, the weighted average', async () => {
    const ctx = await retention(ws, args);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.json).toBe(false);
    expect(ctx.out).toContain('ad hoc  (signup → login, recurring cohorts, calendar weeks from monday, time zone America/New_York)');
    expect(ctx.out).toContain('data observed until 2024-03-30T15:00:00.000Z; a blank cell is an interval not over yet');
    const lines = ctx.out.split('\n');
    expect(lines.find((l) => l.startsWith('cohort'))).toMatch(/^cohort\s+size\s+week 0\s+week 1\s+week 2$/);
    // Week of 03-04: ann, bob, cat. bob returned the same week, ann the next one, cat two weeks later.
    expect(lines.find((l) => l.startsWith('2024-03-04'))).toMatch(/^2024-03-04\s+3\s+33\.3%\s+33\.3%\s+33\.3%$/);
    // Week of 03-11: dan, never back; week 2 (03-25) is not over on 03-30.
    expect(lines.find((l) => l.startsWith('2024-03-11'))).toMatch(/^2024-03-11\s+1\s+0\.0%\s+0\.0%$/);
    expect(lines.find((l) => l.startsWith('average'))).toMatch(/^average\s+4\s+25\.0%\s+25\.0%\s+33\.3%$/);
  });

  it('--json prints the documented result with the workspace time zone and week start', async () => {
    const ctx = await retention(ws, [...args, '--json']);
    expect(ctx.json).toBe(true);
    const result = JSON.parse(ctx.out) as RetentionResult;
    expect(result.kind).toBe('retention');
    expect(result.version).toBe(1);
    expect(result.definition).toMatchObject({
      name: 'ad hoc',
      target: { event: 'signup', where: {} },
      returning: { event: 'login', where: {} },
      interval: 'week',
      intervals: 2,
      week_start: 'monday',
      timezone: 'America/New_York',
      exclude: ['internal', 'bot'],
    });
    expect(result.cohorts.map((c) => [c.start, c.size, ...c.intervals.map((i) => i.count)])).toEqual([
      ['2024-03-04', 3, 1, 1, 1],
      ['2024-03-11', 1, 0, 0, null],
    ]);
    expect(result.average.map((a) => [a.count, a.size])).toEqual([
      [1, 4],
      [1, 4],
      [1, 3],
    ]);
  });

  it('--csv prints one row per cohort and interval, then the averages, per breakdown value', async () => {
    const ctx = await retention(ws, [...args, '--breakdown', 'properties.device', '--csv']);
    const rows = ctx.out.trimEnd().split('\n');
    expect(rows[0]).toBe('breakdown,cohort,size,k,count,rate,complete,cohorts');
    expect(rows.filter((r) => r.startsWith('mobile,'))).toEqual([
      'mobile,2024-03-04,2,0,0,0,true,',
      'mobile,2024-03-04,2,1,1,0.5,true,',
      'mobile,2024-03-04,2,2,1,0.5,true,',
      'mobile,2024-03-11,0,0,0,,true,',
      'mobile,2024-03-11,0,1,0,,true,',
      'mobile,2024-03-11,0,2,,,false,',
      'mobile,average,2,0,0,0,,1',
      'mobile,average,2,1,1,0.5,,1',
      'mobile,average,2,2,1,0.5,,1',
    ]);
    expect(rows.filter((r) => r.startsWith('desktop,2024-03-04'))[0]).toBe('desktop,2024-03-04,1,0,1,1,true,');
  });

  it('passes the retention flags on; presets and --no-rolling', async () => {
    const rolling = await retention(ws, ['signup', '--returning', 'login', '--interval', 'day', '--rolling', '--intervals', '7', '--cohort', 'first_time', '--json']);
    const r = JSON.parse(rolling.out) as RetentionResult;
    expect(r.definition).toMatchObject({ interval: 'day', rolling: true, rolling_hours: 24, cohort: 'first_time', intervals: 7 });
    // bob logged in 24 h after signing up: rolling day 1.
    expect(r.cohorts.find((c) => c.start === '2024-03-05')!.intervals.map((i) => i.count)).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    const preset = await retention(ws, ['signup', '--preset', 'amplitude', '--no-rolling', '--cumulative', '--min-occurrences', '2', '--json']);
    const p = JSON.parse(preset.out) as RetentionResult;
    expect(p.definition).toMatchObject({ preset: 'amplitude', rolling: false, round_to_hour: false, cumulative: true, min_occurrences: 2, interval: 'day', returning: { event: '$any' } });
    expect(p.definition.from_preset.sort()).toEqual(['cohort', 'interval', 'returning']);
    const table = await retention(ws, ['signup', '--preset', 'amplitude', '--intervals', '1']);
    expect(table.out).toContain('signup → $any, recurring cohorts, rolling 24 h intervals (hours rounded down), preset amplitude, time zone America/New_York');
    expect(table.out).toMatch(/cohort\s+size\s+day 0\s+day 1/);
  });

  it('refuses bad flag values with the rule code and field', async () => {
    for (const [flags, code, field] of [
      [['--intervals', 'abc'], 'retention_invalid', 'intervals'],
      [['--intervals', '0'], 'retention_intervals_invalid', 'intervals'],
      [['--interval', 'hour'], 'retention_invalid', 'interval'],
      [['--round-to-hour'], 'retention_round_to_hour_needs_rolling', 'round_to_hour'],
    ] as const) {
      const err = await retention(ws, ['signup', ...flags]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UsageLabError);
      expect((err as UsageLabError).code).toBe(code);
      expect((err as UsageLabError).place.field).toBe(field);
    }
  });
});
