import { describe, expect, it } from 'vitest';
import { crc32, deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import snappy from 'snappyjs';
import { AVRO_DECODERS, AVRO_ENCODERS, type AvroCodec } from './avro-codecs.js';

const run = (codec: AvroCodec, buf: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => codec(buf, (err, out) => (err === null && out !== undefined ? resolve(out) : reject(err ?? new Error('no output')))));

const sample = Buffer.from('usagelab '.repeat(200) + 'avro block');

describe('Avro codecs', () => {
  it('encode then decode gives the bytes back, for every codec', async () => {
    for (const name of ['null', 'deflate', 'snappy']) {
      const encoded = await run(AVRO_ENCODERS[name]!, sample);
      expect((await run(AVRO_DECODERS[name]!, encoded)).equals(sample), name).toBe(true);
    }
  });

  it('frames blocks as the Avro spec says: raw deflate; snappy followed by the big-endian CRC-32 of the plain bytes', async () => {
    expect((await run(AVRO_ENCODERS.deflate!, sample)).equals(deflateRawSync(sample))).toBe(true);
    const framed = await run(AVRO_ENCODERS.snappy!, sample);
    expect(framed.readUInt32BE(framed.length - 4)).toBe(crc32(sample));
    expect(Buffer.from(snappy.uncompress(framed.subarray(0, framed.length - 4))).equals(sample)).toBe(true);
    // A block written by another writer (snappy + CRC by hand) decodes.
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.from('abc')));
    expect((await run(AVRO_DECODERS.snappy!, Buffer.concat([Buffer.from(snappy.compress(Buffer.from('abc'))), crc]))).toString()).toBe('abc');
  });

  it('a snappy block whose checksum does not match, or that is too short, is an error', async () => {
    const framed = await run(AVRO_ENCODERS.snappy!, sample);
    const bad = Buffer.from(framed);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await expect(run(AVRO_DECODERS.snappy!, bad)).rejects.toThrow('snappy block checksum mismatch');
    await expect(run(AVRO_DECODERS.snappy!, Buffer.from([1, 2]))).rejects.toThrow('shorter than its checksum');
    await expect(run(AVRO_DECODERS.deflate!, Buffer.from([0xff, 0xff, 0xff]))).rejects.toThrow();
  });

  it('avsc writes and reads a container file with them', async () => {
    const type = avro.Type.forSchema({ type: 'record', name: 'row', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] });
    for (const codec of ['deflate', 'snappy']) {
      const chunks: Buffer[] = [];
      const encoder = new avro.streams.BlockEncoder(type, { codec, codecs: AVRO_ENCODERS } as never);
      encoder.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise((r) => encoder.on('end', r));
      for (let n = 0; n < 50; n++) encoder.write({ n, s: `row ${n}` });
      encoder.end();
      await ended;
      const decoder = new avro.streams.BlockDecoder({ codecs: AVRO_DECODERS } as never);
      const rows: { n: number; s: string }[] = [];
      decoder.on('data', (r: { n: number; s: string }) => rows.push(r));
      const done = new Promise((r) => decoder.on('end', r));
      decoder.end(Buffer.concat(chunks));
      await done;
      expect(rows.map((r) => r.n), codec).toEqual(Array.from({ length: 50 }, (_, n) => n));
      expect(rows[49]!.s).toBe('row 49');
    }
  });
});
