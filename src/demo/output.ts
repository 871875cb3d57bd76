/**
 * Streaming output for the demo writers: gzip text files written in bounded chunks (compression runs on libuv's
 * thread pool, in parallel with generation), and time buckets that hold a day's records until every visit that
 * could still add to the day has been simulated.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';

/**
 * zlib level 2: compression of ~1 GB of JSON is the largest cost of a default run, and levels 1-3 (deflate_fast)
 * run about twice as fast as the default 6 for files only ~25% larger.
 */
export const GZIP_LEVEL = 2;
/**
 * Text handed to the compressor at a time. Below V8's large-object size (128 KiB): a larger chunk is joined into a
 * string of its own mapped memory and converted into a buffer above glibc's mmap threshold, both page-faulted in
 * afresh every time (512 Ki characters: 375k page faults in the demo's generation; 60 Ki: 245-260k).
 */
const CHUNK_CHARS = 60 * 1024;
/**
 * How much may wait for the compressor before a writer pauses. zlib streams report "full" at 16 KiB; waiting
 * then would run compression and generation in turn instead of side by side on the two cores.
 */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class GzipTextFile {
  private readonly gzip: Gzip;
  private readonly out: WriteStream;
  private pending: string[] = [];
  private pendingChars = 0;
  private failed: Error | undefined;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.gzip = createGzip({ level: GZIP_LEVEL, chunkSize: 256 * 1024 });
    this.out = createWriteStream(path);
    this.gzip.pipe(this.out);
    const fail = (err: Error): void => {
      this.failed ??= err;
    };
    this.gzip.on('error', fail);
    this.out.on('error', fail);
  }

  /**
   * Queues text; once enough is queued it goes to the compressor, and a promise is returned when the caller must
   * wait for the stream to drain (undefined otherwise, so the common case costs no await).
   */
  write(text: string): Promise<void> | undefined {
    this.pending.push(text);
    this.pendingChars += text.length;
    return this.pendingChars >= CHUNK_CHARS ? this.drain() : undefined;
  }

  private async drain(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    this.gzip.write(chunk);
    while (this.gzip.writableLength > MAX_BUFFERED_BYTES) {
      await once(this.gzip, 'drain');
      if (this.failed) throw this.failed;
    }
  }

  async close(): Promise<void> {
    await this.drain();
    const closed = once(this.out, 'close');
    this.gzip.end();
    await closed;
    if (this.failed) throw this.failed;
  }
}

/**
 * Records waiting to be written, released in time order once the simulation's watermark passes them (every
 * visit that could still add an earlier record has been simulated). Holding records for about an hour rather
 * than a day keeps them out of V8's old generation, which matters at a million records. Ties keep insertion
 * order, so the output is deterministic.
 */
export class TimeOrderedQueue<T> {
  private pending: { t: number; n: number; item: T }[] = [];
  private n = 0;

  push(t: number, item: T): void {
    this.pending.push({ t, n: this.n++, item });
  }

  /** Removes and returns, in time order, the entries before `watermark` (all of them for +Infinity). */
  take(watermark: number): readonly { readonly t: number; readonly item: T }[] {
    if (this.pending.length === 0) return [];
    this.pending.sort((x, y) => x.t - y.t || x.n - y.n);
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.t < watermark) i++;
    const out = this.pending.slice(0, i);
    this.pending = this.pending.slice(i);
    return out;
  }
}

/**
 * Lines streamed into a sequence of gzip files, one open at a time: NDJSON (a line per record) or a JSON array
 * (FullStory's FORMAT_JSON). Records arrive in time order, so a file is finished when the next name comes.
 */
export class RollingGzipFiles {
  private file: GzipTextFile | undefined;
  private name = '';
  private lines = 0;
  readonly files: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly layout: 'ndjson' | 'json-array',
    /** Applied to each record (JSON text) before it is written: PII masking (record-masking.ts). */
    private readonly mask?: (line: string) => string,
  ) {}

  write(name: string, record: string): Promise<void> | undefined {
    if (name !== this.name) return this.switchTo(name).then(() => this.write(name, record));
    const line = this.mask === undefined ? record : this.mask(record);
    const text = this.layout === 'ndjson' ? `${line}\n` : this.lines === 0 ? `[${line}` : `,\n${line}`;
    this.lines++;
    return this.file!.write(text);
  }

  private async switchTo(name: string): Promise<void> {
    await this.close();
    this.name = name;
    this.lines = 0;
    this.files.push(name);
    this.file = new GzipTextFile(join(this.dir, name));
  }

  /** Writes a file with no records (an empty array / an empty file). */
  async writeEmpty(name: string): Promise<void> {
    await this.switchTo(name);
    await this.close();
  }

  async close(): Promise<void> {
    const file = this.file;
    if (file === undefined) return;
    this.file = undefined;
    this.name = '';
    if (this.layout === 'json-array') await file.write(this.lines === 0 ? '[]\n' : ']\n');
    await file.close();
  }
}

/** Ensures the parent folder exists. */
export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}
