/**
 * Readers for the demo's output used by its tests: every file read back with an independent decoder (zlib,
 * yauzl, avsc), so a test fails when a file is not what the vendor format promises.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import avro from 'avsc';
import snappy from 'snappyjs';
import yauzl from 'yauzl';
import { exactLong } from '../../core/avro-exact-long.js';

/** Every file below `root` (relative path → sha256), sorted. */
export function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return out;
}

export function gunzipText(path: string): string {
  return gunzipSync(readFileSync(path)).toString('utf8');
}

/** Gunzips an NDJSON file and parses every line (throws on the first bad one). */
export function readNdjsonGz(path: string): Record<string, unknown>[] {
  return gunzipText(path)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Zip members (name → bytes), read with yauzl. */
export function readZip(path: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const members = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(members));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err2, stream) => {
          if (err2 || !stream) return reject(err2 ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            members.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}


/** Records of an Avro container file; longs as bigint; snappy blocks' CRC checked. */
export function readAvro(path: string): Promise<{ codec: string; records: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    let type: avro.Type | undefined;
    let codec = '';
    const records: Record<string, unknown>[] = [];
    const decoder = new avro.streams.BlockDecoder({
      noDecode: true,
      codecs: {
        snappy: (buf: Buffer, cb: (err: Error | null, out?: Buffer) => void) => {
          const data = Buffer.from(snappy.uncompress(buf.subarray(0, buf.length - 4)));
          if (crc32(data) !== buf.readUInt32BE(buf.length - 4)) cb(new Error(`${path}: snappy block CRC mismatch`));
          else cb(null, data);
        },
      },
    } as never);
    decoder.on('metadata', (written: avro.Type, c: string) => {
      codec = c;
      type = avro.Type.forSchema(written.schema() as avro.Schema, { registry: { long: exactLong } });
    });
    decoder.on('data', (buf: Buffer) => records.push(type!.fromBuffer(buf) as Record<string, unknown>));
    decoder.on('error', reject);
    decoder.on('end', () => resolve({ codec, records }));
    decoder.end(readFileSync(path));
  });
}
