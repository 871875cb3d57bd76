import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageLabError } from '../core/errors.js';
import { zipMemberStreams } from './zip-archive.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ul-zip-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function collect(path: string, skip: (name: string) => boolean = () => false): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const { name, stream } of zipMemberStreams(path)) {
    if (skip(name)) {
      stream.resume();
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    out.push([name, Buffer.concat(chunks).toString('utf8')]);
  }
  return out;
}

describe('zipMemberStreams', () => {
  it('streams every member in archive order, stored or deflated, without writing anything to disk', async () => {
    const path = join(dir, 'export.zip');
    writeFileSync(path, zipSync({ 'a/': {}, 'a/1.json': [text('{"n":1}\n'), { level: 0 }], 'a/2.json': [text('{"n":2}\n'.repeat(100)), { level: 6 }], 'notes.txt': text('hi') }));
    const members = await collect(path);
    expect(members.map(([n]) => n)).toEqual(['a/1.json', 'a/2.json', 'notes.txt']);
    expect(members[1]![1]).toBe('{"n":2}\n'.repeat(100));
    expect(readdirSync(dir)).toEqual(['export.zip']);
  });

  it('goes on to the next member when the caller skips one', async () => {
    const path = join(dir, 'export.zip');
    writeFileSync(path, zipSync({ 'skip.bin': text('x'.repeat(200_000)), 'keep.json': text('{}') }));
    expect(await collect(path, (n) => n === 'skip.bin')).toEqual([['keep.json', '{}']]);
  });

  it('fails on a truncated archive with import_file_corrupt naming it', async () => {
    const path = join(dir, 'cut.zip');
    const bytes = zipSync({ 'a.json': text('{"n":1}\n'.repeat(1000)) }, { level: 0 });
    writeFileSync(path, bytes.subarray(0, bytes.length - 40));
    const err = await collect(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageLabError);
    expect((err as UsageLabError).code).toBe('import_file_corrupt');
    expect((err as UsageLabError).place.file).toBe(path);
  });
});
