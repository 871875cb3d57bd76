import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsageLabError, stageFile } from '../../test-support/stage-file.js';
import { DuckdbSession } from '../../warehouse/duckdb/duckdb-connection.js';
import { genericReader, resolveColumnMap } from './generic-reader.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ul-generic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('generic reader: which column is which', () => {
  it('finds the usual names by itself, case aside, and takes --map over them', () => {
    expect(resolveColumnMap(['Case_ID', 'activity', 'Timestamp', 'event'], { event_name: 'activity', occurred_at: 'Timestamp' }, 'f.csv')).toEqual({
      user_id: 'Case_ID',
      event_name: 'activity',
      occurred_at: 'Timestamp',
    });
    expect(resolveColumnMap(['user_id', 'event', 'ts', 'url', 'session_id'], { occurred_at: 'ts' }, 'f.csv')).toEqual({
      user_id: 'user_id',
      event_name: 'event',
      occurred_at: 'ts',
      page_url: 'url',
      vendor_session_id: 'session_id',
    });
  });

  it('names the file, the column and what there is when --map or the file falls short', async () => {
    const path = write('short.csv', 'who,what,when\nu1,a,2024-01-01T00:00:00Z\n');
    const unknown = await expectUsageLabError(
      stageFile(genericReader, path, { columnMap: { user_id: 'user', event_name: 'what', occurred_at: 'when' } }),
      'import_map_unknown_column',
      '--map user_id=user: the file has no column "user"',
    );
    expect(unknown.place).toEqual({ file: path, field: 'user' });
    expect(unknown.hint).toBe('columns in the file: who, what, when');
    await expectUsageLabError(stageFile(genericReader, path, { columnMap: { person: 'who' } }), 'import_map_unknown_target', '"person"');
    const incomplete = await expectUsageLabError(stageFile(genericReader, path), 'import_map_incomplete', 'occurred_at, event_name, user_id (or anonymous_id)');
    expect(incomplete.hint).toMatch(/--map user_id=COLUMN.*\(columns in the file: who, what, when\)/);
  });
});

describe('generic reader: CSV', () => {
  it('maps the columns, keeps the others as properties, and rejects a row without a time, at its line', async () => {
    const path = write('log.csv', 'case_id,activity,timestamp,resource,cost\nc1,Submit,2012-01-01T09:00:00+01:00,112,10\nc1,Approve,,113,\nc2,Submit,1325404800,112,7\n');
    const { rows } = await stageFile(genericReader, path, { columnMap: { event_name: 'activity' } });
    expect(rows.map((r) => [r._line, r.user_id, r.event_name, r.occurred_at, r.properties, r._reject])).toEqual([
      ['2', 'c1', 'Submit', '2012-01-01 08:00:00+00', { resource: '112', cost: '10' }, null],
      ['3', 'c1', 'Approve', null, { resource: '113', cost: null }, 'timestamp: missing'],
      ['4', 'c2', 'Submit', '2012-01-01 08:00:00+00', { resource: '112', cost: '7' }, null],
    ]);
    // Without an id column a record's identity is its content: the same rows get the same ids, different rows not.
    expect(new Set(rows.map((r) => r.source_event_id)).size).toBe(3);
    const again = await stageFile(genericReader, path, { columnMap: { event_name: 'activity' } });
    expect(again.rows.map((r) => r.source_event_id)).toEqual(rows.map((r) => r.source_event_id));
  });

  it('reads a header that names a column twice, the second copy under DuckDB’s name for it', async () => {
    const path = write('dup.csv', 'user,event,user,ts\nu1,a,u9,2024-01-01T00:00:00Z\n');
    const first = await stageFile(genericReader, path, { columnMap: { user_id: 'user', event_name: 'event', occurred_at: 'ts' } });
    expect(first.rows.map((r) => [r.user_id, r.properties])).toEqual([['u1', { user_1: 'u9' }]]);
    const second = await stageFile(genericReader, path, { columnMap: { user_id: 'user_1', event_name: 'event', occurred_at: 'ts' } });
    expect(second.rows.map((r) => [r.user_id, r.properties])).toEqual([['u9', { user: 'u1' }]]);
    const wrong = await expectUsageLabError(
      stageFile(genericReader, path, { columnMap: { user_id: 'user_2', event_name: 'event', occurred_at: 'ts' } }),
      'import_map_unknown_column',
    );
    expect(wrong.hint).toBe('columns in the file: user, event, user_1, ts');
  });
});

describe('generic reader: NDJSON and Parquet', () => {
  it('maps NDJSON over the keys of every record, not only the first', async () => {
    const path = write('log.ndjson', '{"anonymous_id":"d1","event":"open","ts":"2024-01-01T00:00:00Z"}\n{"user_id":"u1","anonymous_id":"d1","event":"login","ts":1704067260000,"plan":"pro"}\n');
    const { rows } = await stageFile(genericReader, path, { columnMap: { occurred_at: 'ts' } });
    expect(rows.map((r) => [r.user_id, r.anonymous_id, r.event_name, r.occurred_at, r.properties])).toEqual([
      [null, 'd1', 'open', '2024-01-01 00:00:00+00', {}],
      ['u1', 'd1', 'login', '2024-01-01 00:01:00+00', { plan: 'pro' }],
    ]);
  });

  it('takes Parquet timestamps as they are typed, and numbers rows from 1', async () => {
    const path = join(dir, 'log.parquet');
    const session = await DuckdbSession.open({ path: ':memory:' });
    try {
      await session.run(`COPY (SELECT * FROM (VALUES ('u1', 'view', TIMESTAMPTZ '2024-03-31 01:30:00+00', 'a'), ('u2', 'click', TIMESTAMPTZ '2024-03-31 02:30:00+00', 'b'))
        t(user_id, event_name, occurred_at, event_id)) TO '${path}' (FORMAT parquet)`);
    } finally {
      session.close();
    }
    const { rows } = await stageFile(genericReader, path);
    expect(rows.map((r) => [r._line, r.user_id, r.event_name, r.occurred_at, r.source_event_id])).toEqual([
      ['1', 'u1', 'view', '2024-03-31 01:30:00+00', 'a'],
      ['2', 'u2', 'click', '2024-03-31 02:30:00+00', 'b'],
    ]);
  });
});
