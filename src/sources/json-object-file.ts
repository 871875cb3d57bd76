/**
 * Reads a file of one or more (possibly pretty-printed) JSON values with DuckDB's read_json_objects (PostHog query
 * pages, single exported events, GA4 rows saved as JSON). The StageContext has no helper for this shape,
 * so this module does what the helpers do: map DuckDB's failures to errors naming the file, and prove a gzip
 * stream complete (DuckDB reads a truncated gzip silently as the rows before the cut; zlib does not).
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UsageLabError } from '../core/errors.js';
import type { FileProbe, StageContext } from './source-reader.js';

/** Pages of 50k rows with properties run to tens of MB; one value may be this large. */
const MAX_OBJECT_BYTES = 268_435_456;

export function readJsonObjectsSql(probe: FileProbe, ctx: StageContext): string {
  return `read_json_objects(${ctx.literal(probe.path)}, format = 'unstructured',
    compression = ${ctx.literal(probe.compression === 'gzip' ? 'gzip' : 'uncompressed')}, maximum_object_size = ${MAX_OBJECT_BYTES})`;
}

function corrupt(probe: FileProbe, detail: string, cause: unknown): UsageLabError {
  return new UsageLabError('import_file_corrupt', `${probe.path} is truncated or corrupt: ${detail}`, {
    place: { file: probe.path },
    hint: 'download or export the file again; nothing from it was imported',
    cause,
  });
}

async function verifyGzip(probe: FileProbe): Promise<UsageLabError | undefined> {
  if (probe.compression !== 'gzip') return undefined;
  try {
    await pipeline(
      createReadStream(probe.path, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 1 << 20 }),
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
    return undefined;
  } catch (err) {
    return corrupt(probe, (err as Error).message, err);
  }
}

function readError(probe: FileProbe, err: unknown, hint: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const short = message.split('\n')[0] ?? message;
  if (/gzip|zlib|inflate|decompress|unexpected end|truncated/i.test(message)) return corrupt(probe, short, err);
  if (/malformed json|json/i.test(message)) {
    return new UsageLabError('import_file_unreadable', `${probe.path} is not valid JSON: ${short}`, {
      place: { file: probe.path },
      hint,
      cause: err,
    });
  }
  return err;
}

/**
 * Runs `sql` (which reads the file) while zlib checks a gzip stream to its end, concurrently. `hint` says what
 * to do when the file is not valid JSON.
 */
export async function runReadingFile(
  ctx: StageContext,
  probe: FileProbe,
  sql: string,
  hint = 'save the export unchanged, or export newline-delimited JSON instead',
): Promise<void> {
  const verification = verifyGzip(probe);
  try {
    await ctx.run(sql);
  } catch (err) {
    throw (await verification) ?? readError(probe, err, hint);
  }
  const gzipError = await verification;
  if (gzipError !== undefined) throw gzipError;
}
