#!/usr/bin/env node
// `npm run bench`: performance figures on generated data (never timed assertions in tests).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { runImportBench } from '../dist/bench/import-bench.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await runImportBench(root, join(root, 'bin', 'usagelab.js'));
