/**
 * Zip archives (Amplitude's Export API answers with one) read with yauzl: members are listed from the central
 * directory and streamed one at a time, so memory stays bounded whatever the archive size. A file on disk (an
 * import) is streamed member by member; an archive held in a sealed spool (an export, export/sealed-spool.ts) is
 * read in place through a random-access reader, so its members never reach the disk in clear.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { UsageLabError } from '../core/errors.js';

/** Bytes yauzl can read at any offset: the archive's size and a stream of any range of it. */
export interface RangeReadable {
  readonly size: number;
  /** Bytes from `start` (inclusive) to `end` (exclusive). */
  stream(start: number, end: number): Readable;
}

class RangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly bytes: RangeReadable) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return this.bytes.stream(start, end);
  }
}

/** What yauzl reported about an archive's structure (its central directory), as the error usagelab shows. */
function corruptArchive(name: string, err: Error): UsageLabError {
  return new UsageLabError('import_file_corrupt', `${name} is a corrupt zip archive: ${err.message}`, { place: { file: name }, cause: err });
}

function opened(path: string, resolve: (zip: yauzl.ZipFile) => void, reject: (err: unknown) => void) {
  return (err: Error | null, zip: yauzl.ZipFile | undefined): void => {
    if (err || !zip) {
      reject(
        new UsageLabError('import_file_corrupt', `${path} is not a readable zip archive: ${err?.message ?? 'unknown error'}`, {
          place: { file: path },
          hint: 'the archive is truncated or corrupt; download it again',
          cause: err,
        }),
      );
    } else resolve(zip);
  };
}

function openRange(bytes: RangeReadable, name: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.fromRandomAccessReader(new RangeReader(bytes), bytes.size, { lazyEntries: true, autoClose: false }, opened(name, resolve, reject)));
}

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(path, { lazyEntries: true, autoClose: false }, opened(path, resolve, reject)));
}

async function eachEntry(path: string, fn: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void>): Promise<void> {
  const zip = await open(path);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) =>
        reject(corruptArchive(path, err)),
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

/**
 * The members of an archive on disk (directories excluded), in archive order, each as a stream of its content with
 * its size in the archive: the next member is read only once the caller has consumed the previous one's stream, so
 * nothing is extracted to disk and memory stays bounded. A member that cannot be read fails with import_file_corrupt
 * naming the archive.
 */
export async function* zipMemberStreams(path: string): AsyncGenerator<{ name: string; stream: Readable; size: number }> {
  const zip = await open(path);
  // yauzl reports a broken central directory as an event of the archive: kept, and thrown at the next step.
  let failure: unknown;
  const onError = (err: Error): void => {
    failure ??= corruptArchive(path, err);
  };
  zip.on('error', onError);
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        const detach = (): void => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onFail);
        };
        const onEntry = (e: yauzl.Entry): void => (detach(), resolve(e));
        const onEnd = (): void => (detach(), resolve(undefined));
        const onFail = (): void => (detach(), reject(failure));
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onFail);
        zip.readEntry();
      });
      if (entry === undefined) return;
      if (entry.fileName.endsWith('/')) continue;
      let stream: Readable;
      try {
        stream = await entryStream(zip, entry);
      } catch (err) {
        throw new UsageLabError('import_file_corrupt', `${path}: member ${entry.fileName} is truncated or corrupt`, {
          place: { file: path },
          hint: 'download the archive again; nothing from it was imported',
          cause: err,
        });
      }
      yield { name: entry.fileName, stream, size: entry.compressedSize };
    }
  } finally {
    zip.off('error', onError);
    zip.close();
  }
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))));
}

/**
 * Reads the members of an archive held in `bytes` without extracting it: `order` picks and orders the member
 * names (directories excluded), then `fn` gets each one's content as a stream, one at a time. `name` names the
 * archive in errors.
 */
export async function readZipMembers(
  bytes: RangeReadable,
  name: string,
  order: (names: readonly string[]) => readonly string[],
  fn: (member: string, content: Readable) => Promise<void>,
): Promise<void> {
  const zip = await openRange(bytes, name);
  try {
    const entries = new Map<string, yauzl.Entry>();
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (err: Error) => reject(corruptArchive(name, err)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
        zip.readEntry();
      });
      zip.readEntry();
    });
    for (const member of order([...entries.keys()])) {
      const entry = entries.get(member);
      if (entry === undefined) continue;
      await fn(member, await entryStream(zip, entry));
    }
  } finally {
    zip.close();
  }
}
