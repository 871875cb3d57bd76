import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeFile } from './file-probe.js';

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
});
