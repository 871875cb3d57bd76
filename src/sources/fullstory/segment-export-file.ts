/**
 * The records of one downloaded Segment Export file, whatever format it was requested in: FORMAT_NDJSON (one
 * object per line), FORMAT_JSON (one array) or FORMAT_CSV (header row; every value text). FullStory delivers the
 * file gzipped; a file that arrives already inflated (a download served with Content-Encoding: gzip) is read as
 * is. The records stream one at a time, so memory stays bounded whatever the export's size.
 *
 * Completeness: gzip is inflated strictly (its trailer carries a CRC and the length, so a cut-off file fails),
 * then the format must end properly (the array's closing bracket, a whole last line, no open quote).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { transientError } from '../export/export-errors.js';
import { csvObjects } from '../export/csv-stream.js';
import type { VendorRecord } from '../export/exporter.js';
import { jsonArrayRecords } from '../export/json-array-stream.js';
import { ndjsonRecords } from '../export/ndjson-stream.js';
import type { SealedSpool } from '../export/sealed-spool.js';

export type SegmentExportFormat = 'ndjson' | 'json' | 'csv';

export function startsWithGzipMagic(file: SealedSpool): boolean {
  const magic = Buffer.alloc(2);
  return file.readAt(magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
}

/** The file's bytes, inflated when gzipped; inflate errors surface as a truncated body. */
function openInflated(file: SealedSpool, what: string): Readable {
  const raw = file.stream();
  if (!startsWithGzipMagic(file)) return raw;
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  raw.once('error', (err) => gunzip.destroy(err));
  gunzip.once('error', () => raw.destroy());
  const out = raw.pipe(gunzip);
  // zlib's own error text ("unexpected end of file") gets the window's name and a retryable code.
  const wrapped = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of out) yield chunk as Buffer;
    } catch (err) {
      throw transientError('export_body_truncated', `${what}: the gzip file is truncated or corrupt (${(err as Error).message})`, {
        hint: 'the download was cut off; it is fetched again',
        cause: err,
      });
    }
  };
  return Readable.from(wrapped(), { objectMode: false });
}

/** The records of the downloaded file, read from its sealed spool (it never lies on disk in clear). */
export async function* segmentExportRecords(file: SealedSpool, format: SegmentExportFormat, what: string): AsyncGenerator<VendorRecord> {
  const stream = openInflated(file, what);
  try {
    if (format === 'ndjson') yield* ndjsonRecords(stream, { what });
    else if (format === 'json') yield* jsonArrayRecords(stream, { what });
    else yield* csvObjects(stream, { what });
  } finally {
    stream.destroy();
  }
}
