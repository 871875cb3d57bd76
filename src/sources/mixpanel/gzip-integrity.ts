/**
 * (Same check as amplitude/gzip-integrity.ts; sources may not import each other.)
 * DuckDB's gzip reader stops silently at the end of a truncated stream (measured on DuckDB 1.5.6: half a file
 * reads as half the rows, no error), so a cut-off download would import as if complete. zlib does fail on a
 * missing end of stream, so each gzip input is inflated once more here, beside DuckDB's own read (the two run
 * on different threads, so on 2 cores the check costs little wall time).
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UsageLabError } from '../../core/errors.js';

export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Resolves when `path` is not gzip or inflates to its end; else rejects with import_file_corrupt naming `name`. */
export async function assertCompleteGzip(path: string, name: string): Promise<void> {
  if (!isGzipFile(path)) return;
  const sink = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  try {
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 18 }), sink);
  } catch (err) {
    throw new UsageLabError('import_file_corrupt', `${name} is truncated or corrupt: ${(err as Error).message}`, {
      place: { file: name },
      hint: 'download or export the file again; nothing from it was imported',
      cause: err,
    });
  }
}
