/**
 * `npm run bench`: generates inputs (BENCH_EVENTS, default 10,000,000) and imports each into a fresh workspace in
 * a child process, reporting events/s and the child's peak RSS against the targets of docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateBenchFile, type BenchFormat } from './bench-data.js';

interface Case {
  format: BenchFormat;
  label: string;
  source: string;
  map?: string;
  targetPerSecond: number;
}

const CASES: Case[] = [
  { format: 'parquet', label: 'canonical Parquet', source: 'generic', targetPerSecond: 3_000_000 },
  { format: 'ndjson', label: 'vendor NDJSON (Amplitude Export API lines)', source: 'amplitude', targetPerSecond: 500_000 },
  { format: 'csv', label: 'generic CSV event log', source: 'generic', targetPerSecond: 500_000 },
];

export async function runImportBench(root: string, cliPath: string): Promise<void> {
  const n = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  const only = process.env.BENCH_ONLY?.split(',');
  const dataDir = resolve(root, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  console.log(`import benchmark: ${n.toLocaleString('en-US')} events per input (BENCH_EVENTS to change)\n`);
  for (const c of CASES) {
    if (only !== undefined && !only.includes(c.format)) continue;
    const file = join(dataDir, `events-${n}.${c.format === 'ndjson' ? 'json' : c.format}`);
    if (!existsSync(file)) {
      const t = Date.now();
      await generateBenchFile(c.format, n, file);
      console.log(`  generated ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const ws = join(dataDir, `ws-${c.format}`);
    rmSync(ws, { recursive: true, force: true });
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'usagelab.yaml'), 'version: 1\nwarehouse:\n  engine: duckdb\n  memory_limit: 1GB\n');
    const started = Date.now();
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', cliPath, '--workspace', ws, 'import', file, '--source', c.source, '--json'],
      { encoding: 'utf8', env: { ...process.env, USAGELAB_REPORT_RSS: '1' }, maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const seconds = (Date.now() - started) / 1000;
    const result = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1)) as { imported: number };
    const rssLine = /peak_rss_mb=(\d+)/.exec(out);
    const rate = result.imported / seconds;
    console.log(
      `  ${c.label.padEnd(44)} ${result.imported.toLocaleString('en-US').padStart(12)} events  ${seconds.toFixed(1).padStart(6)} s  ` +
        `${Math.round(rate).toLocaleString('en-US').padStart(10)} events/s (target ${c.targetPerSecond.toLocaleString('en-US')})  ` +
        `peak RSS ${rssLine?.[1] ?? '?'} MB (target ≤ 1536)`,
    );
  }
}
