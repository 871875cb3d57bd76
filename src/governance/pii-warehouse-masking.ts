/**
 * Masking inside a DuckDB session, for the import: the policy, the HMAC pads set as session variables (bound
 * parameters, so the key never appears in SQL text), the check that identifiers holding personal data can be hashed,
 * the few JSON documents masked in TypeScript (pii-sql.ts says which and why), and the masked relation to read
 * staged rows through. Nothing here writes to the warehouse: masked rows reach `events` only through that relation.
 */
import type { PiiConfig } from '../core/config-schema.js';
import { UsageLabError } from '../core/errors.js';
import { quoteIdent } from '../sql/quote.js';
import { hmacPads, PII_KEY_VARIABLE } from './pii-hash.js';
import { maskJsonText } from './pii-json.js';
import { piiPolicy, type JsonColumn, type PiiPolicy } from './pii-policy.js';
import { exactConditionSql, KEY_VARIABLES, maskedRelationSql, scannedParts, SqlMasker, type MaskedColumn, type ScannedPart } from './pii-sql.js';
import { scanText } from './pii-scanners.js';
import { candidateKeys, maskValues, type CandidateKey, type ValueMasks, type ValueMaskingHost } from './pii-value-masking.js';

/** What masking needs from a warehouse session (DuckdbSession has it). */
export interface SqlSession {
  run(sql: string, params?: string[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, params?: string[]): Promise<T[]>;
}

const INSERT_BATCH = 5000;

export class WarehouseMasking {
  private tables: string[] = [];

  private constructor(
    private readonly session: SqlSession,
    readonly policy: PiiPolicy,
  ) {}

  /** Builds the policy (config errors surface here, before any file is read) and sets the key in the session. */
  static async open(session: SqlSession, pii: PiiConfig, env: NodeJS.ProcessEnv = process.env): Promise<WarehouseMasking> {
    const policy = piiPolicy(pii, env);
    if (policy.key !== undefined) {
      const pads = hmacPads(policy.key);
      await session.run(`SET VARIABLE ${KEY_VARIABLES.inner} = unhex($1)`, [pads.inner]);
      await session.run(`SET VARIABLE ${KEY_VARIABLES.outer} = unhex($1)`, [pads.outer]);
    }
    return new WarehouseMasking(session, policy);
  }

  get hashing(): boolean {
    return this.policy.key !== undefined;
  }

  /**
   * `columns` of `relation` masked value by value (pii-value-masking.ts): for a bulk import, where values repeat
   * and nearly none holds personal data. Same output as maskedRelation.
   */
  async maskValues(relation: string, columns: readonly MaskedColumn[], file?: string, candidates?: ReadonlyMap<string, string>): Promise<ValueMasks> {
    const host: ValueMaskingHost = {
      policy: this.policy,
      hashing: this.hashing,
      run: (sql) => this.session.run(sql),
      all: <T>(sql: string) => this.session.all<T>(sql),
      exactValues: (rel, parts, policy) => this.maskExactValues(rel, parts, policy),
      tempTable: (prefix) => this.tempTable(prefix),
    };
    return maskValues(host, relation, columns, file, candidates);
  }

  /** Grouping keys gathering the candidates of `columns` in one scan (pii-value-masking.ts candidateKeys). */
  candidateKeys(columns: readonly MaskedColumn[]): CandidateKey[] {
    return candidateKeys(this.policy, this.hashing, columns);
  }

  private tempTable(prefix: string): string {
    const table = quoteIdent(`_${prefix}_${this.tables.length + 1}`);
    this.tables.push(table);
    return table;
  }

  /**
   * The SQL of `relation` with `columns` masked. Before returning it, refuses identifiers that hold personal data
   * when no key can hash them, and masks in TypeScript the values SQL cannot mask exactly.
   */
  async maskedRelation(relation: string, columns: readonly MaskedColumn[], file?: string): Promise<string> {
    if (!this.hashing) await this.checkIdentifiers(relation, columns, file);
    const parts = scannedParts(this.policy, columns);
    const exact = parts.length === 0 ? undefined : await this.maskExactValues(relation, parts);
    return maskedRelationSql(this.policy, relation, columns, { hashing: this.hashing, ...(exact === undefined ? {} : { exact }) });
  }

