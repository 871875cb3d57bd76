import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import type { PathsResult } from '../../analyses/paths/paths-result.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { runCommand, type CommandRun } from '../../test-support/command-test-kit.js';
import { registerPathsCommand } from './paths-command.js';

const paths = (ws: TempWorkspace, args: string[]): Promise<CommandRun> => runCommand(registerPathsCommand, ws.dir, ['paths', ...args]);

async function failure(ws: TempWorkspace, args: string[]): Promise<UsageLabError> {
  const err = await paths(ws, args).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageLabError);
  return err as UsageLabError;
}

let ws: TempWorkspace;
beforeEach(async () => {
  // Sessions come from 30 minutes of inactivity (no session column); URLs are cleaned into page_path at import.
  ws = tempWorkspace('version: 1\ntimezone: America/New_York\n');
  const page = (user: string, time: string, url: string) => ({ user_id: user, event: 'page_view', kind: 'page_view', time, url });
  const event = (user: string, time: string, name: string) => ({ user_id: user, event: name, kind: 'custom', time });
  const file = ws.write(
    'events.ndjson',
    ndjson([
      page('ann', '2024-03-10T15:00:00Z', 'https://app.io/home'),
      event('ann', '2024-03-10T15:01:00Z', 'signup'),
      page('ann', '2024-03-10T15:02:00Z', 'https://app.io/projects/123?tab=1'),
      page('ann', '2024-03-10T15:03:00Z', 'https://app.io/projects/456'),
      page('ann', '2024-03-10T15:04:00Z', 'https://app.io/settings'),
      page('bob', '2024-03-10T16:00:00Z', 'https://app.io/home'),
      event('bob', '2024-03-10T16:01:00Z', 'signup'),
      page('bob', '2024-03-10T16:02:00Z', 'https://app.io/projects/9'),
      // Bob's second session, the next day: no signup.
      page('bob', '2024-03-11T16:00:00Z', 'https://app.io/home'),
      page('bob', '2024-03-11T16:01:00Z', 'https://app.io/pricing'),
    ]),
  );
  const workspace = await ws.open();
  try {
    await workspace.import({ files: [file], columnMap: { event_kind: 'kind' } });
  } finally {
    workspace.close();
  }
});
afterEach(() => ws.cleanup());

describe('usagelab paths', () => {
  it('prints the top paths from a start event, with cleaned page paths, transitions and drop-offs', async () => {
    const ctx = await paths(ws, ['--start', 'signup']);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.json).toBe(false);
    const lines = ctx.out.split('\n');
    expect(lines[0]).toBe('ad hoc  (step page, depth 5, repeats collapsed, from (signup), time zone America/New_York)');
    expect(lines[1]).toBe('sessions: with the start 2, with a path 2, cut at depth 0');
    expect(ctx.out).toMatch(/^1\s+\(signup\) → \/projects\/:id\s+1\s+50\.0%$/m);
    expect(ctx.out).toMatch(/^2\s+\(signup\) → \/projects\/:id → \/settings\s+1\s+50\.0%$/m);
    expect(ctx.out).toContain('transitions (positions from the first step)');
    expect(ctx.out).toMatch(/^\s+1\s+\(signup\)\s+\/projects\/:id\s+2$/m);
    expect(ctx.out).toMatch(/^\s+2\s+\/projects\/:id\s+\/settings\s+1$/m);
    expect(ctx.out).toContain('drop-offs (sessions whose path ends at the step)');
    expect(ctx.out).toMatch(/^\s+2\s+2\s+1\s+50\.0%$/m);
    expect(ctx.out).toMatch(/^\s+3\s+1\s+1\s+100\.0%$/m);
  });

  it('--json prints the documented result; sessions are counted separately per person', async () => {
    const ctx = await paths(ws, ['--depth', '3', '--top', '1', '--json']);
    expect(ctx.json).toBe(true);
    const result = JSON.parse(ctx.out) as PathsResult;
    expect(result.kind).toBe('paths');
    expect(result.version).toBe(1);
    expect(result.definition).toMatchObject({ step: 'page', depth: 3, top: 1, collapse_repeats: true, start: null, end: null, timezone: 'America/New_York', exclude: ['internal', 'bot'] });
    expect(result.sessions).toEqual({ with_start: null, with_end: null, with_path: 3, truncated: 0, end_beyond_depth: null });
    // ann: /home → /projects/:id → /settings; bob: /home → /projects/:id; bob's second session: /home → /pricing.
    expect(result.paths).toEqual([
      {
        steps: [
          { type: 'page', name: '/home' },
          { type: 'page', name: '/pricing' },
        ],
        sessions: 1,
        share: 1 / 3,
      },
    ]);
    expect(result.other_paths).toEqual({ paths: 2, sessions: 2 });
    expect(result.transitions.map((t) => [t.depth, t.from.name, t.to.name, t.count])).toEqual([
      [1, '/home', '/projects/:id', 2],
      [1, '/home', '/pricing', 1],
      [2, '/projects/:id', '/settings', 1],
    ]);
  });

  it('--csv prints one row per path with a column per step; --end and --no-collapse', async () => {
    const ctx = await paths(ws, ['--end-page', '/settings', '--step', 'page_and_event', '--depth', '4', '--no-collapse', '--csv']);
    const rows = ctx.out.trimEnd().split('\n');
    expect(rows).toEqual([
      'rank,path,steps,sessions,share,step_1,step_2,step_3,step_4',
      '1,(signup) → /projects/:id → /projects/:id → /settings,4,1,1,(signup),/projects/:id,/projects/:id,/settings',
    ]);
  });

  it('--breakdown adds a column to the CSV rows; --from/--to are local days', async () => {
    // 2024-03-11T16:00Z is 2024-03-11 in New York: only bob's second session.
    const ctx = await paths(ws, ['--from', '2024-03-11', '--to', '2024-03-11', '--breakdown', 'user_id', '--csv']);
    expect(ctx.out.trimEnd().split('\n')).toEqual(['breakdown,rank,path,steps,sessions,share,step_1,step_2,step_3,step_4,step_5', 'bob,1,/home → /pricing,2,1,1,/home,/pricing,,,']);
  });

  it('refuses bad flag values with the rule code and field', async () => {
    const depth = await failure(ws, ['--depth', '1']);
    expect(depth.code).toBe('paths_depth_invalid');
    expect(depth.place.field).toBe('depth');
    const text = await failure(ws, ['--top', 'many']);
    expect(text.code).toBe('paths_invalid');
    expect(text.place.field).toBe('top');
    const both = await failure(ws, ['--start', 'signup', '--start-page', '/home']);
    expect(both.code).toBe('paths_anchor_invalid');
    const unused = await failure(ws, ['--include-events', 'signup']);
    expect(unused.code).toBe('paths_include_events_unused');
  });
});
