/**
 * `usagelab demo [dir]`: the main job on the embedded default, with no accounts and no network — a workspace,
 * synthetic exports of a made-up product in all six tools' native formats (src/demo), one import, the saved
 * queries run on the result, and the monthly report (with insights) of the last complete month.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDemo, type DemoManifest, type DemoOptions } from '../demo/generate-demo.js';
import { initWorkspace, templatesDir } from './init-workspace.js';
import { demoMasking } from './demo-masking.js';
import { loadConfig, loadEnvironment } from '../core/config-load.js';
import { traceStep } from '../core/statement-trace.js';
import { openWorkspace } from './workspace.js';
import { runSavedQuery, type QueryResult } from './saved-query.js';
import type { ImportProgress, ImportResult } from '../warehouse/duckdb/duckdb-import.js';
import { writeMonthlyReport } from '../reports/monthly-report.js';
import { writeInsightsFiles } from '../reports/insights/write-insights.js';

export interface DemoRun {
  readonly dir: string;
  readonly manifest: DemoManifest;
  readonly imported: ImportResult;
  readonly queries: readonly { file: string; result: QueryResult }[];
  /** The monthly report of the demo's last complete month, and its insights (absolute paths). */
  readonly report: DemoReport;
}

export interface DemoReport {
  readonly month: string;
  readonly markdown: string;
  readonly html: string;
  readonly charts: readonly string[];
  readonly insights: { readonly markdown: string; readonly json: string };
}

/** The last calendar month the demo window covers from its first to its last day (else its last month). */
export function lastCompleteDemoMonth(window: { start: string; end: string; months: readonly string[] }): string {
  const lastDay = (month: string): string => {
    const [y, m] = month.split('-').map(Number) as [number, number];
    return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  };
  const complete = window.months.filter((m) => `${m}-01` >= window.start && lastDay(m) <= window.end);
  return complete[complete.length - 1] ?? window.months[window.months.length - 1]!;
}

/** Saved queries the demo adds to its workspace: they match the demo product's event names. */
const DEMO_QUERIES: Record<string, string> = {
  'activation-funnel.yaml': `# The activation funnel of the demo product. Run: usagelab query activation-funnel
kind: funnel
name: Signup to paid
steps:
  - event: signup
  - event: create_project
  - event: invite_teammate
  - event: upgrade
window: 14d
breakdown: device_type
`,
};

/** The demo product's feature catalog (docs/insights.md#the-demo): the views and tools the ground truth names. */
const DEMO_FEATURES = `# The demo product's features. Run: usagelab adoption
features:
  - name: Board view
    key: board
    match:
      - { page: /projects/:id/board }
  - name: Timeline
    key: timeline
    match:
      - { page: /projects/:id/timeline }
  - name: Automations
    key: automations
    match:
      - { page: /projects/:id/automations }
    signals:
      - { where: { page_path: /projects/:id/automations } }
  - name: Templates
    key: templates
    match:
      - { page: /templates }
`;

/** Onboarding completion by month of start: the saved funnel \`usagelab insights\` compares month over month. */
const DEMO_ONBOARDING_FUNNEL = `# Onboarding completion. Run: usagelab query onboarding-funnel
kind: funnel
name: Onboarding completion
steps:
  - event: onboarding_started
  - event: onboarding_completed
window: 1d
`;

/**
 * Writes the demo's feature catalog (replacing the template's example catalog, never a user's edited one) and
 * its onboarding funnel, so adoption and insights describe the demo product.
 */
function writeDemoInsightFiles(root: string): void {
  const features = join(root, 'queries', 'features.yaml');
  const template = readFileSync(join(templatesDir(), 'queries', 'features.yaml'), 'utf8');
  if (!existsSync(features) || readFileSync(features, 'utf8') === template) writeFileSync(features, DEMO_FEATURES);
  const onboarding = join(root, 'queries', 'onboarding-funnel.yaml');
  if (!existsSync(onboarding)) writeFileSync(onboarding, DEMO_ONBOARDING_FUNNEL);
}

