/**
 * `usagelab demo [dir]`: the main job on the embedded default, with no accounts and no network — a workspace,
 * synthetic exports of a made-up product in all six tools' native formats (src/demo), one import, and the saved
 * queries run on the result.
 */
import { existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDemo, type DemoManifest, type DemoOptions } from '../demo/generate-demo.js';
import { initWorkspace } from './init-workspace.js';
import { openWorkspace } from './workspace.js';
import { runSavedQuery, type QueryResult } from './saved-query.js';
import type { ImportProgress, ImportResult } from '../warehouse/duckdb/duckdb-import.js';

export interface DemoRun {
  readonly dir: string;
  readonly manifest: DemoManifest;
  readonly imported: ImportResult;
  readonly queries: readonly { file: string; result: QueryResult }[];
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

export async function runDemo(
  dir: string,
  options: DemoOptions & { onProgress?: (p: ImportProgress) => void; onStage?: (stage: string) => void } = {},
): Promise<DemoRun> {
  const root = resolve(dir);
  // Re-running replaces the demo warehouse and exports, never duplicates them.
  rmSync(join(root, '.usagelab'), { recursive: true, force: true });
  rmSync(join(root, 'exports'), { recursive: true, force: true });
  initWorkspace(root);
  mkdirSync(join(root, 'queries'), { recursive: true });
  for (const [name, text] of Object.entries(DEMO_QUERIES)) {
    const path = join(root, 'queries', name);
    if (!existsSync(path)) writeFileSync(path, text);
  }
  options.onStage?.('generating synthetic exports');
  const manifest = await generateDemo(root, options);
  const files: string[] = [];
  for (const [tool, names] of Object.entries(manifest.files)) {
    if (tool === 'heap') files.push(join(manifest.exportsDir, 'heap'));
    else for (const name of names) files.push(join(manifest.exportsDir, tool, name));
  }
  options.onStage?.(`importing ${files.length} files`);
  const ws = await openWorkspace(root, { env: {} });
  try {
    const imported = await ws.import({ files, skipEmpty: true, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
    options.onStage?.('running saved queries');
    const queries: { file: string; result: QueryResult }[] = [];
    for (const name of ['signup-funnel.yaml', ...Object.keys(DEMO_QUERIES)]) {
      queries.push({ file: join('queries', name), result: await runSavedQuery(ws, join(root, 'queries', name)) });
    }
    return { dir: root, manifest, imported, queries };
  } finally {
    ws.close();
  }
}
