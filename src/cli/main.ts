/**
 * The usagelab command line: thin — parse flags, call the library, print through output.ts. `main` returns the
 * exit code instead of exiting, so tests can run commands in-process.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, type ExitCode } from '../core/exit-codes.js';
import { toolVersion } from '../core/tool-version.js';
import { processIo, redactingIo, reportError, type Io } from './output.js';
import { initCommand } from './commands/init-command.js';
import { importCommand, type ImportFlags } from './commands/import-command.js';
import { sqlCommand } from './commands/sql-command.js';
import { checkCommand } from './commands/check-command.js';
import { demoCommand } from './commands/demo-command.js';
import type { CommandContext } from './command-context.js';
import { registerQueryCommand } from './commands/query-command.js';
import { registerFunnelCommand } from './commands/funnel-command.js';
import { registerAdoptionCommand } from './commands/adoption-command.js';
import { registerFrictionCommand } from './commands/friction-command.js';
import { registerPathsCommand } from './commands/paths-command.js';
import { registerRetentionCommand } from './commands/retention-command.js';
import { registerTrendsCommand } from './commands/trends-command.js';
import { registerMigrateCommand } from './commands/migrate-command.js';
import { registerPiiCommand } from './commands/pii-command.js';
import { registerExportCommand } from './commands/export-command.js';
import { registerReportCommand } from './commands/report-command.js';
import { registerInsightsCommand } from './commands/insights-command.js';
import { registerApiCommand } from './commands/api-command.js';
import { registerTagsCommand } from './commands/tags-command.js';

export async function main(argv: readonly string[], rawIo: Io = processIo): Promise<ExitCode> {
  // Everything any command prints passes the secret redaction (docs/governance.md "Secrets").
  const io = redactingIo(rawIo);
  let code: ExitCode = EXIT.ok;
  let json = argv.includes('--json');
  const program = new Command('usagelab')
    .description('Your product usage data back: import vendor exports, analyse them with saved queries, report monthly.')
    .version(toolVersion())
    .option('-w, --workspace <dir>', 'workspace folder (default: the nearest folder with usagelab.yaml; or USAGELAB_WORKSPACE)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError();

  const global = (): { workspace?: string } => program.opts<{ workspace?: string }>();
  const ctx: CommandContext = {
    io,
    workspace: () => global().workspace,
    setJson: (value) => {
      json = value;
    },
    setExitCode: (value) => {
      code = value;
    },
  };

  program
    .command('init')
    .description('create a workspace (never overwrites existing files)')
    .argument('[dir]', 'folder to create it in', '.')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      code = initCommand(io, dir, opts.json === true);
    });

  program
    .command('import')
    .description('import export files of FullStory, Amplitude, Mixpanel, Heap, PostHog, GA4 or any event log')
    .argument('[files...]', 'files or folders (Heap Connect syncs) to import; none: the exported files the manifests under exports/ list as new')
    .option('--source <source>', 'force the source instead of detecting it (fullstory, amplitude, mixpanel, heap, posthog, ga4, generic)')
    .option('--map <pairs>', 'column mapping for generic files: user_id=COL,event_name=COL,occurred_at=COL,...')
    .option('--strict', 'import nothing from a file that has any unreadable record')
    .option('--skip-empty', 'list empty files (empty export windows) as skipped instead of failing')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: ImportFlags) => {
      json = opts.json === true;
      code = await importCommand(io, files, { ...global(), ...opts });
    });

  program
    .command('sql')
    .description('run SQL (a query or a .sql file) on the warehouse')
    .argument('<query>', 'SQL text or a path to a .sql file')
    .option('--json', 'print JSON')
    .action(async (query: string, opts: { json?: boolean }) => {
      code = await sqlCommand(io, query, { ...global(), ...opts });
    });

  registerQueryCommand(program, ctx);
  registerFunnelCommand(program, ctx);
  registerAdoptionCommand(program, ctx);
  registerFrictionCommand(program, ctx);
  registerPathsCommand(program, ctx);
  registerRetentionCommand(program, ctx);
  registerTrendsCommand(program, ctx);
  registerMigrateCommand(program, ctx);
  registerPiiCommand(program, ctx);
  registerExportCommand(program, ctx);
  registerReportCommand(program, ctx);
  registerInsightsCommand(program, ctx);
  registerApiCommand(program, ctx);
  registerTagsCommand(program, ctx);

  program
    .command('demo')
    .description('create a demo workspace: synthetic exports of all six tools, imported and queried (no network)')
    .argument('[dir]', 'folder for the demo workspace', 'demo-workspace')
    .option('--seed <n>', 'random seed (same seed, same data)')
    .option('--people <n>', 'number of simulated people')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean; seed?: string; people?: string }) => {
      json = opts.json === true;
      code = await demoCommand(io, dir, opts);
    });

  program
    .command('check')
    .description('validate the config, the warehouse and each configured source\'s credentials (one cheap API call each); show what is loaded')
    .option('--offline', 'no API calls: skip the credential checks')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; offline?: boolean }) => {
      code = await checkCommand(io, { ...global(), ...opts });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(io, err, json);
  }
}
