/**
 * The regular expressions behind the scanners, written once for both engines: the TypeScript scanner compiles
 * them with JavaScript's RegExp (flag `u`), the SQL masker hands the same text to DuckDB's RE2. Both use
 * leftmost-first matching, so every pattern here sticks to their common subset: no lookaround, no backreferences,
 * ASCII classes only (`\b`, `\d` are ASCII in both; `\s` is not, so spaces are spelt out).
 * docs/governance.md lists each rule in words.
 */

/**
 * A URL parameter value: up to `&`, `#`, a space, a quote or a backslash (which never belong to one) or U+001E,
 * the separator the SQL masker puts between the texts of one row (no pattern may match across it). A value that
 * starts with "[" is a mask already (`email=[email]`), so masked text scans clean.
 */
const PARAM_VALUE = String.raw`[^&#"'<>\\ \t\r\n\x1e[][^&#"'<>\\ \t\r\n\x1e]*`;

function paramPattern(names: string): string {
  return String.raw`\b((?:${names})=)${PARAM_VALUE}`;
}

/** Query / fragment parameters whose value is personal data or a credential, by parameter name. */
const PARAM_NAMES = {
  email: String.raw`[a-z0-9_-]*e-?mail(?:_?address)?`,
  phone: String.raw`[a-z0-9_-]*phone(?:_?number)?|mobile|tel|telephone|msisdn`,
  token: String.raw`[a-z0-9_-]*token|api[_-]?key|access[_-]?key|auth|session_?id|sessionid|sid|jsessionid|phpsessid|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature|x-goog-credential`,
  secret: String.raw`[a-z0-9_-]*password|passwd|pwd|passcode|[a-z0-9_-]*secret`,
} as const;

/** A UUID in its canonical 8-4-4-4-12 hex form. */
const UUID = String.raw`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`;

/** `00` + country code, then separated groups: the 00-prefixed phone form itself, also its gate. */
const PHONE_00 = String.raw`\b00[1-9][0-9]{0,3}(?:[ .-](?:\([0-9]{1,5}\)|[0-9]{1,6})){2,8}`;

