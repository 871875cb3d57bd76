import { describe, it, expect } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from './quote.js';
import { BoundParams } from './bound-params.js';
import { UsageLabError } from '../core/errors.js';

const hostile = `x'; DROP TABLE t; --"\\`;

describe('quoting', () => {
  it('literals and identifiers round-trip any text through DuckDB', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run(`CREATE TABLE ${quoteIdent(hostile)} (${quoteIdent('a"b')} VARCHAR)`);
    await c.run(`INSERT INTO ${quoteIdent(hostile)} VALUES (${quoteLiteral(hostile)}), (${quoteLiteral('ünï\ncode')})`);
    const rows = (await c.runAndReadAll(`SELECT ${quoteIdent('a"b')} AS v FROM ${quoteIdent(hostile)} ORDER BY 1`)).getRowObjectsJson();
    expect(rows.map((r) => r.v)).toEqual([hostile, 'ünï\ncode'].sort());
    c.closeSync();
    instance.closeSync();
  });

  it('refuses what cannot be quoted', () => {
    expect(() => quoteIdent('')).toThrow(UsageLabError);
    expect(() => quoteLiteral('a\u0000b')).toThrow(UsageLabError);
  });

  it('bound params number their placeholders', () => {
    const p = new BoundParams();
    expect([p.bind('a'), p.bind(1), p.bind(true)]).toEqual(['$1', '$2', '$3']);
    expect(p.values).toEqual(['a', 1, true]);
  });
});
