import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageLabError } from '../../core/errors.js';
import { CHUNK_SIZE, SealedSpool } from './sealed-spool.js';

let dir: string;
const open: SealedSpool[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'usagelab-spool-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function spool(): SealedSpool {
  const s = new SealedSpool(dir, 'test body');
  open.push(s);
  return s;
}

/** Bytes whose value at i is a function of i, so any misplaced byte shows. */
function pattern(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Writes `data` through the writer in pieces of `piece` bytes (crossing chunk edges at odd places). */
async function writeInPieces(s: SealedSpool, data: Buffer, piece: number): Promise<void> {
  const w = s.writer();
  for (let at = 0; at < data.length; at += piece) {
    if (!w.write(data.subarray(at, at + piece))) await new Promise((r) => w.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.end(() => resolve());
  });
}

describe('sealed spool', () => {
  const length = 3 * CHUNK_SIZE + 12_345;

  it('round-trips sequential reads, whole and from an offset', async () => {
    const data = pattern(length);
    const s = spool();
    await writeInPieces(s, data, 10_007);
    expect(s.size).toBe(length);
    // Four chunks, each with a 12-byte IV and a 16-byte tag.
    expect(statSync(s.path).size).toBe(length + 4 * 28);
    expect(s.sealedSize).toBe(length + 4 * 28);
    expect((await readAll(s.stream())).equals(data)).toBe(true);
    expect((await readAll(s.stream(CHUNK_SIZE - 5, 2 * CHUNK_SIZE + 7))).equals(data.subarray(CHUNK_SIZE - 5, 2 * CHUNK_SIZE + 7))).toBe(true);
    expect((await readAll(s.stream(length - 3))).equals(data.subarray(length - 3))).toBe(true);
  });

  it('answers random reads at any offset, across chunk edges and at the end', async () => {
    const data = pattern(length);
    const s = spool();
    await s.writeAll(data);
    const cases: [number, number][] = [
      [0, 1],
      [CHUNK_SIZE - 1, 2],
      [2 * CHUNK_SIZE - 10, CHUNK_SIZE + 20],
      [length - 100, 100],
      [17, 3 * CHUNK_SIZE],
      [3 * CHUNK_SIZE, 1],
    ];
    for (const [position, n] of cases) {
      const buf = Buffer.alloc(n + 4);
      expect(s.readAt(buf, 4, n, position)).toBe(n);
      expect(buf.subarray(4).equals(data.subarray(position, position + n))).toBe(true);
    }
    // Past the end: what is there, then nothing.
    const tail = Buffer.alloc(50);
    expect(s.readAt(tail, 0, 50, length - 20)).toBe(20);
    expect(tail.subarray(0, 20).equals(data.subarray(length - 20))).toBe(true);
    expect(s.readAt(tail, 0, 50, length)).toBe(0);
  });

  it('keeps an empty body and a body of exactly one chunk', async () => {
    const empty = spool();
    await empty.writeAll(Buffer.alloc(0));
    expect(empty.size).toBe(0);
    expect(statSync(empty.path).size).toBe(0);
    expect((await readAll(empty.stream())).length).toBe(0);
    const one = spool();
    const data = pattern(CHUNK_SIZE);
    await one.writeAll(data);
    expect(statSync(one.path).size).toBe(CHUNK_SIZE + 28);
    expect((await readAll(one.stream())).equals(data)).toBe(true);
  });

  it('writes no plaintext: a planted value is nowhere in the file', async () => {
    const planted = 'jane.planted@example.com';
    const text = Buffer.from(`${'{"event":"x","email":"jane.planted@example.com"}\n'.repeat(5_000)}`);
    const s = spool();
    await s.writeAll(text);
    const onDisk = readFileSync(s.path);
    expect(onDisk.length).toBe(text.length + Math.ceil(text.length / CHUNK_SIZE) * 28);
    expect(onDisk.includes(planted)).toBe(false);
    expect(onDisk.includes('"event"')).toBe(false);
    expect((await readAll(s.stream())).equals(text)).toBe(true);
  });

  it('fails a read of a changed byte, sequential and random', async () => {
    const data = pattern(length);
    const s = spool();
    await s.writeAll(data);
    // Flip one ciphertext byte in the third chunk.
    const fd = openSync(s.path, 'r+');
    const at = 2 * (CHUNK_SIZE + 28) + 12 + 1000;
    const byte = Buffer.alloc(1);
    byte[0] = readFileSync(s.path)[at]! ^ 0x01;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
    // Chunks before it still read.
    const head = Buffer.alloc(100);
    expect(s.readAt(head, 0, 100, CHUNK_SIZE)).toBe(100);
    expect(() => s.readAt(Buffer.alloc(10), 0, 10, 2 * CHUNK_SIZE + 5)).toThrow(/chunk 2 its authentication tag does not match/);
    await expect(readAll(s.stream())).rejects.toMatchObject({ code: 'export_spool_corrupt', retryable: true });
  });

  it('fails when chunks are swapped (the index is authenticated)', async () => {
    const data = pattern(2 * CHUNK_SIZE);
    const s = spool();
    await s.writeAll(data);
    const disk = readFileSync(s.path);
    const first = disk.subarray(0, CHUNK_SIZE + 28);
    const second = disk.subarray(CHUNK_SIZE + 28);
    const fd = openSync(s.path, 'r+');
    writeSync(fd, Buffer.concat([second, first]), 0, disk.length, 0);
    closeSync(fd);
    let caught: unknown;
    try {
      s.readAt(Buffer.alloc(1), 0, 1, 0);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageLabError);
    expect((caught as UsageLabError).code).toBe('export_spool_corrupt');
  });

  it('fails when the file is cut short, inside a chunk or on a chunk edge', async () => {
    const data = pattern(length);
    const inside = spool();
    await inside.writeAll(data);
    truncateSync(inside.path, statSync(inside.path).size - 7);
    expect(() => inside.readAt(Buffer.alloc(10), 0, 10, length - 10)).toThrow(/chunk 3 it holds 12366 of 12373 bytes/);
    await expect(readAll(inside.stream())).rejects.toMatchObject({ code: 'export_spool_corrupt' });

    const edge = spool();
    await edge.writeAll(data);
    truncateSync(edge.path, 3 * (CHUNK_SIZE + 28));
    expect(() => edge.readAt(Buffer.alloc(10), 0, 10, length - 10)).toThrow(/chunk 3 it holds 0 of 12373 bytes/);
  });

  it('a second spool cannot read the first one’s file (each has its own key)', async () => {
    const a = spool();
    const b = spool();
    const data = pattern(1000);
    await a.writeAll(data);
    await b.writeAll(pattern(1000).fill(7));
    const fd = openSync(b.path, 'r+');
    writeSync(fd, readFileSync(a.path), 0, 1000 + 28, 0);
    closeSync(fd);
    expect(() => b.readAt(Buffer.alloc(1), 0, 1, 0)).toThrow(/authentication tag/);
  });

  it('refuses reads before the writer finished and after dispose; dispose deletes the file', async () => {
    const s = spool();
    const w = s.writer();
    w.write(pattern(10));
    expect(() => s.readAt(Buffer.alloc(1), 0, 1, 0)).toThrow(/before its writer finished/);
    expect(() => s.writer()).toThrow(/called once/);
    await new Promise<void>((resolve) => w.end(() => resolve()));
    expect(s.readAt(Buffer.alloc(1), 0, 1, 0)).toBe(1);
    s.dispose();
    expect(existsSync(s.path)).toBe(false);
    expect(() => s.readAt(Buffer.alloc(1), 0, 1, 0)).toThrow(/disposed/);
    s.dispose();
  });
});
