#!/usr/bin/env node
// The published entry point: runs the compiled CLI (npm ci runs `prepare`, which builds dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
// The benchmark asks for the process's peak memory after the command (resourceUsage reports KiB).
if (process.env.USAGELAB_REPORT_RSS === '1') process.stdout.write(`\npeak_rss_mb=${Math.round(process.resourceUsage().maxRSS / 1024)}\n`);
