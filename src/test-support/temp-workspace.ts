/** Test helper: a throw-away workspace folder with a usagelab.yaml, opened through the library. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openWorkspace, type Workspace } from '../library/workspace.js';

export interface TempWorkspace {
  dir: string;
  /** Writes a file into the workspace (gzip when the name ends in .gz) and returns its path. */
  write(name: string, content: string | Buffer): string;
  open(): Promise<Workspace>;
  cleanup(): void;
}

export function tempWorkspace(config = 'version: 1\n'): TempWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'usagelab-ws-'));
  writeFileSync(join(dir, 'usagelab.yaml'), config);
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, name.endsWith('.gz') && typeof content === 'string' ? gzipSync(content) : content);
      return path;
    },
    open: () => openWorkspace(dir, { env: {} }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** NDJSON text from objects. */
export const ndjson = (rows: readonly object[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
