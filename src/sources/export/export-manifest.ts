/**
 * exports/<source>/manifest.json: the record of every exported window — status, rows, bytes, sha256 of its
 * file, the source's high-water mark and cursor, the tool version — plus the range of the last run, so that
 * `--resume` knows what to continue and `import` knows which files are new. Rewritten atomically after each
 * window; a reader never sees half a manifest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageLabError } from '../../core/errors.js';
import { writeFileAtomic } from './atomic-file.js';

export const MANIFEST_FILE = 'manifest.json';

const isoInstant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'an ISO 8601 UTC instant');

const windowEntrySchema = z.object({
  key: z.string().min(1),
  label: z.string(),
  start: isoInstant,
  end: isoInstant,
  /** complete: the file (or, with rows 0, the absence of one) is the whole window. failed: nothing usable. */
  status: z.enum(['complete', 'failed']),
  /** File name inside exports/<source>/; null for an empty or failed window. */
  file: z.string().nullable(),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().nullable(),
  /** The newest value of the field the source selects by (upload time, event time), ISO UTC. */
  high_water_mark: z.string().nullable(),
  /** Where paging ended (PostHog: the last (timestamp, uuid)). */
  cursor: z.unknown().nullable(),
  requests: z.number().int().min(0),
  /** Complete but not final (a GA4 day read from its intraday table): exported again by later runs. */
  provisional: z.boolean().optional(),
  exported_at: isoInstant,
  tool_version: z.string(),
  /** Why the window failed; on a complete window, why its latest re-export failed (the file is the older one). */
  error: z.object({ code: z.string(), message: z.string(), at: isoInstant }).nullable(),
  imported: z.object({ import_id: z.number().int(), at: isoInstant, sha256: z.string().nullable() }).nullable(),
});

const manifestSchema = z.object({
  version: z.literal(1),
  source: z.string(),
  tool_version: z.string(),
  updated_at: isoInstant,
  last_run: z
    .object({
      from: isoInstant,
      to: isoInstant,
      started_at: isoInstant,
      /** Complete windows exported at or after this instant are done for this run (what --resume skips). */
      done_since: isoInstant,
      /** How many times this run was continued with --resume. */
      resumed: z.number().int().min(0),
    })
    .nullable(),
  windows: z.array(windowEntrySchema),
});

export type WindowEntry = z.infer<typeof windowEntrySchema>;
export type ExportManifest = z.infer<typeof manifestSchema>;

export function emptyManifest(source: string, toolVersion: string, now: number): ExportManifest {
  return { version: 1, source, tool_version: toolVersion, updated_at: new Date(now).toISOString(), last_run: null, windows: [] };
}

export function manifestPath(dir: string): string {
  return join(dir, MANIFEST_FILE);
}

export function readManifest(dir: string, source: string, toolVersion: string, now: number): ExportManifest {
  const path = manifestPath(dir);
  if (!existsSync(path)) return emptyManifest(source, toolVersion, now);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageLabError('export_manifest_invalid', `${path} is not valid JSON`, {
      place: { file: path },
      hint: 'it is written atomically by usagelab, so it was edited by hand: restore it from git history or delete it (the next export then starts afresh)',
      cause: err,
    });
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageLabError('export_manifest_invalid', `${path}: ${issue.message}`, {
      place: { file: path, field: issue.path.join('.') },
      hint: 'restore the file, or delete it to start the export record afresh',
    });
  }
  if (parsed.data.source !== source) {
    throw new UsageLabError('export_manifest_invalid', `${path} belongs to source "${parsed.data.source}", not "${source}"`, { place: { file: path } });
  }
  return parsed.data;
}

/** The complete entry that covers exactly this window, if any. */
export function completeEntry(manifest: ExportManifest, key: string): WindowEntry | undefined {
  return manifest.windows.find((w) => w.key === key && w.status === 'complete');
}

/** Entries whose files hold data not yet imported (or changed since their import). */
export function unimportedEntries(manifest: ExportManifest): WindowEntry[] {
  return manifest.windows.filter((w) => w.status === 'complete' && w.file !== null && (w.imported === null || w.imported.sha256 !== w.sha256));
}

/**
 * One writer of a manifest: updates apply in memory at once and reach disk in order, each as an atomic rewrite.
 */
export class ManifestStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private current: ExportManifest,
    private readonly now: () => number,
  ) {}

  get manifest(): ExportManifest {
    return this.current;
  }

  /** Applies `change` and persists; resolves once this version is on disk. */
  update(change: (m: ExportManifest) => void): Promise<void> {
    change(this.current);
    this.current.updated_at = new Date(this.now()).toISOString();
    this.current.windows.sort((a, b) => (a.start === b.start ? a.end.localeCompare(b.end) : a.start.localeCompare(b.start)));
    const text = `${JSON.stringify(this.current, null, 2)}\n`;
    const write = this.writing.then(() => writeFileAtomic(manifestPath(this.dir), text));
    this.writing = write.catch(() => undefined);
    return write;
  }
}
