/**
 * JSON inputs brought to one shape, (_line, doc JSON, rec_reject VARCHAR): `doc` is the record when it is a JSON
 * object, else NULL with rec_reject saying so. Shared by readers whose records are plain JSON objects.
 */
import type { FileProbe, StageContext } from './source-reader.js';

/** NDJSON lines; _line is the physical line. */
export async function ndjsonRecords(probe: FileProbe, ctx: StageContext, prefix: string): Promise<string> {
  const lines = await ctx.readNdjsonLines(probe.path);
  const name = ctx.tempName(prefix);
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT _line, doc, CASE WHEN doc IS NULL THEN 'record: not a JSON object' END AS rec_reject FROM ${lines}`);
  return name;
}

/** Elements of a JSON array; _line is the element's position. */
export async function jsonArrayRecords(probe: FileProbe, ctx: StageContext, prefix: string): Promise<string> {
  const elements = await ctx.readJsonArray(probe.path);
  const name = ctx.tempName(prefix);
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT _line, CASE WHEN json_type(doc) = 'OBJECT' THEN doc END AS doc,
      CASE WHEN json_type(doc) IS DISTINCT FROM 'OBJECT' THEN 'record: not a JSON object' END AS rec_reject
    FROM ${elements}`);
  return name;
}
