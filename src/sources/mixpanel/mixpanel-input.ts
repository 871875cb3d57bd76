/**
 * Loads a Mixpanel input into one relation (_line BIGINT, doc JSON): the raw export's NDJSON (gzip or not), or
 * pretty-printed / concatenated JSON objects (a record saved by hand or by a client that re-indents). The
 * export stream may end with a literal `terminated early` line when Mixpanel cut it short: that line is
 * dropped and the file marked partial (vendor-export-apis.md §3.3).
 */
import type { FileProbe, StageContext } from '../source-reader.js';
import { UsageLabError } from '../../core/errors.js';
import { assertCompleteGzip } from './gzip-integrity.js';

const TERMINATED_EARLY = 'terminated early';
/** One record may be large (long property lists); DuckDB's default cap is 16 MB. */
const MAX_OBJECT_BYTES = 268_435_456;

/**
 * The StageContext has no helper for concatenated multi-line objects, so its error mapping and its gzip
 * completeness check (DuckDB reads a truncated gzip stream without complaint) are repeated here.
 */
async function readJsonObjects(probe: FileProbe, ctx: StageContext): Promise<string> {
  const name = ctx.tempName('mixpanel_objects');
  const read = ctx.run(`CREATE OR REPLACE TEMP TABLE ${name} AS
      SELECT row_number() OVER () AS _line, CASE WHEN json_type(json) = 'OBJECT' THEN json END AS doc
      FROM read_json_objects(${ctx.literal(probe.path)}, format = 'unstructured',
        compression = ${ctx.literal(probe.compression === 'gzip' ? 'gzip' : 'uncompressed')}, maximum_object_size = ${MAX_OBJECT_BYTES})`);
  // Both settle before either error is reported, so no statement is left running; truncation is the clearer one.
  const [loaded, complete] = await Promise.allSettled([read, assertCompleteGzip(probe.path, probe.path)]);
  if (complete.status === 'rejected') throw complete.reason;
  if (loaded.status === 'rejected') {
    const err: unknown = loaded.reason;
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageLabError('import_file_unreadable', `${probe.path} is not a sequence of JSON objects: ${message.split('\n')[0] ?? message}`, {
      place: { file: probe.path },
      hint: 'save the export body unchanged (one JSON object per line), or fix the JSON at the position named',
      cause: err,
    });
  }
  return name;
}

/** Drops the `terminated early` marker lines, marking the file partial when there is one. */
async function withoutTerminationMarker(probe: FileProbe, lines: string, ctx: StageContext): Promise<string> {
  // The byte-length guard keeps trim() off long lines (it scans the whole string).
  const marker = `doc IS NULL AND strlen(line) < 64 AND trim(line) = ${ctx.literal(TERMINATED_EARLY)}`;
  const found = await ctx.all<{ line: string }>(`SELECT _line AS line FROM ${lines} WHERE ${marker} ORDER BY _line LIMIT 1`);
  if (found.length === 0) return lines;
  ctx.markPartial(`${probe.path}: Mixpanel ended the export early ("${TERMINATED_EARLY}" at line ${found[0]!.line}); export the range again for the missing events`);
  const name = ctx.tempName('mixpanel_lines');
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT _line, doc FROM ${lines} WHERE NOT (${marker})`);
  return name;
}

/** Loads the input and returns the relation (_line BIGINT, doc JSON); doc is NULL for unreadable records. */
export async function loadMixpanelInput(probe: FileProbe, format: string, ctx: StageContext): Promise<string> {
  if (format === 'json-object') return readJsonObjects(probe, ctx);
  // The helper verifies a gzip body to its end: a truncated download fails here with import_file_corrupt.
  return withoutTerminationMarker(probe, await ctx.readNdjsonLines(probe.path), ctx);
}
