/**
 * The detectors' gates (pii-patterns.ts GATES) only decide whether a text needs a detector: masking with them must
 * give exactly what masking without them gives. Checked on the labelled corpus, on those values inside JSON
 * documents, and on random texts built from the characters the gated patterns are made of. The same for the
 * detectors' `holds` tests (IPv6: "::" or seven colons), taken off with the gates.
 */
import { describe, expect, it } from 'vitest';
import { buildCorpus, Rng } from './__fixtures__/pii-corpus.js';
import { DEFAULT_SCANNERS, maskText, mayHoldIpv6, type Scanners } from './pii-scanners.js';
import { GATES } from './pii-patterns.js';

const UNGATED: Scanners = { ...DEFAULT_SCANNERS, detectors: DEFAULT_SCANNERS.detectors.map(({ gate: _gate, holds: _holds, ...d }) => d) };

function randomText(rng: Rng): string {
  const pieces = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '4', ' ', '-', '.', ':', '::', '"', ',', 'a', 'f', 'T', '+', '(', ')', '00', '01'];
  let s = '';
  const n = rng.int(5, 45);
  for (let i = 0; i < n; i++) s += rng.pick(pieces);
  return s;
}

describe('detector gates', () => {
  it('gate the detectors whose patterns match common harmless text', () => {
    const gated = DEFAULT_SCANNERS.detectors.filter((d) => d.gate !== undefined).map((d) => d.id);
    expect(gated).toEqual(['card', 'ipv6', 'ipv4', 'phone_00', 'phone_national']);
    // What they exist for: timestamps, clock times, browser versions and dates do not pass them.
    const harmless = ['{"time":1727000000123}', '"12:30:45"', 'Chrome/120.0.6099.109', '"2026-08-01"'];
    for (const text of harmless) {
      for (const gate of Object.values(GATES)) expect(new RegExp(gate, 'u').test(text)).toBe(false);
    }
  });

  it('change nothing masking gives, on the corpus, inside JSON, and on random digit texts', () => {
    const corpus = buildCorpus();
    const texts = [...corpus.positives, ...corpus.negatives].flatMap((item) => [item.text, JSON.stringify({ v: item.text, t: 1727000000123 })]);
    const rng = new Rng(20261128);
    for (let i = 0; i < 20_000; i++) texts.push(randomText(rng));
    let changed = 0;
    for (const text of texts) {
      const masked = maskText(text, UNGATED);
      if (masked !== text) changed++;
      expect(maskText(text, DEFAULT_SCANNERS), text).toBe(masked);
    }
    // The check means something only if many of these texts are masked.
    expect(changed).toBeGreaterThan(5_000);
  });

  it('IPv6: a text without "::" and with fewer than seven colons never passes the gate', () => {
    const gate = new RegExp(GATES.ipv6, 'u');
    const rng = new Rng(20261129);
    const texts = ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1', '::1', 'fe80::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7', '12:30:45', 'https://x.io:8080/a'];
    for (let i = 0; i < 20_000; i++) texts.push(randomText(rng));
    let held = 0;
    for (const text of texts) {
      if (mayHoldIpv6(text)) held++;
      else expect(gate.test(text), text).toBe(false);
    }
    expect([mayHoldIpv6('2001:db8::2:1'), mayHoldIpv6('1:2:3:4:5:6:7:8'), mayHoldIpv6('1:2:3:4:5:6:7'), mayHoldIpv6('12:30:45')]).toEqual([true, true, false, false]);
    expect(held).toBeGreaterThan(1_000);
    expect(held).toBeLessThan(texts.length);
  });
});
