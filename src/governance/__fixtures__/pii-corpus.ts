/**
 * A labelled corpus for measuring the scanners: personal data of every kind in the forms it takes in analytics
 * exports (bare, in sentences, in URLs, in JSON-ish text), and look-alikes that are not personal data (versions,
 * order ids, dates, prices, UUIDs, timestamps, hex colours, coordinates, ...). Built from a seeded generator, so
 * every run measures the same corpus. Each item lists exactly the values a perfect scanner would report.
 */
import { luhnValid } from '../pii-validators.js';
import type { PiiKind } from '../pii-kinds.js';

export interface Label {
  readonly kind: PiiKind;
  /** The text a finding reports (for URL parameters: the value after "="). */
  readonly value: string;
}

export interface CorpusItem {
  readonly text: string;
  readonly labels: readonly Label[];
  /** What the item is, for failure messages: "email/sentence", "negative/version", ... */
  readonly family: string;
}

/** mulberry32: small, seedable, good enough to vary a corpus. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;
const HEX = '0123456789abcdef';
const FIRST = ['anna', 'bob', 'chen', 'dana', 'emil', 'fatima', 'gus', 'hana', 'ivan', 'jo', 'kofi', 'lena', 'mo', 'nia', 'omar', 'pia', 'raj', 'sara', 'tom', 'uma', 'vera', 'wei', 'yara', 'zoe'];
const LAST = ['smith', 'garcia', 'muller', 'rossi', 'tanaka', 'okafor', 'silva', 'novak', 'kim', 'haddad', 'jensen', 'dubois'];
const DOMAINS = ['example.com', 'mail.example.co.uk', 'corp.example', 'sub.domain.io', 'example.museum', 'acme-widgets.example', 'uni.example.edu', 'xn--bcher-kva.example', 'example.de', 'post.example.fr'];

/** Places a value in a text the way analytics data holds it. */
function contexts(rng: Rng, value: string): string[] {
  return [
    value,
    `Contact ${value} for details.`,
    `sent to ${value} on Monday`,
    `{"note":"${value}"}`,
    `(${value})`,
    `<${value}>`,
    `${rng.pick(['Name', 'Support', 'Customer'])}: ${value}; thanks`,
  ];
}

function email(rng: Rng): string {
  const f = rng.pick(FIRST);
  const l = rng.pick(LAST);
  const local = rng.pick([`${f}.${l}`, `${f}_${l}`, `${f}${l}${rng.int(1, 99)}`, `${f[0]}.${l}+${rng.pick(['news', 'test', 'x'])}`, `${f.toUpperCase()}.${l}`, `${f}-${l}`]);
  return `${local}@${rng.pick(DOMAINS)}`;
}

function nanp(rng: Rng): { area: string; exchange: string; line: string } {
  return { area: `${rng.int(2, 9)}${rng.digits(2)}`, exchange: `${rng.int(2, 9)}${rng.digits(2)}`, line: rng.digits(4) };
}

