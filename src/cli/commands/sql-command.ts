import { existsSync, readFileSync } from 'node:fs';
import type { ExitCode } from '../../core/exit-codes.js';
import { EXIT } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { formatTable, printJson, type Io } from '../output.js';

/** `usagelab sql FILE|QUERY`: ad hoc SQL on the warehouse (the events, sessions, identity tables). */
export async function sqlCommand(io: Io, query: string, flags: { workspace?: string; json?: boolean }): Promise<ExitCode> {
  const text = query.endsWith('.sql') && existsSync(query) ? readFileSync(query, 'utf8') : query;
  const ws = await openWorkspace(flags.workspace);
  try {
    const rows = await ws.sql(text.trim().replace(/;\s*$/, ''));
    if (flags.json) printJson(io, rows);
    else io.stdout(formatTable(rows));
    return EXIT.ok;
  } finally {
    ws.close();
  }
}
