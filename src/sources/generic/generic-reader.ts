/**
 * Any CSV / NDJSON / Parquet event log, with a column mapping (`--map user_id=case_id,event_name=activity,
 * occurred_at=timestamp`). Without a mapping, common column names are recognised. Every unmapped column is kept
 * in `properties`, so nothing in the file is lost.
 */
import type { SourceReader, FileProbe, Detection, StageContext, StagedFile } from '../source-reader.js';
import { STAGED_COLUMNS } from '../../events/canonical-event.js';
import { UsageLabError } from '../../core/errors.js';
import { stagedSelectList, requiredFieldsReject } from '../staged-select.js';

/** Column names recognised without --map, per canonical column, in order of preference. */
const AUTO_NAMES: Record<string, readonly string[]> = {
  occurred_at: ['occurred_at', 'timestamp', 'time', 'event_time', 'ts', 'datetime', 'created_at'],
  event_name: ['event_name', 'event', 'event_type', 'name', 'activity', 'action'],
  user_id: ['user_id', 'userid', 'user', 'customer_id', 'account_id', 'case_id'],
  anonymous_id: ['anonymous_id', 'device_id', 'anonymousid', 'client_id', 'cookie_id'],
  vendor_session_id: ['session_id', 'sessionid'],
  source_event_id: ['event_id', 'id', 'uuid', 'message_id'],
  page_url: ['page_url', 'url'],
  referrer: ['referrer'],
};

const MAPPABLE = new Set(STAGED_COLUMNS.map((c) => c.name).filter((n) => n !== 'source'));

function columnsOf(probe: FileProbe): readonly string[] {
  if (probe.csvHeader !== undefined) return probe.csvHeader;
  if (probe.parquetColumns !== undefined) return probe.parquetColumns;
  if (probe.firstRecord !== undefined) return Object.keys(probe.firstRecord);
  return [];
}

