/**
 * The SQL form of the masker, for DuckDB: the same detectors in the same order (pii-scanners.ts), the same JSON
 * member rules (pii-json.ts), the same hash and truncation. Masking in SQL keeps an import inside DuckDB; the
 * corpus and unit tests check that both forms give the same output.
 *
 * Three facts about DuckDB shape this file. A regular expression inside a lambda is compiled again each time the
 * lambda runs; an expression that mentions its input twice is copied, so a chain of twenty detectors written as one
 * nested expression is either slow or exponentially large; and binding a statement compiles every pattern in it, so
 * the statement must stay small. So the texts a row has to scan are joined into one text (separated by U+001E,
 * which no pattern matches), and that text is masked in layers — one projection per detector, each pattern compiled
 * once — behind a gate (one RE2 search for the union of all patterns): a row holding nothing costs one search.
 * Lambdas are left for what needs them: validating a candidate, and the members JSON rules name.
 *
 * JSON documents are scanned as whole texts. Without backslashes that is exact: no built-in pattern matches a
 * quote, so a match never spans two strings, and none matches JSON punctuation or a number (except a card number,
 * which gets a quote-aware pass). The rare document that whole-text scanning cannot mask exactly — one with escapes,
 * or under custom patterns, or holding a member kept or hashed-if-PII by a rule — is masked by pii-json.ts in
 * TypeScript beforehand (pii-warehouse-masking.ts) and looked up here by its text.
 */
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { JSON_TOKENS, MEMBER_HEAD, VALID, memberStartPattern, ruleKeysPattern } from './pii-patterns.js';
import type { Detector, Scanners } from './pii-scanners.js';
import { groupRules, rulesMemberPattern } from './pii-json.js';
import type { JsonColumn, MemberRule, PiiAction, PiiPolicy } from './pii-policy.js';
import { jsonNumberCardValidator, type SqlNames, type Validator } from './pii-validators.js';
import { HASHED_PATTERN } from './pii-hash.js';

/** DuckDB session variables holding the HMAC pads (set with bound parameters; see pii-warehouse-masking.ts). */
export const KEY_VARIABLES = { inner: 'ul_pii_hmac_inner', outer: 'ul_pii_hmac_outer' } as const;

/** Raised in SQL when a value is to be hashed and no hash key is set (the preflight check names the column first). */
const KEY_MISSING_SQL_ERROR = 'usagelab pii_key_missing: a value is to be hashed and no hash key is set';

/** Raised if a document flagged for TypeScript masking was not prepared (a bug: never write it unmasked). */
export const EXACT_MISSING_SQL_ERROR = 'usagelab pii_exact_missing: a JSON document was not masked';

type ReplaceSpec = Pick<Detector, 'pattern' | 'ignoreCase' | 'keepsPrefix' | 'mask'> & { readonly validator?: Validator | undefined };

const JSON_NUMBER_CARD: ReplaceSpec = { pattern: JSON_TOKENS.number, ignoreCase: false, keepsPrefix: false, mask: '"[card]"', validator: jsonNumberCardValidator };

/** A digit run that could be an unseparated card number (every card scheme starts with 2-6). */
const CARD_RUN = '[2-6][0-9]{12}';

/** Expression builders over one policy's scanners. */
export class SqlMasker implements SqlNames {
  private counter = 0;
  /** Union of every detector's pattern; undefined without detectors. */
  readonly textGate: string | undefined;
  readonly hasCustom: boolean;

  constructor(
    readonly scanners: Scanners,
    /** Hashing is available (the HMAC pads are set in the session). */
    private readonly hashing: boolean,
  ) {
    const parts = scanners.detectors.map((d) => (d.ignoreCase ? `(?i:${d.gate ?? d.pattern})` : `(?:${d.gate ?? d.pattern})`));
    this.textGate = parts.length === 0 ? undefined : parts.join('|');
    this.hasCustom = scanners.detectors.some((d) => d.id.startsWith('custom:'));
  }

  fresh(prefix: string): string {
    this.counter++;
    return `_${prefix}${this.counter}`;
  }

  /** `body(v)` with v naming `expr`, evaluated once. */
  bind(expr: string, body: (v: string) => string): string {
    const v = this.fresh('b');
    return `list_transform([${expr}], ${v} -> ${body(v)})[1]`;
  }

