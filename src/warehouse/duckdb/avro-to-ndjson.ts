/**
 * Converts Avro object-container files (Heap Connect writes them, snappy-compressed) to NDJSON that DuckDB then
 * parses. Longs become exact decimal strings (ids beyond 2^53 must stay exact), bytes become base64.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import avro from 'avsc';
import { AVRO_DECODERS } from '../../core/avro-codecs.js';
import { UsageLabError } from '../../core/errors.js';
import { exactLong } from '../../core/avro-exact-long.js';

const longHook = (schema: unknown) =>
  schema === 'long' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long') ? exactLong : undefined;

function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v);
    return out;
  }
  return value;
}

/** Appends every record of each Avro file to `outPath` as one JSON line; returns the record count. */
export async function avroFilesToNdjson(paths: readonly string[], outPath: string): Promise<number> {
  const out = createWriteStream(outPath);
  let count = 0;
  try {
    for (const path of paths) {
      // avsc's BlockDecoder ignores typeHook (it calls Type.forSchema(schema) without options); parseHook may
      // return a ready Type, so the writer schema is built here with the exact-long hook.
      const decoder = avro.createFileDecoder(path, { codecs: AVRO_DECODERS, parseHook: (schema: unknown) => avro.Type.forSchema(schema as never, { typeHook: longHook } as never) } as never);
      try {
        for await (const record of decoder as AsyncIterable<unknown>) {
          if (!out.write(JSON.stringify(toJsonSafe(record)) + '\n')) await once(out, 'drain');
          count++;
        }
      } catch (err) {
        throw new UsageLabError('import_file_corrupt', `${path}: not a readable Avro file (${(err as Error).message})`, {
          place: { file: path },
          hint: 'the file is truncated or corrupt; re-sync it from Heap Connect',
          cause: err,
        });
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return count;
}
