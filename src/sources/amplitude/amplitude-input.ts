/**
 * Loads an Amplitude input into one relation (_member, _line, doc): the Export API's zip of gzipped NDJSON
 * members, one member file on its own, or plain NDJSON. `_line` is the line within its member
 * and `_member` the member's name inside the zip (NULL for a plain file), so a reject can say where it is.
 */
import { join, relative, sep } from 'node:path';
import type { FileProbe, StageContext } from '../source-reader.js';
import { UsageLabError, isUsageLabError } from '../../core/errors.js';
import { extractZip } from '../zip-archive.js';

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
  const dir = join(ctx.tempDir, ctx.tempName('amplitude_zip'));
  const extracted = await extractZip(probe.path, dir);
  const members = extracted
    .map((path) => ({ path, name: relative(dir, path).split(sep).join('/') }))
    .filter((m) => isEventMember(m.name));
  if (members.length === 0) {
    throw new UsageLabError('import_file_empty', `${probe.path} holds no event files (.json.gz members)`, {
      place: { file: probe.path },
      hint: 'the export window had no data; check its start and end hours, or remove the file from the command',
    });
  }
  // All members in one scan: a month's export holds ~700 hourly files, and one statement per file (or a view
  // over a 700-way UNION) costs far more than the parsing itself.
  let table: string;
  try {
    table = await ctx.readNdjsonFiles(members.map((m) => m.path));
  } catch (err) {
    // The helper verifies each gzip member to its end, so a truncated member fails here.
    const member = members.find((m) => isUsageLabError(err) && (err.place.file === m.path || err.message.includes(m.path)))?.name ?? 'one of the members';
    throw memberError(err, probe.path, member);
  }
  const name = ctx.tempName('amplitude_members');
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  await ctx.run(`CREATE OR REPLACE TEMP VIEW ${name} AS
    SELECT replace(substr(_file, ${prefix.length + 1}), ${ctx.literal(sep)}, '/') AS _member, _line, doc FROM ${table}`);
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
