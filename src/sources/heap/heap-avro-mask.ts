/**
 * Masks a Heap Connect Avro file record by record and writes it again as Avro, so the file under exports/ holds no
 * personal data the policy removes, and the Heap reader imports it like any Heap file.
 *
 * Heap's columns are typed (a user id is a `long`), and masking may turn a value into text (an id hashed because
 * it looked like a card number, under `hash` or `hash_if_pii`) or into null (`drop`). The output keeps Heap's
 * schema — record name, field order, types, codec — except for a column whose masked values no longer fit: that
 * one becomes the union of null, its own type and string. So two passes: the first decodes, masks and spools the
 * records to a scratch file (lossless JSON, so 64-bit ids keep their digits) while noting which columns need
 * widening; the second encodes the spooled records with the final schema. Memory stays bounded by one record.
 *
 * The download arrives in a sealed spool (export/sealed-spool.ts) and the scratch file is one too, so neither the
 * vendor's bytes nor the records between the passes lie on disk in clear. Known secrets are redacted from every
 * text value before it is spooled (core/secret-redaction.ts), as the other sources' window files are.
 *
 * Integrity: the input's framing is walked end to end first (a truncated download fails here, not silently in
 * avsc), snappy blocks are checked against their CRC, and the records decoded must number what the framing says.
 * The output's sync marker is derived from the file's name and content, so exporting the same file again writes
 * the same bytes.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename } from 'node:path';
import avro from 'avsc';
import { exactLong } from '../../core/avro-exact-long.js';
import { isUsageLabError } from '../../core/errors.js';
import { redactSecrets } from '../../core/secret-redaction.js';
import { transientError, windowError } from '../export/export-errors.js';
import type { RecordTransform, VendorRecord } from '../export/exporter.js';
import { textLines } from '../export/ndjson-stream.js';
import { parseLossless, stringifyLossless } from '../export/lossless-json.js';
import { SealedSpool } from '../export/sealed-spool.js';
import { checkAvroContainer, type AvroContainerInfo } from './avro-container-check.js';
import { AVRO_DECODERS, AVRO_ENCODERS } from '../../core/avro-codecs.js';

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'string']);

type Branch = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'string';

interface FieldSchema {
  name: string;
  type: unknown;
  default?: unknown;
  [attr: string]: unknown;
}

interface ColumnState {
  readonly name: string;
  readonly branches: readonly Branch[];
  /** Masking produced text where the column holds no string. */
  widen: boolean;
}

export interface MaskedAvroFile {
  readonly records: number;
  /** The largest `time` (epoch ms) of the file's records, when it has that column. */
  readonly maxTime: bigint | undefined;
  /** Columns widened to include string (masking turned their values into text). */
  readonly widened: readonly string[];
}

const longHook = (schema: unknown): unknown =>
  schema === 'long' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long') ? exactLong : undefined;

function branchesOf(type: unknown): Branch[] | undefined {
  const list = Array.isArray(type) ? type : [type];
  const names = list.map((t) => (typeof t === 'string' ? t : typeof t === 'object' && t !== null && typeof (t as { type?: unknown }).type === 'string' && !('logicalType' in t) ? (t as { type: string }).type : undefined));
  return names.every((n): n is Branch => n !== undefined && PRIMITIVES.has(n)) ? names : undefined;
}

/** Does `value` fit one of the column's branches (after the long/number coercion of `fit`)? */
function fits(branches: readonly Branch[], value: unknown): boolean {
  if (value === null || value === undefined) return branches.includes('null');
  switch (typeof value) {
    case 'string':
      return branches.includes('string');
    case 'boolean':
      return branches.includes('boolean');
    case 'bigint':
      return branches.includes('long') || branches.includes('double') || branches.includes('float');
    case 'number':
      if (Number.isInteger(value) && (branches.includes('long') || (branches.includes('int') && Math.abs(value) <= 2 ** 31))) return true;
      return branches.includes('double') || branches.includes('float');
    default:
      return false;
  }
}

/** The value as avsc wants it for the column: longs as bigint, doubles as numbers. */
function fit(branches: readonly Branch[], value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value) && branches.includes('long') && !branches.includes('int')) return BigInt(value);
  if (typeof value === 'bigint' && !branches.includes('long')) return Number(value);
  return value;
}

/** Known secrets in the record's text values (as WindowFileWriter does for the other sources' files). */
function redactStrings(record: VendorRecord): VendorRecord {
  for (const [key, value] of Object.entries(record)) if (typeof value === 'string') record[key] = redactSecrets(value);
  return record;
}

/**
 * Masks `input` (the download, in its sealed spool) into `output`. `name` (the file's path below the bucket, e.g.
 * sync_852/pageviews/part-0.avro) names it in errors and seeds the sync marker; the first pass's scratch file goes
 * to `scratchDir`, sealed as well.
 */
