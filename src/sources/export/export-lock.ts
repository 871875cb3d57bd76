/**
 * One export per source folder at a time: two runs writing the same manifest would lose each other's windows.
 * The lock is a file holding the owner's pid, created exclusively; a lock whose process is gone (a crash, a
 * SIGKILL) is stale and taken over, so a killed export never blocks the `--resume` that follows it.
 */
import { openSync, closeSync, writeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';

export const LOCK_FILE = '.export.lock';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    // Signal 0 checks that the process exists; nothing is sent.
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dir` (which must exist); returns the function that releases it. */
export function acquireExportLock(dir: string, source: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      // Removed between our attempt and the read: try again.
      continue;
    }
    if (owner === process.pid || alive(owner)) {
      throw new UsageLabError('export_locked', `another export of ${source} is running (pid ${owner})`, {
        place: { file: path, source },
        hint: `wait for it to finish; if no usagelab process with pid ${owner} is running, delete ${path}`,
      });
    }
    rmSync(path, { force: true });
  }
  throw new UsageLabError('export_locked', `could not take the export lock ${path}`, { place: { file: path, source } });
}
