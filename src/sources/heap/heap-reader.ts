/**
 * Heap Connect (Contentsquare Data Connect) S3 sync: a folder copied from the `heap-rs3-…` bucket, with
 * `manifests/*.json` and `sync_<dump_id>/<table>/part-*.avro`. Events come from pageviews, the per-event tables
 * and all_events; sessions and users are joined onto them; users.identity and user_migrations become identity
 * links. See docs/sources/heap.md.
 */
import type { SourceReader, FileProbe, Detection, StageContext, StagedFile } from '../source-reader.js';
import { checkAvroContainer } from './avro-container-check.js';
import { heapLayout, hasManifests, planHeapSync, type PlannedTable } from './heap-sync-plan.js';
import { RAW_COLUMNS, stagingStatements, type HeapTableKind } from './heap-staging-sql.js';

/** Heap's built-in tables; any other table is one synced event. */
const BUILT_IN: Record<string, HeapTableKind> = {
  users: 'users',
  sessions: 'sessions',
  user_migrations: 'user_migrations',
  all_events: 'all_events',
  pageviews: 'pageviews',
};

/**
 * A table not built in is an event table, unless its manifest lists columns without event_id (then it is not
 * event data, and is left out rather than staged as rejects).
 */
export function tableKind(table: PlannedTable): HeapTableKind | undefined {
  const builtIn = BUILT_IN[table.name];
  if (builtIn !== undefined) return builtIn;
  if (table.columns.length > 0 && !table.columns.includes('event_id')) return undefined;
  return 'event';
}

function tableFolders(files: readonly string[], depth: number): Set<string> {
  return new Set(files.map((f) => f.split('/')[depth]).filter((t): t is string => t !== undefined));
}

export const heapReader: SourceReader = {
  id: 'heap',

  detect(probe: FileProbe): Detection | undefined {
    if (!probe.isDirectory) return undefined;
    const layout = heapLayout(probe.baseName, probe.directoryFiles);
    if (layout === undefined) return undefined;
    const avroFiles = probe.directoryFiles.filter((f) => f.endsWith('.avro'));
    const tables = tableFolders(avroFiles, layout === 'bucket' ? 1 : 0);
    const builtIn = [...tables].some((t) => BUILT_IN[t] !== undefined);
    if (layout === 'bucket' && hasManifests(probe.directoryFiles)) {
      return { format: 'avro-folder', confidence: 0.95, layout: 'Heap Connect S3 sync (manifests + Avro)' };
    }
    return {
      format: 'avro-folder',
      confidence: builtIn ? 0.9 : 0.6,
      layout: layout === 'bucket' ? 'Heap Connect S3 sync (Avro, manifests missing)' : 'Heap Connect sync folder (Avro)',
    };
  },

  async stage(probe: FileProbe, _detection: Detection, ctx: StageContext): Promise<StagedFile> {
    const layout = heapLayout(probe.baseName, probe.directoryFiles) ?? 'bucket';
    const plan = planHeapSync(probe.path, layout, probe.directoryFiles);
    for (const dump of plan.incompleteDumps) {
      ctx.markPartial(`sync_${dump} has no manifest (Heap has not finished writing it, or the sync failed): skipped`);
    }

    const work = plan.tables.flatMap((table) => {
      const kind = tableKind(table);
      return kind === undefined ? [] : table.files.map((file) => ({ kind, file }));
    });
    // Check every file's framing before converting any, so a truncated download fails fast and whole.
    const records = work.map(({ file }) => checkAvroContainer(file.absPath, file.absPath).records);

    const names = {
      raw: ctx.tempName('heap_raw'),
      candidates: ctx.tempName('heap_candidates'),
      groups: ctx.tempName('heap_groups'),
      sessions: ctx.tempName('heap_sessions'),
      users: ctx.tempName('heap_users'),
      events: ctx.tempName('heap_events'),
      links: ctx.tempName('heap_links'),
    };
    await ctx.run(`CREATE TEMP TABLE ${names.raw} (${RAW_COLUMNS})`);
    // `line`: a running record number over all files (their record counts are known from the check above), so
    // every staged row has a distinct _line without a window over the whole sync.
    let base = 0;
    for (const [i, { kind, file }] of work.entries()) {
      const relation = await ctx.readAvro([file.absPath]);
      await ctx.run(
        `INSERT INTO ${names.raw} SELECT ${ctx.literal(file.table)}, ${ctx.literal(kind)}, ${file.dumpId}, ${ctx.literal(file.relPath)}, _line, ${base} + _line, doc FROM ${relation}`,
      );
      await ctx.run(`DROP TABLE ${relation}`);
      base += records[i]!;
    }
    for (const sql of stagingStatements(names)) await ctx.run(sql);
    // The intermediates hold every record again; free them before the pipeline copies the events.
    for (const t of [names.raw, names.candidates, names.groups, names.sessions, names.users]) await ctx.run(`DROP TABLE ${t}`);
    return { relation: names.events, links: names.links, nativeRageClicks: false };
  },
};
