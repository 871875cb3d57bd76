import { describe, expect, it } from 'vitest';
import { parseLossless, stringifyLossless } from './lossless-json.js';

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
});
