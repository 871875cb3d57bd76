import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExitCode } from '../../core/exit-codes.js';
import { ev, seedWorkspace } from '../../test-support/analysis-events.js';
import { tempWorkspace, type TempWorkspace } from '../../test-support/temp-workspace.js';
import type { AdoptionResult } from '../../analyses/adoption/adoption-result.js';
import { runCommandReportingErrors } from '../../test-support/command-test-kit.js';
import { registerAdoptionCommand } from './adoption-command.js';

const FEATURES = `features:
  - name: Export to CSV
    key: export-csv
    match:
      - { event: export_clicked }
      - { page: /reports/:id/export }
  - name: Dark mode
    match: [dark_mode_on]
    released: 2024-01-08
thresholds:
  min_users: 2
`;

interface Run {
  code: ExitCode | undefined;
  out: string;
  err: string;
}

async function cli(ws: TempWorkspace, args: string[]): Promise<Run> {
  const run = await runCommandReportingErrors(registerAdoptionCommand, ws.dir, args);
  return { code: run.exitCode, out: run.out, err: run.err };
}

let ws: TempWorkspace;
beforeEach(async () => {
  ws = tempWorkspace('version: 1\ntimezone: UTC\n');
  await seedWorkspace(
    ws,
    [
      ev('p1', '2024-01-01T10:00:00Z', 'export_clicked'),
      ev('p1', '2024-01-09T10:00:00Z', 'export_clicked'),
      ev('p2', '2024-01-02T10:00:00Z', 'view', { event_kind: 'page_view', page_path: '/reports/:id/export' }),
      ev('p3', '2024-01-03T10:00:00Z', 'visit'),
      ev('p4', '2024-01-04T10:00:00Z', 'visit'),
      ev('p3', '2024-01-10T10:00:00Z', 'dark_mode_on'),
      ev('p5', '2024-01-11T10:00:00Z', 'export_clicked'),
      ev('p9', '2024-01-29T10:00:00Z', 'visit'),
    ],
    ['p5'],
  );
});
afterEach(() => ws.cleanup());

describe('usagelab adoption', () => {
  it('--json prints the documented result with exact numbers', async () => {
    ws.write('queries/features.yaml', FEATURES);
    const r = await cli(ws, ['adoption', '--from', '2024-01-01', '--to', '2024-01-14', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as AdoptionResult;
    expect(result).toMatchObject({ kind: 'adoption', version: 1, name: 'ad hoc', active_users: 4, data_through: '2024-01-29' });
    const [exportCsv, dark] = result.features;
    expect(exportCsv).toMatchObject({ key: 'export-csv', users: 2, uses: 3, active_users: 4, share: 0.5, class: 'adopted' });
    expect(exportCsv!.retention[0]).toEqual({ interval: 1, users: 2, retained: 1, share: 0.5, pending_users: 0, complete: true });
    // Released 2024-01-08: only p3 (and p1, active on 01-09) are active in its period.
    expect(dark).toMatchObject({ key: 'dark-mode', period: { from: '2024-01-08', to: '2024-01-14', days: 7 }, users: 1, active_users: 2, share: 0.5 });
    expect(result.excluded).toMatchObject({ by: ['internal', 'bot'], people: 1, events: 1 });
    expect(result.definition.catalog_file).toBe(ws.write('queries/features.yaml', FEATURES));
  });

  it('prints a table and CSV; --features, thresholds and --include-all flags reach the definition', async () => {
    ws.write('queries/features.yaml', FEATURES);
    const t = await cli(ws, ['adoption', '--from', '2024-01-01', '--to', '2024-01-14', '--features', 'export-csv', '--retention-intervals', '2']);
    expect(t.code).toBe(0);
    expect(t.out).toContain('Export to CSV');
    expect(t.out).not.toContain('Dark mode');
    expect(t.out).toMatch(/Export to CSV\s+adopted\s+2\s+4\s+50\.0%/);
    expect(t.out).toContain('share 50.0% ≥ adopted_min_share 20.0%');
    expect(t.out).toContain('week 2');
    expect(t.out).toContain('excluded (internal, bot): 1 people');

    const c = await cli(ws, ['adoption', '--from', '2024-01-01', '--to', '2024-01-14', '--csv', '--include-all', '--adopted-min-share', '0.8', '--retention-intervals', '1']);
    expect(c.code).toBe(0);
    const [header, first, second] = c.out.trim().split('\n');
    expect(header).toBe(
      'key,feature,class,reason_rule,reason,period_from,period_to,active_users,users,share,uses,frustration_sessions,frustrated_sessions,frustration_rate,uses_per_user_mean,uses_per_user_median,uses_per_week,uses_per_user_per_week,retention_1,retention_1_users,retention_1_pending',
    );
    // p5 is back: 5 active, 3 users; share 0.6 < 0.8 → emerging.
    expect(first).toBe('export-csv,Export to CSV,emerging,between_thresholds,share 60.0% between ignored_max_share 5.0% and adopted_min_share 80.0%,2024-01-01,2024-01-14,5,3,0.6,4,3,0,0,1.3333333333333333,1,2,0.6666666666666666,0.3333333333333333,3,0');
    expect(second?.startsWith('dark-mode,Dark mode,')).toBe(true);
  });

  it('breakdown rows in CSV and table', async () => {
    ws.write('queries/features.yaml', FEATURES);
    const c = await cli(ws, ['adoption', '--breakdown', 'segment:nobody', '--csv']);
    expect(c.code).toBe(2);
    expect(c.err).toContain('adoption_segment_unknown');
    const b = await cli(ws, ['adoption', '--breakdown', 'event_kind', '--csv', '--retention-intervals', '0']);
    expect(b.code).toBe(0);
    const lines = b.out.trim().split('\n');
    expect(lines[0]!.startsWith('scope,breakdown_value,key,')).toBe(true);
    expect(lines.filter((l) => l.startsWith('breakdown,page_view,export-csv,'))).toHaveLength(1);
    const table = await cli(ws, ['adoption', '--breakdown', 'event_kind']);
    expect(table.out).toContain('by event_kind');
  });

  it('a missing features.yaml is a usage error naming the file', async () => {
    const r = await cli(ws, ['adoption', '--json']);
    expect(r.code).toBe(2);
    const err = JSON.parse(r.err) as { code: string; place: { file: string } };
    expect(err.code).toBe('features_file_missing');
    expect(err.place.file).toMatch(/queries[\\/]features\.yaml$/);
  });

  it('a broken catalog or flag is a usage error with the rule code', async () => {
    ws.write('queries/features.yaml', 'features:\n  - { name: A, match: [a] }\n  - { name: a, match: [b] }\n');
    const dup = await cli(ws, ['adoption']);
    expect(dup.code).toBe(2);
    expect(dup.err).toContain('features_duplicate_key');
    expect(dup.err).toContain('features.1.name');
    ws.write('queries/features.yaml', FEATURES);
    const unknown = await cli(ws, ['adoption', '--features', 'nope']);
    expect(unknown.err).toContain('adoption_feature_unknown');
    const nan = await cli(ws, ['adoption', '--min-users', 'many', '--json']);
    expect(nan.code).toBe(2);
    expect(JSON.parse(nan.err)).toMatchObject({ code: 'adoption_invalid', place: { field: 'thresholds.min_users' } });
  });
});
