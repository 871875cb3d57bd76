import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { allocatorConfig, KEEP_FREED_MEMORY, MIN_TOTAL_MEMORY, SMALL_IMPORT_BYTES } from './allocator-policy.js';

const GIB = 2 ** 30;
const sizes: Record<string, number> = { 'small.jsonl.gz': 65e6, 'big.jsonl': 900e6, 'half.jsonl': SMALL_IMPORT_BYTES / 2 };
const sizeOf = (p: string): number | undefined => sizes[p];
const config = (args: string[], more: { env?: Record<string, string>; memory?: number } = {}): string | undefined =>
  allocatorConfig({ args, env: more.env ?? {}, totalMemory: more.memory ?? 16 * GIB, sizeOf });

describe('whether DuckDB keeps the memory it frees', () => {
  it('keeps it for the demo at its default size and for imports of small files', () => {
    expect(config(['demo'])).toBe(KEEP_FREED_MEMORY);
    expect(config(['demo', 'my-demo', '--seed', '7'])).toBe(KEEP_FREED_MEMORY);
    expect(config(['-w', 'ws', 'import', 'small.jsonl.gz'])).toBe(KEEP_FREED_MEMORY);
    expect(config(['import', '--source', 'posthog', 'half.jsonl', 'half.jsonl', '--json'])).toBe(KEEP_FREED_MEMORY);
    expect(config(['import', '--map=user_id=case', 'small.jsonl.gz'])).toBe(KEEP_FREED_MEMORY);
  });

  it('leaves the default for large inputs, unknown sizes, other commands and small machines', () => {
    expect(config(['import', 'big.jsonl'])).toBeUndefined();
    expect(config(['import', 'half.jsonl', 'half.jsonl', 'small.jsonl.gz'])).toBeUndefined();
    expect(config(['import', 'missing.jsonl'])).toBeUndefined();
    // No files: the manifests' new files, whose size is not known before the import reads them.
    expect(config(['import', '--json'])).toBeUndefined();
    expect(config(['demo', '--people', '200000'])).toBeUndefined();
    expect(config(['demo', '--people=200000'])).toBeUndefined();
    expect(config(['report', '2026-10'])).toBeUndefined();
    expect(config(['query', 'import'])).toBeUndefined();
    expect(config([])).toBeUndefined();
    expect(config(['demo'], { memory: MIN_TOTAL_MEMORY - 1 })).toBeUndefined();
  });

  it('never overrides a setting of the user', () => {
    expect(config(['demo'], { env: { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:500' } })).toBeUndefined();
  });

  it('a value of a global option is not taken for the command', () => {
    expect(config(['--workspace', 'demo', 'import', 'big.jsonl'])).toBeUndefined();
    expect(config(['--workspace=import', 'demo'])).toBe(KEEP_FREED_MEMORY);
  });

  describe('sizes on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'usagelab-alloc-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('counts a folder (a Heap sync) by everything below it', () => {
      mkdirSync(join(dir, 'heap', 'sync_1', 'events'), { recursive: true });
      writeFileSync(join(dir, 'heap', 'sync_1', 'events', 'part-0.avro'), Buffer.alloc(1000));
      writeFileSync(join(dir, 'heap', 'manifest.json'), '{}');
      const real = (args: string[]): string | undefined => allocatorConfig({ args, env: {}, totalMemory: 16 * GIB });
      expect(real(['import', join(dir, 'heap')])).toBe(KEEP_FREED_MEMORY);
      expect(real(['import', join(dir, 'nothing-here')])).toBeUndefined();
    });
  });
});

describe('the usagelab command', () => {
  const bin = fileURLToPath(new URL('../../bin/usagelab.js', import.meta.url));
  const traced = (args: string[], env: Record<string, string> = {}): string => {
    const { DUCKDB_JE_MALLOC_CONF: _ignored, ...parent } = process.env;
    const r = spawnSync(process.execPath, [bin, ...args], { env: { ...parent, ...env, USAGELAB_TRACE: '1' }, encoding: 'utf8' });
    return /\[trace\] DUCKDB_JE_MALLOC_CONF=(.*)/.exec(r.stderr)?.[1] ?? `no trace line in: ${r.stderr}`;
  };
  const dir = mkdtempSync(join(tmpdir(), 'usagelab-alloc-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets the allocator before DuckDB loads, for small imports only, and leaves a setting of the user', () => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, '{"event":"x"}\n');
    const ws = ['--workspace', join(dir, 'no-workspace-here')];
    // KEEP_FREED_MEMORY on this machine when it has the memory; the test machine's size decides which to expect.
    const expected = totalmem() >= MIN_TOTAL_MEMORY ? KEEP_FREED_MEMORY : '(DuckDB default)';
    expect(traced([...ws, 'import', file])).toBe(expected);
    expect(traced([...ws, 'status'])).toBe('(DuckDB default)');
    expect(traced([...ws, 'import', file], { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:1000' })).toBe('dirty_decay_ms:1000');
  });
});
