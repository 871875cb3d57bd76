/**
 * The schema of usagelab.yaml. Every key is documented here and in docs/configuration.md; unknown keys are
 * errors (a typo must not silently fall back to a default). Fields holding credentials are marked secret so
 * that one redaction mechanism can hide them everywhere.
 */
import { z } from 'zod';

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
    cluster: z.string().optional(),
  })
  .strict();

const sourceCommon = {
  /** Days during which a source may still add or change data for a period (its "late data" window). */
  late_data_days: z.number().min(0).max(30).optional(),
};

export const sourcesSchema = z
  .object({
    fullstory: z.object({ ...sourceCommon, api_key: secret(z.string().optional()) }).strict().optional(),
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
        gcp_project: z.string().optional(),
        dataset: z.string().optional(),
        credentials_file: z.string().optional(),
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
    path_cleaning: z
      .object({
        /** Collapse numeric ids, UUIDs and long hex tokens in path segments to ":id". */
        collapse_ids: z.boolean().default(true),
        /** Extra rules applied after the built-in ones, in order. */
        rules: z.array(pathRule).default([]),
      })
      .strict()
      .default({ collapse_ids: true, rules: [] }),
  })
  .strict();

export type UsageLabConfig = z.infer<typeof configSchema>;
export type SourcesConfig = z.infer<typeof sourcesSchema>;
export type DuckdbWarehouseConfig = z.infer<typeof duckdbWarehouse>;
export type WarehouseConfig = UsageLabConfig['warehouse'];
