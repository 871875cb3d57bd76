/**
 * Avro block codecs for avsc, both ways, in one place for every module that reads or writes Avro (the Heap
 * exporter re-encoding masked files, the import's Avro-to-NDJSON step, the demo's and the tests' Heap writers):
 * null, deflate (raw deflate, as the Avro spec says) and snappy (the compressed block followed by a big-endian
 * CRC-32 of the uncompressed bytes, as the Avro spec and Heap Connect's Spark writers frame it). Decoding checks
 * that CRC, so a damaged block is an error rather than wrong values. Codec errors reach avsc through its callback
 * (a throw inside a codec would escape the stream).
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import snappy from 'snappyjs';

export type AvroCodecCallback = (err: Error | null, out?: Buffer) => void;
export type AvroCodec = (buf: Buffer, cb: AvroCodecCallback) => void;

const guarded =
  (fn: (buf: Buffer) => Buffer): AvroCodec =>
  (buf, cb) => {
    let out: Buffer;
    try {
      out = fn(buf);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, out);
  };

export const AVRO_DECODERS: Readonly<Record<string, AvroCodec>> = {
  null: (buf, cb) => cb(null, buf),
  deflate: guarded((buf) => inflateRawSync(buf)),
  snappy: guarded((buf) => {
    if (buf.length < 4) throw new Error('snappy block shorter than its checksum');
    const out = Buffer.from(snappy.uncompress(buf.subarray(0, buf.length - 4)));
    if (buf.readUInt32BE(buf.length - 4) !== crc32(out)) throw new Error('snappy block checksum mismatch');
    return out;
  }),
};

export const AVRO_ENCODERS: Readonly<Record<string, AvroCodec>> = {
  null: (buf, cb) => cb(null, buf),
  deflate: guarded((buf) => deflateRawSync(buf)),
  snappy: guarded((buf) => {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(buf));
    return Buffer.concat([Buffer.from(snappy.compress(buf)), crc]);
  }),
};
