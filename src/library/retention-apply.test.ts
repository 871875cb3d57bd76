import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import type { Io } from '../cli/output.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { DAY_MS, writeExportedWindows, writeUnlistedFile } from '../test-support/retention-fixture.js';
import type { ExportManifest } from '../sources/export/export-manifest.js';
import { applyRetention, RETENTION_AUDIT_FILE } from './retention-apply.js';

// "Now" is 2025-06-15 12:00 UTC: exports older than 90 days end by 2025-03-17 00:00, events older than 400 days
// occurred before 2024-05-11 00:00.
const NOW = Date.UTC(2025, 5, 15, 12);
const EXPORTS_CUTOFF = Date.UTC(2025, 2, 17);
const CONFIG = `version: 1
retention:
  exports_days: 90
  warehouse_days: 400
exclusions:
  bots:
    max_events_per_minute: 5
`;

const iso = (ms: number): string => new Date(ms).toISOString();

function events(): object[] {
  const rows: object[] = [
    // d1 was identified as u1, all of it long ago: its identity link goes with its events.
    { anonymous_id: 'd1', event: 'view', time: '2024-04-01T10:00:00Z' },
    { anonymous_id: 'd1', user_id: 'u1', event: 'login', time: '2024-04-01T10:01:00Z' },
    // d2 was identified long ago, but browses anonymously within the limit: the link stays, so does its person.
    { anonymous_id: 'd2', user_id: 'u2', event: 'login', time: '2024-04-02T10:00:00Z' },
    { anonymous_id: 'd2', event: 'view', time: '2025-06-01T10:00:00Z' },
    // One inactivity session across the cutoff: it keeps its later event and is recomputed.
    { user_id: 'u3', event: 'view', time: '2024-05-10T23:50:00Z' },
    { user_id: 'u3', event: 'view', time: '2024-05-11T00:10:00Z' },
    { user_id: 'u4', event: 'view', time: '2025-06-02T10:00:00Z' },
  ];
  // A bot by its event rate long ago (6 in a minute, limit 5); one ordinary event now.
  for (let s = 0; s < 6; s++) rows.push({ user_id: 'fast', event: 'click', time: `2024-04-03T10:00:${String(s * 5).padStart(2, '0')}Z` });
  rows.push({ user_id: 'fast', event: 'click', time: '2025-06-03T10:00:00Z' });
  return rows;
}

let ws: TempWorkspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

async function setUp(config = CONFIG): Promise<TempWorkspace> {
  const w = tempWorkspace(config);
  const file = w.write('events.ndjson', ndjson(events()));
  const opened = await w.open();
  try {
    await opened.import({ files: [file] });
  } finally {
    opened.close();
  }
  writeExportedWindows(w.dir, 'posthog', [
    { start: EXPORTS_CUTOFF - 2 * DAY_MS },
    { start: EXPORTS_CUTOFF - DAY_MS },
    { start: EXPORTS_CUTOFF },
    { start: Date.UTC(2025, 0, 1), status: 'failed' },
  ]);
  writeUnlistedFile(w.dir, 'fullstory/old-export.ndjson', Date.UTC(2025, 0, 10));
  writeUnlistedFile(w.dir, 'fullstory/new-export.ndjson', Date.UTC(2025, 5, 1));
  return w;
}

async function state(w: TempWorkspace): Promise<Record<string, unknown>> {
  const opened = await w.open();
  try {
    const q = async (sql: string): Promise<unknown[]> => opened.sql(sql);
    return {
      events: await q(`SELECT count(*) AS n FROM events`),
      persons: await q(`SELECT DISTINCT person_id FROM events ORDER BY 1`),
      sessions: await q(`SELECT person_id, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started, events FROM sessions ORDER BY person_id, started`),
      links: await q(`SELECT anonymous_id, user_id FROM identity_links ORDER BY ALL`),
      map: await q(`SELECT anonymous_id, person_id FROM identity_map ORDER BY ALL`),
      tags: await q(`SELECT person_id, tag, rule FROM person_tags ORDER BY ALL`),
    };
  } finally {
    opened.close();
  }
}

