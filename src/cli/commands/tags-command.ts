/**
 * `usagelab tags refresh` derives every person tag again from the `exclusions:` config (run it after changing the
 * config; imports tag the people they touch on their own); `usagelab tags list [--tag T] [--limit N]` shows how many
 * people each rule tagged and the tagged people. Tagged people are excluded from analyses by default, never deleted.
 */
import type { Command } from 'commander';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { listTags, refreshTags, type TagsListResult, type TagsRefreshResult } from '../../library/person-tags.js';
import { openWorkspace } from '../../library/workspace.js';
import type { CommandContext } from '../command-context.js';
import { formatTable, printJson } from '../output.js';
import { percent } from '../result-output.js';

function refreshText(r: TagsRefreshResult): string {
  const rules = r.tags.length === 0 ? 'no one is tagged\n' : formatTable(r.tags.map((t) => ({ tag: t.tag, rule: t.rule, people: t.people })));
  return `${rules}tagged people: ${r.people_before} before, ${r.people_after} now\n`;
}

function listText(r: TagsListResult): string {
  if (r.tags.length === 0) return `no one is tagged (${r.people} people)\n`;
  let out = formatTable(r.tags.map((t) => ({ tag: t.tag, rule: t.rule, people: t.people })));
  out += `\n${percent(r.share_tagged)} of ${r.people} people are tagged\n\n`;
  out += formatTable(r.listed.map((p) => ({ person: p.person_id, tag: p.tag, rule: p.rule, events: p.events })));
  if (r.listed.length === r.limit) out += `(first ${r.limit}; --limit N for more)\n`;
  return out;
}

export function registerTagsCommand(program: Command, ctx: CommandContext): void {
  const tags = program.command('tags').description('person tags (internal, bot) that analyses exclude by default (docs/governance.md#exclusions)');
  tags
    .command('refresh')
    .description('derive every tag again from the exclusions: config (after changing it)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      ctx.setJson(opts.json === true);
      const ws = await openWorkspace(ctx.workspace());
      try {
        const result = await refreshTags(ws);
        if (opts.json === true) printJson(ctx.io, result);
        else ctx.io.stdout(refreshText(result));
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
  tags
    .command('list')
    .description('tagged people per rule, and the people')
    .option('--tag <tag>', 'only internal or only bot')
    .option('--limit <n>', 'people to list (default 50)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; tag?: string; limit?: string }) => {
      ctx.setJson(opts.json === true);
      if (opts.limit !== undefined && !/^\d+$/.test(opts.limit)) {
        throw new UsageLabError('tags_limit_invalid', `--limit ${opts.limit} is not a whole number`, { place: { field: '--limit' }, hint: 'e.g. --limit 100', exitCode: EXIT.usage });
      }
      const ws = await openWorkspace(ctx.workspace());
      try {
        const result = await listTags(ws, { tag: opts.tag, limit: opts.limit === undefined ? undefined : Number(opts.limit) });
        if (opts.json === true) printJson(ctx.io, result);
        else ctx.io.stdout(listText(result));
        ctx.setExitCode(EXIT.ok);
      } finally {
        ws.close();
      }
    });
}