/**
 * Some demo tools carry e-mail addresses as device ids (as real Mixpanel and Heap projects do), which the PII policy
 * hashes; hashing needs a key. The demo's is a fixed, obviously fake one in its own .env (gitignored), so the demo is
 * deterministic and shows the setup a real workspace needs.
 */
function writeDemoPiiKey(root: string): void {
  const env = join(root, '.env');
  if (!existsSync(env)) writeFileSync(env, 'USAGELAB_PII_KEY=demo-only-key-not-a-secret-0000\n');
  const config = join(root, 'usagelab.yaml');
  // The report's title names the project: the template's placeholder name becomes the demo product's.
  const text = readFileSync(config, 'utf8').replace(/^(project:\n {2}name:) My product$/m, '$1 Acme Boards');
  writeFileSync(config, /^pii:/m.test(text) ? text : `${text.trimEnd()}\n\npii:\n  hash_key: \${USAGELAB_PII_KEY}\n`);
}

export async function runDemo(
  dir: string,
  options: DemoOptions & { onProgress?: (p: ImportProgress) => void; onStage?: (stage: string) => void } = {},
): Promise<DemoRun> {
  const root = resolve(dir);
  // Re-running replaces the demo warehouse and exports, never duplicates them.
  rmSync(join(root, '.usagelab'), { recursive: true, force: true });
  rmSync(join(root, 'exports'), { recursive: true, force: true });
  initWorkspace(root);
  writeDemoPiiKey(root);
  mkdirSync(join(root, 'queries'), { recursive: true });
  for (const [name, text] of Object.entries(DEMO_QUERIES)) {
    const path = join(root, 'queries', name);
    if (!existsSync(path)) writeFileSync(path, text);
  }
  writeDemoInsightFiles(root);
  options.onStage?.('generating synthetic exports');
  // exports/ holds only what usagelab wrote, masked: the demo's vendor records go through the exporters' masker.
  const masking = demoMasking({ pii: loadConfig(root, {}).config.pii, env: loadEnvironment(root, {}) });
  let started = Date.now();
  const manifest = await generateDemo(root, { ...options, masking });
  traceStep('demo: generating synthetic exports', started);
  const files: string[] = [];
  for (const [tool, names] of Object.entries(manifest.files)) {
    if (tool === 'heap') files.push(join(manifest.exportsDir, 'heap'));
    else for (const name of names) files.push(join(manifest.exportsDir, tool, name));
  }
  options.onStage?.(`importing ${files.length} files`);
  const ws = await openWorkspace(root, { env: {} });
  try {
    started = Date.now();
    const imported = await ws.import({ files, skipEmpty: true, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
    traceStep(`demo: importing ${files.length} files`, started);
    started = Date.now();
    options.onStage?.('running saved queries');
    const queries: { file: string; result: QueryResult }[] = [];
    for (const name of ['signup-funnel.yaml', ...Object.keys(DEMO_QUERIES)]) {
      queries.push({ file: join('queries', name), result: await runSavedQuery(ws, join(root, 'queries', name)) });
    }
    traceStep('demo: running saved queries', started);
    started = Date.now();
    const month = lastCompleteDemoMonth(manifest.window);
    options.onStage?.(`writing the ${month} report and insights`);
    const written = await writeMonthlyReport(ws, { month, html: true });
    // The report computed the month's insights; they are written as `usagelab insights` writes them.
    const insights = writeInsightsFiles(ws.paths.insights, written.data.insights);
    traceStep('demo: writing the report and insights', started);
    const report: DemoReport = { month, markdown: written.markdownPath, html: written.htmlPath!, charts: written.chartPaths, insights };
    return { dir: root, manifest, imported, queries, report };
  } finally {
    ws.close();
  }
}
