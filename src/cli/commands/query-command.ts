/** `usagelab query FILE|NAME`: runs a saved query of any kind from queries/ and prints it. */
import type { Command } from 'commander';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { runSavedQuery } from '../../library/saved-query.js';
import { ANALYSIS_KIND_NAMES } from '../../library/analysis-registry.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { printResult } from '../result-output.js';
import { RESULT_RENDERERS } from '../result-renderers.js';
import { peopleOption } from './funnel-command.js';

interface QueryFlags {
  json?: boolean;
  csv?: boolean;
  people?: string;
}

export function registerQueryCommand(program: Command, ctx: CommandContext): void {
  program
    .command('query')
    .description(`run a saved query (queries/NAME.yaml or a path); kinds: ${ANALYSIS_KIND_NAMES.join(', ')}`)
    .argument('<query>', 'a name in queries/ or a path to a .yaml file')
    .option('--json', 'print the documented JSON result (docs/json-output.md)')
    .option('--csv', 'print the result as CSV')
    .option('--people <n>', 'funnel: list who dropped after step N; segment: list up to N members')
    .action(async (query: string, opts: QueryFlags) => {
      ctx.setJson(opts.json === true);
      const ws = await openWorkspace(ctx.workspace());
      try {
        const people = opts.people === undefined ? {} : { ...peopleOption(opts.people), listPeople: Number(opts.people) };
        const result = await runSavedQuery(ws, query, people);
        const renderer = RESULT_RENDERERS[result.kind];
        if (renderer === undefined) {
          throw new UsageLabError('query_kind_unrenderable', `no terminal view for kind "${result.kind}"`, { hint: 'use --json', exitCode: EXIT.internal });
        }
        printResult(ctx.io, result, renderer, opts);
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
}
