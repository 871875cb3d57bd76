/**
 * Masking for a bulk import, value by value instead of row by row. A column's values repeat (event names, URLs,
 * user and device ids), and nearly all of them hold nothing a scanner finds: so each column's distinct values are
 * tested once against the union of every pattern (the gate), only the few that pass are masked — by the same SQL
 * and TypeScript maskers as everywhere else (pii-sql.ts, pii-json.ts) — and the rows take their masked value from
 * that small table by a join. A column none of whose values needs masking is written as it is, with no join.
 *
 * Columns whose values are unique per row (the source's event id, JSON properties) are gated row by row first, then
 * deduplicated. A masked JSON document is also counted by what changed it, so the import can record how many values
 * of each kind it masked (import_pii_counts).
 */
import { UsageLabError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { maskOf, type FindingKind } from './pii-kinds.js';
import { PII_KEY_VARIABLE } from './pii-hash.js';
import { JSON_TOKENS, memberStartPattern, ruleKeysPattern, VALID } from './pii-patterns.js';
import type { JsonColumn, MemberRule, PiiPolicy } from './pii-policy.js';
import { combinesTexts, maskedRelationSql, scannedParts, SqlMasker, type MaskedColumn, type ScannedPart } from './pii-sql.js';

/** What value masking needs from its session and from WarehouseMasking (the TypeScript-masked values). */
export interface ValueMaskingHost {
  readonly policy: PiiPolicy;
  readonly hashing: boolean;
  run(sql: string): Promise<void>;
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** A table of values SQL cannot mask exactly, masked in TypeScript (pii-warehouse-masking.ts). */
  exactValues(relation: string, parts: readonly ScannedPart[], policy: PiiPolicy): Promise<string>;
  /** A fresh temp table name, dropped when masking closes. */
  tempTable(prefix: string): string;
}

/** How many values of one field an import masked, by kind. */
export interface PiiCount {
  readonly field: string;
  /**
   * A scanner kind (email, phone, card, ip, token, secret, custom:NAME): values found and replaced by their mask;
   * `hashed`: identifiers hashed because they held personal data, or by a `hash` rule; `dropped` / `truncated`:
   * values a column rule removed or shortened; `member_rule`: JSON documents a member rule (by name) changed.
   */
  readonly kind: string;
  readonly values: number;
}

/** Columns holding a different value on (nearly) every row: gating each row is cheaper than grouping them first. */
const ROW_UNIQUE = new Set(['source_event_id', 'properties', 'user_properties']);

interface MappedColumn {
  readonly column: string;
  readonly json: boolean;
  /** raw VARCHAR → masked VARCHAR, only values that change. */
  readonly map: string;
  /** raw → (kind, n): what masking found in each changed value. */
  readonly kinds: string;
}

type Plan =
  | { readonly kind: 'pass'; readonly column: string }
  | { readonly kind: 'row'; readonly column: string; readonly expr: (x: string) => string; readonly count: string }
  | ({ readonly kind: 'map' } & MappedColumn);

const isJsonColumn = (as: string): boolean => as === 'properties' || as === 'user_properties';

/** The masked values of a set of columns over one relation, and the SQL to read the rows through them. */
export class ValueMasks {
  constructor(private readonly plans: ReadonlyMap<string, Plan>) {}

  /** The masked value of `column` for the row alias `g` (the join aliases come from `joins`). */
  column(column: string, g: string): string {
    const plan = this.plans.get(column);
    const raw = `${g}.${quoteIdent(column)}`;
    if (plan === undefined || plan.kind === 'pass') return raw;
    if (plan.kind === 'row') return plan.expr(raw);
    const a = alias(column);
    const masked = plan.json ? `CAST(${a}._pii_masked AS JSON)` : `${a}._pii_masked`;
    return `CASE WHEN ${a}._pii_raw IS NULL THEN ${raw} ELSE ${masked} END`;
  }

  /** The LEFT JOINs the masked columns (all, or those named) read, over the row alias `g`. */
  joins(g: string, only?: readonly string[]): string {
    return [...this.plans.values()]
      .filter((p): p is Extract<Plan, { kind: 'map' }> => p.kind === 'map' && (only === undefined || only.includes(p.column)))
      .map((p) => `LEFT JOIN ${p.map} ${alias(p.column)} ON ${alias(p.column)}._pii_raw = ${rawText(`${g}.${quoteIdent(p.column)}`, p.json)}`)
      .join('\n');
  }

  /** Whether any column reads through a table of masked values. */
  get mapped(): readonly string[] {
    return [...this.plans.values()].filter((p) => p.kind === 'map').map((p) => p.column);
  }

  /** What masking changed in the rows of `relation` (rows of the masked relation, e.g. those actually inserted). */
  async counts(host: Pick<ValueMaskingHost, 'all'>, relation: string): Promise<PiiCount[]> {
    const out: PiiCount[] = [];
    for (const plan of this.plans.values()) {
      if (plan.kind === 'pass') continue;
      const col = quoteIdent(plan.column);
      if (plan.kind === 'row') {
        const rows = await host.all<{ n: string | number }>(`SELECT count(*) AS n FROM ${relation} WHERE ${col} IS NOT NULL`);
        const n = Number(rows[0]?.n ?? 0);
        if (n > 0) out.push({ field: plan.column, kind: plan.count, values: n });
        continue;
      }
      const rows = await host.all<{ kind: string; n: string | number }>(
        `SELECT k.kind AS kind, sum(k.n) AS n FROM (SELECT ${col} AS v FROM ${relation}) g
         JOIN ${plan.kinds} k ON k._pii_raw = ${rawText('g.v', plan.json)} GROUP BY k.kind ORDER BY k.kind`,
      );
      for (const r of rows) if (Number(r.n) > 0) out.push({ field: plan.column, kind: r.kind, values: Number(r.n) });
    }
    return out;
  }
}

function alias(column: string): string {
  return quoteIdent(`_pm_${column}`);
}

function rawText(expr: string, json: boolean): string {
  return json ? `CAST(${expr} AS VARCHAR)` : expr;
}

/**
 * Per changed value, the masks masking added, by kind: (_pii_raw, kind, n). One search per text for every kind's
 * mask (`[email]`, `[custom:order_ref]`, …), less those the raw value already held (a masked export imported again).
 */
function findingsSql(kinds: readonly FindingKind[], scanned: string): string {
  const masks = quoteLiteral(`\\[(${kinds.map((k) => maskOf(k).slice(1, -1).replace(/[^a-z0-9_:]/g, '')).join('|')})\\]`);
  return `SELECT _pii_raw, kind, sum(n) AS n FROM (
      SELECT _pii_raw, unnest(regexp_extract_all(_pii_masked, ${masks}, 1)) AS kind, 1 AS n FROM ${scanned}
      UNION ALL
      SELECT _pii_raw, unnest(regexp_extract_all(_pii_raw, ${masks}, 1)), -1 FROM ${scanned} WHERE contains(_pii_raw, '[')
    ) GROUP BY _pii_raw, kind HAVING sum(n) > 0`;
}

/** A scanned column's grouping key over a row: its distinct values (or, row-unique columns, those the gate passes). */
export interface CandidateKey {
  readonly column: string;
  readonly key: string;
}

/**
 * The keys that gather every scanned column's candidate values in one scan of the rows (one GROUPING SETS
 * statement instead of a scan per column); maskValues then reads each column's candidates from that result.
 */
export function candidateKeys(policy: PiiPolicy, hashing: boolean, columns: readonly MaskedColumn[]): CandidateKey[] {
  const sql = new SqlMasker(policy.scanners, hashing);
  const keys: CandidateKey[] = [];
  for (const c of columns) {
    const part = scannedParts(policy, [c])[0];
    if (part === undefined) continue;
    const condition = candidateCondition(policy, sql, part);
    if (condition === 'false') continue;
    const col = quoteIdent(part.column);
    const text = rawText(col, part.kind === 'json');
    keys.push({ column: part.column, key: ROW_UNIQUE.has(part.column) ? `CASE WHEN ${col} IS NOT NULL AND (${condition}) THEN ${text} END` : text });
  }
  return keys;
}

/**
 * Masks `columns` of `relation` value by value. Identifiers holding personal data with no key to hash them are an
 * error naming the column (before anything is written), as with row-by-row masking. `candidates` may give, per
 * column, a relation of its distinct values (a column named like it) gathered beforehand (candidateKeys).
 */
export async function maskValues(
  host: ValueMaskingHost,
  relation: string,
  columns: readonly MaskedColumn[],
  file?: string,
  candidates?: ReadonlyMap<string, string>,
): Promise<ValueMasks> {
  const policy = host.policy;
  const sql = new SqlMasker(policy.scanners, host.hashing);
  const kinds = [...new Set(policy.scanners.detectors.map((d) => d.kind))];
  const plans = new Map<string, Plan>();
  for (const { column, as } of columns) {
    const action = policy.columns[as];
    const json = isJsonColumn(as);
    if (action === 'drop') {
      plans.set(column, { kind: 'row', column, expr: () => `CAST(NULL AS ${json ? 'JSON' : 'VARCHAR'})`, count: 'dropped' });
      continue;
    }
    if (action === 'hash') {
      plans.set(column, { kind: 'row', column, expr: (x) => sql.hash(x), count: 'hashed' });
      continue;
    }
    if (action === 'truncate') {
      plans.set(column, { kind: 'row', column, expr: (x) => sql.truncate(x), count: 'truncated' });
      continue;
    }
    const part = scannedParts(policy, [{ column, as }])[0];
    if (part === undefined) {
      plans.set(column, { kind: 'pass', column });
      continue;
    }
    const mapped = await mapColumn(host, sql, kinds, relation, part, file, candidates?.get(column));
    plans.set(column, mapped === undefined ? { kind: 'pass', column } : { kind: 'map', ...mapped });
  }
  return new ValueMasks(plans);
}

/**
 * The condition under which masking can change a value of `part` (named by its column in the relation). A value the
 * gate (every pattern at once) does not match holds nothing any detector finds, so masking leaves it as it is —
 * with two exceptions in JSON: a member a rule names acts whatever its value, and an escape other than \" (\u0040,
 * \/, \n) can hide from the raw text what the TypeScript masker sees in the decoded string. (\" cannot: no
 * pattern matches a quote or a backslash, so a match in a decoded string is the same match in its raw text.)
 */
function candidateCondition(policy: PiiPolicy, sql: SqlMasker, part: ScannedPart): string {
  const col = quoteIdent(part.column);
  if (part.kind !== 'json') return sql.gate(col);
  if (!combinesTexts(policy)) return 'true';
  const text = `CAST(${col} AS VARCHAR)`;
  // One search for all three (a document is long: each search reads all of it).
  const patterns = [`\\\\[^"]`];
  if (sql.textGate !== undefined) patterns.push(sql.textGate);
  const rules = policy.members[part.as as JsonColumn];
  const truncating = rules.filter((r) => r.action === 'truncate');
  const others = rules.filter((r) => r.action !== 'truncate');
  if (others.length > 0) patterns.push(memberStartPattern(ruleKeysPattern(others)));
  const matchesAny = (alternatives: readonly string[]): string => `regexp_matches(${text}, ${quoteLiteral(alternatives.map((p) => `(?:${p})`).join('|'))})`;
  const found = matchesAny(patterns);
  if (truncating.length === 0) return found;
  // Each search reads the whole document whatever the pattern: one search for both conditions first, and the two
  // apart only on the documents it finds (the demo's 532k documents: 102k), single-threaded 3.8 s -> 2.9 s.
  const either = matchesAny([...patterns, memberStartPattern(ruleKeysPattern(truncating))]);
  return `CASE WHEN ${either} THEN (CASE WHEN ${found} THEN true ELSE ${truncateMayChange(text, truncating)} END) ELSE false END`;
}

/**
 * Whether a truncate rule can change a document: one of the members it names holds something other than what
 * truncate writes (VALID.truncatedValue). Files usagelab exported were masked already, and without this every one of
 * their documents with an IP member (every Amplitude event) went down the masking path again to come out unchanged.
 * A key that another rule names too is a candidate by that rule's pattern, whatever its value.
 */
function truncateMayChange(text: string, rules: readonly MemberRule[]): string {
  const start = memberStartPattern(ruleKeysPattern(rules));
  const ws = JSON_TOKENS.whitespace;
  // The value: a whole string, else everything up to the next separator (a number, a literal, or a container's start).
  const valued = `${start}${ws}(${JSON_TOKENS.string}|[^ \\t\\r\\n,}\\]]*)`;
  return `CASE WHEN regexp_matches(${text}, ${quoteLiteral(start)})
    THEN list_bool_or(list_transform(regexp_extract_all(${text}, ${quoteLiteral(valued)}, 1),
      lambda v: NOT regexp_full_match(v, ${quoteLiteral(VALID.truncatedValue)})))
    ELSE false END`;
}

/** DuckDB scans a table with one thread per this many rows (its parallel scan unit, 60 vectors of 2,048). */
const ROWS_PER_SCAN_THREAD = 122_880;

/**
 * How many slices to mask `n` candidate values in. Masking a document is slow (every detector's pattern over all
 * of it), and DuckDB gives a table under 122,880 rows a single scanning thread however long each row takes: the
 * demo's 101,339 candidate documents were masked on one core for ~5 s while the other idled. Sliced by rowid,
 * each slice its own scan, they are masked on every thread.
 */
export async function scanSlices(host: Pick<ValueMaskingHost, 'all'>, n: number): Promise<number> {
  if (n < 2) return 1;
  const rows = await host.all<{ threads: number | string }>(`SELECT current_setting('threads') AS threads`);
  const threads = Math.min(16, Math.max(1, Number(rows[0]?.threads ?? 1)));
  // Only below one scanning thread's rows: the grouping that runs the slices at once holds every changed value in
  // memory, which is fine for fewer than 122,880 documents and not for millions.
  return n < ROWS_PER_SCAN_THREAD ? Math.min(threads, n) : 1;
}

async function mapColumn(
  host: ValueMaskingHost,
  sql: SqlMasker,
  kinds: readonly FindingKind[],
  relation: string,
  part: ScannedPart,
  file: string | undefined,
  gathered: string | undefined,
): Promise<MappedColumn | undefined> {
  const policy = host.policy;
  const col = quoteIdent(part.column);
  const json = part.kind === 'json';
  const condition = candidateCondition(policy, sql, part);
  if (condition === 'false') return undefined;
  const candidates = host.tempTable(`pii_cand_${part.column}`);
  const text = rawText(col, json);
  let select: string;
  // Row-unique columns were gathered already tested (candidateKeys); the others as every distinct value.
  if (gathered !== undefined) select = `SELECT ${col} FROM ${gathered} WHERE ${col} IS NOT NULL${ROW_UNIQUE.has(part.column) ? '' : ` AND (${condition})`}`;
  else if (ROW_UNIQUE.has(part.column)) select = `SELECT DISTINCT ${text} AS ${col} FROM ${relation} WHERE ${col} IS NOT NULL AND (${condition})`;
  else select = `SELECT ${col} FROM (SELECT DISTINCT ${text} AS ${col} FROM ${relation} WHERE ${col} IS NOT NULL) WHERE ${condition}`;
  await host.run(`CREATE OR REPLACE TEMP TABLE ${candidates} AS ${select}`);
  const found = await host.all<{ n: string | number }>(`SELECT count(*) AS n FROM ${candidates}`);
  if (Number(found[0]?.n ?? 0) === 0) return undefined;

  // An identifier is hashed exactly when masking it would change it: the masked copy decides, the hash is written.
  const scanPolicy: PiiPolicy = part.kind === 'copy' ? { ...policy, columns: { ...policy.columns, [part.as]: 'mask' } } : policy;
  const scanPart: ScannedPart = part.kind === 'copy' ? { ...part, kind: 'text' } : part;
  const rowsOf = (where: string): string => `(SELECT ${col}, ${col} AS _pii_raw FROM ${candidates}${where})`;
  const exact = await host.exactValues(rowsOf(''), [scanPart], scanPolicy);
  const scanned = host.tempTable(`pii_scanned_${part.column}`);
  const slices = await scanSlices(host, Number(found[0]?.n ?? 0));
  const maskedSlices = Array.from({ length: slices }, (_, i) => {
    const slice = rowsOf(slices === 1 ? '' : ` WHERE rowid % ${slices} = ${i}`);
    const masked = maskedRelationSql(scanPolicy, slice, [{ column: part.column, as: part.as }], { hashing: host.hashing, exact });
    return `SELECT _pii_raw, CAST(${col} AS VARCHAR) AS _pii_masked FROM (${masked}) WHERE CAST(${col} AS VARCHAR) IS DISTINCT FROM _pii_raw`;
  });
  // The candidates are distinct, so grouping by the raw value changes nothing: it is the sink that lets DuckDB
  // run the slices side by side (a table written from a UNION ALL takes its branches one after another).
  await host.run(
    slices === 1
      ? `CREATE OR REPLACE TEMP TABLE ${scanned} AS ${maskedSlices[0]!}`
      : `CREATE OR REPLACE TEMP TABLE ${scanned} AS SELECT _pii_raw, any_value(_pii_masked) AS _pii_masked FROM (${maskedSlices.join('\n      UNION ALL\n      ')}) GROUP BY _pii_raw`,
  );

  if (part.kind === 'copy') {
    if (!host.hashing) {
      const rows = await host.all<{ n: string | number }>(`SELECT count(*) AS n FROM ${relation} WHERE ${col} IN (SELECT _pii_raw FROM ${scanned})`);
      const n = Number(rows[0]?.n ?? 0);
      if (n > 0) {
        throw new UsageLabError('pii_key_missing', `${part.column} holds personal data (e.g. an e-mail address) in ${n} record(s); identifiers holding personal data are hashed, but no hash key is set`, {
          place: { ...(file === undefined ? {} : { file }), field: part.column },
          hint: `set ${PII_KEY_VARIABLE} (e.g. \`openssl rand -hex 32\`) in the environment, or in .env with \`pii: { hash_key: \${${PII_KEY_VARIABLE}} }\` in usagelab.yaml; or, to store ${part.column} as it is, \`pii: { fields: { ${part.column}: keep } }\``,
        });
      }
    }
  }
  const map = host.tempTable(`pii_map_${part.column}`);
  await host.run(
    part.kind === 'copy'
      ? `CREATE OR REPLACE TEMP TABLE ${map} AS SELECT _pii_raw, ${sql.hash('_pii_raw')} AS _pii_masked FROM ${scanned}`
      : `CREATE OR REPLACE TEMP TABLE ${map} AS SELECT _pii_raw, _pii_masked FROM ${scanned}`,
  );
  const kindsTable = host.tempTable(`pii_kinds_${part.column}`);
  await host.run(`CREATE OR REPLACE TEMP TABLE ${kindsTable} (_pii_raw VARCHAR, kind VARCHAR, n BIGINT)`);
  if (kinds.length > 0) await host.run(`INSERT INTO ${kindsTable} ${findingsSql(kinds, scanned)}`);
  if (part.kind === 'copy') await host.run(`INSERT INTO ${kindsTable} SELECT _pii_raw, 'hashed', 1 FROM ${scanned}`);
  if (json) await countMemberRules(host, part, scanned, kindsTable);
  // Only the map and the kinds are read later; the rest can be large (JSON documents) and holds memory.
  await host.run(`DROP TABLE ${scanned}`);
  await host.run(`DROP TABLE ${candidates}`);
  await host.run(`DROP TABLE IF EXISTS ${exact}`);
  return { column: part.column, json, map, kinds: kindsTable };
}

/**
 * JSON documents holding a member that a drop / hash / truncate rule names, among those masking changed: kind
 * member_rule, once per document. (Masking such documents a second time under the rules alone would say exactly
 * which rule changed what, at the price of the slowest part of masking twice.)
 */
async function countMemberRules(host: ValueMaskingHost, part: ScannedPart, scanned: string, kindsTable: string): Promise<void> {
  const rules = host.policy.members[part.as as JsonColumn].filter((r) => r.action !== 'keep' && r.action !== 'mask');
  if (rules.length === 0) return;
  const start = quoteLiteral(memberStartPattern(ruleKeysPattern(rules)));
  await host.run(`INSERT INTO ${kindsTable} SELECT _pii_raw, 'member_rule', 1 FROM ${scanned} WHERE regexp_matches(_pii_raw, ${start})`);
}
