/**
 * The smaller memory limit of an import's writing steps: restored after them, and a step failing inside the
 * transaction reports its own error (the aborted transaction refuses the reset, which used to replace it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbSession } from './duckdb-connection.js';
import { restoreMemoryLimit, withMemoryLimit } from './import-insert.js';

describe('withMemoryLimit', () => {
  let session: DuckdbSession;
  const limit = async (): Promise<string> => (await session.all<{ l: string }>(`SELECT current_setting('memory_limit') AS l`))[0]!.l;

  beforeAll(async () => {
    session = await DuckdbSession.open({ path: ':memory:', memoryLimit: '1GB' });
  });
  afterAll(() => session.close());

  it('runs the body under the given limit and restores the configured one', async () => {
    const configured = await limit();
    const inside = await withMemoryLimit(session, '600MB', limit);
    expect(inside).not.toBe(configured);
    expect(await limit()).toBe(configured);
  });

  it("reports the body's error when it fails inside a transaction, and the limit comes back after the rollback", async () => {
    const configured = await limit();
    await session.run('BEGIN TRANSACTION');
    await expect(withMemoryLimit(session, '600MB', () => session.run(`SELECT error('the insert failed')`))).rejects.toThrow(/the insert failed/);
    await session.run('ROLLBACK');
    await restoreMemoryLimit(session);
    expect(await limit()).toBe(configured);
  });
});