  gate(x: string): string {
    return this.textGate === undefined ? 'false' : `regexp_matches(${x}, ${quoteLiteral(this.textGate)})`;
  }

  private keepCheck(value: string): string {
    const keep = this.scanners.keep;
    return keep.length === 0 ? 'true' : `NOT regexp_full_match(${value}, ${quoteLiteral(keep.map((k) => `(?:${k})`).join('|'))})`;
  }

  /**
   * One detector over `x` (a column or lambda variable: it is repeated). A plain replace when every match is masked;
   * with a validator or a keep list, the text is split into matches and the text between them, zipped, and each
   * match replaced or kept (pii-scanners scanText does the same).
   */
  replace(d: ReplaceSpec, x: string): string {
    const pattern = quoteLiteral(d.pattern);
    const opt = d.ignoreCase ? ", 'i'" : '';
    if (d.validator === undefined && this.scanners.keep.length === 0) {
      return `regexp_replace(${x}, ${pattern}, ${quoteLiteral(`${d.keepsPrefix ? '\\1' : ''}${d.mask}`)}, '${d.ignoreCase ? 'gi' : 'g'}')`;
    }
    // The zipped pair is the lambda's only input: a lambda that captures outer values runs row by row.
    const z = this.fresh('z');
    const m = `${z}[2]`;
    const prefix = d.keepsPrefix ? `regexp_extract(${m}, ${pattern}, 1${opt})` : `''`;
    const value = d.keepsPrefix ? `substr(${m}, length(${prefix}) + 1)` : m;
    const check = `${d.validator === undefined ? 'true' : d.validator.sql(value, this)} AND ${this.keepCheck(value)}`;
    return `CASE WHEN regexp_matches(${x}, ${pattern}${opt}) THEN array_to_string(list_transform(
      list_zip(regexp_split_to_array(${x}, ${pattern}${opt}), regexp_extract_all(${x}, ${pattern}, 0${opt})),
      ${z} -> ${z}[1] || CASE WHEN ${m} IS NULL THEN '' WHEN ${check} THEN ${prefix} || ${quoteLiteral(d.mask)} ELSE ${m} END), '')
      ELSE ${x} END`;
  }

  /**
   * Whether any match of the detector's pattern in `x` passes its validator: a necessary condition for masking to
   * change `x` (the split masking of cardsAround finds no match the whole-text pattern does not, since no match
   * holds a quote or the separator; a JSON number it masks is such a match too).
   */
  anyValid(d: Detector, x: string): string {
    if (d.validator === undefined) return `regexp_matches(${x}, ${quoteLiteral(d.pattern)})`;
    const c = this.fresh('c');
    return `coalesce(list_bool_or(list_transform(regexp_extract_all(${x}, ${quoteLiteral(d.pattern)}, 0), ${c} -> ${d.validator.sql(c, this)})), false)`;
  }

  /**
   * The card detector over a JSON text without backslashes: split at the quotes, string contents (even parts) get
   * the text detector, the text between strings (odd parts) the JSON-number rule, so a card number written as a
   * number becomes the string "[card]" and the document stays valid.
   */
  jsonCards(d: Detector, x: string): string {
    const part = this.fresh('s');
    const i = this.fresh('i');
    return `CASE WHEN regexp_matches(${x}, '${CARD_RUN}') THEN array_to_string(list_transform(string_split(${x}, '"'), (${part}, ${i}) ->
      CASE WHEN ${i} % 2 = 1 THEN (CASE WHEN regexp_matches(${part}, '[0-9]{13}') THEN ${this.replace(JSON_NUMBER_CARD, part)} ELSE ${part} END)
      ELSE ${this.replace(d, part)} END), '"') ELSE ${this.replace(d, x)} END`;
  }

  /**
   * The card detector over a row's joined texts when a JSON document among them (at 1-based positions `jsonAt`)
   * holds a digit run that could be a card number: each text apart, JSON documents quote-aware.
   */
  cardsAround(d: Detector, x: string, jsonAt: readonly number[], count: number): string {
    const part = this.fresh('r');
    const i = this.fresh('i');
    const isJson = count === 1 ? 'true' : `${i} IN (${jsonAt.join(', ')})`;
    return `CASE WHEN regexp_matches(${x}, '${CARD_RUN}') THEN array_to_string(list_transform(string_split(${x}, chr(30)), (${part}, ${i}) ->
      CASE WHEN ${isJson} THEN ${this.jsonCards(d, part)} ELSE ${this.replace(d, part)} END), chr(30)) ELSE ${this.replace(d, x)} END`;
  }

