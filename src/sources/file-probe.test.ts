import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsvHeader, probeFile } from './file-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'usagelab-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return probeFile(path, { parquetColumns: async () => [] });
};

describe('file probe', () => {
  it('finds the first record of NDJSON whose first line is not JSON', async () => {
    const p = await probe('a.ndjson', 'this line is broken\n{"event":"x","properties":{"time":1}}\n');
    expect(p.format).toBe('ndjson');
    expect(p.firstRecord).toEqual({ event: 'x', properties: { time: 1 } });
  });

  it('finds the first record when the first line is a cut object', async () => {
    const p = await probe('b.ndjson', '{"event": "cut\n{"event":"y"}\n');
    expect(p.format).toBe('ndjson');
    expect(p.firstRecord).toEqual({ event: 'y' });
  });

  it('reads a pretty-printed object as one object, not its indented inner objects', async () => {
    const p = await probe('c.json', '{\n  "event_name": "x",\n  "event_params": [\n    {"key": "k", "value": {"int_value": "1"}}\n  ]\n}\n');
    expect(p.format).toBe('json-object');
    expect(p.firstRecord).toMatchObject({ event_name: 'x' });
  });

  it('reads a CSV header whose quoted names hold line breaks as one record', async () => {
    const p = await probe('d.csv', 'event_name,"occurred\nat","user ""id"""\r\na,2026-01-01T00:00:00Z,u1\n');
    expect(p.format).toBe('csv');
    expect(p.csvHeader).toEqual(['event_name', 'occurred\nat', 'user "id"']);
  });
});

describe('parseCsvHeader', () => {
  it('ends the header at the first line break outside quotes', () => {
    expect(parseCsvHeader('a,b,c\n1,2,3\n')).toEqual(['a', 'b', 'c']);
    expect(parseCsvHeader('a,b\r\n1,2')).toEqual(['a', 'b']);
    expect(parseCsvHeader('"a\nb",c\nx,y')).toEqual(['a\nb', 'c']);
  });

  it('gives up on a quoted name that does not close, and on what is not a header', () => {
    expect(parseCsvHeader('"a\nb,c\nx,y')).toBeUndefined();
    expect(parseCsvHeader('only\n1')).toBeUndefined();
    expect(parseCsvHeader('a,,c\n')).toBeUndefined();
    expect(parseCsvHeader('{"a":1},b\n')).toBeUndefined();
  });
});