describe('retention apply', () => {
  it('--dry-run says what would go and changes nothing', async () => {
    ws = await setUp();
    const before = await state(ws);
    const opened = await ws.open();
    const result = await applyRetention(opened, { dryRun: true, now: NOW }).finally(() => opened.close());
    expect(result.dry_run).toBe(true);
    expect(result.audit_log).toBeNull();
    expect(result.exports!.files.map((f) => [f.source, f.file, f.window?.end ?? f.modified])).toEqual([
      ['fullstory', 'fullstory/old-export.ndjson', '2025-01-10T00:00:00.000Z'],
      ['posthog', 'posthog/2025-03-15.jsonl.gz', '2025-03-16T00:00:00.000Z'],
      ['posthog', 'posthog/2025-03-16.jsonl.gz', '2025-03-17T00:00:00.000Z'],
      ['posthog', null, '2025-01-02T00:00:00.000Z'],
    ]);
    expect(result.warehouse).toMatchObject({
      before: '2024-05-11T00:00:00.000Z',
      events: 10,
      sources: [{ source: 'generic', events: 10, first_event: '2024-04-01T10:00:00Z', last_event: '2024-05-10T23:50:00Z' }],
    });
    expect(await state(ws)).toEqual(before);
    expect(existsSync(join(ws.dir, '.usagelab', RETENTION_AUDIT_FILE))).toBe(false);
    expect(readdirSync(join(ws.dir, 'exports', 'posthog')).sort()).toEqual(['2025-03-15.jsonl.gz', '2025-03-16.jsonl.gz', '2025-03-17.jsonl.gz', 'manifest.json']);
  });

  it('deletes old files with their manifest entries, old events with what depends on them, and logs the run', async () => {
    ws = await setUp();
    expect((await state(ws)).tags).toEqual([{ person_id: 'u:fast', tag: 'bot', rule: 'events_per_minute>5' }]);
    const opened = await ws.open();
    const result = await applyRetention(opened, { now: NOW }).finally(() => opened.close());
    expect(result.exports!.files).toHaveLength(4);
    expect(result.warehouse).toMatchObject({ events: 10, sessions_recomputed: 4, identity_links_removed: 1, identity_map_removed: 1 });

    expect(readdirSync(join(ws.dir, 'exports', 'posthog')).sort()).toEqual(['2025-03-17.jsonl.gz', 'manifest.json']);
    expect(readdirSync(join(ws.dir, 'exports', 'fullstory'))).toEqual(['new-export.ndjson']);
    const manifest = JSON.parse(readFileSync(join(ws.dir, 'exports', 'posthog', 'manifest.json'), 'utf8')) as ExportManifest;
    expect(manifest.windows.map((w) => w.key)).toEqual(['2025-03-17']);

    expect(await state(ws)).toEqual({
      events: [{ n: '4' }],
      persons: [{ person_id: 'u:fast' }, { person_id: 'u:u2' }, { person_id: 'u:u3' }, { person_id: 'u:u4' }],
      // u3's session lost its first event and starts at its second; d2's anonymous view is still u2's.
      sessions: [
        { person_id: 'u:fast', started: '2025-06-03T10:00:00Z', events: '1' },
        { person_id: 'u:u2', started: '2025-06-01T10:00:00Z', events: '1' },
        { person_id: 'u:u3', started: '2024-05-11T00:10:00Z', events: '1' },
        { person_id: 'u:u4', started: '2025-06-02T10:00:00Z', events: '1' },
      ],
      links: [{ anonymous_id: 'd2', user_id: 'u2' }],
      map: [{ anonymous_id: 'd2', person_id: 'u:u2' }],
      // The burst is gone: judged on what remains, fast is no bot.
      tags: [],
    });

    const audit = readFileSync(join(ws.dir, '.usagelab', RETENTION_AUDIT_FILE), 'utf8').trim().split('\n');
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!)).toMatchObject({ status: 'complete', ran_at: iso(NOW), limits: { exports_days: 90, warehouse_days: 400 }, warehouse: { events: 10 } });

    // Re-running deletes nothing more and logs the (empty) run.
    const again = await ws.open();
    const second = await applyRetention(again, { now: NOW }).finally(() => again.close());
    expect(second.exports!.files).toEqual([]);
    expect(second.warehouse!.events).toBe(0);
    expect(readFileSync(join(ws.dir, '.usagelab', RETENTION_AUDIT_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('without retention limits it refuses to run (exit 2)', async () => {
    ws = tempWorkspace('version: 1\n');
    const io = captureIo();
    expect(await main(['--workspace', ws.dir, 'retention', 'apply', '--json'], io)).toBe(2);
    expect(JSON.parse(io.err)).toMatchObject({ code: 'retention_not_configured' });
  });

  it('config errors name the field', async () => {
    ws = tempWorkspace('version: 1\nretention:\n  exports_days: 0\n');
    const io = captureIo();
    expect(await main(['--workspace', ws.dir, 'check', '--json'], io)).toBe(2);
    expect(JSON.parse(io.err)).toMatchObject({ code: 'config_invalid', place: { line: 3, field: 'retention.exports_days' } });
  });
});

function captureIo(): Io & { out: string; err: string } {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

describe('usagelab retention: apply and the analysis side by side', () => {
  it('`retention apply` deletes (text and --json); `retention <event>` is still the analysis', async () => {
    // Dated from the real clock: the CLI uses it.
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    ws = tempWorkspace('version: 1\nretention:\n  exports_days: 30\n  warehouse_days: 30\n');
    const file = ws.write(
      'events.ndjson',
      ndjson([
        { user_id: 'a', event: 'login', time: iso(today - 100 * DAY_MS) },
        { user_id: 'a', event: 'login', time: iso(today - 2 * DAY_MS) },
        { user_id: 'b', event: 'login', time: iso(today - 2 * DAY_MS) },
      ]),
    );
    expect(await main(['--workspace', ws.dir, 'import', file], captureIo())).toBe(0);
    writeExportedWindows(ws.dir, 'amplitude', [{ start: today - 60 * DAY_MS }, { start: today - 3 * DAY_MS }]);

    const analysis = captureIo();
    expect(await main(['--workspace', ws.dir, 'retention', 'login', '--interval', 'day', '--json'], analysis)).toBe(0);
    expect(JSON.parse(analysis.out)).toMatchObject({ kind: 'retention' });

    const dry = captureIo();
    expect(await main(['--workspace', ws.dir, 'retention', 'apply', '--dry-run', '--json'], dry)).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dry_run: true, exports: { files: [{ source: 'amplitude' }] }, warehouse: { events: 1 } });

    const run = captureIo();
    expect(await main(['--workspace', ws.dir, 'retention', 'apply'], run)).toBe(0);
    expect(run.out).toMatch(/^exports: deleted 1 file\(s\), \d+ B/);
    expect(run.out).toContain(`amplitude/${iso(today - 60 * DAY_MS).slice(0, 10)}.jsonl.gz`);
    expect(run.out).toMatch(/warehouse: deleted 1 event\(s\) before /);
    expect(run.out).toMatch(/generic\s+1\s+/);
    expect(run.out).toContain(`audit log: ${join(ws.dir, '.usagelab', RETENTION_AUDIT_FILE)}`);

    const after = captureIo();
    expect(await main(['--workspace', ws.dir, 'retention', 'login', '--interval', 'day', '--json'], after)).toBe(0);
    expect(JSON.parse(after.out)).toMatchObject({ kind: 'retention' });
  });
});
