/**
 * The `retention:` and `exclusions:` sections of usagelab.yaml (docs/governance.md "Retention", "Exclusions").
 * Both are optional: without `retention` nothing is ever deleted; without `exclusions` only the bot rules that need
 * no configuration (user agents, impossible event rates) tag people.
 */
import { z } from 'zod';

const days = z.number().int('a whole number of days').min(1, 'at least 1 day').max(36_500, 'at most 36500 days (100 years)');

export const retentionConfigSchema = z
  .object({
    /** Export files (exports/<source>/) whose window ended more than this many days ago are deleted. */
    exports_days: days.optional(),
    /** Warehouse events that occurred more than this many days ago are deleted. */
    warehouse_days: days.optional(),
  })
  .strict();

const domain = z
  .string()
  .transform((d) => d.trim().toLowerCase().replace(/^@/, ''))
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, 'a domain such as "acme.com" (no @, no scheme)'));

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** `user_properties.NAME` / `properties.NAME`: a top-level member, compared as text. */
const propertyRule = z
  .object({
    property: z.string().regex(/^(user_properties|properties)\.[^.].*$/, 'user_properties.NAME or properties.NAME'),
    equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
  })
  .strict()
  .refine((r) => (r.equals === undefined) !== (r.in === undefined), { message: 'give exactly one of equals or in' });

export const exclusionsConfigSchema = z
  .object({
    internal: z
      .object({
        /** People with an e-mail address at one of these domains (or a subdomain) are internal. */
        email_domains: z.array(domain).default([]),
        /** Product user ids of internal people, as the product knows them (compared raw and hashed). */
        user_ids: z.array(z.union([z.string().min(1), z.number()]).transform(String)).default([]),
        /** People with an event whose property matches one of these are internal. */
        properties: z.array(propertyRule).default([]),
      })
      .strict()
      .default({ email_domains: [], user_ids: [], properties: [] }),
    bots: z
      .object({
        /** Tag people whose user agent a bot-detection library (isbot) recognises. */
        user_agents: z.boolean().default(true),
        /** More events than this in one calendar minute is not a person; null turns the rule off. */
        max_events_per_minute: z.number().int().min(2).max(1_000_000).nullable().default(300),
      })
      .strict()
      .default({ user_agents: true, max_events_per_minute: 300 }),
  })
  .strict();

export const EXCLUSIONS_DEFAULTS: z.infer<typeof exclusionsConfigSchema> = {
  internal: { email_domains: [], user_ids: [], properties: [] },
  bots: { user_agents: true, max_events_per_minute: 300 },
};

export type RetentionConfig = z.infer<typeof retentionConfigSchema>;
export type ExclusionsConfig = z.infer<typeof exclusionsConfigSchema>;
