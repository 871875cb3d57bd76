#!/usr/bin/env node
// `npm run bench`: performance figures on generated data (never timed assertions in tests).
// BENCH_SUITE=import|analysis (default both); sizes: BENCH_EVENTS (import), BENCH_ANALYSIS_EVENTS (analyses).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { runImportBench } from '../dist/bench/import-bench.js';
import { runAnalysisBench } from '../dist/bench/analysis-bench.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = (process.env.BENCH_SUITE ?? 'import,analysis').split(',');
if (suites.includes('import')) await runImportBench(root, join(root, 'bin', 'usagelab.js'));
if (suites.includes('analysis')) await runAnalysisBench(root);
