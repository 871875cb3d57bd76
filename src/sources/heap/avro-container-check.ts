/**
 * Walks the framing of an Avro object-container file (header, then blocks each closed by the sync marker) without
 * decoding records. avsc's BlockDecoder ends silently on a partial trailing block or an incomplete header, so a
 * truncated download would import part of a file without a word; this check makes it an error naming the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageLabError } from '../../core/errors.js';
import type { RandomAccessBytes } from '../export/sealed-spool.js';

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_SIZE = 16;
const SUPPORTED_CODECS = new Set(['null', 'deflate', 'snappy']);

export interface AvroContainerInfo {
  readonly codec: string;
  readonly schema: unknown;
  readonly blocks: number;
  readonly records: number;
}

class Truncated extends Error {}

/** Positional reader over the bytes; reads past the end throw Truncated. */
class Cursor {
  pos = 0;
  readonly size: number;
  constructor(private readonly source: RandomAccessBytes) {
    this.size = source.size;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.size) throw new Truncated();
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = this.source.readAt(buf, got, n - got, this.pos + got);
      if (r === 0) throw new Truncated();
      got += r;
    }
    this.pos += n;
    return buf;
  }

  /** Avro long: zig-zag varint. Numbers suffice here (counts and sizes). */
  long(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.bytes(1)[0]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error('malformed varint');
    }
    return Number((result >> 1n) ^ -(result & 1n));
  }
}

function readHeaderMeta(cur: Cursor): Map<string, Buffer> {
  const meta = new Map<string, Buffer>();
  for (;;) {
    let count = cur.long();
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      cur.long(); // block size in bytes, not needed
    }
    for (let i = 0; i < count; i++) {
      const key = cur.bytes(cur.long()).toString('utf8');
      meta.set(key, cur.bytes(cur.long()));
    }
  }
  return meta;
}

/**
 * Checks the container end to end — a file at `source`, or bytes held elsewhere (an export's sealed spool);
 * throws a UsageLabError naming `displayPath` when it is not complete.
 */
export function checkAvroContainer(source: string | RandomAccessBytes, displayPath: string): AvroContainerInfo {
  if (typeof source !== 'string') return checkBytes(source, displayPath);
  const fd = openSync(source, 'r');
  try {
    const size = fstatSync(fd).size;
    return checkBytes({ size, readAt: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position) }, displayPath);
  } finally {
    closeSync(fd);
  }
}

function checkBytes(source: RandomAccessBytes, displayPath: string): AvroContainerInfo {
  const size = source.size;
  if (size === 0) {
    throw new UsageLabError('import_file_empty', `${displayPath} is empty (0 bytes)`, {
      place: { file: displayPath },
      hint: 'an Avro file always has a header: download the sync folder again',
    });
  }
  const cur = new Cursor(source);
  let meta: Map<string, Buffer>;
  let sync: Buffer;
  let blocks = 0;
  let records = 0;
  let headerRead = false;
  try {
    if (!cur.bytes(Math.min(MAGIC.length, size)).equals(MAGIC)) {
      throw new UsageLabError('import_file_corrupt', `${displayPath} is not an Avro object-container file (no "Obj" magic bytes)`, {
        place: { file: displayPath },
        hint: 'Heap Connect writes Avro files; download the sync folder again',
      });
    }
    meta = readHeaderMeta(cur);
    sync = cur.bytes(SYNC_SIZE);
    headerRead = true;
    while (cur.pos < size) {
      const count = cur.long();
      const blockSize = cur.long();
      if (count < 0 || blockSize < 0) throw new Error(`negative block count or size at byte ${cur.pos}`);
      cur.pos += blockSize;
      if (cur.pos + SYNC_SIZE > size) throw new Truncated();
      if (!cur.bytes(SYNC_SIZE).equals(sync)) throw new Error(`sync marker mismatch after block ${blocks + 1}`);
      blocks++;
      records += count;
    }
  } catch (err) {
    if (err instanceof UsageLabError) throw err;
    const detail = err instanceof Truncated ? `it ends inside ${headerRead ? `block ${blocks + 1}` : 'the header'} (${size} bytes)` : (err as Error).message;
    throw new UsageLabError('import_file_corrupt', `${displayPath} is truncated or corrupt: ${detail}`, {
      place: { file: displayPath },
      hint: 'download the file again (e.g. `aws s3 sync` the sync folder); nothing from this import was written',
      cause: err,
    });
  }
  const codec = meta.get('avro.codec')?.toString('utf8') || 'null';
  if (!SUPPORTED_CODECS.has(codec)) {
    throw new UsageLabError('import_format_unsupported', `${displayPath} uses the Avro codec "${codec}", which usagelab cannot read`, {
      place: { file: displayPath },
      hint: 'supported Avro codecs: null, deflate, snappy',
    });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(meta.get('avro.schema')?.toString('utf8') ?? 'null');
  } catch {
    schema = undefined;
  }
  if (schema === null || schema === undefined) {
    throw new UsageLabError('import_file_corrupt', `${displayPath} has no readable Avro schema in its header`, {
      place: { file: displayPath },
      hint: 'download the file again',
    });
  }
  return { codec, schema, blocks, records };
}
