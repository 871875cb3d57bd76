/**
 * Exclusions: people tagged `internal` or `bot` in person_tags (tagged, never deleted; analyses exclude both tags by
 * default). Tags are derived, never edited: for the people a scope names, every old tag is dropped and the rules run
 * again, so re-running gives the same table and a config change takes effect with `usagelab tags refresh`.
 *
 * Rules, in order (the first that matches names the tag's `rule`; docs/governance.md "Exclusions"):
 *   internal — user_id (configured ids, compared raw and hashed), email_domain (user_email_domains, captured before
 *              masking), property (a user_properties / properties member equal to a value);
 *   bot      — user_agent (isbot on the raw user-agent members a source exports), events_per_minute (more events
 *              than the limit in one calendar minute).
 */
import { isbot } from 'isbot';
import type { ExclusionsConfig } from '../core/governance-config-schema.js';
import { quoteLiteral } from '../sql/quote.js';
import { hashValue } from './pii-hash.js';
import type { SqlSession } from './pii-warehouse-masking.js';

/**
 * Members that hold a whole user-agent string, by source: PostHog `$raw_user_agent`, FullStory `PageUserAgent`, and
 * the common names a generic event log uses. (Amplitude, Mixpanel, Heap and GA4 export only the parsed browser name,
 * which a bot detector cannot judge: isbot calls any one-word string a bot, so a value must look like a user agent,
 * product/version, to be judged at all.)
 */
export const USER_AGENT_MEMBERS = ['$raw_user_agent', 'PageUserAgent', '$user_agent', 'user_agent', 'userAgent'] as const;

/** A cheap search before any JSON is parsed: only events whose properties could hold one of the members. */
const USER_AGENT_GATE = '"(\\$raw_user_agent|PageUserAgent|\\$user_agent|user_agent|userAgent)"';

export type TagScope =
  /** Everyone (tags refresh, retention). */
  | { readonly kind: 'all' }
  /** The people with events of one import (the end of every import). */
  | { readonly kind: 'import'; readonly importId: number };

export interface TagRuleCount {
  readonly tag: 'internal' | 'bot';
  readonly rule: string;
  readonly people: number;
}

export interface TaggingResult {
  /** People whose tags were derived again. */
  readonly scope: 'all' | 'import';
  /** Tagged people per (tag, rule) after the run, over the whole warehouse. */
  readonly tags: readonly TagRuleCount[];
}

const PERSONS = '_ul_tag_persons';

const memberText = (column: string, name: string): string => `json_extract_string(${column}, ${quoteLiteral(`$."${name.replace(/"/g, '\\"')}"`)})`;

function inList(values: readonly string[]): string {
  return values.map(quoteLiteral).join(', ');
}

/** Ways a configured e-mail domain is stored: the HMAC digest of "@domain" with a key, else the domain itself. */
export function emailDomainForm(domain: string, key: string | undefined): string {
  const d = domain.toLowerCase();
  return key === undefined ? d : hashValue(key, `@${d}`);
}

