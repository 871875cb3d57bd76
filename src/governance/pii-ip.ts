/**
 * `truncate`: an IP address becomes its network — IPv4 to /24 (the last octet 0), IPv6 to /48 (the first three
 * groups, then "::") — enough for country or network analysis, not enough to single out a household. A value that
 * is not an IP address is dropped (NULL): the rule says the field holds addresses, so anything else is unexpected.
 * pii-sql.ts has the same rule in SQL.
 */
import { VALID } from './pii-patterns.js';

const IPV4_ANY = new RegExp(`^(?:${VALID.ipv4Any})$`, 'u');
const IPV6_ANY = new RegExp(`^(?:${VALID.ipv6Any})$`, 'u');

/** The eight groups of a valid IPv6 text, "::" expanded. */
function ipv6Groups(value: string): string[] {
  const halves = value.toLowerCase().split('::');
  if (halves.length === 1) return halves[0]!.split(':');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves[1] === '' ? [] : halves[1]!.split(':');
  return [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
}

/** The first three groups, without leading zeros, trailing zero groups folded into "::" (RFC 5952 form). */
function ipv6Prefix48(value: string): string {
  const groups = ipv6Groups(value)
    .slice(0, 3)
    .map((g) => g.replace(/^0+/, '') || '0');
  while (groups.length > 0 && groups[groups.length - 1] === '0') groups.pop();
  return `${groups.join(':')}::`;
}

export function truncateIp(value: string): string | null {
  if (IPV4_ANY.test(value)) return value.replace(/\.[0-9]+$/, '.0');
  if (IPV6_ANY.test(value)) return ipv6Prefix48(value);
  return null;
}