  /** hash_if_pii identifiers without a key: an error naming the column when any value holds personal data. */
  private async checkIdentifiers(relation: string, columns: readonly MaskedColumn[], file: string | undefined): Promise<void> {
    const ids = columns.filter(({ as }) => this.policy.columns[as] === 'hash_if_pii');
    if (ids.length === 0) return;
    // A cheap search first: most identifiers hold nothing any pattern could match.
    const gate = new SqlMasker(this.policy.scanners, false);
    const candidates = await this.session.all<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${relation} WHERE ${ids.map(({ column }) => gate.gate(quoteIdent(column))).join(' OR ')}`,
    );
    if (Number(candidates[0]?.n ?? 0) === 0) return;
    // Masking an identifier changes it exactly when it holds something a scanner finds.
    const original = (column: string): string => quoteIdent(`_pii_original_${column}`);
    const base = `(SELECT *, ${ids.map(({ column }) => `${quoteIdent(column)} AS ${original(column)}`).join(', ')} FROM ${relation})`;
    const probePolicy: PiiPolicy = { ...this.policy, columns: { ...this.policy.columns, ...Object.fromEntries(ids.map(({ as }) => [as, 'mask'])) } };
    const exact = await this.maskExactValues(base, scannedParts(probePolicy, ids), probePolicy);
    const probe = maskedRelationSql(probePolicy, base, ids, { hashing: false, exact });
    const counts = ids.map(({ column }) => `count(*) FILTER (WHERE ${quoteIdent(column)} IS DISTINCT FROM ${original(column)}) AS ${quoteIdent(column)}`);
    const found = (await this.session.all<Record<string, number | string>>(`SELECT ${counts.join(', ')} FROM (${probe})`))[0] ?? {};
    for (const { column } of ids) {
      const n = Number(found[column] ?? 0);
      if (n === 0) continue;
      throw new UsageLabError('pii_key_missing', `${column} holds personal data (e.g. an e-mail address) in ${n} record(s); identifiers holding personal data are hashed, but no hash key is set`, {
        place: { ...(file === undefined ? {} : { file }), field: column },
        hint: `set ${PII_KEY_VARIABLE} (e.g. \`openssl rand -hex 32\`) in the environment, or in .env with \`pii: { hash_key: \${${PII_KEY_VARIABLE}} }\` in usagelab.yaml; or, to store ${column} as it is, \`pii: { fields: { ${column}: keep } }\``,
      });
    }
  }

  /** Masks in TypeScript the distinct values SQL cannot mask exactly (pii-sql exactConditionSql); returns their table. */
  private async maskExactValues(relation: string, parts: readonly ScannedPart[], policy: PiiPolicy = this.policy): Promise<string> {
    const table = this.tempTable('pii_exact');
    await this.session.run(`CREATE OR REPLACE TEMP TABLE ${table} (col VARCHAR, doc VARCHAR, masked VARCHAR)`);
    const conditions = parts.map((p) => exactConditionSql(policy, p));
    if (conditions.every((c) => c === 'false')) return table;
    // One scan for every column: each row gives a (column, value) pair per column that needs it.
    const pairs = parts.map((p, i) => `{'k': ${i}, 'v': CASE WHEN ${conditions[i]} THEN CAST(${quoteIdent(p.column)} AS VARCHAR) END}`);
    const found = await this.session.all<{ k: number | string; v: string }>(
      `SELECT DISTINCT e.k AS k, e.v AS v FROM (SELECT unnest([${pairs.join(', ')}]) AS e FROM ${relation} WHERE ${conditions.join(' OR ')}) WHERE e.v IS NOT NULL`,
    );
    const rows = found.map(({ k, v }) => {
      const part = parts[Number(k)]!;
      const masked =
        part.kind === 'json'
          ? maskJsonText(v, { scanners: policy.scanners, rules: policy.members[part.as as JsonColumn], key: policy.key, column: part.as })
          : scanText(v, policy.scanners);
      return [part.column, v, masked];
    });
    // One bound JSON array per batch: binding hundreds of parameters per statement costs more than the masking.
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      const batch = rows.slice(i, i + INSERT_BATCH).map(([col, doc, masked]) => ({ col, doc, masked }));
      await this.session.run(
        `INSERT INTO ${table} SELECT r.col, r.doc, r.masked FROM (SELECT unnest(from_json($1, '[{"col":"VARCHAR","doc":"VARCHAR","masked":"VARCHAR"}]')) AS r)`,
        [JSON.stringify(batch)],
      );
    }
    return table;
  }

  /** Drops the session state masking created (the key variables and the tables of masked documents). */
  async close(): Promise<void> {
    for (const t of this.tables) await this.session.run(`DROP TABLE IF EXISTS ${t}`);
    this.tables = [];
    if (this.hashing) {
      for (const v of Object.values(KEY_VARIABLES)) await this.session.run(`RESET VARIABLE ${v}`);
    }
  }
}

/** The (anonymous_id, user_id) pairs of events that become identity links. */
export const ID_COLUMNS: readonly MaskedColumn[] = [
  { column: 'anonymous_id', as: 'anonymous_id' },
  { column: 'user_id', as: 'user_id' },
];

/** Identity links a reader stages (anonymous_id, user_id, other_anonymous_id): masked like the events' ids. */
export const LINK_COLUMNS: readonly MaskedColumn[] = [
  { column: 'anonymous_id', as: 'anonymous_id' },
  { column: 'user_id', as: 'user_id' },
  { column: 'other_anonymous_id', as: 'anonymous_id' },
];

/** Staged event columns, masked under their own names. */
export function stagedEventColumns(names: readonly string[]): MaskedColumn[] {
  return names.map((c) => ({ column: c, as: c }));
}