  /**
   * HMAC-SHA256 of a VARCHAR as "h:" + 32 hex digits (pii-hash.ts), or an error when no key is set. A value that is
   * already a hash stays as it is (pii-hash.ts hashValue), with or without a key.
   */
  hash(x: string): string {
    const hashed = `regexp_full_match(${x}, ${quoteLiteral(HASHED_PATTERN)})`;
    if (!this.hashing) return `CASE WHEN ${hashed} THEN ${x} ELSE error(${quoteLiteral(KEY_MISSING_SQL_ERROR)}) END`;
    return `CASE WHEN ${hashed} THEN ${x} ELSE ('h:' || left(sha256(getvariable('${KEY_VARIABLES.outer}') || unhex(sha256(getvariable('${KEY_VARIABLES.inner}') || encode(${x})))), 32)) END`;
  }

  /** pii-ip.ts truncateIp. */
  truncate(x: string): string {
    const v6 = this.bind(`string_split(lower(${x}), '::')`, (h) => {
      const len = (half: string): string => `CASE WHEN ${half} = '' THEN 0 ELSE len(string_split(${half}, ':')) END`;
      const groups = (half: string): string => `CASE WHEN ${half} = '' THEN []::VARCHAR[] ELSE string_split(${half}, ':') END`;
      const z = this.fresh('z');
      const q = this.fresh('q');
      return this.bind(
        `CASE WHEN len(${h}) = 1 THEN string_split(${h}[1], ':')
          ELSE list_concat(${groups(`${h}[1]`)}, list_transform(range(8 - (${len(`${h}[1]`)}) - (${len(`${h}[2]`)})), ${z} -> '0'), ${groups(`${h}[2]`)}) END`,
        (g) =>
          this.bind(`list_transform(${g}[1:3], ${q} -> CASE WHEN ltrim(${q}, '0') = '' THEN '0' ELSE ltrim(${q}, '0') END)`, (p) =>
            `CASE WHEN ${p}[3] <> '0' THEN ${p}[1] || ':' || ${p}[2] || ':' || ${p}[3] || '::'
                  WHEN ${p}[2] <> '0' THEN ${p}[1] || ':' || ${p}[2] || '::'
                  WHEN ${p}[1] <> '0' THEN ${p}[1] || '::' ELSE '::' END`,
          ),
      );
    });
    return `CASE WHEN regexp_full_match(${x}, ${quoteLiteral(VALID.ipv4Any)}) THEN regexp_replace(${x}, '\\.[0-9]+$', '.0')
      WHEN regexp_full_match(${x}, ${quoteLiteral(VALID.ipv6Any)}) THEN ${v6} ELSE NULL END`;
  }

  /**
   * A member value (JSON text, no backslashes) under an action (pii-json.ts applyAction). `mask` leaves it as it is:
   * the layers that scan the whole document mask it.
   */
  private memberValue(action: PiiAction, v: string): string {
    const quoted = (x: string): string => `'"' || ${x} || '"'`;
    const kind = (str: string, container: string, literal: string): string =>
      `CASE left(${v}, 1) WHEN '"' THEN ${str} WHEN '{' THEN ${container} WHEN '[' THEN ${container} ELSE ${literal} END`;
    const content = `${v}[2:-2]`;
    switch (action) {
      case 'keep':
      case 'mask':
      case 'hash_if_pii': // documents with such members are masked in TypeScript; never reached
        return v;
      case 'drop':
        return `'null'`;
      case 'hash':
        return kind(quoted(this.hash(content)), `'null'`, `CASE WHEN ${v} = 'null' THEN 'null' ELSE ${quoted(this.hash(v))} END`);
      case 'truncate':
        return kind(this.bind(this.truncate(content), (r) => `CASE WHEN ${r} IS NULL THEN 'null' ELSE ${quoted(r)} END`), `'null'`, `'null'`);
    }
  }

