/**
 * The PII policy: what happens to each field before it is written. Columns have one action each; members of the
 * JSON columns are matched by name (any depth) against ordered rules, the team's first, then the defaults. The
 * default policy is the safe one: free text is scanned and masked, identity-like members are dropped, IP members
 * truncated, identifiers hashed when they hold personal data. docs/governance.md explains every default.
 */
import { PII_COLUMN_ACTIONS, PII_JSON_COLUMNS, type PiiAction, type PiiConfig } from '../core/config-schema.js';
import { piiKeyMissing, resolvePiiKey } from './pii-hash.js';
import { scannersFrom, type Scanners } from './pii-scanners.js';

export type JsonColumn = (typeof PII_JSON_COLUMNS)[number];
export type { PiiAction };

export interface MemberRule {
  /** Member-name glob; `*` matches any characters; case-insensitive. */
  readonly glob: string;
  readonly action: PiiAction;
  /** Where the rule comes from, for messages: the config field, or "default". */
  readonly origin: string;
}

export interface PiiPolicy {
  readonly scanners: Scanners;
  /** Every column a rule can name, with its action. */
  readonly columns: Readonly<Record<string, PiiAction>>;
  /** Member rules per JSON column, first match wins. */
  readonly members: Readonly<Record<JsonColumn, readonly MemberRule[]>>;
  /** The HMAC key, when one is set. */
  readonly key: string | undefined;
}

/**
 * Identifiers are kept unless they hold personal data (an e-mail address as user id is common): then they are
 * hashed, which keeps one person one person. Dropping or masking them would merge everyone into one.
 */
export const DEFAULT_COLUMN_ACTIONS: Readonly<Record<string, PiiAction>> = {
  user_id: 'hash_if_pii',
  anonymous_id: 'hash_if_pii',
  source_event_id: 'hash_if_pii',
  vendor_session_id: 'hash_if_pii',
  event_name: 'mask',
  page_url: 'mask',
  referrer: 'mask',
  element_text: 'mask',
  element_selector: 'mask',
  device_type: 'keep',
  browser: 'keep',
  os: 'keep',
  country: 'keep',
  properties: 'mask',
  user_properties: 'mask',
};

const rules = (action: PiiAction, globs: readonly string[]): MemberRule[] => globs.map((glob) => ({ glob, action, origin: 'default' }));

/** Members whose name says what they hold, in both JSON columns. */
const SHARED_DEFAULTS: readonly MemberRule[] = [
  ...rules('drop', ['*email', 'email_address', 'emailaddress', 'e-mail']),
  ...rules('drop', ['phone', '$phone', '*_phone', 'phone_number', 'phonenumber', '*_phone_number', 'mobile', 'telephone']),
  ...rules('truncate', ['ip', '$ip', '*_ip', 'ip_address', 'ipaddress', '*_ip_address']),
  ...rules('drop', ['password', '*_password', 'passwd', 'secret', '*_secret', 'token', '*_token', 'api_key', 'apikey', '*_api_key']),
  ...rules('drop', ['card_number', 'cardnumber', 'credit_card', 'cc_number', 'ccnumber', 'cvv', 'cvc']),
  ...rules('drop', ['*first_name', '*firstname', '*last_name', '*lastname', '*full_name', '*fullname', '*display_name', '*displayname', 'given_name', 'family_name', 'surname']),
  ...rules('drop', ['address', 'street', 'street_address', 'home_address', 'address1', 'address2', 'address_line1', 'address_line2', 'address_line_1', 'address_line_2']),
  ...rules('drop', ['birthday', 'birthdate', 'date_of_birth', 'dob']),
  ...rules('drop', ['ssn', 'social_security_number', 'national_id', 'passport_number', 'tax_id']),
];

export const DEFAULT_MEMBER_RULES: Readonly<Record<JsonColumn, readonly MemberRule[]>> = {
  // A bare "name" in event properties is usually a page or feature name; PostHog's $set / $set_once (person
  // properties sent with an event) are also in user_properties, masked there, so they are dropped here.
  properties: [...SHARED_DEFAULTS, ...rules('drop', ['$set', '$set_once'])],
  user_properties: [...SHARED_DEFAULTS, ...rules('drop', ['name', '$name', 'username', 'user_name'])],
};

export function piiPolicy(pii: PiiConfig, env: NodeJS.ProcessEnv = process.env): PiiPolicy {
  const columns: Record<string, PiiAction> = { ...DEFAULT_COLUMN_ACTIONS };
  const members: Record<JsonColumn, MemberRule[]> = { properties: [], user_properties: [] };
  for (const [field, action] of Object.entries(pii.fields)) {
    const dot = field.indexOf('.');
    const column = (dot < 0 ? field : field.slice(0, dot)) as JsonColumn;
    if (dot >= 0 && (PII_JSON_COLUMNS as readonly string[]).includes(column)) {
      members[column].push({ glob: field.slice(dot + 1), action, origin: `pii.fields.${field}` });
    } else if (PII_COLUMN_ACTIONS[field] !== undefined) {
      columns[field] = action;
    }
  }
  for (const c of PII_JSON_COLUMNS) members[c].push(...DEFAULT_MEMBER_RULES[c]);
  const key = resolvePiiKey(pii, env);
  if (key === undefined) {
    const hashed = Object.entries(pii.fields).find(([, action]) => action === 'hash');
    if (hashed !== undefined) throw piiKeyMissing(`pii.fields.${hashed[0]} is hash`);
  }
  return { scanners: scannersFrom(pii), columns, members, key };
}