export function resolveColumnMap(columns: readonly string[], explicit: Readonly<Record<string, string>>, file: string): Record<string, string> {
  for (const [target, sourceColumn] of Object.entries(explicit)) {
    if (!MAPPABLE.has(target)) {
      throw new UsageLabError('import_map_unknown_target', `--map names "${target}", which is not a canonical column`, {
        place: { file },
        hint: `map onto one of: ${[...MAPPABLE].join(', ')}`,
      });
    }
    if (!columns.includes(sourceColumn)) {
      throw new UsageLabError('import_map_unknown_column', `--map ${target}=${sourceColumn}: the file has no column "${sourceColumn}"`, {
        place: { file, field: sourceColumn },
        hint: `columns in the file: ${columns.join(', ')}`,
      });
    }
  }
  const map: Record<string, string> = { ...explicit };
  const lowerToActual = new Map(columns.map((c) => [c.toLowerCase(), c]));
  for (const [target, names] of Object.entries(AUTO_NAMES)) {
    if (map[target] !== undefined) continue;
    const used = new Set(Object.values(map));
    const hit = names.map((n) => lowerToActual.get(n)).find((c) => c !== undefined && !used.has(c));
    if (hit !== undefined) map[target] = hit;
  }
  const missing = ['occurred_at', 'event_name'].filter((t) => map[t] === undefined);
  if (map.user_id === undefined && map.anonymous_id === undefined) missing.push('user_id (or anonymous_id)');
  if (missing.length > 0) {
    throw new UsageLabError('import_map_incomplete', `cannot tell which column holds ${missing.join(', ')}`, {
      place: { file },
      hint: `pass --map, e.g. --map user_id=COLUMN,event_name=COLUMN,occurred_at=COLUMN (columns in the file: ${columns.join(', ')})`,
    });
  }
  return map;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export const genericReader: SourceReader = {
  id: 'generic',
  detect(probe: FileProbe): Detection | undefined {
    if (probe.format === 'csv') return { format: 'csv', confidence: 0.1, layout: 'event log (CSV)' };
    if (probe.format === 'ndjson') return { format: 'ndjson', confidence: 0.1, layout: 'event log (NDJSON)' };
    if (probe.format === 'parquet') return { format: 'parquet', confidence: 0.1, layout: 'event log (Parquet)' };
    return undefined;
  },

  async stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile> {
    let relation: string | undefined;
    let columns = columnsOf(probe);
    if (detection.format === 'ndjson') {
      // Records need not share keys (an anonymous event has no user_id): map over the union of all keys.
      relation = await ctx.readNdjsonLines(probe.path);
      const keys = await ctx.all<{ k: string }>(`SELECT DISTINCT unnest(json_keys(doc)) AS k FROM ${relation} WHERE doc IS NOT NULL ORDER BY k`);
      columns = keys.map((r) => r.k);
    }
    // Resolved before a CSV or Parquet file is read too, so that a wrong --map fails at once (unless the header names
    // a column twice: then only DuckDB's names for the copies, known once it has read the file, can be mapped).
    let map = new Set(columns).size === columns.length ? resolveColumnMap(columns, ctx.options.columnMap, probe.path) : {};
    let value: (column: string) => string;
    let propertiesExpr: string;
    let rowReject = 'NULL';
    if (relation !== undefined) {
      value = (c) => `(doc->>${ctx.literal(c)})`;
      const mappedSources = new Set(Object.values(map));
      const removal = JSON.stringify(Object.fromEntries([...mappedSources].map((c) => [c, null])));
      propertiesExpr = `json_merge_patch(doc, ${ctx.literal(removal)})`;
      rowReject = `CASE WHEN doc IS NULL THEN 'record: not a JSON object' END`;
    } else {
      relation = detection.format === 'csv' ? await ctx.readCsv(probe.path) : await ctx.readParquet(probe.path);
      const described = await ctx.all<{ column_name: string; column_type: string }>(`DESCRIBE ${relation}`);
      const types = new Map(described.map((r) => [r.column_name, r.column_type]));
      // DuckDB's names: a CSV header naming a column twice gives the second "<name>_1" (the header has the name twice).
      columns = described.map((r) => r.column_name).filter((c) => c !== '_line');
      map = resolveColumnMap(columns, ctx.options.columnMap, probe.path);
      const mappedSources = new Set(Object.values(map));
      // Typed Parquet timestamps need no parsing; everything else is read as text.
      value = (c) => (/^TIMESTAMP/.test(types.get(c) ?? '') ? `CAST(${quoteIdent(c)} AS TIMESTAMPTZ)` : `CAST(${quoteIdent(c)} AS VARCHAR)`);
      const rest = columns.filter((c) => !mappedSources.has(c));
      propertiesExpr = rest.length === 0 ? `'{}'::JSON` : `json_object(${rest.map((c) => `${ctx.literal(c)}, ${quoteIdent(c)}`).join(', ')})`;
    }
    const expr = (target: string): string | undefined => (map[target] === undefined ? undefined : value(map[target]));
    const occurredRaw = expr('occurred_at')!;
    const occurred = occurredRaw.endsWith('AS TIMESTAMPTZ)') ? occurredRaw : `ul_instant(${occurredRaw})`;
    const eventName = expr('event_name')!;
    const exprs: Record<string, string> = { source: `'generic'`, _line: '_line' };
    for (const target of Object.keys(map)) {
      const e = expr(target)!;
      if (target === 'occurred_at' || target === 'received_at') exprs[target] = e.startsWith('CAST(') && e.endsWith('AS TIMESTAMPTZ)') ? e : `ul_instant(${e})`;
      else if (target === 'rage_click' || target === 'dead_click' || target === 'error_click') exprs[target] = `ul_flag(${e})`;
      else if (target === 'properties' || target === 'user_properties') exprs[target] = `try_cast(${e} AS JSON)`;
      else if (target === 'device_type') exprs[target] = `ul_dim(${e})`;
      else exprs[target] = `ul_text(${e})`;
    }
    exprs.event_kind = exprs.event_kind ?? `'custom'`;
    exprs.properties = exprs.properties ?? propertiesExpr;
    // Without an id column, the record's full content is its identity: the same row re-imported dedups.
    exprs.source_event_id =
      exprs.source_event_id ??
      (detection.format === 'ndjson'
        ? `md5(line)`
        : `md5(CAST(to_json(struct_pack(${columns.map((c) => `${quoteIdent(c)} := ${quoteIdent(c)}`).join(', ')})) AS VARCHAR))`);
    const required = requiredFieldsReject({
      occurredAt: occurred,
      occurredAtRaw: occurredRaw,
      occurredAtName: map.occurred_at!,
      eventName,
      eventNameName: map.event_name!,
    });
    exprs._reject = `coalesce(${rowReject}, ${required})`;
    const name = ctx.tempName('generic');
    // Over Parquet the mapping stays a view (no copy of a large file); text formats are parsed once into a table.
    const kind = detection.format === 'parquet' ? 'VIEW' : 'TABLE';
    await ctx.run(`CREATE OR REPLACE TEMP ${kind} ${name} AS SELECT ${stagedSelectList(exprs as never)} FROM ${relation}`);
    return { relation: name, nativeRageClicks: false };
  },
};
