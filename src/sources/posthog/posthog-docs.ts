/**
 * Brings every PostHog export layout to one shape, (_line, doc JSON, rec_reject VARCHAR): `doc` is the event as
 * the batch-export JSONL writes it (uuid, event, distinct_id, timestamp, created_at, properties, ...), so one
 * mapping (posthog-mapping.ts) serves JSONL, JSON arrays, query-API pages, Parquet and CSV. Everything stays in
 * DuckDB: rows are never parsed in JavaScript.
 */
import { UsageLabError } from '../../core/errors.js';
import type { Detection, FileProbe, StageContext } from '../source-reader.js';
import { readJsonObjectsSql, runReadingFile } from '../json-object-file.js';
import { ndjsonRecords, jsonArrayRecords } from '../json-records.js';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The PostHog UI's CSV export flattens the `*` column of an events query into "*.uuid", "*.properties.$os", ... */
export function normaliseCsvName(name: string): string {
  return name.startsWith('*.') ? name.slice(2) : name;
}

const fromNdjson = (probe: FileProbe, ctx: StageContext): Promise<string> => ndjsonRecords(probe, ctx, 'posthog_docs');

const fromJsonArray = (probe: FileProbe, ctx: StageContext): Promise<string> => jsonArrayRecords(probe, ctx, 'posthog_docs');

/**
 * Query-API pages `{"results": [[...], ...], "columns": [...]}` (rows zipped with the column names), events-API
 * pages `{"results": [{...}, ...]}`, or bare event objects. _line is the row's position in the file.
 */
async function fromJsonObjects(probe: FileProbe, ctx: StageContext): Promise<string> {
  const pages = ctx.tempName('posthog_pages');
  await runReadingFile(
    ctx,
    probe,
    `CREATE OR REPLACE TEMP TABLE ${pages} AS
    SELECT row_number() OVER () AS obj_no, json AS obj,
      CASE WHEN json_type(json->'results') = 'ARRAY' THEN CAST(json->'results' AS JSON[]) END AS results,
      CASE WHEN json_type(json->'columns') = 'ARRAY' THEN from_json(json->'columns', '["VARCHAR"]') END AS cols
    FROM ${readJsonObjectsSql(probe, ctx)}`,
    'save the API response unchanged (one JSON object per file), or export NDJSON instead',
  );
  const columnSets = await ctx.all<{ cols: string[] }>(`SELECT DISTINCT cols FROM ${pages} WHERE cols IS NOT NULL`);
  for (const { cols } of columnSets) checkPageColumns(cols, probe);
  const name = ctx.tempName('posthog_docs');
  await ctx.run(`CREATE OR REPLACE TEMP TABLE ${name} AS
    WITH items AS (
      SELECT obj_no, 0 AS item_no, obj AS item, NULL::VARCHAR[] AS cols FROM ${pages} WHERE results IS NULL
      UNION ALL
      SELECT obj_no, unnest(range(1, len(results) + 1)) AS item_no, unnest(results) AS item, cols
      FROM ${pages} WHERE results IS NOT NULL
    ), typed AS (
      SELECT obj_no, item_no, item, cols, json_type(item) AS item_type,
        CASE WHEN json_type(item) = 'ARRAY' THEN CAST(item AS JSON[]) END AS vals
      FROM items
    )
    SELECT row_number() OVER (ORDER BY obj_no, item_no) AS _line,
      CASE
        WHEN item_type = 'OBJECT' THEN item
        WHEN item_type = 'ARRAY' AND cols IS NOT NULL THEN to_json(map_from_entries(list_transform(
          list_filter(range(1, len(cols) + 1), j -> cols[j] IS NOT NULL AND list_position(cols, cols[j]) = j),
          j -> {'k': cols[j], 'v': vals[j]})))
      END AS doc,
      CASE
        WHEN item_type = 'OBJECT' THEN NULL
        WHEN item_type = 'ARRAY' AND cols IS NULL THEN 'record: a results row but the page has no "columns"'
        WHEN item_type = 'ARRAY' THEN NULL
        ELSE 'record: not a JSON object'
      END AS rec_reject
    FROM typed`);
  return name;
}

