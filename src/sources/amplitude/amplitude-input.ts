/**
 * Loads an Amplitude input into one relation (_member, _line, doc): the Export API's zip of gzipped NDJSON
 * members, one member file on its own, or plain NDJSON. `_line` is the line within its member
 * and `_member` the member's name inside the zip (NULL for a plain file), so a reject can say where it is.
 */
import type { Readable } from 'node:stream';
import type { FileProbe, StageContext } from '../source-reader.js';
import { UsageLabError, isUsageLabError } from '../../core/errors.js';
import { listZipMembers, zipMemberStreams } from '../zip-archive.js';

/** Zip members that hold events; others (folders, OS metadata, notes) are skipped. */
export function isEventMember(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  if (name.split('/').some((part) => part === '__MACOSX') || base.startsWith('._')) return false;
  return /\.(json|jsonl|ndjson)(\.gz)?$/i.test(base);
}

/** Re-issues a helper's error about an extracted member so that it names the archive and the member. */
function memberError(err: unknown, archive: string, member: string): unknown {
  if (!isUsageLabError(err)) return err;
  return new UsageLabError(err.code, `${archive} (member ${member}): ${err.message}`, {
    place: { ...err.place, file: archive },
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    exitCode: err.exitCode,
    cause: err,
  });
}

interface LoadedPart {
  /** The member name, or undefined for a plain file, or null when the table carries its own _member column. */
  readonly member: string | undefined | null;
  readonly table: string;
}

async function loadZip(probe: FileProbe, ctx: StageContext): Promise<LoadedPart[]> {
  // The central directory first (cheap): an archive without event files fails before anything is read.
  if (!(await listZipMembers(probe.path)).some(isEventMember)) {
    throw new UsageLabError('import_file_empty', `${probe.path} holds no event files (.json.gz members)`, {
      place: { file: probe.path },
      hint: 'the export window had no data; check its start and end hours, or remove the file from the command',
    });
  }
  // All members in one scan, streamed from the archive: a month's export holds ~700 hourly files, and one
  // statement per file (or a view over a 700-way UNION) costs far more than the parsing itself.
  async function* events(): AsyncGenerator<{ name: string; stream: Readable; size: number }> {
    for await (const member of zipMemberStreams(probe.path)) {
      if (isEventMember(member.name)) yield member;
      else member.stream.resume();
    }
  }
  let table: string;
  try {
    table = await ctx.readNdjsonStreams(events());
  } catch (err) {
    // A member the helper could not read to its end (a truncated gzip) is named by the helper's error.
    throw isUsageLabError(err) && err.place.file !== undefined && err.place.file !== probe.path ? memberError(err, probe.path, err.place.file) : err;
  }
  const name = ctx.tempName('amplitude_members');
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT _file AS _member, _line, doc FROM ${table}`);
  return [{ member: null, table: name }];
}

/** Loads the input and returns the relation (_member VARCHAR, _line BIGINT, doc JSON). */
export async function loadAmplitudeInput(probe: FileProbe, format: string, ctx: StageContext): Promise<string> {
  const parts = format === 'zip' ? await loadZip(probe, ctx) : [{ member: undefined, table: await ctx.readNdjsonLines(probe.path) }];
  const name = ctx.tempName('amplitude_input');
  const union = parts
    .map((p) =>
      p.member === null
        ? `SELECT _member, _line, doc FROM ${p.table}`
        : `SELECT CAST(${p.member === undefined ? 'NULL' : ctx.literal(p.member)} AS VARCHAR) AS _member, _line, doc FROM ${p.table}`,
    )
    .join('\nUNION ALL ');
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS ${union}`);
  return name;
}
