/**
 * A scratch file for vendor bytes that must be on disk before they can be trusted (a zip read from its central
 * directory, a gzip checked to its trailer, an Avro file walked to its last block, a body whose last line decides
 * whether it is complete). Those bytes are not masked yet, and "PII is masked before anything touches disk", so
 * they are sealed: AES-256-GCM under a random key that exists only in this process's memory. Nothing written
 * here is readable without the key — a spool left behind by a SIGKILL is noise, and the next export run deletes
 * the work folder it sits in.
 *
 * Layout: the plaintext is cut into CHUNK_SIZE chunks; chunk i is stored at i × (CHUNK_SIZE + 28) as
 * [12-byte IV][ciphertext][16-byte tag], sealed with the chunk's index as associated data. Fixed positions make
 * random reads cheap (yauzl reads a zip from its end; the Avro check walks block headers), and the index in the
 * tag means chunks cannot be swapped. Every read is authenticated: a chunk that was changed, cut short or is
 * missing fails with `export_spool_corrupt` (retryable: the window is fetched again). The plaintext size lives in
 * memory too, so a file truncated on a chunk boundary is caught as well.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, read, readSync, rmSync, writev } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { transientError } from './export-errors.js';

export const CHUNK_SIZE = 64 * 1024;
const IV_SIZE = 12;
const TAG_SIZE = 16;
const OVERHEAD = IV_SIZE + TAG_SIZE;
const SEALED_CHUNK = CHUNK_SIZE + OVERHEAD;

let counter = 0;

function indexAad(index: number): Buffer {
  const aad = Buffer.alloc(8);
  aad.writeBigUInt64BE(BigInt(index));
  return aad;
}

/** Positional reads of plaintext: what the Avro check and the zip reader need. */
export interface RandomAccessBytes {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `buffer` at `offset`; returns the bytes read (0 at the end). */
  readAt(buffer: Buffer, offset: number, length: number, position: number): number;
}

type State = 'new' | 'writing' | 'sealed' | 'disposed';

export class SealedSpool implements RandomAccessBytes {
  readonly path: string;
  readonly #key: Buffer = randomBytes(32);
  readonly #fd: number;
  #state: State = 'new';
  #size = 0;
  #chunks = 0;
  /** The last chunk decrypted: readers ask for small pieces in order (headers, varints). */
  #cached: { index: number; plain: Buffer } | undefined;

  /** Creates an empty spool file in `dir` (owner-only permissions); `label` names it for humans. */
  constructor(dir: string, label: string) {
    counter += 1;
    this.path = join(dir, `${label.replace(/[^\w.-]/g, '_')}.${process.pid}-${counter}.sealed`);
    this.#fd = openSync(this.path, 'wx+', 0o600);
  }

  /** Plaintext bytes written. */
  get size(): number {
    return this.#size;
  }

  /** Bytes on disk (ciphertext, IVs and tags). */
  get sealedSize(): number {
    return this.#chunks * OVERHEAD + this.#size;
  }