function phone(rng: Rng): string {
  const n = nanp(rng);
  const forms = [
    () => `+1 (${n.area}) ${n.exchange}-${n.line}`,
    () => `+1-${n.area}-${n.exchange}-${n.line}`,
    () => `+1${n.area}${n.exchange}${n.line}`,
    () => `(${n.area}) ${n.exchange}-${n.line}`,
    () => `${n.area}-${n.exchange}-${n.line}`,
    () => `${n.area}.${n.exchange}.${n.line}`,
    () => `${n.area} ${n.exchange} ${n.line}`,
    () => `1-${n.area}-${n.exchange}-${n.line}`,
    () => `+44 20 ${rng.int(3, 8)}${rng.digits(3)} ${rng.digits(4)}`,
    () => `+44 7${rng.digits(3)} ${rng.digits(6)}`,
    () => `+33 ${rng.int(1, 9)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)}`,
    () => `+49 30 ${rng.digits(8)}`,
    () => `+91 ${rng.int(6, 9)}${rng.digits(4)} ${rng.digits(5)}`,
    () => `+81 3-${rng.digits(4)}-${rng.digits(4)}`,
    () => `+61 2 ${rng.digits(4)} ${rng.digits(4)}`,
    () => `+55 11 9${rng.digits(4)}-${rng.digits(4)}`,
    () => `+86 1${rng.digits(2)} ${rng.digits(4)} ${rng.digits(4)}`,
    () => `+31 6 ${rng.digits(8)}`,
    () => `+44 (0)20 ${rng.digits(4)} ${rng.digits(4)}`,
    () => `020 ${rng.int(3, 8)}${rng.digits(3)} ${rng.digits(4)}`,
    () => `07${rng.digits(3)} ${rng.digits(6)}`,
    () => `0${rng.int(1, 7)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)} ${rng.digits(2)}`,
    () => `0${rng.int(1, 7)}.${rng.digits(2)}.${rng.digits(2)}.${rng.digits(2)}.${rng.digits(2)}`,
    () => `030 ${rng.digits(8)}`,
    () => `0161 ${rng.digits(3)} ${rng.digits(4)}`,
    () => `(02) ${rng.digits(4)} ${rng.digits(4)}`,
    () => `0044 20 ${rng.digits(4)} ${rng.digits(4)}`,
  ];
  return rng.pick(forms)();
}

/** A number with the prefix and length whose last digit makes the Luhn checksum valid. */
function luhnComplete(prefix: string, length: number, rng: Rng): string {
  const body = prefix + rng.digits(length - prefix.length - 1);
  for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable: one check digit always completes a Luhn number');
}

function card(rng: Rng): string {
  const brand = rng.pick([
    { prefix: () => `4${rng.digits(3)}`, length: 16 },
    { prefix: () => `4${rng.digits(3)}`, length: 16 },
    { prefix: () => `5${rng.int(1, 5)}${rng.digits(2)}`, length: 16 },
    { prefix: () => `${rng.int(2221, 2720)}`, length: 16 },
    { prefix: () => `3${rng.pick(['4', '7'])}${rng.digits(2)}`, length: 15 },
    { prefix: () => `6011`, length: 16 },
    { prefix: () => `65${rng.digits(2)}`, length: 16 },
    { prefix: () => `35${rng.int(28, 89)}`, length: 16 },
    { prefix: () => `36${rng.digits(2)}`, length: 14 },
    { prefix: () => `62${rng.digits(2)}`, length: 16 },
  ]);
  const digits = luhnComplete(brand.prefix(), brand.length, rng);
  const groups =
    brand.length === 15 ? [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)] : brand.length === 14 ? [digits.slice(0, 4), digits.slice(4, 10), digits.slice(10)] : digits.match(/.{4}/g)!;
  return rng.pick([digits, groups.join(' '), groups.join('-')]);
}

function ipv4(rng: Rng): string {
  return `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function ipv6(rng: Rng): string {
  const group = (): string => rng.chars(rng.int(1, 4), HEX).replace(/^0+(?=.)/, '');
  const groups = Array.from({ length: 8 }, group);
  const form = rng.int(0, 3);
  if (form === 0) return groups.join(':');
  if (form === 1) return `${groups.slice(0, 3).join(':')}::${groups.slice(5).join(':')}`;
  if (form === 2) return `2001:db8::${group()}:${group()}`;
  return `fe80::${groups.slice(4).join(':')}`.toUpperCase();
}

function jwt(rng: Rng): string {
  const header = Buffer.from(JSON.stringify({ alg: rng.pick(['HS256', 'RS256']), typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: rng.digits(10), iat: 1710000000 + rng.int(0, 1e6), name: rng.pick(FIRST) })).toString('base64url');
  return `${header}.${payload}.${rng.chars(43, B64URL)}`;
}

function apiKey(rng: Rng): string {
  return rng.pick([
    () => `sk_test_${rng.chars(24, ALNUM)}`,
    () => `pk_test_${rng.chars(24, ALNUM)}`,
    () => `ghp_${rng.chars(36, ALNUM)}`,
    () => `AKIA${rng.chars(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    () => `AIza${rng.chars(35, `${ALNUM}_-`)}`,
    () => `xoxb-${rng.digits(11)}-${rng.chars(24, ALNUM)}`,
    () => `glpat-${rng.chars(20, `${ALNUM}_-`)}`,
  ])();
}

