/**
 * The feature catalog (queries/features.yaml, docs/analyses/adoption.md#the-feature-catalog): each feature is a
 * list of matchers over events, an event matching any of them being a use of the feature, plus the thresholds
 * that classify features. Parsing and validation only; reading the file is the library's job.
 */
import { z } from 'zod';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { RuleViolation } from '../analysis-kind.js';
import { calendarDate, whereSchema, type WhereFilter } from '../common/definition-parts.js';
import { assertRules } from '../common/parse-definition.js';
import { eventNameViolations, whereViolations } from '../common/scope-rules.js';
import { isCalendarDate } from '../common/durations.js';
import { thresholdsSchema, thresholdViolations, type ThresholdOverrides } from './adoption-thresholds.js';

const oneOrMany = z.union([z.string(), z.array(z.string())]);

const matcherSchema = z.preprocess(
  // `- export_clicked` is shorthand for `- { event: export_clicked }`.
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    /** Event name (a list: any of them). */
    event: oneOrMany.optional(),
    /** A view of this cleaned page path (event_kind page_view or screen_view); a list: any of them. */
    page: oneOrMany.optional(),
    /** Property filters, all of which must hold. */
    where: whereSchema.optional(),
  }),
);

const featureSchema = z.strictObject({
  name: z.string().min(1),
  /** Stable id used by definitions and --features; default: the slug of the name. */
  key: z.string().optional(),
  description: z.string().optional(),
  /** An event matching any of these is a use of the feature. */
  match: z.array(matcherSchema),
  /** Events that are not uses but whose frustration signals count for the feature (e.g. a $rageclick on its button). */
  signals: z.array(matcherSchema).default([]),
  /** First day (configured time zone) the feature existed: adoption is counted from this day. */
  released: calendarDate.optional(),
});

export const featureCatalogSchema = z.strictObject({
  features: z.array(featureSchema),
  thresholds: thresholdsSchema.optional(),
});

type RawCatalog = z.output<typeof featureCatalogSchema>;
type RawMatcher = RawCatalog['features'][number]['match'][number];

/** A matcher with its shorthand expanded: lists for event and page (null when absent), where always a map. */
export interface FeatureMatcher {
  event: string[] | null;
  page: string[] | null;
  where: WhereFilter;
}

export interface CatalogFeature {
  key: string;
  name: string;
  description: string | null;
  match: FeatureMatcher[];
  signals: FeatureMatcher[];
  /** YYYY-MM-DD or null. */
  released: string | null;
}

export interface FeatureCatalog {
  features: CatalogFeature[];
  /** Only the thresholds the file sets; defaults fill the rest at run time. */
  thresholds: ThresholdOverrides;
  /** Where it was read from, for messages and results (null when built in code). */
  file: string | null;
}

const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** "Export to CSV" → "export-to-csv": lower-case ASCII letters and digits, runs of anything else become "-". */
export function featureSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const list = (v: string | string[] | undefined): string[] | null => (v === undefined ? null : Array.isArray(v) ? [...v] : [v]);

function matcher(raw: RawMatcher): FeatureMatcher {
  return { event: list(raw.event), page: list(raw.page), where: { ...(raw.where ?? {}) } };
}

function matcherViolations(raw: RawMatcher, field: string, isSignal: boolean): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (raw.event === undefined && raw.page === undefined && Object.keys(raw.where ?? {}).length === 0) {
    out.push({ code: 'features_matcher_empty', field, message: 'a matcher needs event, page or where (an empty one would match every event)', hint: 'write { event: NAME }, { page: /path }, or { where: { field: value } }' });
  }
  const events = list(raw.event);
  if (events !== null) {
    if (events.length === 0) out.push({ code: 'features_event_missing', field: `${field}.event`, message: 'an empty list of events matches nothing', hint: 'name at least one event or remove the key' });
    events.forEach((e, i) => out.push(...eventNameViolations('features', e, Array.isArray(raw.event) ? `${field}.event.${i}` : `${field}.event`, 'a matcher')));
  }
  const pages = list(raw.page);
  if (pages !== null) {
    if (isSignal) {
      out.push({ code: 'features_signals_page', field: `${field}.page`, message: 'page: matches page views, which carry no frustration signal', hint: 'in signals, match where the signal happens: where: { page_path: /path } (any event on the page)' });
    }
    if (pages.length === 0 || pages.some((p) => p.trim() === '')) {
      out.push({ code: 'features_page_missing', field: `${field}.page`, message: 'an empty page path matches nothing', hint: 'write the cleaned path as stored in page_path, e.g. /reports/:id' });
    }
    if (raw.where !== undefined && 'page_path' in raw.where) {
      out.push({ code: 'features_page_conflict', field: `${field}.where.page_path`, message: 'page and where.page_path both set the path', hint: 'keep one: page: P (views of P) or where: { page_path: P } (any event on P)' });
    }
  }
  out.push(...whereViolations('features', raw.where, field));
  return out;
}

