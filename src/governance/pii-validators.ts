/**
 * Checks a regular expression cannot make exactly: a candidate found by a scanner's pattern is personal data only
 * when its validator agrees (a Luhn checksum, four octets, a plausible digit count). Each check exists twice, as a
 * TypeScript function and as a DuckDB SQL expression, side by side so that they can be read against each other;
 * pii-sql.test / pii-corpus.test run both on the same values.
 */
import { quoteLiteral } from '../sql/quote.js';
import { VALID } from './pii-patterns.js';

/** Fresh lambda-variable names for generated SQL (DuckDB lambdas may not reuse an enclosing lambda's name). */
export interface SqlNames {
  fresh(prefix: string): string;
}

export interface Validator {
  ts(value: string): boolean;
  /** A SQL boolean over the VARCHAR expression `value` (which may be repeated: pass a column or lambda variable). */
  sql(value: string, names: SqlNames): string;
}

const full = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'u');
const sqlFull = (value: string, pattern: string): string => `regexp_full_match(${value}, ${quoteLiteral(pattern)})`;

const CARD_BRAND = full(VALID.cardBrand);
const IPV4_HOST = full(VALID.ipv4Host);
const IPV6_ANY = full(VALID.ipv6Any);
const IPV6_NETWORK = full(VALID.ipv6Network);
const UUID = full(VALID.uuid);

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += i % 2 === 1 ? ((d * 2) % 10) + Math.floor((d * 2) / 10) : d;
  }
  return sum % 10 === 0;
}

function luhnSql(digits: string, names: SqlNames): string {
  const c = names.fresh('c');
  const i = names.fresh('i');
  // DuckDB list indexes are 1-based: the doubled digits (2nd, 4th, ... from the right) have even indexes.
  return `(list_sum(list_transform(list_reverse(string_split(${digits}, '')), (${c}, ${i}) -> CASE WHEN ${i} % 2 = 0
      THEN (CAST(${c} AS INTEGER) * 2) % 10 + (CAST(${c} AS INTEGER) * 2) // 10 ELSE CAST(${c} AS INTEGER) END)) % 10 = 0)`;
}

const digitsOf = (value: string): string => value.replace(/[^0-9]/g, '');
const digitsSql = (value: string): string => `regexp_replace(${value}, '[^0-9]', '', 'g')`;

function bindSql(expr: string, names: SqlNames, body: (v: string) => string): string {
  const v = names.fresh('v');
  return `list_transform([${expr}], ${v} -> ${body(v)})[1]`;
}

/** Issuer prefix and length of a known card scheme, and the Luhn checksum. Separators (space, dash) are ignored. */
export const cardValidator: Validator = {
  ts: (value) => {
    const d = digitsOf(value);
    return CARD_BRAND.test(d) && luhnValid(d);
  },
  sql: (value, names) => bindSql(digitsSql(value), names, (d) => `(${sqlFull(d, VALID.cardBrand)} AND ${luhnSql(d, names)})`),
};

/** A JSON number is a card number only when it is a plain integer of 13-19 digits that passes the card check. */
export const jsonNumberCardValidator: Validator = {
  ts: (value) => /^[0-9]{13,19}$/.test(value) && cardValidator.ts(value),
  sql: (value, names) => `(${sqlFull(value, '[0-9]{13,19}')} AND ${cardValidator.sql(value, names)})`,
};

export const ipv4Validator: Validator = {
  ts: (value) => IPV4_HOST.test(value),
  sql: (value) => sqlFull(value, VALID.ipv4Host),
};

export const ipv6Validator: Validator = {
  ts: (value) => IPV6_ANY.test(value) && !IPV6_NETWORK.test(value),
  sql: (value) => `(${sqlFull(value, VALID.ipv6Any)} AND NOT ${sqlFull(value, VALID.ipv6Network)})`,
};

/** A phone candidate is kept as a phone number only with a plausible count of digits for its form. */
export function digitCountValidator(min: number, max: number): Validator {
  return {
    ts: (value) => {
      const n = digitsOf(value).length;
      return n >= min && n <= max;
    },
    sql: (value) => `(length(${digitsSql(value)}) BETWEEN ${min} AND ${max})`,
  };
}

/** `inner`, for a candidate that is not a whole UUID (the phone patterns match one so as to skip it whole). */
export function notUuid(inner: Validator): Validator {
  return {
    ts: (value) => !UUID.test(value) && inner.ts(value),
    sql: (value, names) => `(NOT ${sqlFull(value, VALID.uuid)} AND ${inner.sql(value, names)})`,
  };
}

/**
 * +international: 8-15 digits (E.164 allows at most 15); written without any separator it needs at least 10, so a
 * "+" that encodes a space in a URL before a short number is not a phone number.
 */
export const internationalPhoneValidator: Validator = {
  ts: (value) => {
    const n = digitsOf(value).length;
    return n >= 8 && n <= 15 && (n >= 10 || /[ .()-]/.test(value));
  },
  sql: (value) =>
    `(length(${digitsSql(value)}) BETWEEN 8 AND 15 AND (length(${digitsSql(value)}) >= 10 OR regexp_matches(${value}, '[ .()-]')))`,
};
