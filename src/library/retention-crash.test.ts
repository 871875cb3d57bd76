import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExportManifest } from '../sources/export/export-manifest.js';
import { DAY_MS, writeExportedWindows } from '../test-support/retention-fixture.js';
import { ndjson, tempWorkspace } from '../test-support/temp-workspace.js';

const child = fileURLToPath(new URL('../test-support/retention-child.ts', import.meta.url));
const NOW = Date.UTC(2025, 5, 15, 12);
const CUTOFF = Date.UTC(2025, 2, 17); // 90 days before NOW's day
const WINDOWS = 120;

function runChild(dir: string, killAfterDeletions: number | null): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, String(NOW)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterDeletions !== null && (out.match(/^deleted /gm) ?? []).length >= killAfterDeletions) p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('exit', () => resolve(out.includes('done') ? 'done' : 'killed'));
  });
}

describe('retention apply killed half-way', () => {
  it('leaves whole files, a valid manifest listing every file it keeps, and completes on the next run', async () => {
    const tw = tempWorkspace('version: 1\nretention:\n  exports_days: 90\n  warehouse_days: 90\n');
    try {
      // 120 one-day windows ending 2025-02-07 .. 2025-06-06: 39 end by the cutoff.
      const first = CUTOFF - 39 * DAY_MS;
      writeExportedWindows(tw.dir, 'posthog', Array.from({ length: WINDOWS }, (_, i) => ({ start: first + i * DAY_MS })));
      const rows = Array.from({ length: 2000 }, (_, i) => ({ user_id: `u${i % 50}`, event: 'view', time: new Date(first + i * 3_600_000).toISOString() }));
      const file = tw.write('events.ndjson', ndjson(rows));
      const ws = await tw.open();
      await ws.import({ files: [file] });
      ws.close();
      const keptEvents = rows.filter((r) => Date.parse(r.time) >= CUTOFF).length;
      const dir = join(tw.dir, 'exports', 'posthog');

      const check = async (): Promise<{ windows: number; events: number }> => {
        const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
        const listed = new Map(manifest.windows.map((w) => [w.file!, w.sha256!]));
        for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl.gz'))) {
          // No file that nothing lists, and every listed file whole.
          expect(listed.has(name), name).toBe(true);
          expect(createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')).toBe(listed.get(name));
        }
        const opened = await tw.open();
        const events = Number((await opened.sql<{ n: string }>(`SELECT count(*) AS n FROM events`))[0]!.n);
        opened.close();
        // The warehouse part is one transaction: all of it or none of it.
        expect([rows.length, keptEvents]).toContain(events);
        return { windows: manifest.windows.length, events };
      };

      const outcomes: string[] = [];
      for (const after of [1, 15]) {
        outcomes.push(await runChild(tw.dir, after));
        await check();
      }
      expect(outcomes).toContain('killed');
      expect(await runChild(tw.dir, null)).toBe('done');
      expect(await check()).toEqual({ windows: WINDOWS - 39, events: keptEvents });
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
      const audit = readFileSync(join(tw.dir, '.usagelab', 'retention-audit.jsonl'), 'utf8').trim().split('\n');
      expect(JSON.parse(audit[audit.length - 1]!)).toMatchObject({ status: 'complete' });
    } finally {
      tw.cleanup();
    }
  }, 180_000);
});
