import { describe, expect, it } from 'vitest';
import { UsageLabError } from '../../core/errors.js';
import { DuckdbSession } from './duckdb-connection.js';

describe('DuckdbSession.runWithProgress', () => {
  it("reports DuckDB's progress while a long statement runs, and the statement's effect is there after", async () => {
    const session = await DuckdbSession.open({ path: ':memory:', threads: 1 });
    try {
      const seen: number[] = [];
      // One thread: long enough (seconds here, well over the 100 ms between reports on any machine) to be seen.
      await session.runWithProgress(`CREATE TABLE t AS SELECT sum(hash(range) % 7) AS s FROM range(100000000)`, (p) => seen.push(p));
      expect(seen.length).toBeGreaterThan(0);
      for (const p of seen) expect(p >= 0 && p <= 100).toBe(true);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(await session.all(`SELECT count(*)::INTEGER AS n FROM t`)).toEqual([{ n: 1 }]);
      // The next statement on the connection is not held up by anything the progress reporting left behind.
      await session.runWithProgress(`CREATE TABLE u AS SELECT 1 AS one`, () => undefined);
      expect(await session.all(`SELECT one FROM u`)).toEqual([{ one: 1 }]);
    } finally {
      session.close();
    }
  });

  it('fails like run does, naming the statement, and reports nothing after the failure', async () => {
    const session = await DuckdbSession.open({ path: ':memory:' });
    try {
      const seen: number[] = [];
      const err = await session.runWithProgress(`SELECT * FROM no_such_table`, (p) => seen.push(p)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageLabError);
      expect(String((err as UsageLabError).message)).toMatch(/no_such_table/);
      const after = seen.length;
      await new Promise((r) => setTimeout(r, 250));
      expect(seen.length).toBe(after);
    } finally {
      session.close();
    }
  });
});
