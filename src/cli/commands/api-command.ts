/**
 * `usagelab api postman [source]`: writes api/<source>.postman_collection.json (Postman v2.1) and api/<source>.md
 * for one source or every source with an API connector, from the connectors' endpoint lists (docs/api-collections.md).
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../core/exit-codes.js';
import { writeApiFiles } from '../../library/api-collection.js';
import { openExportWorkspace } from '../../library/export-source.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson } from '../output.js';

export function registerApiCommand(program: Command, ctx: CommandContext): void {
  const api = program.command('api').description('describe the vendor APIs usagelab calls');
  api
    .command('postman')
    .description('write api/<source>.postman_collection.json (Postman v2.1) and api/<source>.md; every source when none is named')
    .argument('[source]', 'amplitude, mixpanel, posthog, ga4, fullstory or heap')
    .option('--json', 'print the written files as JSON')
    .action((source: string | undefined, opts: { json?: boolean }) => {
      ctx.setJson(opts.json === true);
      const ws = openExportWorkspace(ctx.workspace());
      const written = writeApiFiles(ws.paths.api, source);
      if (opts.json === true) printJson(ctx.io, { files: written });
      else ctx.io.stdout(formatTable(written.map((w) => ({ source: w.source, requests: w.requests, collection: relative(ws.root, w.collection), notes: relative(ws.root, w.notes) }))));
      ctx.setExitCode(EXIT.ok);
    });
}
