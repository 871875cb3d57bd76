import type { ExitCode } from '../../core/exit-codes.js';
import { openWorkspace } from '../../library/workspace.js';
import { warehouseLine, warehouseStatus } from '../../library/warehouse-status.js';
import { resolvedConfiguration, type ResolvedConfiguration } from '../../library/resolved-config.js';
import { checkCredentials, formatCredentialChecks } from '../../library/credential-check.js';
import { formatTable, printJson, type Io } from '../output.js';

/** The resolved settings, then every secret with where it comes from; values never shown. */
function configurationText(c: ResolvedConfiguration): string {
  const rows = Object.entries(c.values).map(([k, v]) => [k, v === null ? '-' : String(v)] as const);
  const width = Math.max(...rows.map(([k]) => k.length), ...c.secrets.map((s) => s.field.length));
  let out = 'configuration (resolved)\n';
  for (const [k, v] of rows) out += `  ${k.padEnd(width)}  ${v}\n`;
  out += 'secrets\n';
  for (const s of c.secrets) out += `  ${s.field.padEnd(width)}  ${s.shown}${s.variable === null ? '' : `  (${s.variable})`}\n`;
  return `${out}\n`;
}

/**
 * `usagelab check`: the config is valid (it would not load otherwise), the warehouse opens and is migrated;
 * prints what is in it per source. (Credential checks against vendor APIs come with the exporters.)
 */
export async function checkCommand(io: Io, flags: { workspace?: string; json?: boolean; offline?: boolean }): Promise<ExitCode> {
  const ws = await openWorkspace(flags.workspace);
  try {
    const sources = await ws.sql<Record<string, unknown>>(
      `SELECT source, count(*) AS events, count(DISTINCT person_id) AS people,
        strftime(min(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS first_event, strftime(max(occurred_at), '%Y-%m-%dT%H:%M:%SZ') AS last_event
       FROM events GROUP BY source ORDER BY source`,
    );
    const quarantined = await ws.sql<{ n: string }>(`SELECT count(*) AS n FROM quarantine`);
    // One cheap authenticated call per configured source (docs/exporting.md "Checking credentials").
    const credentials = await checkCredentials(ws, { offline: flags.offline === true });
    const result = {
      workspace: ws.root,
      config: 'ok',
      timezone: ws.config.timezone,
      warehouse: await warehouseStatus(ws),
      sources: sources.map((s) => ({ ...s, events: Number(s.events), people: Number(s.people) })),
      quarantined: Number(quarantined[0]?.n ?? 0),
      variables: ws.loaded.referencedVariables,
      // The configuration as resolved (defaults, ${VAR}), secrets as `set (…last 4)` (docs/governance.md "Secrets").
      configuration: resolvedConfiguration(ws.root, ws.loaded),
      credentials: credentials.checks,
    };
    if (flags.json) printJson(io, result);
    else {
      io.stdout(`workspace  ${result.workspace}\nconfig     ok (time zone ${result.timezone})\nwarehouse  ${warehouseLine(result.warehouse)}\n\n`);
      io.stdout(configurationText(result.configuration));
      io.stdout(result.sources.length === 0 ? 'no events yet: run `usagelab import FILE...`\n' : formatTable(result.sources));
      if (result.quarantined > 0) io.stdout(`\n${result.quarantined} quarantined record(s): SELECT * FROM quarantine\n`);
      io.stdout(`\n${formatCredentialChecks(credentials.checks)}`);
    }
    return credentials.exit_code;
  } finally {
    ws.close();
  }
}
