/**
 * One window's output file: records as gzipped NDJSON, streamed to a temp file (memory stays bounded whatever
 * the window size), hashed on the way out, and renamed into place only when the window is complete.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { redactSecrets } from '../../core/secret-redaction.js';
import { commitTemp, tempPathFor } from './atomic-file.js';
import { stringifyLossless } from './lossless-json.js';

export interface WrittenFile {
  readonly rows: number;
  /** Size of the gzipped file. */
  readonly bytes: number;
  /** sha256 of the gzipped file, hex. */
  readonly sha256: string;
}

export class WindowFileWriter {
  private readonly temp: string;
  private readonly gzip: Gzip;
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private readonly finished: Promise<void>;
  private failure: Error | undefined;
  private rowsWritten = 0;
  private bytesWritten = 0;
  private closed = false;

  constructor(private readonly target: string) {
    this.temp = tempPathFor(target);
    this.gzip = createGzip({ level: 6 });
    this.out = createWriteStream(this.temp);
    this.gzip.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.bytesWritten += chunk.length;
      if (!this.out.write(chunk)) {
        this.gzip.pause();
        this.out.once('drain', () => this.gzip.resume());
      }
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
    };
    this.gzip.on('error', fail);
    this.out.on('error', fail);
    this.finished = new Promise<void>((resolve, reject) => {
      this.gzip.once('end', () => {
        this.out.end();
      });
      this.out.once('close', () => (this.failure === undefined ? resolve() : reject(this.failure)));
      this.out.once('error', reject);
      this.gzip.once('error', reject);
    });
    // Closing without commit (abort) must not surface as an unhandled rejection.
    this.finished.catch(() => undefined);
  }

  get rows(): number {
    return this.rowsWritten;
  }

  /** Compressed bytes produced so far. */
  get bytes(): number {
    return this.bytesWritten;
  }

  /** Appends one record; resolves when the stream can take more (backpressure). */
  async write(record: unknown): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.rowsWritten += 1;
    // A vendor record echoing a credential (a logged config, a debug property) must not carry it to disk.
    if (!this.gzip.write(`${redactSecrets(stringifyLossless(record))}\n`)) await once(this.gzip, 'drain');
  }

  /** Finishes the file and renames it into place. */
  async commit(): Promise<WrittenFile> {
    this.closed = true;
    this.gzip.end();
    await this.finished;
    commitTemp(this.temp, this.target);
    return { rows: this.rowsWritten, bytes: this.bytesWritten, sha256: this.hash.digest('hex') };
  }

  /** Drops the temp file (a failed or empty window). */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.gzip.destroy();
      const closing = this.out.closed ? Promise.resolve() : once(this.out, 'close').then(() => undefined, () => undefined);
      this.out.destroy();
      await closing;
    }
    rmSync(this.temp, { force: true });
  }
}