  /**
   * The named members of a JSON text (pii-patterns memberPattern) under their rules: brace or comma, key and colon
   * as they were (the layers scan the key with the rest of the text), the value under the first matching rule.
   */
  members(text: string, rules: readonly MemberRule[]): string {
    const pattern = quoteLiteral(rulesMemberPattern(rules));
    const z = this.fresh('z');
    const p = this.fresh('p');
    const value = `substr(${p}.m, length(${p}.h.b || ${p}.h.k || ${p}.h.s) + 1)`;
    const cases = groupRules(rules)
      .map((g) => `WHEN regexp_full_match(${p}.h.k[2:-2], ${quoteLiteral(g.pattern)}) THEN ${this.memberValue(g.action, value)}`)
      .join('\n');
    // One small pattern splits a member into its head (brace or comma, key, colon) and its value.
    const member = `list_transform([struct_pack(h := regexp_extract(${z}[2], ${quoteLiteral(MEMBER_HEAD)}, ['b', 'k', 's']), m := ${z}[2])],
      ${p} -> ${p}.h.b || ${p}.h.k || ${p}.h.s || CASE ${cases} ELSE ${value} END)[1]`;
    return `array_to_string(list_transform(list_zip(regexp_split_to_array(${text}, ${pattern}), regexp_extract_all(${text}, ${pattern})),
      ${z} -> ${z}[1] || CASE WHEN ${z}[2] IS NULL THEN '' ELSE ${member} END), '')`;
  }
}

export interface MaskedColumn {
  /** The column of the relation. */
  readonly column: string;
  /** The events column whose rule applies (e.g. other_anonymous_id follows anonymous_id). */
  readonly as: string;
}

/** The separator between the texts of one row in the combined text the layers scan (no pattern matches it). */
const SEPARATOR = 'chr(30)';

/** A column whose text the scanners go through. */
export interface ScannedPart extends MaskedColumn {
  /** text: masked in place; copy: a masked copy decides whether to hash (hash_if_pii); json: a JSON document. */
  readonly kind: 'text' | 'copy' | 'json';
}

/** The columns a policy scans, in order. */
export function scannedParts(policy: PiiPolicy, columns: readonly MaskedColumn[]): ScannedPart[] {
  const parts: ScannedPart[] = [];
  for (const c of columns) {
    const action = policy.columns[c.as];
    if (c.as === 'properties' || c.as === 'user_properties') {
      if (action === 'mask' && !keepsEverything(policy.members[c.as])) parts.push({ ...c, kind: 'json' });
    } else if (action === 'mask') parts.push({ ...c, kind: 'text' });
    else if (action === 'hash_if_pii') parts.push({ ...c, kind: 'copy' });
  }
  return parts;
}

/** Whether the texts of a row are scanned as one (no custom patterns, which could match across the separator). */
export function combinesTexts(policy: PiiPolicy): boolean {
  return !policy.scanners.detectors.some((d) => d.id.startsWith('custom:'));
}

/**
 * The values SQL cannot mask exactly, which are masked in TypeScript beforehand (a SQL boolean over the column):
 * JSON documents (see the file comment), and texts holding the separator when texts are combined.
 */
export function exactConditionSql(policy: PiiPolicy, part: ScannedPart): string {
  const col = quoteIdent(part.column);
  if (part.kind === 'json') return `(${col} IS NOT NULL AND ${needsExactJsonSql(policy, part.as as JsonColumn, `CAST(${col} AS VARCHAR)`)})`;
  return combinesTexts(policy) ? `coalesce(contains(${col}, ${SEPARATOR}), false)` : 'false';
}

/** JSON documents whole-text masking cannot handle exactly (see the file comment); a SQL boolean over the text. */
export function needsExactJsonSql(policy: PiiPolicy, column: JsonColumn, text: string): string {
  const rules = policy.members[column];
  const conditions = [`contains(${text}, '\\')`];
  if (!combinesTexts(policy)) conditions.push('true');
  const special = rules.filter((r) => r.action === 'keep' || r.action === 'hash_if_pii');
  if (special.length > 0) conditions.push(`regexp_matches(${text}, ${quoteLiteral(memberStartPattern(ruleKeysPattern(special)))})`);
  return `(${conditions.join(' OR ')})`;
}

/** ` AND …`: the detector's gate (pii-scanners.ts `gate`), which a text it can change matches. */
function gateSql(d: Detector, text: string): string {
  return d.gate === undefined ? '' : ` AND regexp_matches(${text}, ${quoteLiteral(d.gate)}${d.ignoreCase ? ", 'i'" : ''})`;
}

