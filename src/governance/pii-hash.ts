/**
 * `hash`: HMAC-SHA256 keyed by the team's secret, written as "h:" + the first 32 hex digits (128 bits). Keyed, so a
 * dictionary of known e-mail addresses cannot be hashed to reverse it; deterministic, so the same value hashes the
 * same in every import and joins across sources and imports still work. The SQL masker computes the same HMAC in
 * DuckDB from the key's inner and outer pads (pii-sql.ts), which never appear in SQL text.
 */
import { createHash, createHmac } from 'node:crypto';
import type { PiiConfig } from '../core/config-schema.js';
import { UsageLabError } from '../core/errors.js';

export const PII_KEY_VARIABLE = 'USAGELAB_PII_KEY';
const HASH_PREFIX = 'h:';
const HASH_HEX_DIGITS = 32;

const MIN_KEY_LENGTH = 16;
const BLOCK_BYTES = 64;

/** The hash key: `pii.hash_key` (usually `${USAGELAB_PII_KEY}`), else the USAGELAB_PII_KEY environment variable. */
export function resolvePiiKey(pii: Pick<PiiConfig, 'hash_key'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (pii.hash_key !== undefined) return pii.hash_key;
  const fromEnv = env[PII_KEY_VARIABLE];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (fromEnv.length < MIN_KEY_LENGTH) {
    throw new UsageLabError('pii_key_weak', `${PII_KEY_VARIABLE} is shorter than ${MIN_KEY_LENGTH} characters`, {
      hint: `set ${PII_KEY_VARIABLE} to a long random string, e.g. the output of \`openssl rand -hex 32\``,
    });
  }
  return fromEnv;
}

export function piiKeyMissing(what: string): UsageLabError {
  return new UsageLabError('pii_key_missing', `${what}, but no hash key is set`, {
    place: { field: 'pii.hash_key' },
    hint: `set ${PII_KEY_VARIABLE} (e.g. \`openssl rand -hex 32\`) in the environment, or in .env with \`pii: { hash_key: \${${PII_KEY_VARIABLE}} }\` in usagelab.yaml; keep it: another key gives other hashes`,
  });
}

/** What `hash` writes: "h:" and 32 lower-case hex digits. */
export const HASHED_PATTERN = `h:[0-9a-f]{${HASH_HEX_DIGITS}}`;
const HASHED = new RegExp(`^${HASHED_PATTERN}$`);

/** A value that already has the hash's form (a file usagelab exported, masked, imported again). */
export function isHashed(value: string): boolean {
  return HASHED.test(value);
}

/**
 * HMAC of the value — unless it already is a hash: hashing is idempotent, so a masked export imported again keeps
 * its ids (hashing them twice would make every person a new one). pii-sql.ts does the same in SQL.
 */
export function hashValue(key: string, value: string): string {
  if (isHashed(value)) return value;
  return HASH_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
}

/** HMAC's padded keys (RFC 2104): sha256(opad || sha256(ipad || message)) is the HMAC. */
export function hmacPads(key: string): { inner: string; outer: string } {
  let k = Buffer.from(key, 'utf8');
  if (k.length > BLOCK_BYTES) k = createHash('sha256').update(k).digest();
  const padded = Buffer.concat([k, Buffer.alloc(BLOCK_BYTES - k.length)]);
  const inner = Buffer.from(padded.map((b) => b ^ 0x36));
  const outer = Buffer.from(padded.map((b) => b ^ 0x5c));
  return { inner: inner.toString('hex'), outer: outer.toString('hex') };
}
