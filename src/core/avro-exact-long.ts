/**
 * Avro's `long` as a bigint. avsc's default long type refuses values beyond 2^53 (Heap ids reach 2^63), and an id
 * must never lose digits: every reader and writer of Avro in usagelab uses this one type.
 */
import avro from 'avsc';

export const exactLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});
