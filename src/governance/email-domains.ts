/**
 * Internal people by e-mail domain, although e-mail addresses never reach the warehouse: during the import, while
 * the staged rows are still raw, the domain of every e-mail address a user carries (a user id that is an address,
 * or a user_properties member named like *email*) is recorded in user_email_domains against the user id as the
 * warehouse stores it (masked). With a PII hash key the domain is stored as HMAC("@" + domain), so the table holds
 * no readable domain; the tagger hashes the configured domains with the same key to compare. Every suffix of two or
 * more labels is stored, so `acme.com` also matches `eng.acme.com`.
 */
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { SqlMasker } from './pii-sql.js';
import type { WarehouseMasking } from './pii-warehouse-masking.js';

/**
 * A string member named like *email* (any case, any depth) whose value holds an @: read from the JSON text with one
 * regular expression — parsing every document (json_each) was 25 times slower — with group 1 the value.
 */
const EMAIL_MEMBER = '"[^"\\\\]*(?i:email)[^"\\\\]*"[ \t\r\n]*:[ \t\r\n]*"([^"\\\\]*@[^"\\\\]*)"';

/** The (user_id, e-mail address) pairs of one staged relation, raw. */
function addressesOf(relation: string): string {
  const user = quoteIdent('user_id');
  // A user's properties repeat on every event: each distinct document is searched once.
  return `SELECT ${user} AS user_id, ${user} AS address FROM ${relation} WHERE ${user} IS NOT NULL AND contains(${user}, '@')
    UNION ALL
    SELECT user_id, unnest(regexp_extract_all(doc, ${quoteLiteral(EMAIL_MEMBER)}, 1)) FROM (
      SELECT DISTINCT ${user} AS user_id, CAST(user_properties AS VARCHAR) AS doc FROM ${relation}
      WHERE ${user} IS NOT NULL AND user_properties IS NOT NULL AND contains(CAST(user_properties AS VARCHAR), '@')
    )`;
}

/**
 * Records the e-mail domains of the users in `relations` (staged, unmasked rows with user_id and user_properties).
 * Runs inside the import's transaction, with the import's masking (its key variables set in the session).
 */
export async function captureEmailDomains(masking: WarehouseMasking, run: (sql: string) => Promise<void>, relations: readonly string[]): Promise<void> {
  if (relations.length === 0) return;
  const domains = `SELECT DISTINCT user_id, lower(rtrim(regexp_extract(trim(address), '@([A-Za-z0-9.-]+)$', 1), '.')) AS domain
    FROM (${relations.map(addressesOf).join('\nUNION ALL\n')}) WHERE address IS NOT NULL`;
  // Materialised: the masking below reads its relation several times, and the pairs are few.
  await run(`CREATE OR REPLACE TEMP TABLE _ul_user_domains AS ${domains}`);
  // The user id exactly as events store it: through the same policy (hash_if_pii hashes an address).
  const masked = await masking.maskedRelation('_ul_user_domains', [{ column: 'user_id', as: 'user_id' }]);
  const hashing = masking.policy.key !== undefined;
  const digest = hashing ? new SqlMasker(masking.policy.scanners, true).hash(`'@' || suffix`) : 'suffix';
  // Digests once per distinct domain: users are many, domains few.
  await run(`INSERT OR IGNORE INTO user_email_domains
    WITH pairs AS (
      SELECT DISTINCT user_id, unnest(list_transform(range(1, len(p)), i -> array_to_string(p[i:], '.'))) AS suffix
      FROM (SELECT user_id, string_split(domain, '.') AS p FROM (${masked}) WHERE domain LIKE '%_._%')
    ), digests AS (SELECT suffix, ${digest} AS domain FROM (SELECT DISTINCT suffix FROM pairs))
    SELECT p.user_id, d.domain FROM pairs p JOIN digests d USING (suffix)`);
  await run(`DROP TABLE _ul_user_domains`);
}
