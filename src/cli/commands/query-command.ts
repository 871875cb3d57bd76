import type { ExitCode } from '../../core/exit-codes.js';
import { EXIT } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { runSavedQuery, type QueryResult } from '../../library/saved-query.js';
import { formatTable, printJson, type Io } from '../output.js';

const pct = (v: number | null): string => (v === null ? '' : `${(v * 100).toFixed(1)}%`);
const secs = (v: number | null): string => (v === null ? '' : v < 120 ? `${v.toFixed(0)} s` : v < 7200 ? `${(v / 60).toFixed(1)} min` : `${(v / 3600).toFixed(1)} h`);

export function formatFunnel(result: QueryResult): string {
  const d = result.definition as unknown as Record<string, unknown>;
  let out = `${result.name}  (window ${String(d.window)}, order ${String(d.order)}, unit ${String(d.unit)})\n\n`;
  out += formatTable(
    result.steps.map((s, i) => ({
      step: `${i + 1}. ${s.name}`,
      count: s.count,
      'from previous': pct(s.conversion_from_previous),
      'from first': pct(s.conversion_from_first),
      'drop-off': s.drop_off,
      'median time': secs(s.median_seconds_from_previous),
    })),
  );
  for (const drop of result.dropped ?? []) {
    if (drop.next_events.length === 0) continue;
    out += `\ndropped after step ${drop.after_step} (${drop.count}) did next: ${drop.next_events.map((e) => `${e.event} (${e.count})`).join(', ')}\n`;
  }
  return out;
}

/** `usagelab query FILE|NAME`: runs a saved query from queries/. */
export async function queryCommand(io: Io, nameOrPath: string, flags: { workspace?: string; json?: boolean }): Promise<ExitCode> {
  const ws = await openWorkspace(flags.workspace);
  try {
    const result = await runSavedQuery(ws, nameOrPath);
    if (flags.json) printJson(io, result);
    else io.stdout(formatFunnel(result));
    return EXIT.ok;
  } finally {
    ws.close();
  }
}
