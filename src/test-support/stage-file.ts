/**
 * Test helper: probe, detect and stage one input with a reader on an in-memory DuckDB and return the staged
 * canonical rows (ordered by _line), so reader tests assert the exact mapping without a workspace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type UsageLabConfig } from '../core/config-schema.js';
import type { SourceReader, Detection, FileProbe } from '../sources/source-reader.js';
import { probeFile } from '../sources/file-probe.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { DuckdbStageContext } from '../warehouse/duckdb/duckdb-stage-context.js';
import { STAGED_COLUMNS } from '../events/canonical-event.js';
import { UsageLabError } from '../core/errors.js';

export interface StagedRows {
  probe: FileProbe;
  detection: Detection;
  rows: Record<string, unknown>[];
  links: Record<string, unknown>[];
  partial: readonly string[];
  nativeRageClicks: boolean;
}

export async function probeForTest(path: string): Promise<FileProbe> {
  const session = await DuckdbSession.open({ path: ':memory:' });
  try {
    return await probeFile(path, {
      parquetColumns: async (p) =>
        (await session.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet('${p.replace(/'/g, "''")}')`)).map((r) => r.column_name),
    });
  } finally {
    session.close();
  }
}

export async function stageFile(
  reader: SourceReader,
  path: string,
  opts: { config?: Partial<UsageLabConfig>; columnMap?: Record<string, string> } = {},
): Promise<StagedRows> {
  const config = configSchema.parse(opts.config ?? {});
  const session = await DuckdbSession.open({ path: ':memory:' });
  const tempDir = mkdtempSync(join(tmpdir(), 'usagelab-stage-'));
  try {
    const probe = await probeFile(path, {
      parquetColumns: async (p) =>
        (await session.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet('${p.replace(/'/g, "''")}')`)).map((r) => r.column_name),
    });
    const detection = reader.detect(probe);
    if (detection === undefined) throw new Error(`${reader.id} reader did not recognise ${path}`);
    const ctx = await DuckdbStageContext.create(session, config, { columnMap: opts.columnMap ?? {} }, tempDir);
    const staged = await reader.stage(probe, detection, ctx);
    const cols = [...STAGED_COLUMNS.map((c) => c.name), '_line', '_reject'];
    const rows = await session.all(
      `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${staged.relation} ORDER BY _line`,
    );
    for (const r of rows) {
      for (const k of ['properties', 'user_properties']) {
        if (typeof r[k] === 'string') r[k] = JSON.parse(r[k] as string);
      }
    }
    const links = staged.links === undefined ? [] : await session.all(`SELECT * FROM ${staged.links} ORDER BY ALL`);
    return { probe, detection, rows, links, partial: ctx.partial, nativeRageClicks: staged.nativeRageClicks };
  } finally {
    session.close();
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Stages `path` with `reader` and runs `sql(relation)` on the staged relation (raw JSON text kept). */
export async function stageAndQuery(
  reader: SourceReader,
  path: string,
  sql: (relation: string) => string,
  config: Partial<UsageLabConfig> = {},
): Promise<Record<string, unknown>[]> {
  const session = await DuckdbSession.open({ path: ':memory:' });
  const tempDir = mkdtempSync(join(tmpdir(), `usagelab-${reader.id}-stage-`));
  try {
    const probe = await probeFile(path, {
      parquetColumns: async (p) =>
        (await session.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet('${p.replace(/'/g, "''")}')`)).map((r) => r.column_name),
    });
    const detection = reader.detect(probe);
    if (detection === undefined) throw new Error(`${reader.id} reader did not recognise ${path}`);
    const ctx = await DuckdbStageContext.create(session, configSchema.parse(config), { columnMap: {} }, tempDir);
    const staged = await reader.stage(probe, detection, ctx);
    return await session.all(sql(staged.relation));
  } finally {
    session.close();
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Awaits a promise that must reject with a UsageLabError of `code` whose message matches `messagePart`. */
export async function expectUsageLabError(promise: Promise<unknown>, code: string, messagePart: string | RegExp = /./): Promise<UsageLabError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UsageLabError)) throw new Error(`expected a UsageLabError ${code}, got ${String(err)}`);
  if (err.code !== code) throw new Error(`expected error code ${code}, got ${err.code}: ${err.message}`);
  if (!(typeof messagePart === 'string' ? err.message.includes(messagePart) : messagePart.test(err.message))) {
    throw new Error(`error message "${err.message}" does not match ${String(messagePart)}`);
  }
  return err;
}
