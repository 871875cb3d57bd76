import { describe, expect, it } from 'vitest';
import { findPii } from '../governance/pii-scanners.js';
import { cardValidator } from '../governance/pii-validators.js';
import type { SimEvent } from './model.js';
import { PiiPlanter, PLANTED_KINDS, plantedPiiPool, POOL_PER_KIND } from './planted-pii.js';

const KIND_FOUND_AS: Record<string, string> = {
  email: 'email',
  phone_international: 'phone',
  phone_national: 'phone',
  ipv4: 'ip',
  ipv6: 'ip',
  card: 'card',
  url_params: 'email',
  jwt: 'token',
};

describe('the PII pool the demo plants', () => {
  const pool = plantedPiiPool(42);

  it('is the same for the same seed, different for another, POOL_PER_KIND of each kind', () => {
    expect(plantedPiiPool(42)).toEqual(pool);
    expect(plantedPiiPool(43)[0]!.text).not.toBe(pool[0]!.text);
    expect(pool).toHaveLength(POOL_PER_KIND * PLANTED_KINDS.length);
    for (const kind of PLANTED_KINDS) expect(pool.filter((v) => v.kind === kind)).toHaveLength(POOL_PER_KIND);
  });

  it('holds values the scanners recognise as their kind, every secret inside its text', () => {
    for (const v of pool) {
      const kinds = findPii(v.text).map((f) => f.kind);
      expect(kinds, v.kind).toContain(KIND_FOUND_AS[v.kind]);
      expect(v.text).toContain(v.secrets[0]);
    }
    // The links carry a token beside the e-mail address.
    for (const v of pool.filter((p) => p.kind === 'url_params')) expect(findPii(v.text).map((f) => f.kind)).toEqual(['email', 'token']);
  });

  it('has Luhn-valid card numbers', () => {
    const cards = pool.filter((v) => v.kind === 'card').map((v) => v.secrets[1]!);
    expect(cards.every((c) => /^4[0-9]{15}$/.test(c) && cardValidator.ts(c))).toBe(true);
  });
});

describe('planting', () => {
  const custom: SimEvent = { kind: 'custom', t: 0, us: 0, name: 'report_viewed', props: { report_type: 'velocity' }, rage: 0, rageTotal: 0, dead: false, errorClick: false };

  it('adds one property to some custom events only, and is the same for the same visit', () => {
    const a = new PiiPlanter(42, 7);
    const b = new PiiPlanter(42, 7);
    const page: SimEvent = { kind: 'page', t: 0, us: 0, rage: 0, rageTotal: 0, dead: false, errorClick: false };
    const input: SimEvent = { ...page, kind: 'input' };
    let planted = 0;
    for (let i = 0; i < 2000; i++) {
      const x = a.plant(custom, 'posthog');
      expect(b.plant(custom, 'posthog')).toEqual(x);
      if (x !== custom) {
        planted++;
        expect(Object.keys(x.props!)).toHaveLength(2);
        expect(x.props!.report_type).toBe('velocity');
      }
      expect(a.plant(page, 'posthog')).toBe(page);
      expect(a.plant(input, 'posthog')).toBe(input);
    }
    // PLANT_RATE is 6%: 2,000 events give about 120.
    expect(planted).toBeGreaterThan(80);
    expect(planted).toBeLessThan(160);
  });

  it('plants in form inputs for FullStory only', () => {
    const a = new PiiPlanter(42, 8);
    const input: SimEvent = { kind: 'input', t: 0, us: 0, rage: 0, rageTotal: 0, dead: false, errorClick: false };
    const planted = Array.from({ length: 500 }, () => a.plant(input, 'fullstory')).filter((x) => x !== input);
    expect(planted.length).toBeGreaterThan(10);
    expect(planted.every((x) => Object.keys(x.props!).length === 1)).toBe(true);
  });
});
