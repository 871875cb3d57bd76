import { describe, expect, it } from 'vitest';
import { firstDifference, formatDifference } from './result-diff.js';

const funnel = () => ({
  kind: 'funnel',
  version: 1,
  steps: [
    { name: 'signup', count: 10_000, median_seconds: 120.5 },
    { name: 'upgrade', count: 195, median_seconds: null },
  ],
  breakdown: undefined as unknown,
});

describe('firstDifference', () => {
  it('finds no difference between equal results, whatever the key order', () => {
    const a = funnel();
    const b = { steps: funnel().steps.map((s) => ({ median_seconds: s.median_seconds, count: s.count, name: s.name })), version: 1, kind: 'funnel' };
    expect(firstDifference(a, b)).toBeUndefined();
  });

  it('treats a property holding undefined as missing, as toEqual does', () => {
    expect(firstDifference({ a: 1, b: undefined }, { a: 1 })).toBeUndefined();
    expect(firstDifference({ a: 1 }, { a: 1, b: null })).toEqual({ path: '$.b', left: 'missing', right: 'null' });
  });

  it('names the path and both values of a number that differs, however little', () => {
    const b = funnel();
    b.steps[1]!.count = 196;
    expect(firstDifference(funnel(), b)).toEqual({ path: '$.steps[1].count', left: '195', right: '196' });
    const c = funnel();
    c.steps[0]!.median_seconds = 120.50000000000001;
    expect(firstDifference(funnel(), c)).toEqual({ path: '$.steps[0].median_seconds', left: '120.5', right: '120.50000000000001' });
  });

  it('compares numbers exactly: -0 is not 0, NaN equals NaN, 1 is not "1"', () => {
    expect(firstDifference({ x: 0 }, { x: -0 })).toEqual({ path: '$.x', left: '0', right: '-0' });
    expect(firstDifference([Number.NaN], [Number.NaN])).toBeUndefined();
    expect(firstDifference({ x: 1 }, { x: '1' })).toEqual({ path: '$.x', left: '1', right: '"1"' });
    expect(firstDifference({ x: 1n }, { x: 1 })).toEqual({ path: '$.x', left: '1n', right: '1' });
  });

  it('reports arrays of different length at the array, and null against an object', () => {
    expect(firstDifference({ ids: ['a', 'b'] }, { ids: ['a'] })).toEqual({ path: '$.ids', left: 'array(2)', right: 'array(1)' });
    expect(firstDifference({ totals: null }, { totals: { n: 1 } })).toEqual({ path: '$.totals', left: 'null', right: 'object' });
  });

  it('compares dates by instant and quotes keys that are not identifiers', () => {
    expect(firstDifference({ at: new Date('2024-01-01T00:00:00Z') }, { at: new Date('2024-01-01T00:00:00.000+00:00') })).toBeUndefined();
    expect(firstDifference({ 'page path': { '/x': 1 } }, { 'page path': { '/x': 2 } })).toEqual({ path: '$["page path"]["/x"]', left: '1', right: '2' });
  });

  it('reports the first difference in sorted key order, depth first', () => {
    expect(firstDifference({ b: 1, a: { z: 1, y: 2 } }, { b: 2, a: { z: 0, y: 3 } })?.path).toBe('$.a.y');
  });

  it('never calls two Maps equal by their (absent) keys', () => {
    expect(firstDifference(new Map([['a', 1]]), new Map([['a', 2]]))).toEqual({ path: '$', left: 'Map', right: 'Map' });
  });

  it('formats a difference with the engine on each side', () => {
    expect(formatDifference({ path: '$.steps[1].count', left: '195', right: '196' })).toBe('$.steps[1].count: DuckDB 195, ClickHouse 196');
  });
});
