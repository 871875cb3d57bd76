import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { ev, insertEvents, type TestEvent } from '../test-support/analysis-events.js';
import type { Workspace } from '../library/workspace.js';
import { defaultReportConfig, reportConfigSchema } from '../core/report-config-schema.js';
import { writeMonthlyReport } from './monthly-report.js';
import { lastCompleteMonth, reportMonth, weeksOf } from './report-period.js';
import { daysBetween, windowWords } from './report-format.js';
import { UsageLabError } from '../core/errors.js';
import { chartsOf } from './report-document.js';
import { compileWarnings, renderSvg } from './charts/render-svg.js';

const FUNNEL = `kind: funnel
name: Signup to project
steps: [signup, create_project]
window: 7d
`;
const FEATURES = `features:
  - name: Projects
    match: [create_project]
`;
const FRICTION = `kind: friction
name: All friction
min_sessions: 1
`;

/**
 * America/New_York, March 2024 (DST starts 2024-03-10). Local days: p7's only event is Feb 29 23:30 (Mar 1 04:30Z),
 * p4's is Mar 31 23:30 (Apr 1 03:30Z), p5's Apr 1 00:30 (outside). p6 is internal.
 */
function events(): TestEvent[] {
  const page = (path: string) => ({ event_kind: 'page_view', page_path: path });
  return [
    ev('p1', '2024-02-15T15:00:00Z', 'signup', { session_id: 'p1-a' }),
    ev('p1', '2024-02-16T15:00:00Z', 'create_project', { session_id: 'p1-b' }),
    ev('p1', '2024-03-03T15:00:00Z', 'page_view', { session_id: 'p1-c', ...page('/home') }),
    ev('p7', '2024-03-01T04:30:00Z', 'page_view', { session_id: 'p7-a', ...page('/home') }),
    ev('p2', '2024-03-02T15:00:00Z', 'signup', { session_id: 'p2-a' }),
    ev('p2', '2024-03-12T15:00:00Z', 'create_project', { session_id: 'p2-b' }),
    ev('p2', '2024-03-12T15:01:00Z', 'click', { session_id: 'p2-b', page_path: '/projects', element_text: 'Save', element_selector: 'button.save', rage_click: true }),
    ev('p3', '2024-03-04T15:00:00Z', 'signup', { session_id: 'p3-a' }),
    ev('p3', '2024-03-04T15:05:00Z', 'page_view', { session_id: 'p3-a', ...page('/pricing') }),
    ev('p4', '2024-04-01T03:30:00Z', 'page_view', { session_id: 'p4-a', source: 'ga4', ...page('/home') }),
    ev('p5', '2024-04-01T04:30:00Z', 'page_view', { session_id: 'p5-a', ...page('/home') }),
    ev('p6', '2024-03-05T15:00:00Z', 'signup', { session_id: 'p6-a' }),
    ev('p6', '2024-03-05T15:01:00Z', 'create_project', { session_id: 'p6-a' }),
  ];
}

async function seed(ws: Workspace): Promise<void> {
  await insertEvents(ws.warehouse, events());
  await ws.sql(`INSERT INTO person_tags VALUES ('p6', 'internal', 'test')`);
  await ws.sql(`INSERT INTO imports VALUES (1, '2024-04-05 00:00:00+00', '2024-04-05 00:10:00+00', 'test', 1, 20, 13, 5, 2, false)`);
  await ws.sql(`INSERT INTO import_files VALUES (1, 'exports/generic/march.jsonl', 'fp', 100, 'generic', 'ndjson', 20, 13, 5, 2, NULL,
    '2024-02-15 15:00:00+00', '2024-04-01 04:30:00+00')`);
  await ws.sql(`INSERT INTO quarantine VALUES (1, 'exports/generic/march.jsonl', 3, 'occurred_at missing'), (1, 'exports/generic/march.jsonl', 9, 'occurred_at missing')`);
}

