/**
 * `npm run bench`: generates inputs (BENCH_EVENTS, default 10,000,000) and imports each into a fresh workspace in
 * a child process, reporting events/s and the child's peak RSS against the targets of docs/performance.md, and
 * below each what DuckDB alone takes to load that input and to store the events imported (engine-floor.ts;
 * BENCH_FLOOR=0 skips it).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { generateBenchFile, type BenchFormat } from './bench-data.js';
import { loadFloor, storeFloor, type EngineFloor } from './engine-floor.js';

/** The import's memory limit, and the engine floors' (engine-floor.ts). */
const MEMORY_LIMIT = '1GB';

interface Case {
  /** BENCH_ONLY names cases by id. */
  id: string;
  format: BenchFormat;
  label: string;
  source: string;
  /** The input as this many files of consecutive lines (daily exports), imported by one command. */
  files?: number;
  targetPerSecond: number;
}

const CASES: Case[] = [
  { id: 'parquet', format: 'parquet', label: 'canonical Parquet', source: 'generic', targetPerSecond: 3_000_000 },
  { id: 'ndjson', format: 'ndjson', label: 'vendor NDJSON (Amplitude Export API lines)', source: 'amplitude', targetPerSecond: 500_000 },
  { id: 'csv', format: 'csv', label: 'generic CSV event log', source: 'generic', targetPerSecond: 500_000 },
  { id: 'daily', format: 'ndjson', label: 'vendor NDJSON in 100 daily files', source: 'amplitude', files: 100, targetPerSecond: 500_000 },
];

/** The names of the files an input is split into. */
const dayNames = (parts: number): string[] => Array.from({ length: parts }, (_, i) => `day-${String(i + 1).padStart(3, '0')}.json`);

/** Splits an NDJSON file into `parts` files of consecutive lines in `dir` (written aside, then renamed into place). */
async function splitLines(file: string, lines: number, parts: number, dir: string): Promise<void> {
  const building = `${dir}.partial`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const names = dayNames(parts);
  let part = -1;
  let out: WriteStream | undefined;
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const want = Math.floor((line * parts) / lines);
    if (want !== part) {
      if (out !== undefined) {
        out.end();
        await once(out, 'close');
      }
      part = want;
      out = createWriteStream(join(building, names[part]!));
    }
    if (!out!.write(`${text}\n`)) await once(out!, 'drain');
    line++;
  }
  if (out !== undefined) {
    out.end();
    await once(out, 'close');
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
}

export async function runImportBench(root: string, cliPath: string): Promise<void> {
  const n = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  const only = process.env.BENCH_ONLY?.split(',');
  const dataDir = resolve(root, 'bench-data');
  mkdirSync(dataDir, { recursive: true });
  console.log(`import benchmark: ${n.toLocaleString('en-US')} events per input (BENCH_EVENTS to change)\n`);
  for (const c of CASES) {
    if (only !== undefined && !only.includes(c.id)) continue;
    const file = join(dataDir, `events-${n}.${c.format === 'ndjson' ? 'json' : c.format}`);
    if (!existsSync(file)) {
      const t = Date.now();
      await generateBenchFile(c.format, n, file);
      console.log(`  generated ${file} (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    let inputs = [file];
    if (c.files !== undefined) {
      const dir = join(dataDir, `events-${n}-in-${c.files}`);
      if (!existsSync(dir)) await splitLines(file, n, c.files, dir);
      inputs = dayNames(c.files).map((name) => join(dir, name));
    }
    const ws = join(dataDir, `ws-${c.id}`);
    rmSync(ws, { recursive: true, force: true });
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'usagelab.yaml'), `version: 1\nwarehouse:\n  engine: duckdb\n  memory_limit: ${MEMORY_LIMIT}\n`);
    const started = Date.now();
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', cliPath, '--workspace', ws, 'import', ...inputs, '--source', c.source, '--json'],
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
    if (process.env.BENCH_FLOOR !== '0') {
      const load = await loadFloor(dataDir, c.format, inputs, MEMORY_LIMIT);
      const store = await storeFloor(dataDir, join(ws, '.usagelab', 'warehouse.duckdb'), MEMORY_LIMIT);
      console.log(`    DuckDB alone: load the input ${floorText(load, 'rows')}; store the imported events ${floorText(store, 'events')}`);
    }
  }
}

const floorText = (f: EngineFloor, unit: string): string =>
  `${f.seconds.toFixed(1)} s (${f.rows.toLocaleString('en-US')} ${unit}, ${Math.round(f.rows / f.seconds).toLocaleString('en-US')} ${unit}/s)`;