function catalogViolations(raw: RawCatalog): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (raw.features.length === 0) {
    out.push({ code: 'features_empty', field: 'features', message: 'the catalog declares no features', hint: 'add features: - { name: ..., match: [{ event: ... }] }' });
  }
  const seen = new Map<string, number>();
  raw.features.forEach((f, i) => {
    const base = `features.${i}`;
    const key = f.key ?? featureSlug(f.name);
    if (!KEY_PATTERN.test(key)) {
      out.push(
        f.key === undefined
          ? { code: 'features_key_invalid', field: `${base}.name`, message: `no key can be made from the name ${JSON.stringify(f.name)}`, hint: 'give the feature a key: lower-case letters, digits, - and _' }
          : { code: 'features_key_invalid', field: `${base}.key`, message: `key ${JSON.stringify(f.key)} is not lower-case letters, digits, - and _`, hint: 'e.g. key: export-csv (keys go in --features lists and definitions)' },
      );
    } else if (seen.has(key)) {
      out.push({
        code: 'features_duplicate_key',
        field: f.key === undefined ? `${base}.name` : `${base}.key`,
        message: `key "${key}" is also the key of features.${seen.get(key)!}`,
        hint: 'give one of them its own key: (the default key is the slug of the name)',
      });
    } else {
      seen.set(key, i);
    }
    if (f.match.length === 0) {
      out.push({ code: 'features_match_missing', field: `${base}.match`, message: `feature "${f.name}" has no matcher`, hint: 'list at least one: match: [{ event: NAME }]' });
    }
    f.match.forEach((m, j) => out.push(...matcherViolations(m, `${base}.match.${j}`, false)));
    f.signals.forEach((m, j) => out.push(...matcherViolations(m, `${base}.signals.${j}`, true)));
    if (f.released !== undefined && !isCalendarDate(f.released)) {
      out.push({ code: 'features_released_invalid', field: `${base}.released`, message: `${JSON.stringify(f.released)} is not a date YYYY-MM-DD`, hint: 'write the first day the feature existed, e.g. released: 2024-02-01' });
    }
  });
  out.push(...thresholdViolations('features', raw.thresholds ?? {}, 'thresholds', true));
  return out;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Validates a YAML-loaded catalog. Throws a UsageLabError: `features_invalid` for a wrong shape, otherwise the
 * code of the first broken rule, naming the file and the dotted field (`features.2.match.0.event`).
 */
export function parseFeatureCatalog(input: unknown, file?: string): FeatureCatalog {
  if (input === null || input === undefined) {
    throw new UsageLabError('features_invalid', 'the feature catalog is empty', {
      place: { ...(file === undefined ? {} : { file }), field: 'features' },
      hint: 'start it with features: - { name: Export, match: [{ event: export_clicked }] }',
      exitCode: EXIT.usage,
    });
  }
  const parsed = featureCatalogSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = fieldPath(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
    const message = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]!}"` : issue.message;
    throw new UsageLabError('features_invalid', message, {
      place: { ...(file === undefined ? {} : { file }), ...(field === '' ? {} : { field }) },
      hint: 'see docs/analyses/adoption.md#the-feature-catalog for what features.yaml holds',
      exitCode: EXIT.usage,
    });
  }
  assertRules(catalogViolations(parsed.data), file);
  return {
    features: parsed.data.features.map((f) => ({
      key: f.key ?? featureSlug(f.name),
      name: f.name,
      description: f.description ?? null,
      match: f.match.map(matcher),
      signals: f.signals.map(matcher),
      released: f.released ?? null,
    })),
    thresholds: { ...(parsed.data.thresholds ?? {}) },
    file: file ?? null,
  };
}
