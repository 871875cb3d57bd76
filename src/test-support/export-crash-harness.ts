/**
 * Test helper for crash tests: runs `export-child.ts` in a child process and SIGKILLs it at a chosen point (the
 * same harness as the Amplitude crash test in library/export-source.test.ts, shared by the FullStory and Heap tests).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifestFile } from './export-test-kit.js';

const child = fileURLToPath(new URL('./export-child.ts', import.meta.url));

/** Complete windows (or syncs) in a source folder's manifest (0 before the first one is written). */
export function completeWindows(dir: string): number {
  return existsSync(join(dir, 'manifest.json')) ? readManifestFile(dir).windows.filter((w) => w.status === 'complete').length : 0;
}

/**
 * Runs the export in a child process. With `kill`, the child is SIGKILLed once the manifest shows at least
 * `kill.atComplete` complete entries, plus `kill.extraMs` (so the kill lands inside the next one's work).
 */
export function runExportChild(args: string[], kill: { dir: string; atComplete: number; extraMs: number } | null): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exited = false;
    let armed = kill !== null;
    const watch = (): void => {
      if (exited) return;
      if (completeWindows(kill!.dir) >= kill!.atComplete) setTimeout(() => p.kill('SIGKILL'), kill!.extraMs);
      else setTimeout(watch, 5);
    };
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (armed && out.includes('started')) {
        armed = false;
        watch();
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', () => {
      exited = true;
      if (out.includes('done 0')) resolve('done');
      else if (out.includes('done')) reject(new Error(`export exited non-zero: ${out}\n${err}`));
      else resolve('killed');
    });
  });
}

/** A seeded pseudo-random sequence in [0, 1), so kill points are the same on every run. */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
