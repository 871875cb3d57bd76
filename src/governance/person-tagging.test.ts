import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import type { Io } from '../cli/output.js';
import { trendsAnalysis } from '../analyses/trends/trends-analysis.js';
import { ndjson, tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { hashValue } from './pii-hash.js';

const KEY = 'FAKE-test-key-0000-tagging';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

const config = (exclusions: string): string => `version: 1
pii:
  hash_key: ${KEY}
exclusions:
${exclusions}`;

const EXCLUSIONS = `  internal:
    email_domains: [acme.com]
    user_ids: [staff-1]
    properties:
      - { property: properties.is_employee, equals: true }
  bots:
    max_events_per_minute: 5
`;

const at = (minute: number, second = 0): string => new Date(Date.UTC(2024, 2, 4, 10, minute, second)).toISOString();

/** 9 people: 4 internal (by three rules), 2 bots, 3 ordinary. */
function events(): object[] {
  const rows: object[] = [
    // e-mail as user id (hashed at import): its domain was recorded before masking.
    { user_id: 'ann@acme.com', event: 'login', time: at(0), user_agent: CHROME },
    // a subdomain, from a user property that the default policy drops.
    { user_id: 'bob', event: 'login', time: at(1), traits: { email: 'bob@eng.acme.com', plan: 'pro' } },
    // another domain: not internal.
    { user_id: 'cat', event: 'login', time: at(2), traits: { email: 'cat@gmail.com' } },
    { user_id: 'staff-1', event: 'login', time: at(3) },
    { user_id: 'dan', event: 'login', time: at(4), is_employee: true },
    { user_id: 'crawler', event: 'login', time: at(5), user_agent: GOOGLEBOT },
    // a browser name alone is not judged (isbot would call any one-word string a bot).
    { user_id: 'eve', event: 'login', time: at(6), user_agent: 'Chrome', browser: 'HeadlessChrome' },
    { user_id: 'fay', event: 'login', time: at(7), is_employee: false },
  ];
  // 6 events in one minute (limit 5) make a bot; 5 in the next minute alone would not.
  for (let s = 0; s < 6; s++) rows.push({ user_id: 'fast', event: 'click', time: at(8, s * 5) });
  for (let s = 0; s < 5; s++) rows.push({ user_id: 'fay', event: 'click', time: at(9, s * 5) });
  return rows;
}

let ws: TempWorkspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

async function importInto(w: TempWorkspace, rows: object[], name = 'events.ndjson'): Promise<void> {
  const file = w.write(name, ndjson(rows));
  const workspace = await w.open();
  try {
    const traits = rows.some((r) => 'traits' in r);
    await workspace.import({ files: [file], ...(traits ? { columnMap: { user_properties: 'traits' } } : {}) });
  } finally {
    workspace.close();
  }
}

async function tags(w: TempWorkspace): Promise<{ person_id: string; tag: string; rule: string }[]> {
  const workspace = await w.open();
  try {
    return await workspace.sql(`SELECT person_id, tag, rule FROM person_tags ORDER BY tag, rule, person_id`);
  } finally {
    workspace.close();
  }
}

describe('exclusions: tagging at import', () => {
  it('tags internal people by hashed e-mail domain, user id and property, and bots by user agent and event rate', async () => {
    ws = tempWorkspace(config(EXCLUSIONS));
    await importInto(ws, events());
    const ann = `u:${hashValue(KEY, 'ann@acme.com')}`;
    expect(await tags(ws)).toEqual([
      { person_id: 'u:fast', tag: 'bot', rule: 'events_per_minute>5' },
      { person_id: 'u:crawler', tag: 'bot', rule: 'user_agent' },
      { person_id: 'u:bob', tag: 'internal', rule: 'email_domain' },
      { person_id: ann, tag: 'internal', rule: 'email_domain' },
      { person_id: 'u:dan', tag: 'internal', rule: 'property properties.is_employee' },
      { person_id: 'u:staff-1', tag: 'internal', rule: 'user_id' },
    ]);
    // No readable domain or address is stored: digests of "@domain" for every suffix of two or more labels.
    const workspace = await ws.open();
    try {
      const stored = await workspace.sql<{ user_id: string; domain: string }>(`SELECT user_id, domain FROM user_email_domains ORDER BY ALL`);
      expect(stored).toHaveLength(4);
      expect(stored.every((r) => /^h:[0-9a-f]{32}$/.test(r.domain))).toBe(true);
      expect(stored.filter((r) => r.user_id === 'bob').map((r) => r.domain).sort()).toEqual([hashValue(KEY, '@acme.com'), hashValue(KEY, '@eng.acme.com')].sort());
      expect(stored.some((r) => r.user_id.includes('@'))).toBe(false);
    } finally {
      workspace.close();
    }
  });

  it("an analysis's `excluded` counts the tagged people; exclude: [] brings them back", async () => {
    ws = tempWorkspace(config(EXCLUSIONS));
    await importInto(ws, events());
    const workspace = await ws.open();
    try {
      const base = { kind: 'trends', name: 'people', measure: 'people', interval: 'day', date_range: { from: '2024-03-04', to: '2024-03-04' } };
      const result = await workspace.runAnalysis(trendsAnalysis, base);
      // 9 people, 6 tagged; 6 + 1 + 1 + 1 + 1 + 1 = 11 of the 19 events are theirs.
      expect(result.excluded).toEqual({ by: ['internal', 'bot'], people: 6, events: 11, share_of_events: 11 / 19 });
      const everyone = await workspace.runAnalysis(trendsAnalysis, { ...base, exclude: [] });
      expect(everyone.excluded.people).toBe(0);
    } finally {
      workspace.close();
    }
  });

  it('re-importing re-derives the same tags; a later import tags only from its own people, keeping the rest', async () => {
    ws = tempWorkspace(config(EXCLUSIONS));
    await importInto(ws, events());
    const first = await tags(ws);
    await importInto(ws, events());
    expect(await tags(ws)).toEqual(first);
    // A new import: the crawler comes back with a normal browser (still a bot: its old events still say so), and
    // a new internal person arrives.
    await importInto(ws, [{ user_id: 'crawler', event: 'view', time: at(30), user_agent: CHROME }, { user_id: 'gil@acme.com', event: 'view', time: at(31) }], 'more.ndjson');
    const after = await tags(ws);
    expect(after).toHaveLength(7);
    expect(after).toContainEqual({ person_id: 'u:crawler', tag: 'bot', rule: 'user_agent' });
    expect(after).toContainEqual({ person_id: `u:${hashValue(KEY, 'gil@acme.com')}`, tag: 'internal', rule: 'email_domain' });
  });

  it('without exclusions config only the default bot rules apply (user agents; 300 events a minute)', async () => {
    ws = tempWorkspace(`version: 1\npii:\n  hash_key: ${KEY}\n`);
    await importInto(ws, events());
    expect(await tags(ws)).toEqual([{ person_id: 'u:crawler', tag: 'bot', rule: 'user_agent' }]);
  });
});

const capture = (): Io & { out: string; err: string } => {
  const io = { out: '', err: '', isTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
};

describe('usagelab tags refresh / list', () => {
  it('a domain added to the config later tags its people on refresh (domains were recorded at import)', async () => {
    ws = tempWorkspace(config('  bots:\n    max_events_per_minute: null\n'));
    await importInto(ws, events());
    expect(await tags(ws)).toEqual([{ person_id: 'u:crawler', tag: 'bot', rule: 'user_agent' }]);
    writeFileSync(join(ws.dir, 'usagelab.yaml'), config('  internal:\n    email_domains: [gmail.com, eng.acme.com]\n  bots:\n    user_agents: false\n    max_events_per_minute: null\n'));
    const refresh = capture();
    expect(await main(['--workspace', ws.dir, 'tags', 'refresh', '--json'], refresh)).toBe(0);
    expect(JSON.parse(refresh.out)).toEqual({ version: 1, tags: [{ tag: 'internal', rule: 'email_domain', people: 2 }], people_before: 1, people_after: 2 });
    expect((await tags(ws)).map((t) => t.person_id)).toEqual(['u:bob', 'u:cat']);

    const list = capture();
    expect(await main(['--workspace', ws.dir, 'tags', 'list'], list)).toBe(0);
    expect(list.out).toMatch(/internal\s+email_domain\s+2/);
    expect(list.out).toContain('22.2% of 9 people are tagged');
    expect(list.out).toMatch(/u:bob\s+internal\s+email_domain\s+1/);
    const bad = capture();
    expect(await main(['--workspace', ws.dir, 'tags', 'list', '--tag', 'robot', '--json'], bad)).toBe(2);
    expect(JSON.parse(bad.err)).toMatchObject({ code: 'tags_tag_unknown' });
  });
});
