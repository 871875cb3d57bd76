import type { ExitCode } from '../../core/exit-codes.js';
import { EXIT } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { formatTable, printJson, type Io } from '../output.js';

/**
 * `usagelab check`: the config is valid (it would not load otherwise), the warehouse opens and is migrated;
 * prints what is in it per source. (Credential checks against vendor APIs come with the exporters.)
 */
export async function checkCommand(io: Io, flags: { workspace?: string; json?: boolean }): Promise<ExitCode> {
  const ws = await openWorkspace(flags.workspace);
  try {
    const sources = await ws.sql<Record<string, unknown>>(
      `SELECT source, count(*) AS events, count(DISTINCT person_id) AS people,
        strftime(min(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS first_event, strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS last_event
       FROM events GROUP BY source ORDER BY source`,
    );
    const quarantined = await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM quarantine`);
    const result = {
      workspace: ws.root,
      config: 'ok',
      timezone: ws.config.timezone,
      warehouse: { engine: ws.config.warehouse.engine, status: 'ok' },
      sources: sources.map((s) => ({ ...s, events: Number(s.events), people: Number(s.people) })),
      quarantined: Number(quarantined[0]?.n ?? 0),
      variables: ws.loaded.referencedVariables,
    };
    if (flags.json) printJson(io, result);
    else {
      io.stdout(`workspace  ${result.workspace}\nconfig     ok (time zone ${result.timezone})\nwarehouse  ${result.warehouse.engine}: ok\n\n`);
      io.stdout(result.sources.length === 0 ? 'no events yet: run `usagelab import FILE...`\n' : formatTable(result.sources));
      if (result.quarantined > 0) io.stdout(`\n${result.quarantined} quarantined record(s): SELECT * FROM quarantine\n`);
    }
    return EXIT.ok;
  } finally {
    ws.close();
  }
}
