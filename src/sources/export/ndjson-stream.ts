/**
 * NDJSON records from a stream, one at a time (memory stays bounded). Stream errors (a reset connection, a
 * truncated gzip member) reject the iteration: a body that ends badly never looks like a shorter complete one.
 * A line that is not JSON may be the first part of a record the vendor split over several lines (seen in
 * Mixpanel exports); with `joinSplitRecords`, following lines are appended until the text parses.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { transientError, windowError } from './export-errors.js';
import { parseLossless } from './lossless-json.js';
import type { VendorRecord } from './exporter.js';

export async function* textLines(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let at = rest.indexOf('\n');
    while (at >= 0) {
      yield rest.slice(0, at).replace(/\r$/, '');
      rest = rest.slice(at + 1);
      at = rest.indexOf('\n');
    }
  }
  rest += decoder.end();
  if (rest !== '') yield rest.replace(/\r$/, '');
}

export interface NdjsonOptions {
  /** Names the input in errors, e.g. "window 2024-03-10 (member 1_2024-03-10_5#0.json.gz)". */
  readonly what: string;
  readonly joinSplitRecords?: boolean;
  /** Lines that end the stream legitimately but are not records (e.g. Mixpanel's marker), checked by the caller. */
  readonly isMarker?: (line: string) => boolean;
}

const MAX_JOINED_LINES = 1000;

function asRecord(value: unknown): VendorRecord | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as VendorRecord) : undefined;
}

/**
 * Parsed records; blank lines are skipped. A line that is not a JSON object fails the input: as a malformed
 * record when more lines follow it, as a truncated body (retryable) when it is the last one.
 */
export async function* ndjsonRecords(stream: Readable, options: NdjsonOptions): AsyncGenerator<VendorRecord> {
  let pending: string[] = [];
  let pendingStart = 0;
  let lineNo = 0;
  const invalid = (): never => {
    throw windowError('export_record_invalid', `${options.what}: line ${pendingStart} is not a JSON object`, {
      hint: 'the vendor sent a malformed record; export the window again, and report it if it persists',
    });
  };
  for await (const line of textLines(stream)) {
    lineNo += 1;
    if (pending.length === 0 && (line.trim() === '' || options.isMarker?.(line) === true)) continue;
    if (pending.length > 0 && options.joinSplitRecords !== true) invalid();
    const text = pending.length === 0 ? line : `${pending.join('\n')}\n${line}`;
    let parsed: unknown;
    try {
      parsed = parseLossless(text);
    } catch {
      if (pending.length >= MAX_JOINED_LINES) invalid();
      if (pending.length === 0) pendingStart = lineNo;
      pending.push(line);
      continue;
    }
    const record = asRecord(parsed);
    if (record === undefined) {
      pendingStart = pending.length === 0 ? lineNo : pendingStart;
      invalid();
    }
    pending = [];
    yield record!;
  }
  if (pending.length > 0) {
    throw transientError('export_body_truncated', `${options.what}: the body ends inside a record (line ${pendingStart})`, {
      hint: 'the response was cut off; the window is fetched again',
    });
  }
}