  /**
   * The sink to write the plaintext into, once; the spool is readable after the sink's 'finish'. Only whole
   * chunks reach the disk until the end, so at most CHUNK_SIZE bytes wait in memory.
   */
  writer(): Writable {
    if (this.#state !== 'new') throw this.#misuse('writer() is called once, on a new spool');
    this.#state = 'writing';
    let pending = Buffer.alloc(CHUNK_SIZE);
    let filled = 0;
    // Chunks are sealed (and counted) before their bytes are written, so a batch's position is taken first.
    const flush = ({ position, buffers }: { position: number; buffers: Buffer[] }, done: (err?: Error | null) => void): void => {
      if (buffers.length === 0) {
        done();
        return;
      }
      let bytes = 0;
      for (const b of buffers) bytes += b.length;
      writev(this.#fd, buffers, position, (err, written) => {
        if (err === null && written !== bytes) err = new Error(`short write to ${this.path} (${written} of ${bytes} bytes)`);
        if (err !== null) {
          done(err);
          return;
        }
        done();
      });
    };
    const take = (chunk: Buffer): { position: number; buffers: Buffer[] } => {
      const position = this.sealedSize;
      const out: Buffer[] = [];
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(CHUNK_SIZE - filled, chunk.length - at);
        chunk.copy(pending, filled, at, at + n);
        filled += n;
        at += n;
        if (filled === CHUNK_SIZE) {
          out.push(...this.#seal(pending));
          pending = Buffer.alloc(CHUNK_SIZE);
          filled = 0;
        }
      }
      return { position, buffers: out };
    };
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => flush(take(chunk), done),
      final: (done) => {
        const position = this.sealedSize;
        const last = filled > 0 ? this.#seal(pending.subarray(0, filled)) : [];
        pending.fill(0);
        flush({ position, buffers: last }, (err) => {
          if (err == null) this.#state = 'sealed';
          done(err);
        });
      },
      destroy: (err, done) => {
        pending.fill(0);
        done(err);
      },
    });
  }

  /** Writes `data` and seals the spool (small bodies, tests). */
  async writeAll(data: Buffer): Promise<void> {
    const sink = this.writer();
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.end(data, () => resolve());
    });
  }

  readAt(buffer: Buffer, offset: number, length: number, position: number): number {
    this.#mustBeSealed();
    const end = Math.min(this.#size, position + length);
    let copied = 0;
    for (let at = Math.max(0, position); at < end; ) {
      const index = Math.floor(at / CHUNK_SIZE);
      const plain = this.#chunk(index, this.#readSealed(index));
      const from = at - index * CHUNK_SIZE;
      const n = Math.min(plain.length - from, end - at);
      plain.copy(buffer, offset + copied, from, from + n);
      copied += n;
      at += n;
    }
    return copied;
  }

  /** The plaintext from `start` (inclusive) to `end` (exclusive), chunk by chunk, read without blocking. */
  stream(start = 0, end = this.#size): Readable {
    this.#mustBeSealed();
    return Readable.from(this.#plainChunks(Math.max(0, start), Math.min(end, this.#size)), { objectMode: false });
  }

  async *#plainChunks(start: number, stop: number): AsyncGenerator<Buffer> {
    for (let at = start; at < stop; ) {
      const index = Math.floor(at / CHUNK_SIZE);
      const plain = this.#chunk(index, await this.#readSealedAsync(index));
      const from = at - index * CHUNK_SIZE;
      const n = Math.min(plain.length - from, stop - at);
      // A copy: the cached chunk is reused by later reads.
      yield Buffer.from(plain.subarray(from, from + n));
      at += n;
    }
  }

  /** Closes and deletes the file, and forgets the key. Safe to call twice. */
  dispose(): void {
    if (this.#state === 'disposed') return;
    this.#state = 'disposed';
    this.#cached?.plain.fill(0);
    this.#cached = undefined;
    this.#key.fill(0);
    try {
      closeSync(this.#fd);
    } finally {
      rmSync(this.path, { force: true });
    }
  }

  #seal(plain: Buffer): Buffer[] {
    const iv = randomBytes(IV_SIZE);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(indexAad(this.#chunks));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    this.#chunks += 1;
    this.#size += plain.length;
    return [iv, body, cipher.getAuthTag()];
  }

  #sealedLength(index: number): number {
    return Math.min(CHUNK_SIZE, this.#size - index * CHUNK_SIZE) + OVERHEAD;
  }

  #readSealed(index: number): Buffer {
    if (this.#cached?.index === index) return Buffer.alloc(0);
    const want = this.#sealedLength(index);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.#fd, buf, got, want - got, index * SEALED_CHUNK + got);
      if (n === 0) break;
      got += n;
    }
    return got === want ? buf : buf.subarray(0, got);
  }

  #readSealedAsync(index: number): Promise<Buffer> {
    const want = this.#sealedLength(index);
    const buf = Buffer.alloc(want);
    return new Promise((resolve, reject) => {
      const step = (got: number): void => {
        if (got === want) return resolve(buf);
        read(this.#fd, buf, got, want - got, index * SEALED_CHUNK + got, (err, n) => {
          if (err !== null) reject(err);
          else if (n === 0) resolve(buf.subarray(0, got));
          else step(got + n);
        });
      };
      step(0);
    });
  }

  /** Authenticates and decrypts chunk `index` (`sealed` empty: it is the cached one). */
  #chunk(index: number, sealed: Buffer): Buffer {
    if (this.#cached?.index === index) return this.#cached.plain;
    if (this.#state !== 'sealed') throw this.#misuse('the spool was disposed while it was being read');
    if (sealed.length !== this.#sealedLength(index)) throw this.#corrupt(index, `it holds ${sealed.length} of ${this.#sealedLength(index)} bytes`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, IV_SIZE));
    decipher.setAAD(indexAad(index));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_SIZE, sealed.length - TAG_SIZE)), decipher.final()]);
    } catch {
      throw this.#corrupt(index, 'its authentication tag does not match');
    }
    this.#cached = { index, plain };
    return plain;
  }

  #mustBeSealed(): void {
    if (this.#state !== 'sealed') throw this.#misuse(this.#state === 'disposed' ? 'the spool was disposed' : 'the spool is read before its writer finished');
  }

  #corrupt(index: number, why: string): UsageLabError {
    return transientError('export_spool_corrupt', `the sealed download ${this.path} is damaged: chunk ${index} ${why}`, {
      hint: 'the temporary file was changed or cut on disk while it was read (a disk error, or another process); the window is fetched again',
      place: { file: this.path },
    });
  }

  #misuse(what: string): UsageLabError {
    return new UsageLabError('internal_error', `sealed spool ${this.path}: ${what}`, { exitCode: EXIT.internal });
  }
}

/**
 * Streams `stages` (a body, then any transforms) into a new spool in `dir` and returns it sealed; on failure the
 * spool is deleted and the error passed on. One spool per attempt: a retried request starts a new one.
 */
export async function spoolStream(
  dir: string,
  label: string,
  stages: readonly [NodeJS.ReadableStream, ...NodeJS.ReadWriteStream[]],
  signal?: AbortSignal,
): Promise<SealedSpool> {
  const spool = new SealedSpool(dir, label);
  try {
    await pipeline([...stages, spool.writer()], signal === undefined ? {} : { signal });
    return spool;
  } catch (err) {
    spool.dispose();
    throw err;
  }
}
