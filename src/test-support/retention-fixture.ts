/**
 * Test helper for retention: a workspace with exported windows (a manifest, gzipped files) and unlisted files,
 * dated relative to a chosen "now".
 */
import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ExportManifest, WindowEntry } from '../sources/export/export-manifest.js';

export const DAY_MS = 86_400_000;

export interface FixtureWindow {
  /** Window start, ms; the window is one day long. */
  readonly start: number;
  readonly status?: 'complete' | 'failed';
}

/** Writes exports/<source>/ with one file per complete window and a manifest listing them; returns the file names. */
export function writeExportedWindows(root: string, source: string, windows: readonly FixtureWindow[]): string[] {
  const dir = join(root, 'exports', source);
  mkdirSync(dir, { recursive: true });
  const entries: WindowEntry[] = [];
  const files: string[] = [];
  for (const w of windows) {
    const start = new Date(w.start).toISOString();
    const end = new Date(w.start + DAY_MS).toISOString();
    const key = start.slice(0, 10);
    const status = w.status ?? 'complete';
    let file: string | null = null;
    let bytes = 0;
    let sha256: string | null = null;
    if (status === 'complete') {
      file = `${key}.jsonl.gz`;
      const body = gzipSync(`${JSON.stringify({ uuid: `ev-${key}`, event: 'view', timestamp: start })}\n`);
      writeFileSync(join(dir, file), body);
      bytes = body.length;
      sha256 = createHash('sha256').update(body).digest('hex');
      files.push(file);
    }
    entries.push({
      key,
      label: key,
      start,
      end,
      status,
      file,
      rows: status === 'complete' ? 1 : 0,
      bytes,
      sha256,
      high_water_mark: null,
      cursor: null,
      requests: 1,
      exported_at: end,
      tool_version: 'test',
      error: status === 'failed' ? { code: 'export_remote_unavailable', message: 'gave up', at: end } : null,
      imported: null,
    });
  }
  const manifest: ExportManifest = { version: 1, source, tool_version: 'test', updated_at: new Date().toISOString(), last_run: null, windows: entries };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return files;
}

/** A file no manifest lists, last modified at `modified` (ms). */
export function writeUnlistedFile(root: string, rel: string, modified: number): string {
  const path = join(root, 'exports', rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '{"event":"x"}\n');
  utimesSync(path, modified / 1000, modified / 1000);
  return path;
}
