import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import type { FrictionResult } from '../../analyses/friction/friction-result.js';
import { ev, seedWorkspace, type TestEvent } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import { runCommand, type CommandRun } from '../../test-support/command-test-kit.js';
import { registerFrictionCommand } from './friction-command.js';

const friction = (ws: TempWorkspace, args: string[]): Promise<CommandRun> => runCommand(registerFrictionCommand, ws.dir, ['friction', ...args]);

/** RFC 4180 rows (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}

const click = (person: string, iso: string, selector: string, fields: Partial<TestEvent> = {}): TestEvent =>
  ev(person, iso, 'click', { session_id: `${person}-${iso}`, event_kind: 'click', page_path: '/settings', element_selector: selector, dead_click: true, ...fields });

/**
 * America/New_York; the range 2024-03-10..16 starts on the DST change (previous period 2024-03-03..09).
 * Current: #save in 3 sessions, '#new' in 1; previous: #save in 2 of 4 sessions. `staff` is tagged internal.
 */
function events(): TestEvent[] {
  return [
    click('a', '2024-03-03T05:00:00Z', '#save'),
    click('b', '2024-03-10T04:59:59Z', '#save'),
    ev('c', '2024-03-05T12:00:00Z', 'page_view', { session_id: 'c1', event_kind: 'page_view', page_path: '/settings' }),
    ev('d', '2024-03-06T12:00:00Z', 'page_view', { session_id: 'd1', event_kind: 'page_view', page_path: '/settings' }),
    click('e', '2024-03-10T05:00:00Z', '#save', { element_text: 'Save\n  all changes', rage_click: true }),
    click('f', '2024-03-12T12:00:00Z', '#save'),
    click('g', '2024-03-17T03:59:59Z', '#save'),
    click('h', '2024-03-12T13:00:00Z', '#new', { dead_click: false, error_click: true }),
    click('staff', '2024-03-12T14:00:00Z', '#save'),
  ];
}

let ws: TempWorkspace;
beforeEach(async () => {
  ws = tempWorkspace('version: 1\ntimezone: America/New_York\n');
  await seedWorkspace(ws, events(), ['staff']);
});
afterEach(() => ws.cleanup());

const RANGE = ['--from', '2024-03-10', '--to', '2024-03-16', '--min-sessions', '1'];

