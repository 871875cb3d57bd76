/**
 * Test helper: which files under some folders hold a value in clear — as raw bytes, or inside a gzip stream (a
 * cut-off one too: whatever inflates before the cut counts). For the "nothing unmasked on disk" tests, which
 * look at the workspace and the OS temp folder while an export is half done.
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';

const MAX_FILE = 64 * 1024 * 1024;

function inflated(data: Buffer): Buffer | undefined {
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) return undefined;
  try {
    return gunzipSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
}

export interface ScanResult {
  /** Files that hold the value. */
  readonly hits: string[];
  /** Files looked at. */
  readonly files: number;
}

/** Files under `roots` changed at or after `since` (epoch ms) that hold `needle`; unreadable entries are skipped. */
export function filesHolding(roots: readonly string[], needle: string, since: number): ScanResult {
  const hits: string[] = [];
  let files = 0;
  const walk = (path: string): void => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(path);
      } catch {
        return;
      }
      for (const name of names) walk(join(path, name));
      return;
    }
    if (!st.isFile() || st.mtimeMs < since || st.size > MAX_FILE) return;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      return;
    }
    files += 1;
    if (data.includes(needle) || inflated(data)?.includes(needle) === true) hits.push(path);
  };
  for (const root of roots) walk(root);
  return { hits, files };
}

/** Files under `dir` whose name ends in `.sealed`, with their sizes. */
export function sealedFiles(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (path: string): void => {
    let names: string[] = [];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(path, name);
      try {
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p);
        else if (name.endsWith('.sealed')) out.push({ path: p, size: st.size });
      } catch {
        // gone meanwhile
      }
    }
  };
  walk(dir);
  return out;
}