/** A saved query page must have selected the event's identity and time; say which columns to select if not. */
function checkPageColumns(cols: readonly string[], probe: FileProbe): void {
  const missing = ['uuid', 'event', 'timestamp'].filter((c) => !cols.includes(c));
  if (missing.length === 0) return;
  throw new UsageLabError('import_layout_unsupported', `${probe.path}: the PostHog query results lack the column(s) ${missing.join(', ')}`, {
    place: { file: probe.path },
    hint: 'select the raw event columns, e.g. "select uuid, event, timestamp, distinct_id, properties, elements_chain, created_at from events"',
  });
}

async function fromParquet(probe: FileProbe, ctx: StageContext): Promise<string> {
  const table = await ctx.readParquet(probe.path);
  const columns = (probe.parquetColumns ?? []).filter((c) => c !== '_line');
  const name = ctx.tempName('posthog_docs');
  // to_json keeps INT64 digits exact and writes TIMESTAMP as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, read by ul_instant).
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT _line, to_json(struct_pack(${columns.map((c) => `${quoteIdent(c)} := ${quoteIdent(c)}`).join(', ')})) AS doc,
      NULL::VARCHAR AS rec_reject FROM ${table}`);
  return name;
}

/**
 * CSV columns become doc keys (empty cells = absent). "properties" holds JSON text; the UI export's flattened
 * "properties.<name>" columns are folded back into a properties object (their values stay text).
 */
async function fromCsv(probe: FileProbe, ctx: StageContext): Promise<string> {
  const table = await ctx.readCsv(probe.path);
  const header = probe.csvHeader ?? [];
  const cell = (c: string): string => `nullif(${quoteIdent(c)}, '')`;
  const taken = new Map<string, string>();
  // "*.event" (the raw field) wins over a display column that is also called "event".
  for (const c of [...header].sort((a, b) => Number(b.startsWith('*.')) - Number(a.startsWith('*.')))) {
    const key = normaliseCsvName(c);
    if (!taken.has(key)) taken.set(key, c);
  }
  const flatProps = [...taken].filter(([k]) => k.startsWith('properties.'));
  const top = [...taken].filter(([k]) => !k.startsWith('properties.'));
  const pairs = top.map(([k, c]) => `${ctx.literal(k)}, ${cell(c)}`);
  if (flatProps.length > 0) {
    // Merged onto {} so that empty cells (properties the event did not have) are left out.
    const object = `json_merge_patch('{}', json_object(${flatProps.map(([k, c]) => `${ctx.literal(k.slice('properties.'.length))}, ${cell(c)}`).join(', ')}))`;
    if (taken.has('properties')) pairs.push(`'properties.flattened', ${object}`);
    else pairs.push(`'properties', ${object}`);
  }
  const name = ctx.tempName('posthog_docs');
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT _line, json_object(${pairs.join(', ')}) AS doc, NULL::VARCHAR AS rec_reject FROM ${table}`);
  return name;
}

export async function loadPosthogDocs(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<string> {
  switch (detection.format) {
    case 'ndjson':
      return fromNdjson(probe, ctx);
    case 'json-array':
      return fromJsonArray(probe, ctx);
    case 'json-object':
      return fromJsonObjects(probe, ctx);
    case 'parquet':
      return fromParquet(probe, ctx);
    case 'csv':
      return fromCsv(probe, ctx);
    default:
      throw new UsageLabError('import_format_unsupported', `${probe.path}: PostHog ${detection.format} files are not supported`, {
        place: { file: probe.path },
        hint: 'export JSONLines or Parquet (file download / batch export), or save query-API pages as JSON',
      });
  }
}
