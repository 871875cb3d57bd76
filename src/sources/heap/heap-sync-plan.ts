/**
 * Decides which Avro files of a Heap Connect S3 copy to import, from its manifests. Heap signals a finished sync
 * by writing `manifests/*.json`; a `sync_<dump_id>/` folder without a manifest is still being written (or failed),
 * so only files a manifest lists are read. Per table, reading starts at its latest full dump
 * (`incremental: false`), as singer-io/tap-heap does: a full dump replaces everything before it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageLabError } from '../../core/errors.js';

const SYNC_DIR = /^sync_(\d+)$/;
const SYNC_FILE = /^sync_(\d+)\/[^/]+\/[^/]+\.avro$/;
const MANIFEST_FILE = /^manifests\/[^/]+\.json$/;

/** A Heap Connect manifest as tap-heap reads it (also what the exporter reads from the bucket). */
export const heapManifestSchema = z.object({
  dump_id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
  tables: z.array(
    z.object({
      name: z.string().min(1),
      files: z.array(z.string()),
      incremental: z.boolean().optional(),
      columns: z.array(z.string()).optional(),
    }),
  ),
});

export type HeapLayout = 'bucket' | 'sync-folder';

export interface PlannedFile {
  readonly table: string;
  readonly dumpId: number;
  /** Path below the bucket root, e.g. "sync_852/sessions/part-00000-….avro". */
  readonly relPath: string;
  readonly absPath: string;
}

export interface PlannedTable {
  readonly name: string;
  /** Column names the manifest lists (empty when it lists none). */
  readonly columns: readonly string[];
  readonly files: readonly PlannedFile[];
}

export interface HeapSyncPlan {
  readonly root: string;
  readonly manifests: readonly string[];
  readonly dumpIds: readonly number[];
  readonly tables: readonly PlannedTable[];
  /** sync_<id> folders present without a manifest: skipped. */
  readonly incompleteDumps: readonly number[];
}

interface ManifestTable {
  files: Set<string>;
  columns: Set<string>;
  incremental: boolean;
  manifest: string;
}

/** Which folder layout a probe listing shows, or undefined when it is not a Heap Connect copy. */
export function heapLayout(baseName: string, files: readonly string[]): HeapLayout | undefined {
  if (files.some((f) => SYNC_FILE.test(f))) return 'bucket';
  if (SYNC_DIR.test(baseName) && files.some((f) => /^[^/]+\/[^/]+\.avro$/.test(f))) return 'sync-folder';
  return undefined;
}

export function hasManifests(files: readonly string[]): boolean {
  return files.some((f) => MANIFEST_FILE.test(f));
}

function manifestError(file: string, message: string, field?: string): UsageLabError {
  return new UsageLabError('import_heap_manifest_invalid', `${file}: ${message}`, {
    place: { file, ...(field === undefined ? {} : { field }) },
    hint: 'copy the manifests/ folder from the Heap Connect bucket again; it must hold the JSON Heap wrote',
  });
}

function readManifest(path: string): z.infer<typeof heapManifestSchema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw manifestError(path, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = heapManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    throw manifestError(path, `${field === '' ? 'manifest' : field}: ${issue.message}`, field || undefined);
  }
  return parsed.data;
}

