import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { csvObjects } from './csv-stream.js';
import { jsonArrayRecords } from './json-array-stream.js';

/** The text in chunks of `size` characters, so elements and quoted fields straddle chunk boundaries. */
const chunked = (text: string, size = 3): Readable => Readable.from(Array.from({ length: Math.ceil(text.length / size) }, (_, i) => Buffer.from(text.slice(i * size, (i + 1) * size))));

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('jsonArrayRecords', () => {
  it('yields each object of the array, strings with brackets and escapes intact, big ids exact', async () => {
    const text = ' [ {"a":"x]}{\\"","n":9007199254740993,"o":{"k":[1,{"z":2}]}} ,\n{"a":"é"} ] \n';
    expect(await all(jsonArrayRecords(chunked(text), { what: 't' }))).toEqual([{ a: 'x]}{"', n: 9007199254740993n, o: { k: [1, { z: 2 }] } }, { a: 'é' }]);
    expect(await all(jsonArrayRecords(chunked('[]'), { what: 't' }))).toEqual([]);
  });

  it('a stream that ends before "]" is a truncated body (retryable); other shapes are malformed', async () => {
    await expect(all(jsonArrayRecords(chunked('[{"a":1},{"a":'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_body_truncated', retryable: true, message: 'w: the JSON array ends before its closing "]" (after 1 elements)' });
    await expect(all(jsonArrayRecords(chunked('[{"a":1}'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_body_truncated' });
    await expect(all(jsonArrayRecords(chunked('{"a":1}'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_record_invalid', retryable: false });
    await expect(all(jsonArrayRecords(chunked('[1,2]'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_record_invalid' });
    await expect(all(jsonArrayRecords(chunked('[{"a":1}] x'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_record_invalid', message: expect.stringContaining('after the closing') });
    await expect(all(jsonArrayRecords(chunked('[{"a":1},]'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_record_invalid' });
  });
});

describe('csvObjects', () => {
  it('keys rows by the header, keeps quoted commas, quotes and line breaks, and leaves empty cells out', async () => {
    const text = 'id,text,n\r\n1,"a, ""b""\nc",\r\n2,,7\r\n';
    expect(await all(csvObjects(chunked(text), { what: 't' }))).toEqual([{ id: '1', text: 'a, "b"\nc' }, { id: '2', n: '7' }]);
  });

  it('an open quote at the end is a truncated body; a row of the wrong width is malformed', async () => {
    await expect(all(csvObjects(chunked('id,text\n1,"abc'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_body_truncated', retryable: true });
    await expect(all(csvObjects(chunked('id,text\n1,a,b\n'), { what: 'w' }))).rejects.toMatchObject({ code: 'export_record_invalid', message: 'w: CSV line 2 has 3 fields, the header 2' });
  });
});
