/**
 * Builds a FileProbe: what an input looks like (container, compression, head, first record, CSV header,
 * Parquet columns, zip members, folder listing), so each reader's detect() can decide without re-reading.
 */
import { createReadStream, readdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Compression, FileFormat, FileProbe } from './source-reader.js';
import { UsageLabError } from '../core/errors.js';
import { listZipMembers } from './zip-archive.js';

const HEAD_BYTES = 64 * 1024;

function readMagic(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const n = readSync(fd, buf, 0, 8, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function readHead(path: string, compression: Compression): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  const raw = createReadStream(path, compression === 'none' ? { end: HEAD_BYTES - 1 } : {});
  const stream = compression === 'gzip' ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= HEAD_BYTES) break;
    }
  } catch (err) {
    // A truncated gzip still yields its head; an empty or non-gzip body is reported by the reader later.
    if (total === 0) {
      throw new UsageLabError('import_file_corrupt', `${path} is truncated or corrupt: ${(err as Error).message}`, {
        place: { file: path },
        hint: 'download or export the file again; nothing from it was imported',
        cause: err,
      });
    }
  } finally {
    raw.destroy();
  }
  const head = Buffer.concat(chunks).subarray(0, HEAD_BYTES);
  // Cut at the last complete UTF-8 character so a multi-byte character split at 64 KiB does not garble.
  return head.toString('utf8').replace(/\uFFFD$/, '');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Parses the header record at the start of `text`: names separated by commas, quoted names allowed — and a quoted
 * name may hold a line break, so the record can span lines (it ends at the first line break outside quotes).
 * Undefined when it is not a plausible header, or when a quoted name does not close within `text`.
 */
export function parseCsvHeader(text: string): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  for (;;) {
    let name = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') {
          name += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          closed = true;
          break;
        } else name += text[i++];
      }
      if (!closed) return undefined;
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') name += text[i++];
    }
    names.push(name.trim());
    if (text[i] === ',') i++;
    else break;
  }
  return names.length >= 2 && names.every((n) => n.length > 0 && !n.startsWith('{') && !n.startsWith('[')) ? names : undefined;
}

function firstJson(head: string): { format: FileFormat; record: Record<string, unknown> | undefined } | undefined {
  const trimmed = head.trimStart();
  if (trimmed.startsWith('[')) {
    // First element of a JSON array: find the end of the first object by brace matching outside strings.
    const start = trimmed.indexOf('{');
    if (start < 0) return { format: 'json-array', record: undefined };
    const end = matchBrace(trimmed, start);
    if (end < 0) return { format: 'json-array', record: undefined };
    return { format: 'json-array', record: tryParseObject(trimmed.slice(start, end + 1)) };
  }
  if (trimmed.startsWith('{')) {
    const firstLine = trimmed.split('\n', 1)[0] ?? '';
    const record = tryParseObject(firstLine);
    if (record !== undefined) return { format: 'ndjson', record };
    const end = matchBrace(trimmed, 0);
    if (end >= 0) {
      const obj = tryParseObject(trimmed.slice(0, end + 1));
      if (obj !== undefined) return { format: 'json-object', record: obj };
    }
    const later = firstObjectLine(trimmed);
    if (later !== undefined) return { format: 'ndjson', record: later };
    return { format: trimmed.length >= HEAD_BYTES - 1 ? 'json-object' : 'ndjson', record: undefined };
  }
  return undefined;
}

/**
 * The first of the head's first 50 lines that is a JSON object: NDJSON readers quarantine a bad line, so one bad
 * (or cut) line at the top must not hide what the file is.
 */
function firstObjectLine(head: string): Record<string, unknown> | undefined {
  for (const line of head.split('\n').slice(0, 50)) {
    // NDJSON records start at the line's first character; an indented "{" is inside a pretty-printed value.
    const record = line.startsWith('{') ? tryParseObject(line) : undefined;
    if (record !== undefined) return record;
  }
  return undefined;
}