describe('usagelab friction', () => {
  it('prints the overall numbers, hotspots, pages and error pages with the change against the previous period', async () => {
    const ctx = await friction(ws, RANGE);
    expect(ctx.exitCode).toBe(0);
    expect(ctx.json).toBe(false);
    const lines = ctx.out.split('\n');
    expect(lines[0]).toBe('ad hoc  (2024-03-10 to 2024-03-16, time zone America/New_York; signals rage, dead, error; compared with 2024-03-03 to 2024-03-09)');
    expect(ctx.out).toContain('sessions with a signal: 4 of 4 (100.0%) [+50.0 pt]');
    expect(ctx.out).toContain('signal events: 4 (rage 1, dead 3, error 1) [+2 (+100.0%)]');
    const save = lines.find((l) => l.includes('#save "Save all changes"'));
    expect(save).toMatch(/^1\s+\/settings\s+#save "Save all changes"\s+3\s+75\.0%\s+3\s+1\s+3\s+0\s+\+1 \(\+50\.0%\)$/);
    expect(lines.find((l) => l.includes('#new'))).toMatch(/^2\s+\/settings\s+#new\s+1\s+25\.0%\s+1\s+0\s+0\s+1\s+new$/);
    expect(lines.find((l) => l.startsWith('1 ') && l.includes('100.0%') && !l.includes('#'))).toMatch(/^1\s+\/settings\s+4\s+4\s+100\.0%\s+\+50\.0 pt/);
    expect(ctx.out).toContain('error pages');
    expect(ctx.out).toContain('excluded (internal, bot): 1 people, 20.0% of events');
  });

  it('--json prints the documented result with the workspace time zone', async () => {
    const ctx = await friction(ws, [...RANGE, '--json']);
    expect(ctx.json).toBe(true);
    const result = JSON.parse(ctx.out) as FrictionResult;
    expect(result.kind).toBe('friction');
    expect(result.version).toBe(1);
    expect(result.definition).toMatchObject({ timezone: 'America/New_York', min_sessions: 1, date_range: { from: '2024-03-10', to: '2024-03-16' } });
    expect(result.hotspots.map((h) => [h.selector, h.sessions, h.change?.sessions.previous, h.change?.new])).toEqual([
      ['#save', 3, 2, false],
      ['#new', 1, 0, true],
    ]);
    expect(result.error_pages).toEqual([{ rank: 1, page: '/settings', sessions: 4, sessions_with_error: 1, error_rate: 0.25, error_events: 1 }]);
    expect(result.excluded).toEqual({ by: ['internal', 'bot'], people: 1, events: 1, share_of_events: 0.2 });
  });

  it('--csv prints one row per line of each table, with a section column', async () => {
    const ctx = await friction(ws, [...RANGE, '--csv', '--signals', 'dead,error']);
    const [columns, ...rows] = parseCsv(ctx.out);
    expect(columns!.slice(0, 4)).toEqual(['section', 'sessions', 'sessions_with_signal', 'share']);
    const cell = (row: string[], column: string): string => row[columns!.indexOf(column)]!;
    expect(rows.map((r) => r[0])).toEqual(['overall', 'hotspot', 'hotspot', 'page', 'error_page']);
    expect(cell(rows[0]!, 'rage_clicks')).toBe('');
    expect(cell(rows[0]!, 'dead_clicks')).toBe('3');
    expect(cell(rows[1]!, 'selector')).toBe('#save');
    // The text keeps its newline inside a quoted cell.
    expect(cell(rows[1]!, 'text')).toBe('Save\n  all changes');
    expect(cell(rows[1]!, 'sessions')).toBe('3');
    expect(cell(rows[1]!, 'previous_sessions')).toBe('2');
    expect(cell(rows[2]!, 'new')).toBe('true');
    expect(cell(rows[4]!, 'share')).toBe('0.25');
  });

  it('takes the kind flags: --compare none, --element, --top, --include-all', async () => {
    const ctx = await friction(ws, [...RANGE, '--compare', 'none', '--element', 'text', '--top', '1', '--u-turn-seconds', '30', '--include-all', '--json']);
    const result = JSON.parse(ctx.out) as FrictionResult;
    expect(result.definition).toMatchObject({ compare: 'none', element: 'text', top: 1, u_turn_seconds: 30, exclude: [] });
    expect(result.previous).toMatchObject({ compared: false, reason: 'compare: none' });
    expect(result.hotspots.map((h) => [h.selector, h.sessions])).toEqual([['#save', 3]]);
    expect(result.lists.hotspots).toEqual({ candidates: 3, below_min_sessions: 0, beyond_top: 2, listed: 1 });
    const table = await friction(ws, [...RANGE, '--compare', 'none']);
    expect(table.out).toContain('no comparison (compare: none)');
    expect(table.out).not.toContain('vs previous');
  });

  it('refuses a bad flag value with the definition rule code', async () => {
    await expect(friction(ws, [...RANGE, '--min-sessions', '0'])).rejects.toSatisfy((e: unknown) => e instanceof UsageLabError && e.code === 'friction_min_sessions_invalid');
    await expect(friction(ws, ['--top', 'many'])).rejects.toSatisfy((e: unknown) => e instanceof UsageLabError && e.code === 'friction_invalid' && e.place.field === 'top');
    await expect(friction(ws, ['--signals', 'rage,angry'])).rejects.toSatisfy((e: unknown) => e instanceof UsageLabError && e.code === 'friction_invalid');
  });
});
