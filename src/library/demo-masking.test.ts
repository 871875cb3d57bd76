import { describe, expect, it } from 'vitest';
import type { PiiConfig } from '../core/config-schema.js';
import { piiPolicy } from '../governance/pii-policy.js';
import { DEFAULT_SCANNERS, scanText } from '../governance/pii-scanners.js';
import type { VendorRecord } from '../sources/export/exporter.js';
import { stringifyLossless } from '../sources/export/lossless-json.js';
import { createDemoRecordMasker, demoRecordLayout, detectorGate, memoizedMasker } from './demo-masking.js';
import { vendorRecordMasker } from './export-source.js';

const PII: PiiConfig = { hash_key: 'FAKE-test-key-0000-0000', fields: {}, scan: { kinds: ['email', 'phone', 'card', 'ip', 'token', 'secret'], custom: [] }, keep: [] };
const hex = (i: number, n: number): string => (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(4).slice(0, n);

/** PostHog-like events: ids and timestamps that never repeat, people and pages that do, PII here and there. */
function posthogEvent(i: number): VendorRecord {
  const person = i % 7;
  return {
    uuid: `0190${hex(i, 4)}-${hex(i + 1, 4)}-7${hex(i + 2, 3)}-8${hex(i + 3, 3)}-${hex(i + 4, 12)}`,
    event: i % 5 === 0 ? '$pageview' : 'invite_sent',
    distinct_id: person === 3 ? `person${person}@globex.example` : `usr_${person}`,
    properties: {
      $insert_id: hex(i + 9, 16),
      $time: 1_787_358_211.113 + i,
      $current_url: i % 11 === 0 ? `https://app.example.com/invite?email=p${person}@x.example&token=${hex(i, 24)}` : `https://app.example.com/projects/${person}`,
      $el_text: i % 13 === 0 ? `Send to +44 20 7946 0${String(i % 1000).padStart(3, '0')}` : 'Send invite',
      seats: i % 4,
      note: i % 17 === 0 ? `card 4111 1111 1111 1111, ip 77.1.2.${i % 250}` : `note ${i}`,
      email: `p${person}@x.example`,
      big: 9_007_199_254_740_993n + BigInt(i),
      flag: i % 2 === 0,
      nothing: null,
      $set: { email: `p${person}@x.example`, plan: 'pro' },
    },
    person_properties: { email: `p${person}@x.example`, name: `Person ${person}`, plan: person % 2 === 0 ? 'free' : 'pro' },
    timestamp: new Date(Date.UTC(2026, 7, 1) + i * 1000).toISOString(),
    elements_chain: `button.send:text="Send ${person}"nth-child="1"`,
  };
}

/** GA4 BigQuery rows: event_params / user_properties arrays whose elements repeat, with PII in some of them. */
function ga4Event(i: number): VendorRecord {
  const person = i % 9;
  const param = (key: string, value: Record<string, unknown>): Record<string, unknown> => ({ key, value: { string_value: null, int_value: null, ...value } });
  return {
    event_date: '20260801',
    event_timestamp: 1_785_542_400_000_000 + i * 1_000_000,
    event_name: i % 3 === 0 ? 'page_view' : 'click',
    event_params: [
      param('page_location', { string_value: i % 19 === 0 ? `https://app.example.com/invite?email=p${person}@x.example` : `https://app.example.com/projects/${person}` }),
      param('ga_session_id', { int_value: 1_785_542_400 + Math.floor(i / 10) }),
      param('engagement_time_msec', { int_value: i % 50 }),
      ...(i % 23 === 0 ? [param('note', { string_value: `call +44 20 7946 0${String(i % 1000).padStart(3, '0')} from 77.1.2.${i % 250}` })] : []),
      ...(i % 29 === 0 ? [param('user_email', { string_value: `p${person}@x.example` })] : []),
    ],
    user_id: person === 4 ? `person${person}@globex.example` : `u${person}`,
    user_pseudo_id: `${1_000_000 + person}.${1_785_000_000 + person}`,
    user_properties: [{ key: 'plan', value: { string_value: person % 2 === 0 ? 'free' : 'pro', set_timestamp_micros: 1_785_542_400_000_000 + person } }],
    device: { category: 'desktop', operating_system: 'Windows', web_info: { browser: 'Chrome', browser_version: '120.0.6099.109' } },
  };
}

describe('the demo masker with remembered members', () => {
  it('masks GA4 parameter arrays element by element with exactly the exporters output, and a dropped field whole', () => {
    const drop: PiiConfig = { ...PII, fields: { properties: 'drop' } };
    for (const pii of [PII, drop]) {
      const layout = demoRecordLayout('ga4', 'events');
      const full = vendorRecordMasker(pii, layout, {});
      const memo = memoizedMasker(layout, vendorRecordMasker(pii, layout, {}), piiPolicy(pii, {}).scanners).record;
      const differ: number[] = [];
      let masked = 0;
      for (let i = 0; i < 2_500; i++) {
        const r = ga4Event(i);
        const expected = stringifyLossless(full(r));
        if (stringifyLossless(memo(r)) !== expected) differ.push(i);
        if (expected !== stringifyLossless(r)) masked++;
      }
      expect(differ).toEqual([]);
      expect(masked).toBeGreaterThan(100);
    }
  });

  it('gives exactly what the exporters masker gives, record for record (past the point where unique paths are given up)', () => {
    for (const tool of ['posthog', 'mixpanel', 'ga4'] as const) {
      const layout = demoRecordLayout(tool, 'events');
      const full = vendorRecordMasker(PII, layout, {});
      const memo = memoizedMasker(layout, vendorRecordMasker(PII, layout, {}), piiPolicy(PII, {}).scanners).record;
      const differ: number[] = [];
      for (let i = 0; i < 2_500; i++) {
        const r = posthogEvent(i);
        if (stringifyLossless(memo(r)) !== stringifyLossless(full(r))) differ.push(i);
      }
      expect(differ, tool).toEqual([]);
    }
  });

  it('masks members alone exactly as within the whole record, and leaves out what a rule drops', () => {
    const dropNote: PiiConfig = { ...PII, fields: { 'properties.note': 'drop' } };
    const dropAll: PiiConfig = { ...PII, fields: { properties: 'drop' } };
    for (const pii of [PII, dropNote, dropAll]) {
      const layout = demoRecordLayout('posthog', 'events');
      const full = vendorRecordMasker(pii, layout, {});
      const memo = memoizedMasker(layout, vendorRecordMasker(pii, layout, {}), piiPolicy(pii, {}).scanners);
      const differ: number[] = [];
      const wholeDiffer: number[] = [];
      for (let i = 0; i < 1_500; i++) {
        const expected = stringifyLossless(full(posthogEvent(i)));
        if (stringifyLossless(memo.record(posthogEvent(i))) !== expected) wholeDiffer.push(i);
        if (!memo.splits('properties')) continue;
        const { properties, ...rest } = posthogEvent(i);
        const entries = Object.entries(properties as VendorRecord);
        // The properties in two pieces, the top-level members in two around them, as a writer joins fragments.
        const pieces = { ...memo.members('properties', Object.fromEntries(entries.slice(0, 4))), ...memo.members('properties', Object.fromEntries(entries.slice(4))) };
        const { uuid, event, distinct_id, ...after } = rest;
        const joined = { ...memo.members(undefined, { uuid, event, distinct_id }), ...(Object.keys(pieces).length === 0 ? {} : { properties: pieces }), ...memo.members(undefined, after) };
        if (stringifyLossless(joined) !== expected) differ.push(i);
      }
      expect(wholeDiffer, JSON.stringify(pii.fields)).toEqual([]);
      expect(differ, JSON.stringify(pii.fields)).toEqual([]);
      // Dropping `properties` makes it null: only masking the whole field gives that.
      expect(memo.splits('properties')).toBe(pii !== dropAll);
    }
  });

  it('gives members as JSON text for the writers, and none for a field a rule replaces whole', () => {
    const m = createDemoRecordMasker({ pii: PII, env: {} });
    expect(m.childMembers('posthog', 'events', 'properties', { seats: 2, note: 'mail p1@x.example', big: 9_007_199_254_740_993n })).toBe('"seats":2,"note":"mail [email]","big":9007199254740993');
    expect(m.members('posthog', 'events', { event: '$pageview', timestamp: '2026-08-01T00:00:00.000Z' })).toBe('"event":"$pageview","timestamp":"2026-08-01T00:00:00.000Z"');
    // An undefined member is left out, as from the record's JSON text (the Mixpanel writer relies on it).
    expect(m.childMembers('posthog', 'events', 'properties', { seats: 2, $carrier: undefined, note: 'mail p1@x.example' })).toBe('"seats":2,"note":"mail [email]"');
    expect(m.members('posthog', 'events', { event: '$pageview', person_id: undefined })).toBe('"event":"$pageview"');
    const dropped = createDemoRecordMasker({ pii: { ...PII, fields: { properties: 'drop' } }, env: {} });
    expect(dropped.childMembers('posthog', 'events', 'properties', { seats: 2 })).toBeUndefined();
    expect(() => memoizedMasker(demoRecordLayout('posthog', 'events'), vendorRecordMasker(PII, demoRecordLayout('posthog', 'events'), {}), DEFAULT_SCANNERS).members('person_properties', {})).toThrow(/not a field whose members/);
  });

  it('writes members as text exactly as the JSON of the masked object, whatever the members', () => {
    const dropNote: PiiConfig = { ...PII, fields: { 'properties.note': 'drop', 'properties.email': 'drop' } };
    for (const pii of [PII, dropNote]) {
      const layout = demoRecordLayout('posthog', 'events');
      const memo = memoizedMasker(layout, vendorRecordMasker(pii, layout, {}), piiPolicy(pii, {}).scanners);
      const differ: string[] = [];
      const check = (field: string | undefined, members: VendorRecord): void => {
        const expected = stringifyLossless(memo.members(field, members)).slice(1, -1);
        const text = memo.membersText(field, members);
        if (text !== expected) differ.push(`${field}: ${text} <> ${expected}`);
      };
      for (let i = 0; i < 600; i++) {
        const { properties, ...rest } = posthogEvent(i);
        const props = properties as VendorRecord;
        check('properties', props);
        check(undefined, rest);
        // The properties among top-level members (split), members the policy drops, names that are array indexes
        // (JSON.stringify moves them first), undefined values inside and outside the split field, escapes.
        check(undefined, { uuid: rest.uuid, properties: props, event: rest.event });
        check(undefined, { properties: { note: props.note, email: props.email }, event: rest.event });
        // A mapped child (page_url) left undefined keeps its field, as an empty object.
        check(undefined, { event: rest.event, properties: { $current_url: undefined, gone: undefined }, after: 1 });
        check('properties', { seats: i, 7: 'seven', 'quote"d': 'a "b"\n', nothing: undefined, big: props.big });
        check(undefined, { 10: 'ten', event: rest.event, [`k${i % 3}`]: { nested: [1, null, 'x@y.example'] } });
      }
      expect(differ, JSON.stringify(pii.fields)).toEqual([]);
    }
  });

  it('masks what it should (the planted kinds are gone)', () => {
    const m = createDemoRecordMasker({ pii: PII, env: {} });
    const out = m.line('posthog', 'events', stringifyLossless(posthogEvent(187)));
    expect(out).not.toContain('@x.example');
    expect(out).not.toContain('4111 1111 1111 1111');
    expect(out).not.toContain('77.1.2.187');
    // A 64-bit integer keeps its digits (9,007,199,254,740,993 + 187).
    expect(out).toContain('"big":9007199254741180');
    expect(out).toContain('"note":"card [card], ip [ip]"');
  });
});

describe('the detector gate', () => {
  it('passes only texts the scanners leave unchanged', () => {
    const gate = detectorGate(DEFAULT_SCANNERS);
    const texts = ['2026-08-22T00:23:31.113768Z', '01a026d9-ec29-70cf-bc54-7c3f22b57ed7', 'e4cea77496cffdb4', 'a@b.example', '?token=abc', '4111111111111111', '+1 415 555 0100', '10.1.2.3', 'v1.2.3', 'fe80::1'];
    for (const t of texts) if (gate(t)) expect(scanText(t, DEFAULT_SCANNERS), t).toBe(t);
    expect(texts.filter(gate)).toEqual(['2026-08-22T00:23:31.113768Z', '01a026d9-ec29-70cf-bc54-7c3f22b57ed7', 'e4cea77496cffdb4', 'v1.2.3']);
  });
});
