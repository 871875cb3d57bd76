/**
 * Zip archives (Amplitude's Export API answers with one) read with yauzl: members are listed from the central
 * directory and streamed to disk one at a time, so memory stays bounded whatever the archive size.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { UsageLabError } from '../core/errors.js';

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err || !zip) {
        reject(
          new UsageLabError('import_file_corrupt', `${path} is not a readable zip archive: ${err?.message ?? 'unknown error'}`, {
            place: { file: path },
            hint: 'the archive is truncated or corrupt; download it again',
            cause: err,
          }),
        );
      } else resolve(zip);
    });
  });
}

async function eachEntry(path: string, fn: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void>): Promise<void> {
  const zip = await open(path);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) =>
        reject(new UsageLabError('import_file_corrupt', `${path} is a corrupt zip archive: ${err.message}`, { place: { file: path }, cause: err })),
      );
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        fn(zip, entry).then(
          () => zip.readEntry(),
          (err: unknown) => reject(err),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** Member file names (directories excluded), in archive order. */
export async function listZipMembers(path: string): Promise<string[]> {
  const names: string[] = [];
  await eachEntry(path, async (_zip, entry) => {
    if (!entry.fileName.endsWith('/')) names.push(entry.fileName);
  });
  return names;
}

/** Extracts every member to `dir` (paths kept, "../" refused); returns the extracted paths in archive order. */
export async function extractZip(path: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  await eachEntry(path, async (zip, entry) => {
    if (entry.fileName.endsWith('/')) return;
    const rel = normalize(entry.fileName);
    if (rel.startsWith('..') || rel.startsWith('/')) {
      throw new UsageLabError('import_zip_unsafe', `${path}: member ${entry.fileName} points outside the archive`, {
        place: { file: path },
        hint: 'refusing to extract it; check where the archive came from',
      });
    }
    const target = join(dir, rel);
    mkdirSync(dirname(target), { recursive: true });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))),
    );
    try {
      await pipeline(stream, createWriteStream(target));
    } catch (err) {
      throw new UsageLabError('import_file_corrupt', `${path}: member ${entry.fileName} is truncated or corrupt`, {
        place: { file: path },
        hint: 'download the archive again; nothing from it was imported',
        cause: err,
      });
    }
    out.push(target);
  });
  return out;
}
