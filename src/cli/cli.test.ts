import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.js';
import type { Io } from './output.js';

function captureIo(): Io & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('usagelab CLI', () => {
  it('init creates the workspace and never overwrites on a second run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    const ws = join(dir, 'acme');
    const io = captureIo();
    expect(await main(['init', ws], io)).toBe(0);
    for (const f of ['usagelab.yaml', '.env.example', '.gitignore', 'queries/signup-funnel.yaml', 'analysis/example.ts']) {
      expect(existsSync(join(ws, f)), f).toBe(true);
    }
    expect(readFileSync(join(ws, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
    writeFileSync(join(ws, 'usagelab.yaml'), 'version: 1\ntimezone: Europe/Amsterdam\n');
    const again = captureIo();
    expect(await main(['init', ws, '--json'], again)).toBe(0);
    const result = JSON.parse(again.out) as { created: string[]; kept: string[] };
    expect(result.created).toEqual([]);
    expect(result.kept).toContain('usagelab.yaml');
    expect(readFileSync(join(ws, 'usagelab.yaml'), 'utf8')).toContain('Europe/Amsterdam');
  });

  it('import --json prints the documented counts and exits 5 on partial data', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    await main(['init', dir], captureIo());
    const file = join(dir, 'log.csv');
    writeFileSync(file, 'case_id,activity,timestamp\n1,A_SUBMITTED,2011-10-01T00:38:44.546+02:00\n2,A_SUBMITTED,not-a-time\n');
    const io = captureIo();
    const code = await main(['--workspace', dir, 'import', file, '--map', 'user_id=case_id,event_name=activity,occurred_at=timestamp', '--json'], io);
    expect(code).toBe(5);
    const out = JSON.parse(io.out) as Record<string, unknown>;
    expect(out).toMatchObject({ imported: 1, duplicates: 0, rejected: 1, partial: true });
    const again = captureIo();
    await main(['--workspace', dir, 'import', file, '--map', 'user_id=case_id,event_name=activity,occurred_at=timestamp', '--json'], again);
    expect(JSON.parse(again.out)).toMatchObject({ imported: 0, duplicates: 1, rejected: 1 });
  });

  it('errors name the place and exit 2; --json errors are JSON on stderr', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    writeFileSync(join(dir, 'usagelab.yaml'), 'version: 1\nweek_start: tuesday\n');
    const io = captureIo();
    expect(await main(['--workspace', dir, 'check'], io)).toBe(2);
    expect(io.err).toMatch(/usagelab\.yaml:2:13/);
    expect(io.err).toContain('week_start');
    const j = captureIo();
    expect(await main(['--workspace', dir, 'check', '--json'], j)).toBe(2);
    expect(JSON.parse(j.err)).toMatchObject({ code: 'config_invalid', place: { line: 2, field: 'week_start' } });
  });

  it('a missing --map column is a usage error that lists the file columns', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    await main(['init', dir], captureIo());
    const file = join(dir, 'log.csv');
    writeFileSync(file, 'case,what,when\n1,a,2024-01-01\n');
    const io = captureIo();
    expect(await main(['--workspace', dir, 'import', file], io)).toBe(2);
    expect(io.err).toContain('import_map_incomplete');
    expect(io.err).toContain('columns in the file: case, what, when');
  });

  it('query runs the saved funnel of a new workspace with exact counts', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    await main(['init', dir], captureIo());
    const file = join(dir, 'events.ndjson');
    const rows = [
      { user_id: 'a', event: 'signup', time: '2026-01-01T10:00:00Z' },
      { user_id: 'a', event: 'create_project', time: '2026-01-02T10:00:00Z' },
      { user_id: 'b', event: 'signup', time: '2026-01-01T10:00:00Z' },
      { user_id: 'b', event: 'create_project', time: '2026-01-20T10:00:00Z' },
      { user_id: 'c', event: 'create_project', time: '2026-01-01T09:00:00Z' },
      { user_id: 'c', event: 'signup', time: '2026-01-01T10:00:00Z' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await main(['--workspace', dir, 'import', file], captureIo())).toBe(0);
    const io = captureIo();
    expect(await main(['--workspace', dir, 'query', 'signup-funnel', '--json'], io)).toBe(0);
    const result = JSON.parse(io.out) as { kind: string; version: number; steps: { name: string; count: number }[] };
    expect(result.kind).toBe('funnel');
    expect(result.steps.map((s) => [s.name, s.count])).toEqual([
      ['signup', 3],
      ['create_project', 1],
    ]);
    const table = captureIo();
    expect(await main(['--workspace', dir, 'query', 'signup-funnel'], table)).toBe(0);
    expect(table.out).toContain('33.3%');
  });

  it('ad hoc funnel, --people, --csv, and a saved segment used by name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'usagelab-cli-'));
    await main(['init', dir], captureIo());
    const file = join(dir, 'events.ndjson');
    const rows = [
      { user_id: 'a', event: 'signup', time: '2026-01-01T10:00:00Z' },
      { user_id: 'a', event: 'pay', time: '2026-01-01T11:00:00Z' },
      { user_id: 'a', event: 'pay', time: '2026-01-03T11:00:00Z' },
      { user_id: 'b', event: 'signup', time: '2026-01-01T10:00:00Z' },
      { user_id: 'b', event: 'help', time: '2026-01-01T10:05:00Z' },
      { user_id: '=cmd', event: 'signup', time: '2026-01-01T10:00:00Z' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await main(['--workspace', dir, 'import', file], captureIo())).toBe(0);

    const json = captureIo();
    expect(await main(['--workspace', dir, 'funnel', '--steps', 'signup,pay', '--window', '1d', '--people', '1', '--json'], json)).toBe(0);
    const r = JSON.parse(json.out) as { steps: { count: number }[]; dropped_people: { ids: string[] }; dropped: { next_events: { event: string }[] }[] };
    expect(r.steps.map((x) => x.count)).toEqual([3, 1]);
    expect(r.dropped_people.ids).toEqual(['u:=cmd', 'u:b']);
    expect(r.dropped[0]!.next_events.map((e) => e.event)).toEqual(['help']);

    const csv = captureIo();
    expect(await main(['--workspace', dir, 'funnel', '--steps', 'signup,pay', '--csv', '--people', '1'], csv)).toBe(0);
    expect(csv.out.split('\n')[0]).toBe('step,name,count,conversion_from_previous,conversion_from_first,drop_off,median_seconds_from_previous,mean_seconds_from_previous');
    expect(csv.out.split('\n')[2]).toBe('2,pay,1,0.3333333333333333,0.3333333333333333,2,3600,3600');

    writeFileSync(join(dir, 'queries', 'payers.yaml'), 'kind: segment\nname: payers\ndid: [pay]\n');
    const seg = captureIo();
    expect(await main(['--workspace', dir, 'query', 'payers', '--csv', '--people', '10'], seg)).toBe(0);
    expect(seg.out).toBe('segment,person_id\npayers,u:a\n');
    const inSegment = captureIo();
    expect(await main(['--workspace', dir, 'funnel', '--steps', 'signup,pay', '--breakdown', 'segment:payers', '--json'], inSegment)).toBe(0);
    expect((JSON.parse(inSegment.out) as { breakdown: { value: string }[] }).breakdown.map((g) => g.value)).toEqual(['not payers', 'payers']);

    const bad = captureIo();
    expect(await main(['--workspace', dir, 'funnel', '--steps', 'signup', '--json'], bad)).toBe(2);
    expect(JSON.parse(bad.err)).toMatchObject({ code: 'funnel_too_few_steps' });
  });
});
