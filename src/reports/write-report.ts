/**
 * Writes the report's files atomically: each file goes to a temp name beside it and is renamed over the old one,
 * so a reader never sees half a file, and a re-run replaces the month's files. Chart files of the month that the
 * new report no longer has are removed, so the folder holds exactly the report's charts.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../core/secret-redaction.js';

export function writeAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, redactSecrets(content));
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface ReportFiles {
  markdown: { path: string; content: string };
  html?: { path: string; content: string };
  /** Folder of the month's charts, and the charts by file name. */
  chartDir: string;
  charts: ReadonlyMap<string, string>;
}

/** Charts first, then the documents that show them; stale .svg files of the month's folder are removed last. */
export function writeReportFiles(files: ReportFiles): string[] {
  const written: string[] = [];
  for (const [name, svg] of [...files.charts.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = join(files.chartDir, name);
    writeAtomic(path, svg);
    written.push(path);
  }
  writeAtomic(files.markdown.path, files.markdown.content);
  written.push(files.markdown.path);
  if (files.html !== undefined) {
    writeAtomic(files.html.path, files.html.content);
    written.push(files.html.path);
  }
  if (existsSync(files.chartDir)) {
    for (const name of readdirSync(files.chartDir)) {
      if (name.endsWith('.svg') && !files.charts.has(name)) rmSync(join(files.chartDir, name), { force: true });
    }
  }
  return written;
}
