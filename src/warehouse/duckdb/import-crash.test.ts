import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempWorkspace, ndjson } from '../../test-support/temp-workspace.js';

const child = fileURLToPath(new URL('../../test-support/import-child.ts', import.meta.url));

function runChild(dir: string, files: string[], killAfterMs: number | null): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== null && out.includes('started')) setTimeout(() => p.kill('SIGKILL'), killAfterMs);
    });
    p.on('error', reject);
    p.on('exit', () => resolve(out.includes('done') ? 'done' : 'killed'));
  });
}

describe('import is one transaction', () => {
  it('a SIGKILL at any point leaves the warehouse with all of the import or none of it', async () => {
    const tw = tempWorkspace();
    try {
      const first = tw.write('first.ndjson', ndjson([{ user_id: 'u0', event: 'seed', time: 1700000000 }]));
      expect(await runChild(tw.dir, [first], null)).toBe('done');
      const rows = Array.from({ length: 60_000 }, (_, i) => ({ event_id: `e${i}`, user_id: `u${i % 900}`, device_id: `d${i % 1000}`, event: 'view', time: 1700000000 + i }));
      const big = tw.write('big.ndjson', ndjson(rows));
      const outcomes: string[] = [];
      for (const delay of [50, 400, 1200, 2500]) {
        const outcome = await runChild(tw.dir, [big], delay);
        outcomes.push(outcome);
        const ws = await tw.open();
        const n = Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM events`))[0]!.n);
        const sessions = Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions`))[0]!.n);
        ws.close();
        // Either the big import committed entirely, or the warehouse is as it was after the first import.
        expect([1, 60_001]).toContain(n);
        expect(sessions).toBeGreaterThan(0);
        if (outcome === 'done') expect(n).toBe(60_001);
      }
      // Re-running after the crashes is safe and completes the import exactly once.
      expect(await runChild(tw.dir, [big], null)).toBe('done');
      const ws = await tw.open();
      expect(Number((await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM events`))[0]!.n)).toBe(60_001);
      ws.close();
      expect(outcomes).toContain('killed');
    } finally {
      tw.cleanup();
    }
  }, 180_000);
});
