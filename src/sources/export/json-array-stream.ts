/**
 * The objects of one top-level JSON array, from a stream, one at a time (FullStory's FORMAT_JSON is a single
 * array of events; whole-file JSON.parse would hold an export of any size in memory). Each element's text is
 * cut out by tracking strings and nesting, then parsed losslessly (64-bit ids keep their digits).
 *
 * Completeness: a stream that ends before the closing `]` (or inside an element) is a truncated body; anything
 * but whitespace after it, or an element that is not an object, is a malformed body.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { transientError, windowError } from './export-errors.js';
import type { VendorRecord } from './exporter.js';
import { parseLossless } from './lossless-json.js';

type State = 'start' | 'before-element' | 'after-element' | 'element' | 'end';

const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t';

export async function* jsonArrayRecords(stream: Readable, options: { readonly what: string }): AsyncGenerator<VendorRecord> {
  const malformed = (detail: string): never => {
    throw windowError('export_record_invalid', `${options.what}: not a JSON array of objects (${detail})`, {
      hint: 'the vendor sent a malformed file; export the window again, and report it if it persists',
    });
  };
  const decoder = new StringDecoder('utf8');
  // Widened on purpose: `scan` moves it, and the checks after the loop must not see the narrowed 'start'.
  let state = 'start' as State;
  let element = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let index = 0;
  const pending: VendorRecord[] = [];

  const scan = (text: string): void => {
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') inString = false;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth += 1;
        else if (c === '}' || c === ']') {
          depth -= 1;
          if (depth === 0) {
            element += text.slice(from, i + 1);
            index += 1;
            let value: unknown;
            try {
              value = parseLossless(element);
            } catch {
              malformed(`element ${index} is not valid JSON`);
            }
            if (value === null || typeof value !== 'object' || Array.isArray(value)) malformed(`element ${index} is not an object`);
            pending.push(value as VendorRecord);
            element = '';
            state = 'after-element';
          }
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (state === 'start') {
        if (c !== '[') malformed('it does not start with "["');
        state = 'before-element';
      } else if (state === 'before-element' || state === 'after-element') {
        if (c === ']' && (state === 'after-element' || index === 0)) state = 'end';
        else if (c === ',' && state === 'after-element') state = 'before-element';
        else if (c === '{' && state === 'before-element') {
          state = 'element';
          depth = 1;
          from = i;
        } else malformed(`unexpected "${c}" after element ${index}`);
      } else {
        malformed('text after the closing "]"');
      }
    }
    if (state === 'element') element += text.slice(from);
  };

  for await (const chunk of stream) {
    scan(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    while (pending.length > 0) yield pending.shift()!;
  }
  scan(decoder.end());
  while (pending.length > 0) yield pending.shift()!;
  if (state !== 'end') {
    throw transientError('export_body_truncated', `${options.what}: the JSON array ends before its closing "]" (after ${index} elements)`, {
      hint: 'the file was cut off; it is fetched again',
    });
  }
}