function matchBrace(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function tryParseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface ProbeOptions {
  /** Column names of a Parquet file (the caller reads them with the parsing engine). */
  parquetColumns(path: string): Promise<string[]>;
}

export async function probeFile(path: string, options: ProbeOptions): Promise<FileProbe> {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageLabError('import_file_missing', `${path} does not exist`, { place: { file: path }, hint: 'check the path' });
  }
  const displayName = path;
  const empty = {
    path,
    displayName,
    head: '',
    firstRecord: undefined,
    csvHeader: undefined,
    parquetColumns: undefined,
    directoryFiles: [] as string[],
    zipMembers: [] as string[],
  };
  if (stat.isDirectory()) {
    return { ...empty, isDirectory: true, baseName: basename(path).toLowerCase(), compression: 'none', sizeBytes: 0, directoryFiles: listFiles(path), format: undefined };
  }
  if (stat.size === 0) {
    throw new UsageLabError('import_file_empty', `${path} is empty`, {
      place: { file: path },
      hint: 'the export produced no data; check its date range, or remove the file from the command',
    });
  }
  const magic = readMagic(path);
  const lower = basename(path).toLowerCase();
  if (magic.subarray(0, 4).toString('latin1') === 'PAR1') {
    const cols = await options.parquetColumns(path);
    return { ...empty, isDirectory: false, baseName: lower, compression: 'none', sizeBytes: stat.size, parquetColumns: cols, format: 'parquet' };
  }
  if (magic[0] === 0x50 && magic[1] === 0x4b && magic[2] === 0x03 && magic[3] === 0x04) {
    const members = await listZipMembers(path);
    return { ...empty, isDirectory: false, baseName: lower, compression: 'none', sizeBytes: stat.size, zipMembers: members, format: 'zip' };
  }
  if (magic.subarray(0, 4).toString('latin1') === 'Obj\x01') {
    return { ...empty, isDirectory: false, baseName: lower, compression: 'none', sizeBytes: stat.size, format: 'avro-folder' };
  }
  const compression: Compression = magic[0] === 0x1f && magic[1] === 0x8b ? 'gzip' : magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528 ? 'zstd' : 'none';
  if (compression === 'zstd') {
    throw new UsageLabError('import_format_unsupported', `${path} is zstd-compressed, which usagelab cannot read yet`, {
      place: { file: path },
      hint: 'decompress it first (`zstd -d FILE`), or export with gzip compression',
    });
  }
  const head = (await readHead(path, compression)).replace(/^\uFEFF/, '');
  const baseName = lower.replace(/\.(gz|gzip)$/, '');
  if (head.trim() === '') {
    throw new UsageLabError('import_file_empty', `${path} has no data`, {
      place: { file: path },
      hint: 'the export produced no rows; check its date range, or remove the file from the command',
    });
  }
  if (/^\[\s*\]\s*$/.test(head)) {
    throw new UsageLabError('import_file_empty', `${path} is an empty JSON array (no records)`, {
      place: { file: path },
      hint: 'the export window had no events; remove the file from the command',
    });
  }
  const json = firstJson(head);
  if (json !== undefined) {
    return { ...empty, isDirectory: false, baseName, compression, sizeBytes: stat.size, head, firstRecord: json.record, format: json.format };
  }
  const header = parseCsvHeader(head);
  const laterRecord = header === undefined ? firstObjectLine(head) : undefined;
  if (laterRecord !== undefined) {
    return { ...empty, isDirectory: false, baseName, compression, sizeBytes: stat.size, head, firstRecord: laterRecord, format: 'ndjson' };
  }
  if (header !== undefined) {
    return { ...empty, isDirectory: false, baseName, compression, sizeBytes: stat.size, head, csvHeader: header, format: 'csv' };
  }
  return { ...empty, isDirectory: false, baseName, compression, sizeBytes: stat.size, head, format: undefined };
}