describe('monthly report', () => {
  let tw: TempWorkspace;
  let ws: Workspace;

  beforeEach(async () => {
    tw = tempWorkspace('version: 1\ntimezone: America/New_York\n');
    tw.write('queries/signup-funnel.yaml', FUNNEL);
    tw.write('queries/features.yaml', FEATURES);
    tw.write('queries/all-friction.yaml', FRICTION);
    ws = await tw.open();
    await seed(ws);
  });

  afterEach(() => {
    ws.close();
    tw.cleanup();
  });

  const config = { ...defaultReportConfig(), friction: 'all-friction' };

  it('writes every section with exact numbers', async () => {
    const report = await writeMonthlyReport(ws, { month: '2024-03', config });
    const md = readFileSync(report.markdownPath, 'utf8');
    expect(report.markdownPath).toBe(join(tw.dir, 'reports', '2024-03-usage-report.md'));
    for (const title of ['Summary', 'Data sources and freshness', 'Active users', 'What users do', 'Funnels', 'Friction', 'Features', 'Retention', 'Insights', 'Data quality', 'Definitions']) {
      expect(md).toContain(`## ${title}\n`);
    }
    // Active users: p1, p2, p3, p4 in March (p4 at 23:30 local on Mar 31; p5 is April; p6 internal); p1, p7 in February.
    expect(md).toContain('| People active in the month | 4 | 2 | +100.0% |');
    expect(md).toContain('| New people | 3 | 2 | +50.0% |');
    expect(md).toContain('| Returning from the previous month | 1 | 0 | – |');
    expect(md).toContain('| Dormant (active the month before, not this one) | 1 | 0 | – |');
    // Top product events by people in March: page views (kind page_view) and GA4's automatic "click" are left out.
    expect(md).toContain('| `signup` | 2 | 50.0% | 1 | +100.0% |\n| `create_project` | 1 | 25.0% | 1 | +0.0% |\n\n');
    expect(md).not.toContain('| `click` |');
    // Top pages: p1 and p4 in March (p4 at 23:30 local on Mar 31); February: p7's view on Feb 29, local.
    expect(md).toContain('| `/home` | 2 | 50.0% | 1 | +100.0% |\n| `/pricing` | 1 | 25.0% | 0 | – |');
    // Funnel: March entries p2 (create_project 10 days later: outside the 7-day window) and p3; both drop.
    expect(md).toContain('| 1. signup | 2 | 100.0% | 100.0% | 0 |');
    expect(md).toContain('| 2. create\\_project | 0 | 0.0% | 0.0% | 2 | – | 100.0% | -100.0 pp |');
    expect(md).toContain('| 1. signup | 2 | page\\_view (1) | 1 |');
    // Less than 90 days of history before the month and the cohorts: the report says what that changes.
    expect(md).toContain('The data begins on 2024-02-15, 15 days before 2024-03-01: some of the "new" people may have been active before it');
    expect(md).toContain('The data begins on 2024-02-15, after 2024-01-01: the cohorts of its first weeks also hold people who were active before it');
    expect(md).toContain('counted per person, within 7 days of step 1');
    // Sources: generic imported after the month closed (final); ga4 never imported (provisional).
    expect(md).toMatch(/\| `ga4` \| 1 \| 1 \| 2024-04-01 to 2024-04-01 \| – \| 3 d \| provisional/);
    expect(md).toMatch(/\| `generic` \| 8 \| 12 \| 2024-02-15 to 2024-04-01 \| 2024-04-05 00:10 UTC \| 0 d \| final \|/);
    // Data quality from import_files and quarantine; internal p6 excluded (2 of the month's 9 events).
    expect(md).toContain('| duplicates removed | 5 | 5 |');
    expect(md).toContain('| records rejected (quarantined) | 2 | 2 |');
    expect(md).toContain('| occurred\\_at missing | 2 |');
    expect(md).toContain('Excluded from every analysis (internal, bot): 1 people with 2 events, 22.2% of the month');
    // The one import ran before the warehouse counted masked values (migration 3 was applied when the test began).
    expect(md).toContain('Masked PII: not recorded. The imports reaching into the month ran before this warehouse counted masked values.');
    expect(md).toMatch(/## Insights\n\n\d+ comparisons tested, \d+ stand out/);
    // Friction: 1 of 5 March sessions had a signal (p2-b).
    expect(md).toContain('20.0% of 5 sessions had a frustration signal');
    // Compared with February (the saved query sets no compare: the report's previous_month), 3 sessions, none with a signal.
    expect(md).toContain('In the month before (2024-02-01 to 2024-02-29): 0.0% (');
    expect(md).toContain('| 1 | `/projects` | Save | 1 | ');
    // Charts exist and are linked.
    const charts = readdirSync(join(tw.dir, 'reports', '2024-03')).sort();
    expect(charts).toEqual(expect.arrayContaining(['active-users.svg', 'features.svg', 'friction-hotspots.svg', 'funnel-signup-funnel.svg', 'retention.svg', 'top-events.svg', 'top-pages.svg']));
    for (const c of charts) expect(md).toContain(`](2024-03/${c})`);
  });

  it('counts masked PII per kind and field for the imports reaching into the month', async () => {
    // The import now counts as made after migration 3; import 2 only holds 2023 events (outside the month).
    await ws.sql(`UPDATE schema_migrations SET applied_at = '2024-01-01 00:00:00+00' WHERE version = 3`);
    await ws.sql(`INSERT INTO imports VALUES (2, '2024-01-02 00:00:00+00', '2024-01-02 00:01:00+00', 'test', 1, 5, 5, 0, 0, false)`);
    await ws.sql(`INSERT INTO import_files VALUES (2, 'exports/generic/old.jsonl', 'fp2', 10, 'generic', 'ndjson', 5, 5, 0, 0, NULL, '2023-05-01 00:00:00+00', '2023-05-02 00:00:00+00')`);
    await ws.sql(`INSERT INTO import_pii_counts VALUES (1, 'user_id', 'hashed', 13), (1, 'page_url', 'email', 4), (1, 'properties', 'email', 2),
      (1, 'page_url', 'token', 1), (1, 'properties', 'custom:order_ref', 3), (2, 'page_url', 'email', 100)`);
    const report = await writeMonthlyReport(ws, { month: '2024-03', config });
    expect(report.data.pii).toEqual({
      recorded: true,
      kinds: [{ kind: 'hashed', values: 13 }, { kind: 'email', values: 6 }, { kind: 'custom:order_ref', values: 3 }, { kind: 'token', values: 1 }],
      fields: [
        { field: 'user_id', kind: 'hashed', values: 13 },
        { field: 'page_url', kind: 'email', values: 4 },
        { field: 'properties', kind: 'custom:order_ref', values: 3 },
        { field: 'properties', kind: 'email', values: 2 },
        { field: 'page_url', kind: 'token', values: 1 },
      ],
      all_values: 123,
      imports: 1,
      unrecorded_imports: 0,
    });
    const md = readFileSync(report.markdownPath, 'utf8');
    expect(md).toContain(
      'Masked PII: the imports reaching into the month masked 23 values before they were stored (all imports: 123): 13 identifiers hashed, 6 e-mail addresses, 3 order\\_ref (custom pattern), 1 tokens. Counts only: the values themselves are never kept.',
    );
    expect(md).toContain('| user\\_id | identifiers hashed | 13 |\n| page\\_url | e-mail addresses | 4 |');
    // Without the table (a warehouse from before migration 3) the section says so.
    await ws.sql('DROP TABLE import_pii_counts');
    const old = await writeMonthlyReport(ws, { month: '2024-03', config });
    expect(readFileSync(old.markdownPath, 'utf8')).toContain('Masked PII: not recorded. This warehouse was written by a usagelab version that did not count masked values');
  });

  it('is byte-identical when run twice, and a re-run replaces the files', async () => {
    const first = await writeMonthlyReport(ws, { month: '2024-03', config, html: true });
    const read = (): Record<string, string> => {
      const dir = join(tw.dir, 'reports');
      const out: Record<string, string> = {};
      for (const f of readdirSync(dir)) if (f.endsWith('.md') || f.endsWith('.html')) out[f] = readFileSync(join(dir, f), 'utf8');
      for (const f of readdirSync(join(dir, '2024-03'))) out[`2024-03/${f}`] = readFileSync(join(dir, '2024-03', f), 'utf8');
      return out;
    };
    const a = read();
    writeFileSync(join(tw.dir, 'reports', '2024-03', 'stale.svg'), '<svg/>');
    await writeMonthlyReport(ws, { month: '2024-03', config, html: true });
    const b = read();
    expect(b).toEqual(a);
    expect(Object.keys(b).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(first.htmlPath).not.toBeNull();
    const html = a['2024-03-usage-report.html']!;
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src="http/);
  });

  it('says when a section has nothing to show', async () => {
    const report = await writeMonthlyReport(ws, { month: '2023-01', config: { ...config, funnels: [] } });
    const md = readFileSync(report.markdownPath, 'utf8');
    expect(md).toContain('| People active in the month | 0 | 0 | – |');
    expect(md).toContain('No saved funnels');
    expect(md).toContain('No activity in the month.');
  });

  it('fills a template: values, built-in sections and query blocks', async () => {
    tw.write('reports/template.md', '# Our {{month}} review\n\nCompared with {{previous_month}}.\n\n{{section:active-users}}\n\n```usagelab query\nquery: signup-funnel\n```\n');
    const report = await writeMonthlyReport(ws, { month: '2024-03', config: { ...config, template: 'reports/template.md' } });
    const md = readFileSync(report.markdownPath, 'utf8');
    expect(md).toContain('# Our 2024-03 review\n\nCompared with 2024-02.');
    expect(md).toContain('## Active users\n');
    expect(md).toContain('| 1. signup | 2 | 100.0% | 100.0% | 0 |');
    expect(md).not.toContain('## Friction');
    tw.write('reports/bad.md', '{{section:nope}}\n');
    await expect(writeMonthlyReport(ws, { month: '2024-03', config: { ...config, template: 'reports/bad.md' } })).rejects.toMatchObject({ code: 'report_template_section_unknown' });
  });

  it('treats hostile values from the data as text', async () => {
    await insertEvents(ws.warehouse, [ev('p9', '2024-03-20T15:00:00Z', "x'); DROP TABLE events; --|<script>", { session_id: 'p9-a' })]);
    const report = await writeMonthlyReport(ws, { month: '2024-03', config, html: true });
    const md = readFileSync(report.markdownPath, 'utf8');
    expect(md).toContain("`x'); DROP TABLE events; --\\|<script>`");
    expect(readFileSync(report.htmlPath!, 'utf8')).toContain('x&#39;); DROP TABLE events; --|&lt;script&gt;');
    expect((await ws.sql<{ n: number }>('SELECT count(*)::INT AS n FROM events'))[0]!.n).toBe(14);
  });
});

describe('report period and config', () => {
  it('computes months, previous months and the default month', () => {
    expect(reportMonth('2024-03')).toMatchObject({ range: { from: '2024-03-01', to: '2024-03-31' }, previous: { month: '2024-02', range: { from: '2024-02-01', to: '2024-02-29' } }, days: 31 });
    expect(reportMonth('2024-01').previous.month).toBe('2023-12');
    expect(() => reportMonth('2024-13')).toThrow(UsageLabError);
    // 2024-04-01 02:00Z is still March 31 in New York: the last complete month is February.
    expect(lastCompleteMonth(new Date('2024-04-01T02:00:00Z'), 'America/New_York')).toBe('2024-02');
    expect(lastCompleteMonth(new Date('2024-04-01T02:00:00Z'), 'UTC')).toBe('2024-03');
  });

  it('cuts calendar weeks to the month', () => {
    expect(weeksOf({ from: '2024-03-01', to: '2024-03-31' }, 'monday')).toEqual([
      { from: '2024-03-01', to: '2024-03-03' },
      { from: '2024-03-04', to: '2024-03-10' },
      { from: '2024-03-11', to: '2024-03-17' },
      { from: '2024-03-18', to: '2024-03-24' },
      { from: '2024-03-25', to: '2024-03-31' },
    ]);
    expect(weeksOf({ from: '2024-03-01', to: '2024-03-09' }, 'sunday')[1]).toEqual({ from: '2024-03-03', to: '2024-03-09' });
  });

  it('writes windows and day spans in words', () => {
    expect(['14d', '1d', '30m', '2h', '1w', '45s', '90 days'].map(windowWords)).toEqual(['14 days', '1 day', '30 minutes', '2 hours', '1 week', '45 seconds', '90 days']);
    expect(daysBetween('2024-02-15', '2024-03-01')).toBe(15);
    expect(daysBetween('2024-03-01', '2024-02-15')).toBe(-15);
  });

  it('validates the report section', () => {
    expect(reportConfigSchema.parse({})).toMatchObject({ top: 10, headline_change: 0.1, html: false });
    expect(reportConfigSchema.safeParse({ top: 0 }).success).toBe(false);
    expect(reportConfigSchema.safeParse({ colour: 'red' }).success).toBe(false);
  });
});


describe('charts', () => {
  it('compile without warnings and render the same bytes twice', async () => {
    const tw = tempWorkspace('version: 1\ntimezone: America/New_York\n');
    tw.write('queries/signup-funnel.yaml', FUNNEL);
    tw.write('queries/features.yaml', FEATURES);
    tw.write('queries/all-friction.yaml', FRICTION);
    const ws = await tw.open();
    try {
      await seed(ws);
      const report = await writeMonthlyReport(ws, { month: '2024-03', config: { ...defaultReportConfig(), friction: 'all-friction' } });
      const charts = chartsOf(report.document);
      expect(charts.length).toBeGreaterThanOrEqual(8);
      for (const chart of charts) {
        expect(await compileWarnings(chart.spec), chart.file).toEqual([]);
        const svg = await renderSvg(chart.spec, chart.file);
        expect(await renderSvg(chart.spec, chart.file)).toBe(svg);
        expect(svg).toContain('font-family="sans-serif"');
      }
    } finally {
      ws.close();
      tw.cleanup();
    }
  });
});
