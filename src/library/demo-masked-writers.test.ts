/**
 * The PostHog, Amplitude, Mixpanel and GA4 demo writers mask their records as they build them, fragment by
 * fragment (record-masking.ts `members`), instead of masking each finished line. The files must be the same as
 * masking every line whole: generated unmasked, each line masked with the same masker, they are compared line for
 * line — with the default policy, and with one that replaces `properties` whole (PostHog's and Mixpanel's
 * properties become null, GA4's event_params too: those writers then mask whole lines).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import type { PiiConfig } from '../core/config-schema.js';
import { generateDemo } from '../demo/generate-demo.js';
import { tempWorkspace, type TempWorkspace } from '../test-support/temp-workspace.js';
import { createDemoRecordMasker, demoMasking } from './demo-masking.js';

const PII: PiiConfig = { hash_key: 'FAKE-test-key-0000-0000', fields: {}, scan: { kinds: ['email', 'phone', 'card', 'ip', 'token', 'secret'], custom: [] }, keep: [] };
type MaskingWriter = 'posthog' | 'amplitude' | 'mixpanel' | 'ga4';
const WRITERS: readonly MaskingWriter[] = ['posthog', 'amplitude', 'mixpanel', 'ga4'];
const OPTIONS = { people: 120, months: 2, seed: 5, now: new Date('2026-11-28T00:00:00Z'), parallel: false } as const;

/** Every record line of a tool's files, in file order (Amplitude: the zips' gzipped members). */
function lines(exportsDir: string, tool: MaskingWriter): string[] {
  const dir = join(exportsDir, tool);
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const data = readFileSync(join(dir, name));
    const texts =
      tool === 'amplitude'
        ? Object.entries(unzipSync(data))
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([, member]) => gunzipSync(member).toString('utf8'))
        : [gunzipSync(data).toString('utf8')];
    for (const text of texts) out.push(...text.split('\n').filter((l) => l !== ''));
  }
  return out;
}

let root: TempWorkspace;
let plain: string;

beforeAll(async () => {
  root = tempWorkspace();
  plain = join(root.dir, 'plain');
  await generateDemo(plain, OPTIONS);
});

afterAll(() => root.cleanup());

describe('demo writers that mask fragment by fragment', () => {
  for (const [label, pii] of [
    ['the default policy', PII],
    ['a policy dropping properties whole', { ...PII, fields: { properties: 'drop' } } as PiiConfig],
  ] as const) {
    it(`write exactly the lines masked whole, with ${label}`, async () => {
      const dir = join(root.dir, label.replace(/\W+/g, '-'));
      await generateDemo(dir, { ...OPTIONS, masking: demoMasking({ pii, env: {} }) });
      const masker = createDemoRecordMasker({ pii, env: {} });
      for (const tool of WRITERS) {
        const expected = lines(join(plain, 'exports'), tool).map((l) => masker.line(tool, 'events', l));
        const written = lines(join(dir, 'exports'), tool);
        expect(written.length, tool).toBeGreaterThan(300);
        const differ = written.flatMap((l, i) => (l === expected[i] ? [] : [i]));
        expect(differ, tool).toEqual([]);
        expect(written.length, tool).toBe(expected.length);
        // The dropped field is null in every record: the writers fell back to masking whole lines where they must.
        const dropped = { posthog: '"properties":null', mixpanel: '"properties":null', ga4: '"event_params":null', amplitude: '"event_properties":null' }[tool];
        expect(written.every((l) => l.includes(dropped)), tool).toBe(pii.fields.properties === 'drop');
      }
    });
  }
});
