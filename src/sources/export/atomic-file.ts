/**
 * Files that appear whole or not at all: data goes to a temp file beside the target, is fsynced, then renamed
 * over the target (rename is atomic within a folder), and the folder is fsynced so the rename survives a power
 * cut. A crash leaves at most a temp file, which `removeStaleTemps` clears on the next run, in subfolders too.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { redactSecrets } from '../../core/secret-redaction.js';

const TEMP_MARK = '.tmp-';
let counter = 0;

/** A temp path beside `target`, hidden and unique to this process. */
export function tempPathFor(target: string): string {
  counter += 1;
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${process.pid}-${counter}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

function fsyncPath(path: string, flags: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, flags);
    fsyncSync(fd);
  } catch (err) {
    // Folders cannot be opened for fsync on some platforms (Windows); the rename is still atomic there.
    if (flags === 'r') return;
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Makes a finished temp file the target: fsync the data, rename, fsync the folder. */
export function commitTemp(temp: string, target: string): void {
  fsyncPath(temp, 'r+');
  renameSync(temp, target);
  fsyncPath(dirname(target), 'r');
}

/** Writes a whole file atomically; text is redacted of known secrets (core/secret-redaction.ts) on the way. */
export function writeFileAtomic(target: string, data: string | Buffer): void {
  const temp = tempPathFor(target);
  try {
    writeFileSync(temp, typeof data === 'string' ? redactSecrets(data) : data);
    commitTemp(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Removes the temp files and folders that crashed runs left in a folder and in its subfolders (side files such as
 * Heap's `manifests/` are written atomically there too); returns their paths relative to `dir`. Called only under
 * the export lock, where no other run can be writing one.
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  const sweep = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = rel === '' ? entry.name : join(rel, entry.name);
      if (isTempName(entry.name)) {
        rmSync(join(dir, path), { force: true, recursive: true });
        removed.push(path);
      } else if (entry.isDirectory()) {
        sweep(path);
      }
    }
  };
  sweep('');
  return removed;
}
