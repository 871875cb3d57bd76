/**
 * The schema of usagelab.yaml. Every key is documented here and in docs/configuration.md; unknown keys are
 * errors (a typo must not silently fall back to a default). Fields holding credentials are marked secret so
 * that one redaction mechanism can hide them everywhere.
 */
import { z } from 'zod';
import { reportConfigSchema } from './report-config-schema.js';
import { EXCLUSIONS_DEFAULTS, exclusionsConfigSchema, retentionConfigSchema } from './governance-config-schema.js';

/** Marks a config field as a credential: never printed, logged or written. */
export const secret = <T extends z.ZodType>(schema: T): T => schema.meta({ secret: true });

const ianaTimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Europe/Amsterdam"' },
);

const weekday = z.enum(['monday', 'sunday', 'saturday']);

const duckdbWarehouse = z
  .object({
    engine: z.literal('duckdb'),
    /** Path of the DuckDB file, relative to the workspace. */
    path: z.string().default('.usagelab/warehouse.duckdb'),
    /** DuckDB memory_limit, e.g. "2GB"; bounds memory whatever the file size (DuckDB spills to disk). */
    memory_limit: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as "2GB"').default('2GB'),
    /** Worker threads; default: the number of cores. */
    threads: z.number().int().min(1).max(256).optional(),
  })
  .strict();

const clickhouseWarehouse = z
  .object({
    engine: z.literal('clickhouse'),
    url: z.string().url(),
    database: z.string().default('usagelab'),
    user: z.string().default('default'),
    password: secret(z.string().optional()),
    /** Cluster name (remote_servers): replicated tables plus Distributed tables sharded by person. */
    cluster: z.string().min(1).optional(),
    /** The local DuckDB file imports are staged in (identity, sessions) before they are loaded into ClickHouse. */
    staging_path: z.string().default('.usagelab/warehouse.duckdb'),
  })
  .strict();

const sourceCommon = {
  /** Days during which a source may still add or change data for a period (its "late data" window). */
  late_data_days: z.number().min(0).max(30).optional(),
};

export const sourcesSchema = z
  .object({
    fullstory: z
      .object({
        ...sourceCommon,
        api_key: secret(z.string().optional()),
        /** Saved segment to export; "everyone" exports every event. */
        segment_id: z.string().min(1).default('everyone'),
        /** Transfer format of the Segment Export (the written files are NDJSON whatever it is). */
        format: z.enum(['ndjson', 'json', 'csv']).default('ndjson'),
        /** Export fields (FullStory's field names, `user_*` / `evt_*` / `page_*` wildcards); default: FullStory's set. */
        fields: z.array(z.string().min(1)).min(1).optional(),
        /** Hours per export job: a divisor or a multiple of 24. */
        window_hours: z.number().int().min(1).max(24 * 7).refine((h) => 24 % h === 0 || h % 24 === 0, 'must divide 24 or be a multiple of 24').default(24),
        /** How long after an event FullStory serves it complete (hauser's ExportDelay; 3 is often enough). */
        export_delay_hours: z.number().min(0).max(24 * 7).default(24),
      })
      .strict()
      .optional(),
    amplitude: z
      .object({
        ...sourceCommon,
        api_key: secret(z.string().optional()),
        secret_key: secret(z.string().optional()),
        region: z.enum(['us', 'eu']).default('us'),
      })
      .strict()
      .optional(),
    mixpanel: z
      .object({
        ...sourceCommon,
        service_account_user: z.string().optional(),
        service_account_secret: secret(z.string().optional()),
        project_id: z.union([z.string(), z.number()]).optional(),
        region: z.enum(['us', 'eu', 'in']).default('us'),
        /** Projects created before 2023 store `time` in project-local time: name that zone here. */
        project_timezone: ianaTimeZone.optional(),
      })
      .strict()
      .optional(),
    heap: z
      .object({
        ...sourceCommon,
        s3_bucket: z.string().optional(),
        s3_prefix: z.string().optional(),
        s3_region: z.string().optional(),
        s3_endpoint: z.string().optional(),
        /** Path-style S3 URLs (MinIO and other S3-compatible stores); default: on when s3_endpoint is set. */
        s3_force_path_style: z.boolean().optional(),
        /** Default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the AWS SDK's credential chain. */
        aws_access_key_id: z.string().optional(),
        aws_secret_access_key: secret(z.string().optional()),
        aws_session_token: secret(z.string().optional()),
        /** A folder copy of the bucket (relative to the workspace) instead of S3. */
        local_path: z.string().optional(),
      })
      .strict()
      .optional(),
    posthog: z
      .object({
        ...sourceCommon,
        host: z.string().default('https://us.posthog.com'),
        project_id: z.union([z.string(), z.number()]).optional(),
        personal_api_key: secret(z.string().optional()),
      })
      .strict()
      .optional(),
    ga4: z
      .object({
        ...sourceCommon,
        /** Project the GA4 BigQuery link exports to; default: the service account key's project_id. */
        gcp_project: z.string().optional(),
        /** analytics_<property id>; or give property_id. */
        dataset: z.string().optional(),
        property_id: z.union([z.string().regex(/^\d+$/, 'digits only (GA4 Admin > Property details)'), z.number().int().positive()]).optional(),
        /** Project that runs (and pays for) the intraday query jobs; default gcp_project. */
        job_project: z.string().optional(),
        /** BigQuery location of the dataset (US, EU, europe-west3, ...); default: BigQuery infers it. */
        location: z.string().optional(),
        /** The property's reporting time zone: it dates the daily tables. */
        property_timezone: ianaTimeZone.optional(),
        /** Read intraday tables for days whose daily table is not written yet (provisional data). */
        intraday: z.boolean().default(true),
        /** Path of the service account JSON key (relative to the workspace); default GOOGLE_APPLICATION_CREDENTIALS. */
        credentials_file: z.string().optional(),
        /** The key's JSON text itself; default GA4_SERVICE_ACCOUNT_JSON. */
        credentials_json: secret(z.string().optional()),
      })
      .strict()
      .optional(),
  })
  .strict();

