/**
 * Export retention: the files under exports/ older than the cutoff. A window a manifest lists goes when it ended at
 * or before the cutoff: its file is deleted, then its entry is removed with an atomic rewrite of the manifest — one
 * file at a time, so a run killed half-way leaves whole files and a valid manifest (at worst an entry whose file is
 * already gone, which the next run removes). Files no manifest lists (dropped in by hand, vendor file exports) go
 * when they were last modified before the cutoff. Each source folder is locked like an export, so retention never
 * races an export of the same source.
 *
 * A sync's entry owns files beside its folder: the vendor manifest copies its cursor names (Heap:
 * `cursor.manifests`, written to `manifests/<name>.json`). They go with the sync — first, so that no manifest copy
 * ever points at a folder already deleted (the Heap reader would fail on it) — and never by age on their own.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { toolVersion } from '../../core/tool-version.js';
import { isTempName, removeStaleTemps } from './atomic-file.js';
import { acquireExportLock, LOCK_FILE } from './export-lock.js';
import { MANIFEST_FILE, ManifestStore, readManifest, type WindowEntry } from './export-manifest.js';

export interface ExportFileDeletion {
  readonly source: string;
  /** Path relative to exports/; null for a window without a file (empty or failed): only its entry goes. */
  readonly file: string | null;
  readonly bytes: number;
  /** The window's range (ISO UTC), for listed files; null for unlisted ones. */
  readonly window: { readonly start: string; readonly end: string } | null;
  /** Last modification (ISO UTC), for unlisted files. */
  readonly modified: string | null;
}

export interface ExportRetentionResult {
  readonly before: string;
  readonly files: readonly ExportFileDeletion[];
  readonly bytes: number;
}

function sizeOf(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + sizeOf(join(path, name)), 0);
}

/** Every file below `dir`, relative to it. */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesBelow(full).map((f) => join(name, f)));
    else out.push(name);
  }
  return out;
}

const KEEP = new Set([MANIFEST_FILE, LOCK_FILE, '.gitkeep']);

/** The side files a sync's entry owns (relative to the source folder): Heap's manifest copies. */
function companionsOf(w: WindowEntry): string[] {
  const cursor = w.cursor as { manifests?: unknown } | null;
  if (cursor === null || typeof cursor !== 'object' || !Array.isArray(cursor.manifests)) return [];
  return cursor.manifests.filter((m): m is string => typeof m === 'string' && m !== '').map((m) => `manifests/${basename(m)}`);
}

interface SourcePlan {
  readonly source: string;
  readonly dir: string;
  readonly windows: WindowEntry[];
  readonly unlisted: { rel: string; bytes: number; modified: number }[];
}

function planSource(exportsDir: string, source: string, before: number): SourcePlan {
  const dir = join(exportsDir, source);
  const hasManifest = existsSync(join(dir, MANIFEST_FILE));
  const manifest = hasManifest ? readManifest(dir, source, toolVersion(), Date.now()) : undefined;
  const windows = (manifest?.windows ?? []).filter((w) => Date.parse(w.end) <= before);
  const listed = new Set((manifest?.windows ?? []).flatMap((w) => [...(w.file === null ? [] : [w.file]), ...companionsOf(w)]));
  const unlisted = filesBelow(dir)
    .filter((rel) => {
      const name = rel.split(/[\\/]/).pop()!;
      return !KEEP.has(name) && !isTempName(name) && ![...listed].some((f) => rel === f || rel.startsWith(`${f}/`));
    })
    .map((rel) => {
      const st = statSync(join(dir, rel));
      return { rel, bytes: st.size, modified: st.mtimeMs };
    })
    .filter((f) => f.modified < before);
  return { source, dir, windows, unlisted };
}

function sourcesOf(exportsDir: string): string[] {
  if (!existsSync(exportsDir)) return [];
  return readdirSync(exportsDir)
    .filter((name) => statSync(join(exportsDir, name)).isDirectory())
    .sort();
}

/** A due window's deletions: its companions (present ones), then its file or folder. */
function windowDeletions(exportsDir: string, plan: SourcePlan, w: WindowEntry): ExportFileDeletion[] {
  const window = { start: w.start, end: w.end };
  const companions = companionsOf(w)
    .filter((c) => existsSync(join(plan.dir, c)))
    .map((c) => ({ source: plan.source, file: relative(exportsDir, join(plan.dir, c)), bytes: sizeOf(join(plan.dir, c)), window, modified: null }));
  return [
    ...companions,
    { source: plan.source, file: w.file === null ? null : relative(exportsDir, join(plan.dir, w.file)), bytes: w.file === null ? 0 : sizeOf(join(plan.dir, w.file)), window, modified: null },
  ];
}

function deletionsOf(exportsDir: string, plan: SourcePlan): ExportFileDeletion[] {
  return [
    ...plan.windows.flatMap((w) => windowDeletions(exportsDir, plan, w)),
    ...plan.unlisted.map((f) => ({ source: plan.source, file: relative(exportsDir, join(plan.dir, f.rel)), bytes: f.bytes, window: null, modified: new Date(f.modified).toISOString() })),
  ];
}

function result(before: number, files: ExportFileDeletion[]): ExportRetentionResult {
  return { before: new Date(before).toISOString(), files, bytes: files.reduce((n, f) => n + f.bytes, 0) };
}

/** What would be deleted (nothing is changed). */
export function exportRetentionPlan(exportsDir: string, before: number): ExportRetentionResult {
  return result(before, sourcesOf(exportsDir).flatMap((source) => deletionsOf(exportsDir, planSource(exportsDir, source, before))));
}

/** Deletes, file by file; `onDeleted` hears of each deletion once it is complete (file and manifest). */
export async function applyExportRetention(exportsDir: string, before: number, onDeleted?: (d: ExportFileDeletion) => void): Promise<ExportRetentionResult> {
  const done: ExportFileDeletion[] = [];
  for (const source of sourcesOf(exportsDir)) {
    const dir = join(exportsDir, source);
    const release = acquireExportLock(dir, source);
    try {
      // Holding the lock, temp files are leftovers of a killed run (a manifest rewrite cut short): never data.
      removeStaleTemps(dir);
      const plan = planSource(exportsDir, source, before);
      const store = existsSync(join(dir, MANIFEST_FILE)) ? new ManifestStore(dir, readManifest(dir, source, toolVersion(), Date.now()), () => Date.now()) : undefined;
      for (const w of plan.windows) {
        // Companions, then the file, then the entry: a crash in between leaves an entry whose files are partly
        // gone (the next run finishes it), never a file nothing lists (which no later run could date).
        const deletions = windowDeletions(exportsDir, plan, w);
        for (const c of companionsOf(w)) rmSync(join(dir, c), { force: true });
        if (w.file !== null) rmSync(join(dir, w.file), { force: true, recursive: true });
        await store!.update((m) => {
          m.windows = m.windows.filter((e) => !(e.key === w.key && e.start === w.start && e.end === w.end && e.status === w.status && e.exported_at === w.exported_at));
        });
        for (const d of deletions) {
          done.push(d);
          onDeleted?.(d);
        }
      }
      for (const f of plan.unlisted) {
        rmSync(join(dir, f.rel), { force: true });
        const d: ExportFileDeletion = { source, file: relative(exportsDir, join(dir, f.rel)), bytes: f.bytes, window: null, modified: new Date(f.modified).toISOString() };
        done.push(d);
        onDeleted?.(d);
      }
    } finally {
      release();
    }
  }
  return result(before, done);
}