export async function maskAvroFile(input: SealedSpool, output: string, scratchDir: string, name: string, transform: RecordTransform): Promise<MaskedAvroFile> {
  const displayName = name;
  let framing;
  try {
    framing = checkAvroContainer(input, displayName);
  } catch (err) {
    if (!isUsageLabError(err) || err.code === 'import_format_unsupported') throw err;
    throw transientError('export_body_corrupt', err.message, { hint: 'the download is damaged; it is fetched again', cause: err });
  }
  const writer = framing.schema as { type?: unknown; fields?: FieldSchema[] };
  if (writer.type !== 'record' || !Array.isArray(writer.fields)) {
    throw windowError('export_record_invalid', `${displayName}: the Avro schema is not a record`, { hint: 'Heap Connect writes one record per row; this file is not a Heap table' });
  }
  const columns: ColumnState[] = writer.fields.map((f) => {
    const branches = branchesOf(f.type);
    if (branches === undefined) {
      throw windowError('export_record_invalid', `${displayName}: column "${f.name}" has the Avro type ${JSON.stringify(f.type)}, which usagelab cannot mask`, {
        hint: 'only flat columns (null, boolean, int, long, float, double, string and their unions) are masked; report the table so support can be added',
      });
    }
    return { name: f.name, branches, widen: false };
  });

  // Pass 1: decode, mask, spool.
  const spool = new SealedSpool(scratchDir, `${basename(name)}.masked.jsonl`);
  try {
    return await maskThroughSpool(input, output, spool, framing, columns, writer, name, transform);
  } finally {
    spool.dispose();
  }
}

async function maskThroughSpool(
  input: SealedSpool,
  output: string,
  spool: SealedSpool,
  framing: AvroContainerInfo,
  columns: ColumnState[],
  writer: { type?: unknown; fields?: FieldSchema[] },
  name: string,
  transform: RecordTransform,
): Promise<MaskedAvroFile> {
  const displayName = name;
  const fields = writer.fields!;
  const spoolOut = spool.writer();
  const spoolClosed = new Promise<void>((resolve, reject) => {
    spoolOut.once('finish', resolve);
    spoolOut.once('error', reject);
  });
  spoolClosed.catch(() => undefined);
  const content = createHash('sha256').update(name);
  let records = 0;
  let maxTime: bigint | undefined;
  const decoder = new avro.streams.BlockDecoder({ codecs: AVRO_DECODERS, parseHook: (s: unknown) => avro.Type.forSchema(s as never, { typeHook: longHook } as never) } as never);
  const raw = input.stream();
  raw.once('error', (err) => decoder.destroy(err));
  raw.pipe(decoder);
  try {
    for await (const record of decoder as AsyncIterable<VendorRecord>) {
      records += 1;
      // A record echoing a credential must not carry it to disk.
      const masked = redactStrings(transform(record));
      for (const c of columns) {
        const v = masked[c.name];
        if (!c.widen && !fits(c.branches, v)) {
          if (typeof v !== 'string' && v !== null && v !== undefined) {
            throw windowError('export_record_invalid', `${displayName}: masking column "${c.name}" gave a ${typeof v}, which its Avro type cannot hold`, {
              hint: 'check the pii rules for this column in usagelab.yaml',
            });
          }
          c.widen = true;
        }
      }
      const t = record.time;
      if (typeof t === 'bigint' && (maxTime === undefined || t > maxTime)) maxTime = t;
      const line = `${stringifyLossless(masked)}\n`;
      content.update(line);
      if (!spoolOut.write(line)) await once(spoolOut, 'drain');
    }
  } catch (err) {
    spoolOut.destroy();
    if (isUsageLabError(err)) throw err;
    throw transientError('export_body_corrupt', `${displayName}: not a readable Avro file (${(err as Error).message})`, { hint: 'the download is damaged; it is fetched again', cause: err });
  } finally {
    raw.destroy();
  }
  spoolOut.end();
  await spoolClosed;
  if (records !== framing.records) {
    throw transientError('export_body_corrupt', `${displayName}: decoded ${records} records, the file's blocks announce ${framing.records}`, { hint: 'the download is damaged; it is fetched again' });
  }

  // Pass 2: encode with the final schema.
  const widened = columns.filter((c) => c.widen);
  const outSchema = {
    ...writer,
    fields: fields.map((f, i) => {
      const c = columns[i]!;
      if (!c.widen) return f;
      const rest = c.branches.filter((b) => b !== 'null' && b !== 'string');
      return { ...f, type: ['null', ...rest, 'string'], default: null };
    }),
  };
  const outType = avro.Type.forSchema(outSchema as never, { registry: { long: exactLong } } as never);
  const finalBranches = columns.map((c) => (c.widen ? (['null', ...c.branches.filter((b) => b !== 'null' && b !== 'string'), 'string'] as Branch[]) : c.branches));
  const syncMarker = content.digest().subarray(0, 16);
  const encoder = new avro.streams.BlockEncoder(outType as never, { codec: framing.codec, codecs: AVRO_ENCODERS, syncMarker } as never);
  const out = createWriteStream(output);
  const closed = once(out, 'close');
  encoder.pipe(out);
  let failure: Error | undefined;
  encoder.on('error', (err: Error) => (failure ??= err));
  for await (const line of textLines(spool.stream())) {
    if (line === '') continue;
    const masked = parseLossless(line) as VendorRecord;
    const row: VendorRecord = {};
    columns.forEach((c, i) => (row[c.name] = fit(finalBranches[i]!, masked[c.name])));
    if (!encoder.write(row)) await once(encoder, 'drain');
  }
  encoder.end();
  await closed;
  if (failure !== undefined) throw windowError('export_record_invalid', `${displayName}: writing the masked file failed (${failure.message})`, { cause: failure });
  return { records, maxTime, widened: widened.map((c) => c.name) };
}