export const PATTERNS = {
  paramEmail: paramPattern(PARAM_NAMES.email),
  paramPhone: paramPattern(PARAM_NAMES.phone),
  paramToken: paramPattern(PARAM_NAMES.token),
  paramSecret: paramPattern(PARAM_NAMES.secret),
  /** scheme://user:password@ — the user and password are replaced, the scheme and host stay. */
  userinfo: String.raw`\b([a-z][a-z0-9+.-]*://)[^/?#@"'<>\\ \t\r\n\x1e]+:[^/?#@"'<>\\ \t\r\n\x1e]*@`,
  /** A JSON Web Token: base64url header and payload that both start with `{"` (eyJ), then the signature. */
  jwt: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`,
  bearer: String.raw`\b(bearer[ ]+)[A-Za-z0-9._~+/-]{16,}=*`,
  /** Credentials with a documented, unmistakable prefix (Stripe, GitHub, Slack, AWS, Google, OpenAI, GitLab, npm). */
  apiKey: String.raw`\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|sk-[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36})`,
  /**
   * local@domain (or local%40domain, URL-encoded). A domain label made of digits and an "x" (logo@2x.png, the
   * retina image convention) is not a domain, so asset names are not e-mail addresses.
   */
  email: String.raw`[A-Za-z0-9._%+-]+(?:@|%40)(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:[A-WYZa-wyz-][A-Za-z0-9-]*|[Xx][A-Za-z0-9-]+)?)(?:\.(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:[A-WYZa-wyz-][A-Za-z0-9-]*|[Xx][A-Za-z0-9-]+)?))*\.[A-Za-z]{2,24}`,
  /** Card-number candidates: 13-19 digits, plain or in the printed groupings; validated by prefix, length and Luhn. */
  card: String.raw`\b(?:[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{3}|[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}|[0-9]{13,19})\b`,
  /** A run of hex groups and colons starting at a word boundary; validated as an IPv6 address. */
  ipv6: String.raw`\b[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]*){2,}`,
  /**
   * A run of at least four dot-separated numbers with a non-zero part after the second dot; validated as exactly
   * four octets. (A network address such as 10.1.2.0 — what truncate writes — is not even a candidate, so masked
   * data does not send every row down the validating path again.)
   */
  ipv4: String.raw`\b[0-9]+(?:\.[0-9]+){2,}\.[0-9]*[1-9][0-9]*(?:\.[0-9]+)*\b`,
  phoneTel: String.raw`\b(tel:)[+]?[0-9][0-9().-]{5,24}`,
  phoneIntl: String.raw`\+[1-9][0-9]{0,3}(?:[ .-]?(?:\([0-9]{1,5}\)|[0-9]{1,6})){1,8}`,
  /**
   * The two dash-separated phone forms also match a whole UUID (first, wherever it stands), which their validators
   * reject: scanning resumes after a rejected candidate, so the digit-only groups inside a UUID
   * ("61995373-0129-0499-0791-…") are never taken for a phone number. Without it about one random UUID in 2,000 lost
   * a fragment to "[phone]" (and an event id holding one was hashed, or stopped an import without a hash key).
   */
  phone00: `${UUID}|${PHONE_00}`,
  phoneNanp: String.raw`(?:\b1[ .-]?)?(?:\([2-9][0-9]{2}\)[ ]?|\b[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}\b`,
  /** Trunk-0 national numbers in groups, one separator throughout (so "01-02-2024 12" is not one number). */
  phoneNational: String.raw`${UUID}|\b0[1-9][0-9]{0,4}(?:(?: [0-9]{2,8}){1,4}|(?:-[0-9]{2,8}){1,4}|(?:\.[0-9]{2,8}){1,4})\b`,
  phoneNationalParen: String.raw`\(0[1-9][0-9]{0,4}\)[ ]?[0-9]{2,8}(?:[ -][0-9]{2,8}){0,3}\b`,
} as const;

/** An IPv4 octet, 0-255 without leading zeros. */
const OCTET = String.raw`(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])`;

/** Validators' full-match patterns (anchored by the caller). */
export const VALID = {
  /** Payment card numbers by issuer prefix and length (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro, Mir). */
  cardBrand: String.raw`4[0-9]{12}(?:[0-9]{3}){0,2}|(?:5[1-5][0-9]{2}|222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11,16}|6(?:011|5[0-9]{2}|4[4-9][0-9])[0-9]{12,15}|35(?:2[89]|[3-8][0-9])[0-9]{12,15}|62[0-9]{14,17}|(?:50|5[6-8])[0-9]{11,17}|220[0-4][0-9]{12,15}`,
  /** A host address: four octets without leading zeros, the last one not 0 (a /24 network, as truncate writes). */
  ipv4Host: String.raw`(?:${OCTET}\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]?)`,
  ipv4Any: String.raw`(?:${OCTET}\.){3}${OCTET}`,
  /** Every textual IPv6 form without an embedded IPv4 tail (RFC 4291 2.2 forms 1 and 2). */
  ipv6Any: [
    String.raw`(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,7}:`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,5}(?::[0-9A-Fa-f]{1,4}){1,2}`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,4}(?::[0-9A-Fa-f]{1,4}){1,3}`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,3}(?::[0-9A-Fa-f]{1,4}){1,4}`,
    String.raw`(?:[0-9A-Fa-f]{1,4}:){1,2}(?::[0-9A-Fa-f]{1,4}){1,5}`,
    String.raw`[0-9A-Fa-f]{1,4}:(?::[0-9A-Fa-f]{1,4}){1,6}`,
    String.raw`:(?::[0-9A-Fa-f]{1,4}){1,7}`,
    String.raw`::`,
  ].join('|'),
  /** A /48 (or wider) network as truncate writes it: at most three groups, then "::". Not a host. */
  ipv6Network: String.raw`(?:[0-9A-Fa-f]{1,4}:){1,3}:`,
  /**
   * A member value (its JSON text) that truncate leaves exactly as it is (pii-ip.ts truncateIp): null, an IPv4 /24
   * network (last octet 0), or an IPv6 /48 one as truncate writes it (lower case, no leading zeros, trailing zero
   * groups folded into "::"). Files usagelab masked hold only these.
   */
  truncatedValue: String.raw`null|"(?:(?:${OCTET}\.){3}0|::|(?:(?:0|[1-9a-f][0-9a-f]{0,3}):){0,2}[1-9a-f][0-9a-f]{0,3}::)"`,
  uuid: UUID,
} as const;

/**
 * Gates: for a detector with a validator, a pattern that matches wherever a finding the validator accepts starts —
 * a necessary condition, so a text the gate does not match cannot change, and the far costlier pattern, split and
 * validation are skipped. They matter because the raw patterns match common harmless text: epoch-millisecond
 * timestamps are 13-digit runs (card), clock times are colon runs (IPv6), four-part browser versions are dotted
 * runs (IPv4), dates are short zero-led runs (national phone numbers).
 */
