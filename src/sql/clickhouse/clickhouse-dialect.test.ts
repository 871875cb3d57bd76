/**
 * The ClickHouse dialect helpers mean what their DuckDB counterparts mean: checked by running both engines on the
 * same inputs (chDB in-process, or CLICKHOUSE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { testClickhouse } from '../../test-support/engine-warehouse.js';
import type { ClickhouseExecutor } from '../../warehouse/clickhouse/clickhouse-executor.js';
import { intervalStart, addDays } from '../../analyses/trends/trends-calendar.js';
import { quoteClickhouseIdent, quoteClickhouseLiteral } from '../quote.js';
import { ClickhouseParams } from './clickhouse-params.js';
import { chJsonText, chTryDouble } from './clickhouse-json.js';
import { chAddIntervals, chDayBucket, chIntervalsBetween, chLocalDay, chLocalMidnight } from './clickhouse-time.js';

let ch: ClickhouseExecutor;
let duck: DuckDBConnection;
beforeAll(async () => {
  ch = await testClickhouse();
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  await duck.run("SET TimeZone = 'UTC'");
});
afterAll(() => duck.closeSync());

async function duckValue(sql: string, params: (string | number)[]): Promise<unknown> {
  const reader = await duck.runAndReadAll(sql, params);
  return reader.getRowObjectsJson()[0]!.v;
}

describe('JSON property text', () => {
  const docs = [
    '{"s":"x","n":5,"f":5.0,"e":1e3,"neg":-2.0,"frac":0.25,"big":12345678901234567890,"t":true,"z":null,"o":{"k":[1, 2]},"a":[],"a.b":"dot","q":"q\\"u\\\\o","u":"\\u00e9"}',
    '{}',
    '[1,2]',
  ];
  const keys = ['s', 'n', 'f', 'e', 'neg', 'frac', 't', 'z', 'o', 'a', 'a.b', 'q', 'u', 'missing', ''];
  it.each(docs.flatMap((doc) => keys.map((key) => [doc, key] as const)))('%s → %s', async (doc, key) => {
    const p = new ClickhouseParams();
    const [row] = await ch.query<{ v: string | null }>(`SELECT ${chJsonText(p.bind(doc), p.bind(key))} AS v`, p.values);
    const pointer = '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
    expect(row!.v).toEqual(await duckValue('SELECT json_extract_string(CAST($1 AS JSON), $2) AS v', [doc, pointer]));
  });

  it('a NULL column reads as NULL', async () => {
    const p = new ClickhouseParams();
    const [row] = await ch.query<{ v: string | null }>(`SELECT ${chJsonText('CAST(NULL AS Nullable(String))', p.bind('k'))} AS v`, p.values);
    expect(row!.v).toBeNull();
  });

  it.each(['5', ' 5 ', '5.0', '-1e3', 'abc', '', '0.1'])('TRY_CAST(%j AS DOUBLE)', async (text) => {
    const p = new ClickhouseParams();
    const [row] = await ch.query<{ v: number | null }>(`SELECT ${chTryDouble(p.bind(text))} AS v`, p.values);
    expect(row!.v).toEqual(await duckValue('SELECT TRY_CAST($1 AS DOUBLE) AS v', [text]));
  });
});

describe('calendar buckets', () => {
  // Dates across a year boundary, 1970 (Date32 keeps days before it) and every weekday.
  const days = Array.from({ length: 30 }, (_v, i) => addDays('1969-12-20', i * 3)).concat(Array.from({ length: 10 }, (_v, i) => addDays('2024-02-25', i)));
  it.each(['day', 'week', 'month'] as const)('%s buckets agree with the calendar module for every week start', async (interval) => {
    for (const weekStart of ['monday', 'sunday', 'saturday'] as const) {
      const p = new ClickhouseParams();
      const list = p.bind(days, 'Array(String)');
      const rows = await ch.query<{ day_text: string; b: string }>(`SELECT toString(d) AS day_text, toString(${chDayBucket(interval, 'd', weekStart)}) AS b FROM (SELECT toDate32(arrayJoin(${list})) AS d) ORDER BY d`, p.values);
      expect(rows.map((r) => r.b)).toEqual([...days].sort().map((d) => intervalStart(interval, d, weekStart)));
    }
  });

  it('local days and midnights across DST changes and before 1970', async () => {
    const cases: [string, string][] = [
      ['America/New_York', '2024-03-10T06:59:59Z'],
      ['America/New_York', '2024-03-10T07:00:00Z'],
      ['Australia/Lord_Howe', '2024-04-06T13:29:59Z'],
      ['Asia/Kathmandu', '2024-06-01T18:15:00Z'],
      ['America/New_York', '1969-12-31T23:00:00Z'],
      ['America/Santiago', '2024-09-08T04:00:00Z'],
    ];
    for (const [tz, at] of cases) {
      const p = new ClickhouseParams();
      const tzp = p.bind(tz);
      const [row] = await ch.query<{ day: string; midnight: string }>(
        `SELECT toString(${chLocalDay(`toDateTime64(${p.bind(at)}, 6, 'UTC')`, tzp)}) AS day, ${chLocalMidnight(chLocalDay(`toDateTime64(${p.bind(at)}, 6, 'UTC')`, tzp), tzp)} AS midnight`,
        p.values,
      );
      const day = await duckValue("SELECT CAST(CAST(timezone($1, CAST($2 AS TIMESTAMPTZ)) AS DATE) AS VARCHAR) AS v", [tz, at]);
      const midnight = await duckValue("SELECT strftime(timezone($1, CAST(CAST($2 AS DATE) AS TIMESTAMP)), '%Y-%m-%dT%H:%M:%S.%gZ') AS v", [tz, String(day)]);
      expect([row!.day, row!.midnight]).toEqual([day, midnight]);
    }
  });

  it('interval arithmetic', async () => {
    const p = new ClickhouseParams();
    const a = p.bind('2024-01-29', 'Date32');
    const b = p.bind('2024-03-04', 'Date32');
    const [row] = await ch.query<Record<string, unknown>>(
      `SELECT ${chIntervalsBetween('day', a, b)} AS d, ${chIntervalsBetween('week', a, b)} AS w, ${chIntervalsBetween('month', 'toDate32(\'2024-01-01\')', 'toDate32(\'2024-03-01\')')} AS m,
              toString(${chAddIntervals('month', a, '1')}) AS am, toString(${chAddIntervals('week', a, '-1')}) AS aw`,
      p.values,
    );
    expect(row).toEqual({ d: 35, w: 5, m: 2, am: '2024-02-29', aw: '2024-01-22' });
  });
});

describe('quoting and parameters', () => {
  const hostile = "x'; DROP TABLE t; --\"`\\";
  it('identifiers and literals take any text', async () => {
    await ch.command(`CREATE TABLE ${quoteClickhouseIdent(hostile)} (${quoteClickhouseIdent('a`b')} String) ENGINE = Memory`);
    await ch.command(`INSERT INTO ${quoteClickhouseIdent(hostile)} VALUES (${quoteClickhouseLiteral(hostile)}), (${quoteClickhouseLiteral('ünï\ncode')})`);
    const rows = await ch.query<{ v: string }>(`SELECT ${quoteClickhouseIdent('a`b')} AS v FROM ${quoteClickhouseIdent(hostile)} ORDER BY v`);
    expect(rows.map((r) => r.v)).toEqual([hostile, 'ünï\ncode'].sort());
    await ch.command(`DROP TABLE ${quoteClickhouseIdent(hostile)}`);
  });

  it('binds values with types and refuses a type that is not one', async () => {
    const p = new ClickhouseParams();
    expect([p.bind('a'), p.bind(2), p.bind(2.5), p.bind(true), p.bind(2n ** 60n), p.bind('2024-01-01', 'Date32')]).toEqual(['{p1:String}', '{p2:Int64}', '{p3:Float64}', '{p4:Bool}', '{p5:Int64}', '{p6:Date32}']);
    const [row] = await ch.query<Record<string, unknown>>(`SELECT {p1:String} AS a, {p2:Int64} AS b, {p3:Float64} AS c, {p4:Bool} AS d, {p5:Int64} AS e, toString({p6:Date32}) AS f`, p.values);
    // Integers beyond 2^53 come back as exact text, like the DuckDB side.
    expect(row).toEqual({ a: 'a', b: 2, c: 2.5, d: true, e: (2n ** 60n).toString(), f: '2024-01-01' });
    expect(() => p.bind('x', 'String) OR (1')).toThrow(/not a ClickHouse parameter type/);
  });
});