/** ` AND (…)`: the detector's literals (pii-scanners.ts `needs`), at least one of which a text it matches holds. */
function needsSql(d: Detector, text: string): string {
  if (d.needs === undefined || d.needs.length === 0) return '';
  const haystack = d.ignoreCase ? `lower(${text})` : text;
  return ` AND (${d.needs.map((n) => `contains(${haystack}, ${quoteLiteral(d.ignoreCase ? n.toLowerCase() : n)})`).join(' OR ')})`;
}

/** A policy whose first rule for a JSON column keeps every member leaves the column as it is. */
function keepsEverything(rules: readonly MemberRule[]): boolean {
  return rules[0]?.glob === '*' && rules[0].action === 'keep';
}

/**
 * A subquery over `relation` with the given columns masked under the policy; every other column passes through.
 * `exact` names the table of values masked in TypeScript (col, doc, masked), required when any column is scanned.
 *
 * Layers: (0) flags per row; (1) values masked in TypeScript looked up, named JSON members replaced; (2) the scanned
 * texts of a row joined into one text (or one per column, with custom patterns), with a gate; (3) one projection per
 * detector; (4) the text split back, identifiers hashed where masking changed them.
 */
export function maskedRelationSql(policy: PiiPolicy, relation: string, columns: readonly MaskedColumn[], options: { hashing: boolean; exact?: string }): string {
  const m = new SqlMasker(policy.scanners, options.hashing);
  const finals: string[] = [];
  const helpers: string[] = [];
  for (const { column, as } of columns) {
    const action = policy.columns[as];
    const col = quoteIdent(column);
    const json = as === 'properties' || as === 'user_properties';
    if (action === 'drop') finals.push(`CAST(NULL AS ${json ? 'JSON' : 'VARCHAR'}) AS ${col}`);
    else if (action === 'hash') finals.push(`${m.hash(col)} AS ${col}`);
    else if (action === 'truncate') finals.push(`${m.truncate(col)} AS ${col}`);
  }
  const parts = scannedParts(policy, columns);
  if (parts.length === 0) {
    return finals.length === 0 ? `SELECT * FROM ${relation}` : `SELECT * REPLACE (${finals.join(', ')}) FROM ${relation}`;
  }
  if (options.exact === undefined) throw new Error('maskedRelationSql: scanned columns need the table of values masked in TypeScript');
  const combine = combinesTexts(policy);
  const f = (kind: string, column: string): string => {
    const name = quoteIdent(`_pii_${kind}_${column}`);
    if (!helpers.includes(name)) helpers.push(name);
    return name;
  };

  // (0) Flags.
  const layer0: string[] = [];
  const replace0: string[] = [];
  for (const p of parts) {
    const col = quoteIdent(p.column);
    layer0.push(`${exactConditionSql(policy, p)} AS ${f('x', p.column)}`);
    if (p.kind === 'json') {
      replace0.push(`CAST(${col} AS VARCHAR) AS ${col}`);
      const rules = policy.members[p.as as JsonColumn];
      const start = rules.length === 0 ? 'false' : `coalesce(regexp_matches(CAST(${col} AS VARCHAR), ${quoteLiteral(memberStartPattern(ruleKeysPattern(rules)))}), false)`;
      layer0.push(`${start} AS ${f('m', p.column)}`);
    }
  }
  let sql = `SELECT *${replace0.length === 0 ? '' : ` REPLACE (${replace0.join(', ')})`}, ${layer0.join(', ')} FROM ${relation}`;

  // (1) Values masked in TypeScript, by their text; named JSON members.
  const replace1: string[] = [];
  const copies: string[] = [];
  const joins: string[] = [];
  for (const [i, p] of parts.entries()) {
    const col = quoteIdent(p.column);
    const e = `e${i}`;
    // The flag goes inside the key: beside it, as a condition of its own, it turns the hash join into a nested loop.
    joins.push(`LEFT JOIN ${options.exact} ${e} ON ${e}.col = ${quoteLiteral(p.column)} AND ${e}.doc = CASE WHEN l.${f('x', p.column)} THEN l.${col} END`);
    const looked = `coalesce(${e}.masked, error(${quoteLiteral(EXACT_MISSING_SQL_ERROR)}))`;
    if (p.kind === 'copy') {
      copies.push(`CASE WHEN l.${f('x', p.column)} THEN ${looked} END AS ${f('c', p.column)}`);
    } else if (p.kind === 'text') {
      replace1.push(`CASE WHEN l.${f('x', p.column)} THEN ${looked} ELSE l.${col} END AS ${col}`);
    } else {
      const rules = policy.members[p.as as JsonColumn];
      const members = rules.length === 0 ? `l.${col}` : `CASE WHEN l.${f('m', p.column)} THEN ${m.members(`l.${col}`, rules)} ELSE l.${col} END`;
      replace1.push(`CASE WHEN l.${col} IS NULL THEN NULL WHEN l.${f('x', p.column)} THEN ${looked} ELSE ${members} END AS ${col}`);
    }
  }
  sql = `SELECT l.*${replace1.length === 0 ? '' : ` REPLACE (${replace1.join(', ')})`}${copies.length === 0 ? '' : `, ${copies.join(', ')}`}
    FROM (${sql}) l ${joins.join(' ')}`;

  // (2) The texts to scan, joined per row (or per column), and their gate.
  const groups: ScannedPart[][] = combine ? [parts] : parts.map((p) => [p]);
  const layer2: string[] = [];
  for (const [g, members] of groups.entries()) {
    const texts = members.map((p) => `CASE WHEN ${f('x', p.column)} THEN '' ELSE coalesce(CAST(${quoteIdent(p.column)} AS VARCHAR), '') END`);
    const text = texts.length === 1 ? texts[0]! : `concat_ws(${SEPARATOR}, ${texts.join(', ')})`;
    layer2.push(`${text} AS ${f('s', String(g))}`);
  }
  sql = `SELECT *, ${layer2.join(', ')} FROM (${sql})`;
  sql = `SELECT *, ${groups.map((_, g) => `${m.gate(f('s', String(g)))} AS ${f('g', String(g))}`).join(', ')} FROM (${sql})`;

  // (3) One projection per detector.
  for (const d of policy.scanners.detectors) {
    const exprs = groups.map((members, g) => {
      const s = f('s', String(g));
      const jsonAt = members.flatMap((p, i) => (p.kind === 'json' ? [i + 1] : []));
      if (d.id === 'card' && jsonAt.length > 0) {
        // Quote-aware masking splits the document; most documents with a long digit run hold no valid card number.
        return `CASE WHEN ${f('g', String(g))}${gateSql(d, s)} AND ${m.anyValid(d, s)} THEN ${m.cardsAround(d, s, jsonAt, members.length)} ELSE ${s} END AS ${s}`;
      }
      return `CASE WHEN ${f('g', String(g))}${needsSql(d, s)}${gateSql(d, s)} THEN ${m.replace(d, s)} ELSE ${s} END AS ${s}`;
    });
    sql = `SELECT * REPLACE (${exprs.join(', ')}) FROM (${sql})`;
  }

  // (4) Split back; hash identifiers the masker changed.
  sql = `SELECT * REPLACE (${groups.map((members, g) => `${members.length === 1 ? `[${f('s', String(g))}]` : `string_split(${f('s', String(g))}, ${SEPARATOR})`} AS ${f('s', String(g))}`).join(', ')}) FROM (${sql})`;
  for (const [g, members] of groups.entries()) {
    for (const [i, p] of members.entries()) {
      const col = quoteIdent(p.column);
      const scannedText = `${f('s', String(g))}[${i + 1}]`;
      if (p.kind === 'text') finals.push(`CASE WHEN ${col} IS NULL OR ${f('x', p.column)} THEN ${col} ELSE ${scannedText} END AS ${col}`);
      else if (p.kind === 'json') finals.push(`CASE WHEN ${col} IS NULL THEN NULL WHEN ${f('x', p.column)} THEN CAST(${col} AS JSON) ELSE CAST(${scannedText} AS JSON) END AS ${col}`);
      else {
        const maskedCopy = `CASE WHEN ${f('x', p.column)} THEN ${f('c', p.column)} ELSE ${scannedText} END`;
        finals.push(`CASE WHEN ${col} IS NULL THEN NULL WHEN ${maskedCopy} IS DISTINCT FROM ${col} THEN ${m.hash(col)} ELSE ${col} END AS ${col}`);
      }
    }
  }
  return `SELECT * EXCLUDE (${helpers.join(', ')}) REPLACE (${finals.join(', ')}) FROM (${sql})`;
}