function url(rng: Rng, query: string): string {
  return `https://${rng.pick(['app.example.com', 'www.example.org', 'shop.example.net'])}/${rng.pick(['settings', 'checkout', 'reset', 'invite', 'login/callback'])}${query}`;
}

function positives(rng: Rng): CorpusItem[] {
  const items: CorpusItem[] = [];
  const add = (family: string, text: string, labels: Label[]): void => void items.push({ family, text, labels });
  for (let i = 0; i < 160; i++) {
    const e = email(rng);
    for (const t of contexts(rng, e)) add('email/text', t, [{ kind: 'email', value: e }]);
    add('email/mailto', `mailto:${e}`, [{ kind: 'email', value: e }]);
    add('email/quoted', `to: "${e.toUpperCase()}", cc: none`, [{ kind: 'email', value: e.toUpperCase() }]);
    const encoded = e.replace('@', '%40');
    add('email/url-encoded', url(rng, `?ref=nav&u=${encoded}`), [{ kind: 'email', value: encoded }]);
    add('email/param', url(rng, `?ref=nav&${rng.pick(['email', 'user_email', 'Email', 'e-mail'])}=${encoded}&step=2`), [{ kind: 'email', value: encoded }]);
  }
  for (let i = 0; i < 150; i++) {
    const p = phone(rng);
    for (const t of contexts(rng, p)) add('phone/text', t, [{ kind: 'phone', value: p }]);
    const n = nanp(rng);
    add('phone/tel', `<a href="tel:${n.area}${n.exchange}${n.line}">call</a>`, [{ kind: 'phone', value: `${n.area}${n.exchange}${n.line}` }]);
    add('phone/param', url(rng, `?phone=${n.area}${n.exchange}${n.line}`), [{ kind: 'phone', value: `${n.area}${n.exchange}${n.line}` }]);
  }
  for (let i = 0; i < 150; i++) {
    const c = card(rng);
    for (const t of contexts(rng, c)) add('card/text', t, [{ kind: 'card', value: c }]);
    if (!/[ -]/.test(c)) add('card/url', `https://shop.example.com/cards/${c}/edit?ref=pay`, [{ kind: 'card', value: c }]);
  }
  for (let i = 0; i < 200; i++) {
    const v4 = ipv4(rng);
    const v6 = ipv6(rng);
    for (const t of contexts(rng, v4).slice(0, 4)) add('ip/v4', t, [{ kind: 'ip', value: v4 }]);
    add('ip/v4-header', `X-Forwarded-For: ${v4}, 10.0.0.0`, [{ kind: 'ip', value: v4 }]);
    add('ip/v4-port', `upstream ${v4}:${rng.int(1024, 65535)} timed out`, [{ kind: 'ip', value: v4 }]);
    add('ip/v6-url', `http://[${v6}]:8080/health`, [{ kind: 'ip', value: v6 }]);
    for (const t of contexts(rng, v6).slice(0, 3)) add('ip/v6', t, [{ kind: 'ip', value: v6 }]);
  }
  for (let i = 0; i < 150; i++) {
    const j = jwt(rng);
    add('token/jwt', j, [{ kind: 'token', value: j }]);
    add('token/jwt-url', url(rng, `#id_token=${j}&state=${rng.chars(8, ALNUM)}`), [{ kind: 'token', value: j }]);
    const t = rng.chars(rng.int(20, 40), `${ALNUM}-_`);
    const name = rng.pick(['token', 'access_token', 'refresh_token', 'api_key', 'apikey', 'auth', 'session_id', 'sig', 'X-Amz-Signature', 'reset_token']);
    add('token/param', url(rng, `?${name}=${t}&lang=en`), [{ kind: 'token', value: t }]);
    const b = rng.chars(32, `${ALNUM}._-`);
    add('token/bearer', `Authorization: Bearer ${b}`, [{ kind: 'token', value: b }]);
    const k = apiKey(rng);
    add('token/api-key', `key ${k} rotated`, [{ kind: 'token', value: k }]);
  }
  for (let i = 0; i < 150; i++) {
    const pw = rng.chars(rng.int(6, 16), `${ALNUM}!$*`);
    const name = rng.pick(['password', 'pwd', 'passwd', 'client_secret', 'new_password']);
    add('secret/param', url(rng, `?user=${rng.pick(FIRST)}&${name}=${pw}`), [{ kind: 'secret', value: pw }]);
    const user = rng.pick(FIRST);
    add('secret/userinfo', `https://${user}:${pw}@${rng.pick(['db.example.com', 'ftp.example.org'])}/path`, [{ kind: 'secret', value: `${user}:${pw}@` }]);
  }
  // Several kinds in one text.
  for (let i = 0; i < 150; i++) {
    const e = email(rng);
    const v4 = ipv4(rng);
    const p = phone(rng);
    add('mixed', `user ${e} from ${v4}, phone ${p}.`, [
      { kind: 'email', value: e },
      { kind: 'ip', value: v4 },
      { kind: 'phone', value: p },
    ]);
  }
  return items;
}

