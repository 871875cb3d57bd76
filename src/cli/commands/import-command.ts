import { UsageLabError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { importNewExports } from '../../library/export-source.js';
import type { ImportResult } from '../../warehouse/duckdb/duckdb-import.js';
import { formatTable, printJson, type Io } from '../output.js';
import { importProgressBar } from '../progress-bar.js';

export interface ImportFlags {
  workspace?: string;
  source?: string;
  map?: string;
  strict?: boolean;
  skipEmpty?: boolean;
  json?: boolean;
}

/** Parses `--map user_id=case_id,event_name=activity`. */
export function parseColumnMap(text: string | undefined): Record<string, string> {
  if (text === undefined || text.trim() === '') return {};
  const map: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const [target, column, ...rest] = pair.split('=');
    if (target === undefined || column === undefined || rest.length > 0 || target.trim() === '' || column.trim() === '') {
      throw new UsageLabError('import_map_syntax', `--map: "${pair}" is not TARGET=COLUMN`, {
        hint: 'example: --map user_id=case_id,event_name=activity,occurred_at=timestamp',
      });
    }
    map[target.trim()] = column.trim();
  }
  return map;
}

export function summarizeImport(result: ImportResult): string {
  const rows = result.files.map((f) => ({
    file: f.path.split('/').slice(-2).join('/'),
    source: f.source,
    layout: f.layout,
    read: f.read,
    imported: f.imported,
    duplicates: f.duplicates,
    rejected: f.rejected,
    note: f.skipped ?? f.partial ?? '',
  }));
  let out = formatTable(rows);
  out += `\n${result.imported.toLocaleString('en-US')} imported, ${result.duplicates.toLocaleString('en-US')} duplicates, ${result.rejected.toLocaleString('en-US')} rejected`;
  out += ` — ${result.persons.toLocaleString('en-US')} people, ${result.sessions.toLocaleString('en-US')} sessions in the warehouse (${(result.durationMs / 1000).toFixed(1)} s)\n`;
  if (result.piiMasked.length > 0) {
    const masked = result.piiMasked.map((c) => `${c.field} ${c.kind} ${c.values.toLocaleString('en-US')}`).join(', ');
    out += `masked before writing: ${masked}\n`;
  }
  if (result.quarantineSample.length > 0) {
    out += `\nquarantined records (first ${result.quarantineSample.length}; all are in the quarantine table):\n`;
    for (const q of result.quarantineSample) out += `  ${q.file}${q.line === null ? '' : `:${q.line}`}: ${q.reason}\n`;
  }
  return out;
}

export async function importCommand(io: Io, files: string[], flags: ImportFlags): Promise<ExitCode> {
  const ws = await openWorkspace(flags.workspace);
  const bar = importProgressBar(io);
  try {
    if (files.length === 0) {
      // No files: what the export manifests under exports/ list as not yet imported.
      const news = await importNewExports(ws, { onProgress: bar.update });
      bar.stop();
      if (flags.json) printJson(io, news);
      else if (news.summary.files === 0) io.stdout('nothing new to import (exports/*/manifest.json list no new files)\n');
      else for (const r of news.results) io.stdout(summarizeImport(r));
      return news.summary.partial ? EXIT.partial : EXIT.ok;
    }
    const result = await ws.import({
      files,
      ...(flags.source === undefined ? {} : { source: flags.source }),
      columnMap: parseColumnMap(flags.map),
      strict: flags.strict === true,
      skipEmpty: flags.skipEmpty === true,
      onProgress: bar.update,
    });
    bar.stop();
    if (flags.json) printJson(io, result);
    else io.stdout(summarizeImport(result));
    if (result.partial) {
      io.stderr(`partial: some records were not imported (exit code 5); see the quarantine notes above or the quarantine table\n`);
      return EXIT.partial;
    }
    return EXIT.ok;
  } finally {
    bar.stop();
    ws.close();
  }
}
