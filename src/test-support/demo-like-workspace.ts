/**
 * Test helper: a workspace shaped like the demo product (Acme Boards, docs/demo.md) — its pages, events, funnels,
 * feature catalog and frustration spots — with a few hundred seeded people over three months, written straight into
 * the warehouse in seconds. Charts see what the demo gives them, plus deliberately long names (a long funnel step,
 * long element texts) so that label layout is tested at its worst. Not the demo: no vendor files, no import.
 */
import type { Workspace } from '../library/workspace.js';
import { tagPerson, type TestEvent } from './analysis-events.js';
import { tempWorkspace, type TempWorkspace } from './temp-workspace.js';

/** The report month of the workspace, and the two months of data before it. */
export const DEMO_LIKE_MONTH = '2026-10';
const FIRST_DAY = Date.UTC(2026, 7, 1);
const DAYS = 92;

const FUNNEL = `kind: funnel
name: Signup to paid
steps: [signup, create_project, invite_teammate, upgrade]
window: 14d
breakdown: device_type
`;
const ONBOARDING = `kind: funnel
name: Onboarding completion (first project created with the guided setup wizard)
steps: [onboarding_started, onboarding_completed]
window: 1d
`;
const FEATURES = `features:
  - name: Board view
    match: [{ page: /projects/:id/board }]
  - name: Timeline
    match: [{ page: /projects/:id/timeline }]
  - name: Automations
    match: [{ page: /projects/:id/automations }]
    signals: [{ where: { page_path: /projects/:id/automations } }]
  - name: Templates
    match: [{ page: /templates }]
  - name: Report exports
    match: [report_exported]
`;
const SEGMENT = `kind: segment
name: mobile-app-users
did: [Card Moved]
`;

const PAGES = ['/projects', '/projects/:id', '/projects/:id/board', '/projects/:id/list', '/reports', '/reports/:id', '/inbox', '/settings/profile', '/settings/team', '/integrations'];
/** Frustration spots: page, element text, selector, the signal, and how often a visit to the page hits it. */
const SPOTS = [
  { page: '/projects/:id/automations', text: 'Save automation rule and notify everyone on this project', selector: 'button.automation-save', signal: 'rage_click', rate: 0.35 },
  { page: '/settings/billing', text: 'Download invoice (PDF)', selector: 'a.invoice-download', signal: 'dead_click', rate: 0.25 },
  { page: '/integrations/:name', text: 'Connect', selector: 'button.integration-connect', signal: 'error_click', rate: 0.2 },
  { page: '/projects/:id/board', text: 'Add card', selector: 'button.add-card', signal: 'rage_click', rate: 0.04 },
  { page: '/reports/:id', text: 'Export to CSV', selector: 'button.export-csv', signal: 'dead_click', rate: 0.06 },
] as const;

