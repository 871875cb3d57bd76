/**
 * Brings every GA4 export container to one shape, (_line, doc JSON, rec_reject VARCHAR), where `doc` is one
 * BigQuery export row as BigQuery's JSON export writes it: NDJSON and JSON files as they are, Parquet rows
 * serialised with to_json (the nested event_params LIST<STRUCT> becomes the same array of {key, value}).
 */
import { UsageLabError } from '../../core/errors.js';
import type { Detection, FileProbe, StageContext } from '../source-reader.js';
import { readJsonObjectsSql, runReadingFile } from '../json-object-file.js';
import { ndjsonRecords, jsonArrayRecords } from '../json-records.js';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const fromNdjson = (probe: FileProbe, ctx: StageContext): Promise<string> => ndjsonRecords(probe, ctx, 'ga4_docs');

const fromJsonArray = (probe: FileProbe, ctx: StageContext): Promise<string> => jsonArrayRecords(probe, ctx, 'ga4_docs');

/** One or more (pretty-printed) row objects in a file; _line is the object's position. */
async function fromJsonObjects(probe: FileProbe, ctx: StageContext): Promise<string> {
  const name = ctx.tempName('ga4_docs');
  await runReadingFile(
    ctx,
    probe,
    `CREATE OR REPLACE TEMP TABLE ${name} AS
    SELECT row_number() OVER () AS _line, CASE WHEN json_type(json) = 'OBJECT' THEN json END AS doc,
      CASE WHEN json_type(json) IS DISTINCT FROM 'OBJECT' THEN 'record: not a JSON object' END AS rec_reject
    FROM ${readJsonObjectsSql(probe, ctx)}`,
    'export the table as newline-delimited JSON or Parquet',
  );
  return name;
}

async function fromParquet(probe: FileProbe, ctx: StageContext): Promise<string> {
  const table = await ctx.readParquet(probe.path);
  const columns = (probe.parquetColumns ?? []).filter((c) => c !== '_line');
  const name = ctx.tempName('ga4_docs');
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT _line, to_json(struct_pack(${columns.map((c) => `${quoteIdent(c)} := ${quoteIdent(c)}`).join(', ')})) AS doc,
      NULL::VARCHAR AS rec_reject FROM ${table}`);
  return name;
}

export async function loadGa4Docs(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<string> {
  switch (detection.format) {
    case 'ndjson':
      return fromNdjson(probe, ctx);
    case 'json-array':
      return fromJsonArray(probe, ctx);
    case 'json-object':
      return fromJsonObjects(probe, ctx);
    case 'parquet':
      return fromParquet(probe, ctx);
    default:
      throw new UsageLabError('import_format_unsupported', `${probe.path}: GA4 ${detection.format} files are not supported`, {
        place: { file: probe.path },
        hint: 'export the BigQuery table as newline-delimited JSON or Parquet (BigQuery cannot export nested rows as CSV)',
      });
  }
}
