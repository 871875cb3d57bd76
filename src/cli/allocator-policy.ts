/**
 * Whether DuckDB's allocator keeps the memory it frees for the rest of the process, decided from the command line
 * before DuckDB is loaded (bin/usagelab.js; DuckDB's jemalloc reads DUCKDB_JE_MALLOC_CONF once, when it loads).
 *
 * Why: by default jemalloc hands freed pages back to the system a second after they are freed, and the next
 * statement of an import faults them in again — the demo's import took ~1.5M page faults and 16–20 s of system
 * CPU. Keeping them makes a small import 10–25 % faster, but a large one keeps everything it ever freed (10M lines
 * peaked at 4.1 GB instead of 1.5 GB). So only imports small enough for the difference not to matter keep freed
 * memory, on machines with memory to spare; everything else runs with DuckDB's default (docs/performance.md
 * "Freed memory kept for small imports"). This module must not import DuckDB.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** jemalloc never purges dirty or muzzy pages. */
export const KEEP_FREED_MEMORY = 'dirty_decay_ms:-1,muzzy_decay_ms:-1';
/** Input files up to this size on disk together (~1M events gzip-compressed; the demo's are 65 MB) keep freed memory. */
export const SMALL_IMPORT_BYTES = 128 * 2 ** 20;
/** The most people a demo may simulate and keep freed memory (the default 5,500 makes ~530k events). */
export const SMALL_DEMO_PEOPLE = 11_000;
/** Only machines with at least this much memory: the demo's import peaks ~0.3 GB higher when nothing is handed back. */
export const MIN_TOTAL_MEMORY = 8 * 2 ** 30;

/** Options that take a value, per command (global options included), so their values are not taken for arguments. */
const VALUE_OPTIONS: Record<string, readonly string[]> = {
  '': ['-w', '--workspace'],
  import: ['--source', '--map'],
  demo: ['--seed', '--people'],
};

/** The command and its positional arguments and option values, as commander will read them (enough of it). */
function parse(args: readonly string[]): { command: string | undefined; positional: string[]; options: Map<string, string> } {
  let command: string | undefined;
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      if (command === undefined) return { command, positional, options };
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const takesValue = [...VALUE_OPTIONS['']!, ...(VALUE_OPTIONS[command ?? ''] ?? [])].includes(name);
      if (takesValue) options.set(name, eq > 0 ? a.slice(eq + 1) : (args[++i] ?? ''));
      continue;
    }
    if (command === undefined) command = a;
    else positional.push(a);
  }
  return { command, positional, options };
}

/** Bytes on disk of a file or everything below a folder; undefined when a path cannot be read. */
function bytesOf(path: string): number | undefined {
  try {
    const s = statSync(path);
    if (!s.isDirectory()) return s.size;
    let total = 0;
    for (const e of readdirSync(path, { recursive: true, withFileTypes: true })) if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
    return total;
  } catch {
    return undefined;
  }
}

export interface AllocatorInputs {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly totalMemory: number;
  /** Bytes of a path (tests pass their own). */
  readonly sizeOf?: (path: string) => number | undefined;
}

/**
 * The DUCKDB_JE_MALLOC_CONF to set for this command line, or undefined to leave DuckDB's default (a value the
 * user set is always left alone).
 */
export function allocatorConfig(inputs: AllocatorInputs): string | undefined {
  if (inputs.env.DUCKDB_JE_MALLOC_CONF !== undefined || inputs.totalMemory < MIN_TOTAL_MEMORY) return undefined;
  const { command, positional, options } = parse(inputs.args);
  if (command === 'demo') {
    const people = options.get('--people');
    return people === undefined || Number(people) <= SMALL_DEMO_PEOPLE ? KEEP_FREED_MEMORY : undefined;
  }
  // Without files, an import reads what the export manifests list: its size is not known here.
  if (command !== 'import' || positional.length === 0) return undefined;
  const sizeOf = inputs.sizeOf ?? bytesOf;
  let total = 0;
  for (const p of positional) {
    const n = sizeOf(p);
    if (n === undefined) return undefined;
    total += n;
  }
  return total <= SMALL_IMPORT_BYTES ? KEEP_FREED_MEMORY : undefined;
}