/** Derives person_tags for the people of `scope` under `exclusions`; `key` is the PII hash key (if any). */
export async function derivePersonTags(session: SqlSession, exclusions: ExclusionsConfig, key: string | undefined, scope: TagScope): Promise<TaggingResult> {
  let inScope: string;
  if (scope.kind === 'all') {
    await session.run(`DELETE FROM person_tags`);
    inScope = 'person_id IS NOT NULL';
  } else {
    await session.run(`CREATE OR REPLACE TEMP TABLE ${PERSONS} AS SELECT DISTINCT person_id FROM events WHERE import_id = ${Number(scope.importId)} AND person_id IS NOT NULL`);
    await session.run(`DELETE FROM person_tags WHERE person_id IN (SELECT person_id FROM ${PERSONS})`);
    inScope = `person_id IN (SELECT person_id FROM ${PERSONS})`;
    // Tags of people who no longer exist (merged into another by identity resolution) go too.
    const any = await session.all<{ n: number | string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM person_tags LIMIT 1)`);
    if (Number(any[0]?.n ?? 0) > 0) await session.run(`DELETE FROM person_tags t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.person_id = t.person_id)`);
  }
  const tag = async (name: 'internal' | 'bot', rule: string, persons: string): Promise<void> => {
    await session.run(`INSERT OR IGNORE INTO person_tags SELECT DISTINCT person_id, ${quoteLiteral(name)}, ${quoteLiteral(rule)} FROM (${persons}) WHERE person_id IS NOT NULL`);
  };

  const internal = exclusions.internal;
  if (internal.user_ids.length > 0) {
    const ids = internal.user_ids.flatMap((id) => (key === undefined ? [id] : [id, hashValue(key, id)]));
    await tag('internal', 'user_id', `SELECT person_id FROM events WHERE ${inScope} AND person_id IN (${inList(ids.map((id) => `u:${id}`))})`);
  }
  if (internal.email_domains.length > 0) {
    const forms = [...new Set(internal.email_domains.map((d) => emailDomainForm(d, key)))];
    await tag(
      'internal',
      'email_domain',
      `SELECT person_id FROM (SELECT DISTINCT 'u:' || user_id AS person_id FROM user_email_domains WHERE domain IN (${inList(forms)})) WHERE ${inScope}
         AND person_id IN (SELECT person_id FROM events)`,
    );
  }
  for (const p of internal.properties) {
    const dot = p.property.indexOf('.');
    const column = p.property.slice(0, dot);
    const values = (p.in ?? [p.equals!]).map(String);
    const name = p.property.slice(dot + 1);
    // The member's quoted name in the text first: most documents do not have it, and a search is cheaper than parsing.
    const gate = `contains(CAST(${column} AS VARCHAR), ${quoteLiteral(JSON.stringify(name))})`;
    await tag('internal', `property ${p.property}`, `SELECT person_id FROM events WHERE ${inScope} AND ${gate} AND ${memberText(column, name)} IN (${inList(values)})`);
  }

  const bots = exclusions.bots;
  if (bots.user_agents) {
    // One JSON parse per event for every member (a list of paths), one pass over the events: the distinct
    // (person, user agent) pairs are few, and isbot runs on the distinct agents.
    const paths = `[${USER_AGENT_MEMBERS.map((m) => quoteLiteral(`$."${m}"`)).join(', ')}]`;
    await session.run(`CREATE OR REPLACE TEMP TABLE _ul_agents AS SELECT DISTINCT person_id, ua FROM (
        SELECT person_id, list_filter(json_extract_string(properties, ${paths}), x -> x IS NOT NULL)[1] AS ua FROM events
        WHERE ${inScope} AND properties IS NOT NULL AND regexp_matches(CAST(properties AS VARCHAR), ${quoteLiteral(USER_AGENT_GATE)})
      ) WHERE contains(ua, '/')`);
    const agents = await session.all<{ ua: string }>(`SELECT DISTINCT ua FROM _ul_agents`);
    const botAgents = agents.map((a) => a.ua).filter((a) => isbot(a));
    if (botAgents.length > 0) {
      await session.run(`CREATE OR REPLACE TEMP TABLE _ul_bot_agents (ua VARCHAR)`);
      for (let i = 0; i < botAgents.length; i += 200) {
        const batch = botAgents.slice(i, i + 200);
        await session.run(`INSERT INTO _ul_bot_agents VALUES ${batch.map((_, j) => `($${j + 1})`).join(', ')}`, batch);
      }
      await tag('bot', 'user_agent', `SELECT person_id FROM _ul_agents WHERE ua IN (SELECT ua FROM _ul_bot_agents)`);
      await session.run(`DROP TABLE _ul_bot_agents`);
    }
    await session.run(`DROP TABLE _ul_agents`);
  }
  if (bots.max_events_per_minute !== null) {
    const limit = Number(bots.max_events_per_minute);
    // Only people with more events than the limit in all can exceed it in a minute: grouping every event by (person,
    // minute) is a group per event, 70x the cost of this filter on 10M events. Minutes as integers (UTC calendar
    // minutes): date_trunc on a TIMESTAMPTZ goes through the ICU calendar, twice as slow.
    const busy = `SELECT person_id FROM events WHERE ${inScope} GROUP BY person_id HAVING count(*) > ${limit}`;
    await tag(
      'bot',
      `events_per_minute>${limit}`,
      `SELECT person_id FROM events WHERE person_id IN (${busy}) GROUP BY person_id, epoch_us(occurred_at) // 60000000 HAVING count(*) > ${limit}`,
    );
  }
  if (scope.kind === 'import') await session.run(`DROP TABLE IF EXISTS ${PERSONS}`);
  const counts = await session.all<{ tag: 'internal' | 'bot'; rule: string; people: number | string }>(
    `SELECT tag, rule, count(*) AS people FROM person_tags GROUP BY tag, rule ORDER BY tag, rule`,
  );
  return { scope: scope.kind, tags: counts.map((c) => ({ tag: c.tag, rule: c.rule, people: Number(c.people) })) };
}
