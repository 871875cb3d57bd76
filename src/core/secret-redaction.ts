/**
 * The one redaction mechanism (docs/governance.md "Secrets"). It knows every secret value in play — config fields
 * declared with `secret(...)`, the `${VAR}` values that feed them, the credential variables of every source, the PII
 * hash key, the ClickHouse password, and any environment variable whose name says it holds a credential — and every
 * sink usagelab prints or writes through calls `redactSecrets`: the CLI's stdout/stderr (and so every table, --json
 * document, error, hint, cause chain and progress line), the DuckDB trace, export window files, manifests, reports,
 * insights and audit logs.
 *
 * The registry is process-wide on purpose: secrets are a property of the process (its environment and .env), and a
 * sink deep in a writer must not depend on someone having threaded a redactor through to it.
 */

export const REDACTED = '[redacted]';

/** Credential variables usagelab reads (.env.example lists them), redacted whatever their name looks like. */
export const CREDENTIAL_VARIABLES: readonly string[] = [
  'AMPLITUDE_API_KEY',
  'AMPLITUDE_SECRET_KEY',
  'MIXPANEL_SERVICE_ACCOUNT_SECRET',
  'POSTHOG_PERSONAL_API_KEY',
  'FULLSTORY_API_KEY',
  'CLICKHOUSE_PASSWORD',
  'USAGELAB_PII_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'GA4_SERVICE_ACCOUNT_JSON',
];

/**
 * Other variables whose name says they hold a credential (a CI token, another tool's key). Redacting one too many
 * costs nothing; printing one is a leak.
 */
const CREDENTIAL_NAME = /(?:^|_)(?:API_?KEY|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|PASSWORD|PASSWD|TOKEN|ACCESS_TOKEN|AUTH_TOKEN|PRIVATE_KEY|CREDENTIALS_JSON|KEY_JSON|ACCOUNT_JSON)$/i;

/**
 * Shorter values are not redacted: replacing every "true" or "test" would garble output, and a credential that short
 * protects nothing anyway. (`check` still shows such a value only as `set`.)
 */
export const MIN_SECRET_LENGTH = 6;
/** For variables recognised only by name, a higher bar (flags like FOO_TOKEN=1 exist). */
const MIN_NAMED_LENGTH = 8;

const secrets = new Set<string>();
let pattern: RegExp | undefined;
let environmentRead = false;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret takes in text usagelab writes: as is, inside a JSON string, URL-encoded, base64. */
function formsOf(value: string): string[] {
  const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
  if (value.length >= 8) forms.push(Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, ''));
  return forms;
}

/** The key parts of a service-account JSON key, which a client library may quote on their own. */
const JSON_KEY_MEMBERS = ['private_key', 'private_key_id', 'client_secret', 'refresh_token'];

/** Adds a secret value (and its encoded forms) to the registry. Values shorter than 6 characters are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value === undefined || value === null) return;
  const v = value.trim();
  if (v.length < MIN_SECRET_LENGTH) return;
  if (v.startsWith('{')) {
    try {
      const doc = JSON.parse(v) as Record<string, unknown>;
      for (const member of JSON_KEY_MEMBERS) if (typeof doc[member] === 'string') registerSecret(doc[member]);
    } catch {
      // Not JSON: the value alone is the secret.
    }
  }
  let added = false;
  for (const form of formsOf(v)) {
    if (form.length >= MIN_SECRET_LENGTH && !secrets.has(form)) {
      secrets.add(form);
      added = true;
    }
  }
  if (added) pattern = undefined;
}

/** Whether a variable holds a credential: a known credential variable, or one whose name says so. */
export function isCredentialVariable(name: string): boolean {
  return CREDENTIAL_VARIABLES.includes(name) || CREDENTIAL_NAME.test(name);
}

/** Registers the values of every credential variable of an environment (the process's, or .env merged in). */
export function registerSecretsFromEnvironment(env: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (CREDENTIAL_VARIABLES.includes(name)) registerSecret(value);
    else if (CREDENTIAL_NAME.test(name) && value.trim().length >= MIN_NAMED_LENGTH) registerSecret(value);
  }
}

function compiled(): RegExp | undefined {
  if (!environmentRead) {
    environmentRead = true;
    registerSecretsFromEnvironment(process.env);
  }
  if (secrets.size === 0) return undefined;
  // Longest first, so a secret that contains another is replaced whole.
  pattern ??= new RegExp([...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  return pattern;
}

/** The text with every known secret (plus `extra` values) replaced by [redacted]. */
export function redactSecrets(text: string, extra: readonly string[] = []): string {
  let out = text;
  const re = compiled();
  if (re !== undefined) {
    re.lastIndex = 0;
    if (re.test(out)) {
      re.lastIndex = 0;
      out = out.replace(re, REDACTED);
    }
  }
  for (const s of extra) if (s.length >= MIN_SECRET_LENGTH && out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** A value of any JSON-compatible shape with every string redacted (for documents built before printing). */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactValue(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValue(v)])) as T;
  }
  return value;
}

/** How `check` shows a secret: `set (…9c0f)` (the last 4 characters of a value of 12 or more), `set`, or `not set`. */
export function describeSecret(value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') return 'not set';
  return value.length >= 12 ? `set (…${value.slice(-4)})` : 'set';
}

/** How many distinct secret forms are known (for tests and `check`). */
export function knownSecretCount(): number {
  compiled();
  return secrets.size;
}