/** "s3://bucket/prefix/sync_852/t/part-0.avro" → "sync_852/t/part-0.avro" (the copy keeps the sync folders). */
function localRelPath(url: string): string {
  const m = /(?:^|\/)(sync_\d+\/.+)$/.exec(url);
  if (m !== null) return m[1]!;
  return url.replace(/^s3:\/\/[^/]+\//, '');
}

export function planHeapSync(input: string, layout: HeapLayout, files: readonly string[]): HeapSyncPlan {
  const root = layout === 'bucket' ? input : dirname(input);
  const onlyDump = layout === 'sync-folder' ? Number(SYNC_DIR.exec(basename(input))![1]) : undefined;
  const manifestDir = join(root, 'manifests');
  const manifestPaths =
    layout === 'bucket'
      ? files.filter((f) => MANIFEST_FILE.test(f)).map((f) => join(root, f))
      : existsSync(manifestDir)
        ? readdirSync(manifestDir)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => join(manifestDir, f))
        : [];

  // dump_id → table → what its manifest(s) say; several manifests for one dump are merged (tap-heap does too).
  const dumps = new Map<number, Map<string, ManifestTable>>();
  const used: string[] = [];
  for (const path of manifestPaths) {
    const manifest = readManifest(path);
    const dumpId = Number(manifest.dump_id);
    if (onlyDump !== undefined && dumpId !== onlyDump) continue;
    used.push(path);
    const tables = dumps.get(dumpId) ?? new Map<string, ManifestTable>();
    dumps.set(dumpId, tables);
    for (const t of manifest.tables) {
      const entry = tables.get(t.name) ?? { files: new Set<string>(), columns: new Set<string>(), incremental: true, manifest: path };
      for (const f of t.files) entry.files.add(f);
      for (const c of t.columns ?? []) entry.columns.add(c);
      if (t.incremental === false) entry.incremental = false;
      tables.set(t.name, entry);
    }
  }

  const present = new Set<number>();
  if (onlyDump !== undefined) present.add(onlyDump);
  else for (const f of files) {
    const m = /^sync_(\d+)\//.exec(f);
    if (m !== null) present.add(Number(m[1]));
  }
  const incompleteDumps = [...present].filter((d) => !dumps.has(d)).sort((a, b) => a - b);

  if (dumps.size === 0) {
    const where = layout === 'bucket' ? join(input, 'manifests') : manifestDir;
    throw new UsageLabError(
      'import_heap_manifest_missing',
      `${input}: no Heap Connect manifest${onlyDump === undefined ? '' : ` for dump ${onlyDump}`} in ${where}`,
      {
        place: { file: input },
        hint: 'Heap writes manifests/*.json when a sync is complete: copy the bucket\'s manifests/ folder next to the sync_<id> folders (e.g. `aws s3 sync s3://<bucket>/ DIR`), or wait for the sync to finish',
      },
    );
  }

  const tableNames = [...new Set([...dumps.values()].flatMap((t) => [...t.keys()]))].sort();
  const tables: PlannedTable[] = [];
  for (const name of tableNames) {
    const withTable = [...dumps.entries()].filter(([, t]) => t.has(name)).sort(([a], [b]) => a - b);
    const fullDumps = withTable.filter(([, t]) => !t.get(name)!.incremental).map(([d]) => d);
    const from = fullDumps.length === 0 ? -Infinity : Math.max(...fullDumps);
    const planned: PlannedFile[] = [];
    const columns = new Set<string>();
    for (const [dumpId, t] of withTable) {
      if (dumpId < from) continue;
      const entry = t.get(name)!;
      for (const c of entry.columns) columns.add(c);
      for (const url of [...entry.files].sort()) {
        const relPath = localRelPath(url);
        const absPath = join(root, relPath);
        if (!existsSync(absPath) || !statSync(absPath).isFile()) {
          const folder = relPath.split('/')[0] ?? relPath;
          throw new UsageLabError('import_file_missing', `${absPath} is listed in ${entry.manifest} (table ${name}) but is missing`, {
            place: { file: absPath },
            hint: existsSync(join(root, folder))
              ? `download ${folder}/ again: Heap lists every file of a finished sync in its manifest`
              : `copy ${folder}/ from the bucket too, or remove ${basename(entry.manifest)} to import without that sync`,
          });
        }
        planned.push({ table: name, dumpId, relPath, absPath });
      }
    }
    tables.push({ name, columns: [...columns], files: planned });
  }
  return { root, manifests: used, dumpIds: [...dumps.keys()].sort((a, b) => a - b), tables, incompleteDumps };
}
