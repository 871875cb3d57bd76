import { describe, expect, it } from 'vitest';
import { csvCell, formatCsv } from './csv-output.js';

describe('CSV output', () => {
  it('neutralises cells a spreadsheet would run as a formula, but not numbers', () => {
    expect(['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx'].map(csvCell)).toEqual(["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", `"'\rx"`]);
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('quotes separators, quotes and newlines; null is empty; objects are JSON', () => {
    expect(formatCsv([{ a: 'x,y', b: 'say "hi"', c: 'two\nlines', d: null, e: { k: 1 } }])).toBe('a,b,c,d,e\n"x,y","say ""hi""","two\nlines",,"{""k"":1}"\n');
  });

  it('the header is the union of keys in first-seen order', () => {
    expect(formatCsv([{ a: 1 }, { b: 2, a: 3 }])).toBe('a,b\n1,\n3,2\n');
  });
});
