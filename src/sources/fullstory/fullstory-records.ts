/**
 * Loads any FullStory container (NDJSON, JSON array, CSV, Parquet) as one shape: (_line BIGINT, doc JSON), doc
 * NULL when the record is not a JSON object. The staging SQL of each layout is then written once, over `doc`.
 * CSV and Parquet rows become objects via to_json, with empty cells dropped, so that an absent field and an
 * empty CSV cell read the same (the Segment Export omits zero-valued fields in JSON but not in CSV).
 */
import type { FileProbe, StageContext } from '../source-reader.js';
import { UsageLabError } from '../../core/errors.js';

export async function loadFullstoryRecords(probe: FileProbe, ctx: StageContext): Promise<string> {
  const out = ctx.tempName('fullstory_records');
  let select: string;
  switch (probe.format) {
    case 'ndjson': {
      const rel = await ctx.readNdjsonLines(probe.path);
      select = `SELECT _line, doc FROM ${rel}`;
      break;
    }
    case 'json-array': {
      const rel = await readJsonArray(probe, ctx);
      select = `SELECT _line, CASE WHEN json_type(doc) = 'OBJECT' THEN doc END AS doc FROM ${rel}`;
      break;
    }
    case 'csv':
    case 'parquet': {
      const rel = probe.format === 'csv' ? await ctx.readCsv(probe.path) : await ctx.readParquet(probe.path);
      // Patching {} with the row drops null cells; the last patch removes the helper's own _line column.
      select = `SELECT r._line, json_merge_patch('{}', to_json(r), '{"_line":null}') AS doc FROM ${rel} AS r`;
      break;
    }
    default:
      throw new UsageLabError('import_format_unsupported', `${probe.displayName} is not a FullStory export usagelab can read`, {
        place: { file: probe.path, source: 'fullstory' },
        hint: 'export FullStory events as FORMAT_JSON, FORMAT_NDJSON or FORMAT_CSV, or the events table as CSV, NDJSON or Parquet',
      });
  }
  await ctx.run(`CREATE OR REPLACE TEMP TABLE ${out} AS ${select}`);
  return out;
}

/**
 * ctx.readJsonArray passes compression = 'none', which this DuckDB version rejects for read_json_objects (it
 * wants 'uncompressed'); gzip files are unaffected. Until the helper is fixed, an uncompressed array is read
 * here with the same query shape. Remove this fallback once readJsonArray reads plain arrays.
 */
async function readJsonArray(probe: FileProbe, ctx: StageContext): Promise<string> {
  try {
    return await ctx.readJsonArray(probe.path);
  } catch (err) {
    if (!/FileCompressionType/.test(errorText(err))) throw err;
  }
  const name = ctx.tempName('fullstory_array');
  try {
    await ctx.run(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT row_number() OVER () AS _line, json AS doc
      FROM read_json_objects(${ctx.literal(probe.path)}, format = 'array', compression = 'uncompressed', maximum_object_size = 16777216)`);
  } catch (err) {
    throw new UsageLabError('import_file_unreadable', `${probe.displayName} could not be read as a JSON array: ${errorText(err).split('\n')[0]}`, {
      place: { file: probe.path, source: 'fullstory' },
      hint: 'check that the file is a complete FullStory FORMAT_JSON export (one JSON array of events)',
      cause: err,
    });
  }
  return name;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.length > 0 ? parts.join('\n') : String(err);
}
