#!/usr/bin/env node
// `npm run bench`: performance figures on generated data (never timed assertions in tests).
// BENCH_SUITE=import|analysis|report (default all three); sizes: BENCH_EVENTS (import), BENCH_ANALYSIS_EVENTS
// (analyses), BENCH_REPORT_EVENTS (the monthly report); BENCH_FLOOR=0 skips what DuckDB alone takes for each import
// input. The analyses run on DuckDB and on ClickHouse (chDB) side by side, BENCH_ENGINES=duckdb|clickhouse|both
// (default both); results that differ make the exit status 1.
// BENCH_SUITE=spool: the cost of sealing export downloads (BENCH_SPOOL_MB, default 100); not in the default set.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { runImportBench } from '../dist/bench/import-bench.js';
import { runAnalysisBench } from '../dist/bench/analysis-bench.js';
import { runReportBench } from '../dist/bench/report-bench.js';
import { runSpoolBench } from '../dist/bench/spool-bench.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = (process.env.BENCH_SUITE ?? 'import,analysis,report').split(',');
if (suites.includes('import')) await runImportBench(root, join(root, 'bin', 'usagelab.js'));
if (suites.includes('analysis') && !(await runAnalysisBench(root)).equal) process.exitCode = 1;
if (suites.includes('report')) await runReportBench(root);
if (suites.includes('spool')) await runSpoolBench();