export const GATES = {
  /** Every card brand starts with 2-6 (VALID.cardBrand); the groupings and lengths are the card pattern's. */
  card: String.raw`\b(?:[2-6][0-9]{3}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{3}|[2-6][0-9]{3}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}|[2-6][0-9]{3}[ -][0-9]{6}[ -][0-9]{4,5}|[2-6][0-9]{12,18})\b`,
  /** A validated IPv6 candidate is a whole textual address (VALID.ipv6Any): at least one "::" or seven colons. */
  ipv6: String.raw`\b(?:${VALID.ipv6Any})`,
  /** A validated IPv4 candidate is exactly four octets (VALID.ipv4Host) between word boundaries. */
  ipv4: String.raw`\b${VALID.ipv4Host}\b`,
  /** A validated national number has 9-12 digits and a separator: at least ten characters of digits and separators. */
  phoneNational: String.raw`\b0[1-9][0-9 .-]{8,}`,
  /** The 00-prefixed form without the UUID alternative (a UUID is never a finding). */
  phone00: PHONE_00,
} as const;

/** JSON text, tokenised so that masking can never break it: strings whole, everything between them as one token. */
export const JSON_TOKENS = {
  string: String.raw`"(?:[^"\\]|\\.)*"`,
  between: String.raw`[^"]+`,
  /** A JSON number, whole (so a card check never sees part of one). */
  number: String.raw`-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`,
  whitespace: String.raw`[ \t\r\n]*`,
  literal: String.raw`-?[0-9][0-9.eE+-]*|true|false|null`,
} as const;

/**
 * An object or array nested at most `depth` levels, strings included. Member rules act on a whole value only when
 * it is at most this deep (docs/governance.md).
 */
function jsonContainer(depth: number): string {
  let inner = `[^{}\\[\\]"]|${JSON_TOKENS.string}`;
  let c = '';
  for (let d = 1; d <= depth; d++) {
    c = `[{\\[](?:${inner})*[}\\]]`;
    inner = `[^{}\\[\\]"]|${JSON_TOKENS.string}|${c}`;
  }
  return c;
}

const MEMBER_CONTAINER_DEPTH = 4;

/**
 * A member the rules name: the `{` or `,` before it (a key always follows one, so the pattern can never start
 * inside a string), the key, the colon, and the value — a string, a literal, or a container nested at most
 * MEMBER_CONTAINER_DEPTH levels. No capturing groups: RE2 finds matches several times faster without them;
 * MEMBER_HEAD then splits one match into its parts.
 */
export function memberPattern(keyAlternation: string): string {
  const ws = JSON_TOKENS.whitespace;
  return `[{,]${ws}"(?:${keyAlternation})"${ws}:${ws}(?:${JSON_TOKENS.string}|${JSON_TOKENS.literal}|${jsonContainer(MEMBER_CONTAINER_DEPTH)})`;
}

/** Of a member match: group 1 the brace or comma with its spaces, group 2 the key, group 3 the colon with its spaces. */
export const MEMBER_HEAD = `^([{,]${JSON_TOKENS.whitespace})(${JSON_TOKENS.string})(${JSON_TOKENS.whitespace}:${JSON_TOKENS.whitespace})`;

/** The start of such a member: a cheap test for whether a document may hold one. */
export function memberStartPattern(keyAlternation: string): string {
  const ws = JSON_TOKENS.whitespace;
  return `[{,]${ws}"(?:${keyAlternation})"${ws}:`;
}

/** The keys `rules` name, as one alternation of their glob patterns. */
export function ruleKeysPattern(rules: readonly { readonly glob: string }[]): string {
  return rules.map((r) => globPattern(r.glob)).join('|');
}

/** A member-name glob (`*` = any characters) as a case-insensitive pattern over the raw JSON key text. */
export function globPattern(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += String.raw`[^"\\]*`;
    else if (/[A-Za-z]/.test(ch)) out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    else if (/[0-9_]/.test(ch)) out += ch;
    else out += escapeChar(ch);
  }
  return out;
}

/** One literal character of a key as it is written inside a JSON string (quotes and backslashes escaped). */
function escapeChar(ch: string): string {
  if (ch === '"') return String.raw`\\"`;
  if (ch === '\\') return String.raw`\\\\`;
  return /[\^$.|?*+()[\]{}/]/.test(ch) ? `\\${ch}` : ch;
}