/** A small seeded generator (mulberry32): the same workspace on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function demoLikeEvents(people = 320, seed = 7): TestEvent[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: TestEvent[] = [];
  for (let i = 0; i < people; i++) {
    const person = `usr_${(i + 1).toString(16).padStart(6, '0')}`;
    const device = rnd() < 0.3 ? 'mobile' : 'desktop';
    const mobileApp = rnd() < 0.35;
    // A third were customers before the data starts; the others sign up during it.
    const joined = rnd() < 0.33 ? 0 : Math.floor(rnd() * (DAYS - 5));
    const engagement = 0.05 + rnd() * 0.35;
    let sessionNo = 0;
    let t = FIRST_DAY + joined * 86_400_000 + Math.floor(rnd() * 12 + 7) * 3_600_000;
    const at = (): string => new Date(t).toISOString();
    const push = (name: string, fields: Partial<TestEvent> = {}): void => {
      out.push({ person, at: at(), name, session_id: `${person}-s${sessionNo}`, device_type: device, ...fields });
      t += Math.floor(20_000 + rnd() * 90_000);
    };
    const page = (path: string): void => push('$pageview', { event_kind: 'page_view', page_path: path });
    if (joined > 0) {
      page('/signup');
      push('signup');
      push('onboarding_started');
      if (rnd() < (joined > 61 ? 0.8 : 0.55)) push('onboarding_completed');
      if (rnd() < (device === 'mobile' ? 0.35 : 0.7)) {
        push('create_project');
        if (rnd() < 0.5) {
          push('invite_teammate');
          if (rnd() < 0.4) push('upgrade');
        }
      }
    }
    for (let day = joined + 1; day < DAYS; day++) {
      if (rnd() > engagement * (1 - day / (DAYS * 3))) continue;
      sessionNo++;
      t = FIRST_DAY + day * 86_400_000 + Math.floor(rnd() * 14 + 6) * 3_600_000;
      const views = 2 + Math.floor(rnd() * 6);
      for (let v = 0; v < views; v++) {
        const path = pick(PAGES);
        page(path);
        if (path === '/reports/:id' && rnd() < 0.3) push('report_exported', { page_path: path });
        push('click', { event_kind: 'click', page_path: path, element_text: 'Open', element_selector: 'a.open' });
      }
      if (rnd() < 0.5) page('/projects/:id/board');
      if (rnd() < 0.15) page('/projects/:id/timeline');
      if (rnd() < 0.03) page('/templates');
      for (const spot of SPOTS) {
        if (rnd() > 0.18) continue;
        page(spot.page);
        const hit = rnd() < spot.rate;
        push('click', { event_kind: 'click', page_path: spot.page, element_text: spot.text, element_selector: spot.selector, ...(hit ? { [spot.signal]: true } : {}) });
      }
      if (mobileApp && rnd() < 0.6) push('Card Moved', { event_kind: 'custom', device_type: 'mobile' });
    }
  }
  // An internal tester and a bot, both excluded by default.
  for (let d = 31; d < DAYS; d += 2) {
    out.push({ person: 'usr_internal', at: new Date(FIRST_DAY + d * 86_400_000 + 3_600_000).toISOString(), name: '$pageview', event_kind: 'page_view', page_path: '/settings/team', session_id: `int-${d}` });
    out.push({ person: 'bot_crawler', at: new Date(FIRST_DAY + d * 86_400_000 + 7_200_000).toISOString(), name: '$pageview', event_kind: 'page_view', page_path: '/pricing', session_id: `bot-${d}` });
  }
  return out;
}

/** Bulk insert through DuckDB's JSON reader (row-by-row parameters take minutes for 40k events on a busy machine). */
async function loadEvents(ws: Workspace, file: string): Promise<void> {
  const text = (c: string): string => `"${c}": 'VARCHAR'`;
  const columns = ['person', 'at', 'name', 'session_id', 'event_kind', 'page_path', 'device_type', 'element_text', 'element_selector'].map(text);
  await ws.sql(`INSERT INTO events (event_id, source, source_event_id, event_name, event_kind, occurred_at, rage_click, dead_click, error_click,
      person_id, session_id, import_id, page_path, device_type, element_text, element_selector)
    SELECT CAST(md5('demo-like-' || id) AS UUID), 'generic', 'demo-like-' || id, name, coalesce(event_kind, 'custom'), CAST("at" AS TIMESTAMPTZ),
      coalesce(rage_click, false), coalesce(dead_click, false), coalesce(error_click, false),
      person, session_id, 1, page_path, device_type, element_text, element_selector
    FROM read_json('${file.replace(/'/g, "''")}', format = 'newline_delimited',
      columns = {id: 'BIGINT', ${columns.join(', ')}, rage_click: 'BOOLEAN', dead_click: 'BOOLEAN', error_click: 'BOOLEAN'})`);
}

/** The demo-like workspace, opened; `cleanup` closes and deletes it. */
export async function demoLikeWorkspace(options: { people?: number; config?: string } = {}): Promise<{ tw: TempWorkspace; ws: Workspace; cleanup(): void }> {
  const tw = tempWorkspace(options.config ?? 'version: 1\nproject:\n  name: Acme Boards\ntimezone: Europe/Berlin\n');
  tw.write('queries/activation-funnel.yaml', FUNNEL);
  tw.write('queries/onboarding-funnel.yaml', ONBOARDING);
  tw.write('queries/features.yaml', FEATURES);
  tw.write('queries/segments/mobile-app-users.yaml', SEGMENT);
  const ws = await tw.open();
  try {
    const events = demoLikeEvents(options.people);
    await loadEvents(ws, tw.write('demo-like-events.jsonl', events.map((e, i) => JSON.stringify({ ...e, id: i })).join('\n')));
    await tagPerson(ws.warehouse, 'usr_internal', 'internal');
    await tagPerson(ws.warehouse, 'bot_crawler', 'bot');
    await ws.sql(`INSERT INTO imports VALUES (1, '2026-11-02 06:00:00+00', '2026-11-02 06:05:00+00', 'test', 2, ${events.length + 40}, ${events.length}, 31, 9, false)`);
    await ws.sql(`INSERT INTO import_files VALUES
      (1, 'exports/posthog/2026-08.jsonl.gz', 'fp1', 1000, 'generic', 'ndjson', ${events.length + 20}, ${events.length}, 31, 0, NULL, '2026-08-01 00:00:00+00', '2026-10-31 23:00:00+00'),
      (1, 'exports/posthog/broken.jsonl.gz', 'fp2', 100, 'generic', 'ndjson', 20, 0, 0, 9, NULL, '2026-10-01 00:00:00+00', '2026-10-31 23:00:00+00')`);
    await ws.sql(`INSERT INTO quarantine SELECT 1, 'exports/posthog/broken.jsonl.gz', range, CASE WHEN range < 6 THEN 'occurred_at missing' ELSE 'not JSON' END FROM range(9)`);
  } catch (err) {
    ws.close();
    tw.cleanup();
    throw err;
  }
  return {
    tw,
    ws,
    cleanup: () => {
      ws.close();
      tw.cleanup();
    },
  };
}

