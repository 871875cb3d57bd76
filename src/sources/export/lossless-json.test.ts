import { describe, expect, it } from 'vitest';
import { hasLongDigitRun, parseLossless, stringifyLossless } from './lossless-json.js';

describe('lossless JSON', () => {
  it('keeps integers beyond 2^53 digit for digit, in and out', () => {
    const line = '{"amplitude_id":9007199254740993,"event_id":12345678901234567890,"neg":-9223372036854775808,"small":42,"f":1.5e3}';
    const record = parseLossless(line) as Record<string, unknown>;
    expect(record.amplitude_id).toBe(9007199254740993n);
    expect(record.event_id).toBe(12345678901234567890n);
    expect(record.neg).toBe(-9223372036854775808n);
    expect(record.small).toBe(42);
    expect(record.f).toBe(1500);
    expect(stringifyLossless(record)).toBe('{"amplitude_id":9007199254740993,"event_id":12345678901234567890,"neg":-9223372036854775808,"small":42,"f":1500}');
  });

  it('reads safe 16-digit integers (GA4 microsecond timestamps) as numbers, and the largest safe one too', () => {
    const record = parseLossless('{"event_timestamp":1727000000123456,"max":9007199254740991,"over":9007199254740992}') as Record<string, unknown>;
    expect(record.event_timestamp).toBe(1727000000123456);
    expect(record.max).toBe(9007199254740991);
    expect(record.over).toBe(9007199254740992n);
  });

  it('leaves digits inside strings, keys and fractions alone', () => {
    const line = '{"id":"90071992547409931234","12345678901234567890":1,"x":1234567890123456.5,"t":[true,null,"a\\"9007199254740993"]}';
    const record = parseLossless(line) as Record<string, unknown>;
    expect(record.id).toBe('90071992547409931234');
    expect(record['12345678901234567890']).toBe(1);
    expect(record.t).toEqual([true, null, 'a"9007199254740993']);
    expect(typeof record.x).toBe('number');
  });

  it('fails like JSON.parse on broken text', () => {
    expect(() => parseLossless('{"a": 12345678901234567890')).toThrow(SyntaxError);
    expect(() => parseLossless('{"a": 1')).toThrow(SyntaxError);
  });

  it('finds the digit runs that may be unsafe integers exactly where /9\\d{15}|\\d{17}/ does', () => {
    const regex = /9\d{15}|\d{17}/;
    const cases = ['9007199254740993', '1007199254740993', '10071992547409930', 'x9000000000000000y', 'a19000000000000000', '900719925474099', ''];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = 1 + Math.floor(next() * 40);
      for (let k = 0; k < n; k++) s += next() < 0.9 ? String(Math.floor(next() * 10)) : next() < 0.5 ? '9' : ',';
      cases.push(s);
    }
    let hits = 0;
    for (const text of cases) {
      expect(hasLongDigitRun(text), text).toBe(regex.test(text));
      if (regex.test(text)) hits++;
    }
    expect(hits).toBeGreaterThan(1_000);
    expect(hits).toBeLessThan(cases.length - 1_000);
  });
});
