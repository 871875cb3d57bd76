#!/usr/bin/env node
// `npm run demo`: a workspace with a synthetic event log (200,000 events, generated with DuckDB), imported into
// the embedded warehouse, then the example saved funnel. The six-vendor demo of issue 2 is not landed yet.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../dist/cli/main.js';
import { generateBenchFile } from '../dist/bench/bench-data.js';

const dir = resolve(process.argv[2] ?? 'demo-workspace');
rmSync(dir, { recursive: true, force: true });
const run = async (args) => {
  const code = await main(args);
  if (code !== 0 && code !== 5) process.exit(code);
};
await run(['init', dir]);
const file = join(dir, 'exports', 'events.parquet');
await generateBenchFile('parquet', 200_000, file);
await run(['--workspace', dir, 'import', file]);
await run(['--workspace', dir, 'query', 'signup-funnel']);
process.stdout.write(`\nworkspace: ${dir}\ntry: npx usagelab --workspace ${dir} sql "SELECT event_name, count(*) FROM events GROUP BY 1"\n`);
