/** Test helpers for exporters: fast retry settings, a clock set to a chosen "now", and readers of window files. */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BackoffPolicy } from '../sources/export/backoff.js';
import { realClock, type ExportClock } from '../sources/export/export-clock.js';
import type { HttpTimeouts } from '../sources/export/http-client.js';
import { parseLossless } from '../sources/export/lossless-json.js';
import type { ExportManifest } from '../sources/export/export-manifest.js';

/** Retries in milliseconds instead of seconds. */
export const FAST_BACKOFF: BackoffPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };
export const FAST_TIMEOUTS: HttpTimeouts = { headersMs: 1_500, idleMs: 1_500 };

/** Real sleeping, but "now" starts at `iso` (availability lags and default ranges depend on it). */
export function clockAt(iso: string): ExportClock {
  const offset = Date.parse(iso) - Date.now();
  return { now: () => Date.now() + offset, sleep: (ms, signal) => realClock.sleep(ms, signal) };
}

export function tempExportDir(): string {
  return mkdtempSync(join(tmpdir(), 'usagelab-export-'));
}

/** The NDJSON lines of a gzipped window file. */
export function windowLines(path: string): string[] {
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l !== '');
}

export function windowRecords(path: string): Record<string, unknown>[] {
  return windowLines(path).map((l) => parseLossless(l) as Record<string, unknown>);
}

/** Every record of every window file in a source folder, in file order. */
export function allRecords(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort()
    .flatMap((f) => windowRecords(join(dir, f)));
}

export function readManifestFile(dir: string): ExportManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
}
