#!/usr/bin/env node
// The published entry point: runs the compiled CLI (npm ci runs `prepare`, which builds dist/).
import { totalmem } from 'node:os';
import { allocatorConfig } from '../dist/cli/allocator-policy.js';

// DuckDB's allocator reads its settings once, when DuckDB loads: chosen from the command line before the CLI
// (which loads DuckDB) is imported (src/cli/allocator-policy.ts).
const allocator = allocatorConfig({ args: process.argv.slice(2), env: process.env, totalMemory: totalmem() });
if (allocator !== undefined) process.env.DUCKDB_JE_MALLOC_CONF = allocator;
if (process.env.USAGELAB_TRACE === '1') process.stderr.write(`[trace] DUCKDB_JE_MALLOC_CONF=${process.env.DUCKDB_JE_MALLOC_CONF ?? '(DuckDB default)'}\n`);
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
// The benchmark asks for the process's peak memory after the command (resourceUsage reports KiB).
if (process.env.USAGELAB_REPORT_RSS === '1') process.stdout.write(`\npeak_rss_mb=${Math.round(process.resourceUsage().maxRSS / 1024)}\n`);