const pathRule = z
  .object({
    /** A regular expression (JavaScript/RE2 syntax) matched against the cleaned path. */
    pattern: z.string().refine(
      (p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    ),
    replacement: z.string(),
  })
  .strict();

/** Kinds of personal data the built-in scanners recognise (docs/governance.md). */
export const PII_KINDS = ['email', 'phone', 'card', 'ip', 'token', 'secret'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** What happens to a field before it is written: docs/governance.md "Actions". */
export const PII_ACTIONS = ['keep', 'mask', 'hash', 'hash_if_pii', 'truncate', 'drop'] as const;
export type PiiAction = (typeof PII_ACTIONS)[number];

const identifierActions = ['keep', 'hash', 'hash_if_pii'] as const;
const textActions = ['keep', 'mask', 'hash', 'drop'] as const;

/**
 * The events columns a pii field rule may name, with the actions each accepts. Identifiers cannot be dropped or
 * masked: a dropped or masked id would merge people (or events, for source_event_id, the dedup key); hashing keeps
 * them distinct and stable. event_name cannot be hashed or dropped: every event needs a readable name.
 */
export const PII_COLUMN_ACTIONS: Readonly<Record<string, readonly PiiAction[]>> = {
  user_id: identifierActions,
  anonymous_id: identifierActions,
  source_event_id: identifierActions,
  vendor_session_id: [...identifierActions, 'drop'],
  event_name: ['keep', 'mask'],
  page_url: textActions,
  referrer: textActions,
  element_text: textActions,
  element_selector: textActions,
  device_type: textActions,
  browser: textActions,
  os: textActions,
  country: textActions,
  properties: ['keep', 'mask', 'drop'],
  user_properties: ['keep', 'mask', 'drop'],
};

/** JSON columns whose members a rule may name as `<column>.<name glob>`. */
export const PII_JSON_COLUMNS = ['properties', 'user_properties'] as const;

/** Escapes whose meaning differs between JavaScript and RE2 (or that one of them lacks). */
const NON_PORTABLE_ESCAPES: Readonly<Record<string, string>> = {
  s: '\\s (Unicode spaces in JavaScript, ASCII in RE2: write [ \\t\\r\\n])',
  S: '\\S (write [^ \\t\\r\\n])',
  u: '\\u (write the character itself)',
  p: '\\p{...}',
  P: '\\P{...}',
  c: '\\c',
  k: 'named backreferences',
};

function nonPortablePart(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next)) return 'backreferences';
      const reason = NON_PORTABLE_ESCAPES[next];
      if (reason !== undefined) return reason;
      i++;
    } else if (c === '(' && pattern[i + 1] === '?' && pattern[i + 2] !== ':') {
      return 'lookaround, named groups and inline flags (use ignore_case)';
    }
  }
  return undefined;
}

/**
 * A pattern that means the same in JavaScript and in RE2 (DuckDB), because masking runs in both and must agree:
 * no lookaround, backreferences, named groups or escapes the two engines read differently.
 */