function negatives(rng: Rng): CorpusItem[] {
  const items: CorpusItem[] = [];
  const add = (family: string, value: string): void => {
    for (const text of [value, `value ${value} here`, url(rng, `?v=${encodeURIComponent(value)}`)]) items.push({ family, text, labels: [] });
  };
  const uuid = (): string => `${rng.chars(8, HEX)}-${rng.chars(4, HEX)}-4${rng.chars(3, HEX)}-${rng.pick(['8', '9', 'a', 'b'])}${rng.chars(3, HEX)}-${rng.chars(12, HEX)}`;
  const date = (): { y: number; m: string; d: string } => ({ y: rng.int(2015, 2026), m: String(rng.int(1, 12)).padStart(2, '0'), d: String(rng.int(1, 28)).padStart(2, '0') });
  for (let i = 0; i < 60; i++) {
    add('version', `${rng.int(0, 20)}.${rng.int(0, 40)}.${rng.int(0, 99)}`);
    add('version', `v${rng.int(0, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}.${rng.int(0, 999)}`);
    add('version', `${rng.int(1, 3)}.${rng.int(0, 9)}.${rng.int(0, 9)}-${rng.pick(['beta', 'rc', 'alpha'])}.${rng.int(1, 9)}`);
    add('version', `Chrome/${rng.int(100, 130)}.0.${rng.int(5000, 6999)}.${rng.int(0, 200)}`);
    add('version', `10.0.${rng.int(19041, 22631)}.${rng.int(1000, 4000)}`);
    add('version', `${rng.int(1, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}.${rng.int(1000, 99999)}`);
    // Ambiguous on purpose: a four-part version with small parts is also a valid IPv4 address.
    if (i % 3 === 0) add('version-ambiguous', `${rng.int(1, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}.${rng.int(1, 300)}`);
    add('order-id', `ORD-${rng.int(2019, 2026)}-${rng.digits(6)}`);
    add('order-id', `#${rng.digits(rng.int(5, 9))}`);
    add('order-id', `${rng.int(1, 9)}${rng.digits(rng.int(7, 11))}`);
    add('order-id', `INV-${rng.digits(4)}-${rng.digits(4)}`);
    add('order-id', `SKU-${rng.digits(4)}-${rng.pick(['XL', 'M', 'S'])}`);
    // Random 16-digit ids: some carry a card prefix and pass Luhn by chance (about 1 in 10 of those).
    add('order-id-16', `${rng.int(1, 9)}${rng.digits(15)}`);
    const d = date();
    add('date', `${d.y}-${d.m}-${d.d}`);
    add('date', `${d.d}/${d.m}/${d.y}`);
    add('date', `${d.d}.${d.m}.${d.y}`);
    add('date', `${d.y}${d.m}${d.d}`);
    add('date', `${d.y}-${d.m}-${d.d}T${String(rng.int(0, 23)).padStart(2, '0')}:${rng.int(10, 59)}:${rng.int(10, 59)}Z`);
    add('date', `${d.y}-${d.m}-${d.d} ${rng.int(10, 23)}:${rng.int(10, 59)}:${rng.int(10, 59)}.${rng.digits(3)}+01:00`);
    add('price', `$${rng.int(1, 9)},${rng.digits(3)}.${rng.digits(2)}`);
    add('price', `€${rng.int(1, 999)}.${rng.digits(2)}`);
    add('price', `${rng.int(1, 9)} ${rng.digits(3)},${rng.digits(2)} kr`);
    add('price', `USD ${rng.int(1, 99999)}.${rng.digits(2)}`);
    add('uuid', uuid());
    add('uuid', `{${uuid().toUpperCase()}}`);
    add('timestamp', `${rng.int(1500000000, 1800000000)}`);
    add('timestamp', `${rng.int(1500000000, 1800000000)}${rng.digits(3)}`);
    add('timestamp', `1${rng.digits(15)}`);
    add('timestamp', `${rng.int(1500000000, 1800000000)}.${rng.digits(6)}`);
    add('hex-colour', `#${rng.chars(6, HEX)}`);
    add('hex-colour', `#${rng.chars(3, 'ABCDEF0123456789')}`);
    add('coordinates', `${rng.int(-89, 89)}.${rng.digits(4)}, ${rng.int(-179, 179)}.${rng.digits(4)}`);
    add('coordinates', `lat=${rng.int(-89, 89)}.${rng.digits(5)}&lng=${rng.int(-179, 179)}.${rng.digits(5)}`);
    add('time', `${rng.int(10, 23)}:${rng.int(10, 59)}:${rng.int(10, 59)}`);
    add('time', `${rng.int(0, 9)}:${rng.int(10, 59)}:${rng.int(10, 59)}.${rng.digits(3)}`);
    add('mac-address', Array.from({ length: 6 }, () => rng.chars(2, 'ABCDEF0123456789')).join(':'));
    add('hash', rng.chars(40, HEX));
    add('isbn', `978-${rng.int(0, 9)}-${rng.digits(2)}-${rng.digits(6)}-${rng.int(0, 9)}`);
    add('asset', `${rng.pick(['logo', 'hero', 'icon'])}@${rng.int(2, 3)}x.png`);
    add('handle', `@${rng.pick(FIRST)}${rng.int(1, 99)}`);
    add('package', `@scope/${rng.pick(LAST)}@${rng.int(1, 9)}.${rng.int(0, 9)}.${rng.int(0, 9)}`);
    add('css', `div.card:nth-child(${rng.int(1, 9)}) > a#item-${rng.digits(4)}`);
    add('url', url(rng, `?utm_source=google&utm_medium=${rng.pick(['email', 'cpc'])}&utm_campaign=spring_${rng.digits(2)}`));
    add('url', `http://localhost:${rng.int(3000, 9000)}/projects/${rng.digits(6)}`);
    add('url', url(rng, `?tokens=${rng.int(1, 99)}&page=${rng.int(1, 9)}`));
    add('plain', `${rng.int(1, 99)} items, ${rng.int(1, 99)}% off, qty ${rng.int(1, 9)}`);
  }
  // UUIDs whose middle groups are all digits, one starting with 0 or 00 (random UUIDs: about 1 in 2,000), glued to
  // words and prefixes as ids are: look like national and 00-prefixed phone numbers when read a group at a time.
  for (let i = 0; i < 60; i++) {
    const second = rng.pick([`0${rng.int(1, 9)}${rng.digits(2)}`, `00${rng.int(1, 9)}${rng.digits(1)}`]);
    const id = `${rng.chars(8, HEX)}-${second}-${rng.digits(4)}-${rng.digits(4)}-${rng.chars(12, HEX)}`;
    add('uuid-digits', id);
    add('uuid-digits', `insert_id:${id}`);
    add('uuid-digits', `user_${id.toUpperCase()}`);
  }
  return items;
}

/** The corpus: positives of every kind and look-alike negatives (about 6,000 each). */
export function buildCorpus(seed = 20240310): { positives: CorpusItem[]; negatives: CorpusItem[] } {
  const rng = new Rng(seed);
  return { positives: positives(rng), negatives: negatives(rng) };
}
