/**
 * Person tags for scripts and the CLI: derive them again from the current `exclusions:` config (after changing it),
 * and list them. The import derives the tags of the people it touches on its own (governance/import-tagging.ts).
 */
import { UsageLabError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { derivePersonTags, type TagRuleCount } from '../governance/person-tagging.js';
import { resolvePiiKey } from '../governance/pii-hash.js';
import type { Workspace } from './workspace.js';

export interface TagsRefreshResult {
  readonly version: 1;
  /** Tagged people per tag and rule, after the refresh. */
  readonly tags: readonly TagRuleCount[];
  /** People with any tag, before and after. */
  readonly people_before: number;
  readonly people_after: number;
}

export interface TaggedPerson {
  readonly person_id: string;
  readonly tag: string;
  readonly rule: string;
  readonly events: number;
}

export interface TagsListResult {
  readonly version: 1;
  readonly tags: readonly TagRuleCount[];
  /** People in the warehouse (with any event). */
  readonly people: number;
  /** Tagged people (any tag) ÷ people; null without people. */
  readonly share_tagged: number | null;
  /** The tagged people (at most `limit`), most events first. */
  readonly listed: readonly TaggedPerson[];
  readonly limit: number;
}

async function taggedPeople(ws: Workspace): Promise<number> {
  const rows = await ws.sql<{ n: number | string }>(`SELECT count(DISTINCT person_id) AS n FROM person_tags`);
  return Number(rows[0]?.n ?? 0);
}

/** Drops every tag and derives them all again from the config, in one transaction. */
export async function refreshTags(ws: Workspace): Promise<TagsRefreshResult> {
  const before = await taggedPeople(ws);
  const session = ws.warehouse;
  await session.run('BEGIN TRANSACTION');
  let result;
  try {
    result = await derivePersonTags(session, ws.config.exclusions, resolvePiiKey(ws.config.pii), { kind: 'all' });
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK');
    throw err;
  }
  return { version: 1, tags: result.tags, people_before: before, people_after: await taggedPeople(ws) };
}

export async function listTags(ws: Workspace, options: { tag?: string | undefined; limit?: number | undefined } = {}): Promise<TagsListResult> {
  const limit = options.limit ?? 50;
  if (options.tag !== undefined && !['internal', 'bot'].includes(options.tag)) {
    throw new UsageLabError('tags_tag_unknown', `unknown tag "${options.tag}"`, { place: { field: '--tag' }, hint: 'tags are internal and bot', exitCode: EXIT.usage });
  }
  const tags = await ws.sql<{ tag: string; rule: string; people: number | string }>(`SELECT tag, rule, count(*) AS people FROM person_tags GROUP BY ALL ORDER BY tag, rule`);
  const people = Number((await ws.sql<{ n: number | string }>(`SELECT count(DISTINCT person_id) AS n FROM events WHERE person_id IS NOT NULL`))[0]?.n ?? 0);
  const tagged = await taggedPeople(ws);
  const filter = options.tag === undefined ? '' : `WHERE t.tag = '${options.tag}'`;
  const listed = await ws.sql<{ person_id: string; tag: string; rule: string; events: number | string }>(
    `SELECT t.person_id, t.tag, t.rule, count(e.person_id) AS events FROM person_tags t LEFT JOIN events e ON e.person_id = t.person_id ${filter}
     GROUP BY ALL ORDER BY events DESC, t.person_id, t.tag LIMIT ${Math.max(0, Math.floor(limit))}`,
  );
  return {
    version: 1,
    tags: tags.map((t) => ({ tag: t.tag as 'internal' | 'bot', rule: t.rule, people: Number(t.people) })),
    people,
    share_tagged: people === 0 ? null : tagged / people,
    listed: listed.map((p) => ({ person_id: p.person_id, tag: p.tag, rule: p.rule, events: Number(p.events) })),
    limit,
  };
}