const portableRegex = z.string().min(1).superRefine((p, ctx) => {
  const bad = nonPortablePart(p);
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `not supported in a pattern: ${bad} (patterns run in JavaScript and in DuckDB's RE2)` });
    return;
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${p})$`, 'u');
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a valid regular expression' });
    return;
  }
  if (re.test('')) ctx.addIssue({ code: 'custom', message: 'must not match empty text' });
});

const piiCustomPattern = z
  .object({
    /** Names the mask: `[custom:NAME]`. */
    name: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _, starting with a letter'),
    pattern: portableRegex,
    ignore_case: z.boolean().default(false),
  })
  .strict();

const piiFields = z.record(z.string(), z.enum(PII_ACTIONS)).superRefine((fields, ctx) => {
  for (const [field, action] of Object.entries(fields)) {
    const dot = field.indexOf('.');
    const column = dot < 0 ? field : field.slice(0, dot);
    if (dot >= 0 && (PII_JSON_COLUMNS as readonly string[]).includes(column)) {
      if (field.length === dot + 1) ctx.addIssue({ code: 'custom', path: [field], message: `name a member after "${column}.", e.g. ${column}.email or ${column}.*_ip` });
      continue;
    }
    const allowed = dot < 0 ? PII_COLUMN_ACTIONS[field] : undefined;
    if (allowed === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `unknown field "${field}": use a column (${Object.keys(PII_COLUMN_ACTIONS).join(', ')}) or properties.NAME / user_properties.NAME`,
      });
    } else if (!allowed.includes(action)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `${field} accepts ${allowed.join(', ')} (not ${action})` });
    }
  }
});

const piiDefaults = { fields: {}, scan: { kinds: [...PII_KINDS], custom: [] }, keep: [] };

export const configSchema = z
  .object({
    version: z.literal(1).default(1),
    project: z.object({ name: z.string().min(1).default('My product') }).strict().default({ name: 'My product' }),
    /** Time zone for calendar buckets (days, weeks, months) in analyses and reports. Storage is always UTC. */
    timezone: ianaTimeZone.default('UTC'),
    week_start: weekday.default('monday'),
    warehouse: z
      .discriminatedUnion('engine', [duckdbWarehouse, clickhouseWarehouse])
      .default({ engine: 'duckdb', path: '.usagelab/warehouse.duckdb', memory_limit: '2GB' }),
    sources: sourcesSchema.default({}),
    sessions: z
      .object({
        /** A new session starts after this many minutes without an event (sources without session ids). */
        inactivity_minutes: z.number().int().min(1).max(24 * 60).default(30),
      })
      .strict()
      .default({ inactivity_minutes: 30 }),
    rage_clicks: z
      .object({
        /** Derived for sources that only record raw clicks: this many clicks on one element ... */
        min_clicks: z.number().int().min(2).max(100).default(3),
        /** ... within this many milliseconds. */
        within_ms: z.number().int().min(100).max(60_000).default(1000),
      })
      .strict()
      .default({ min_clicks: 3, within_ms: 1000 }),
    /** The monthly report: which saved queries, segments and thresholds (docs/reports.md#configuration). */
    report: reportConfigSchema.optional(),
    /** How long exports and warehouse events are kept; `usagelab retention apply` deletes older data (docs/governance.md). */
    retention: retentionConfigSchema.default({}),
    /** Internal people and bots, tagged at import and excluded from analyses by default (docs/governance.md). */
    exclusions: exclusionsConfigSchema.default(EXCLUSIONS_DEFAULTS),
    path_cleaning: z
      .object({
        /** Collapse numeric ids, UUIDs and long hex tokens in path segments to ":id". */
        collapse_ids: z.boolean().default(true),
        /** Extra rules applied after the built-in ones, in order. */
        rules: z.array(pathRule).default([]),
      })
      .strict()
      .default({ collapse_ids: true, rules: [] }),
    /** PII masking before anything is written (docs/governance.md). No section: the safe default policy. */
    pii: z
      .object({
        /** HMAC key for `hash` rules; write `${USAGELAB_PII_KEY}`. Absent: the USAGELAB_PII_KEY environment variable. */
        hash_key: secret(z.string().min(16, 'at least 16 characters (use a long random string)').optional()),
        /** Field rules, first match wins; the built-in defaults apply after them. */
        fields: piiFields.default({}),
        scan: z
          .object({
            /** Which built-in scanners mask free text (default: all). */
            kinds: z.array(z.enum(PII_KINDS)).default([...PII_KINDS]),
            /** The team's own patterns, masked as [custom:NAME]. */
            custom: z.array(piiCustomPattern).default([]),
          })
          .strict()
          .default({ kinds: [...PII_KINDS], custom: [] }),
        /** Found values that fully match one of these patterns are kept (e.g. your support address). */
        keep: z.array(portableRegex).default([]),
      })
      .strict()
      .default(piiDefaults),
  })
  .strict();

export type UsageLabConfig = z.infer<typeof configSchema>;
export type SourcesConfig = z.infer<typeof sourcesSchema>;
export type DuckdbWarehouseConfig = z.infer<typeof duckdbWarehouse>;
export type WarehouseConfig = UsageLabConfig['warehouse'];
export type PiiConfig = UsageLabConfig['pii'];
