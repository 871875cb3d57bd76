/**
 * What the import calls once, inside its transaction, after the events are inserted: record the e-mail domains of
 * the staged (still raw) rows, then derive the tags of the people the import touched. Kept apart from the import
 * pipeline so that the pipeline needs one call.
 */
import type { UsageLabConfig } from '../core/config-schema.js';
import { captureEmailDomains } from './email-domains.js';
import { derivePersonTags, type TaggingResult } from './person-tagging.js';
import type { WarehouseMasking } from './pii-warehouse-masking.js';

export interface ImportTagging {
  readonly importId: number;
  /** Staged relations of the files imported (unmasked rows with the staged columns). */
  readonly rawRelations: readonly string[];
  readonly masking: WarehouseMasking;
}

export async function tagImportedPeople(
  session: { run(sql: string, params?: string[]): Promise<void>; all<T>(sql: string, params?: string[]): Promise<T[]> },
  config: UsageLabConfig,
  t: ImportTagging,
): Promise<TaggingResult> {
  // Always, not only when domains are configured: adding a domain later and running `tags refresh` must work.
  await captureEmailDomains(t.masking, (sql) => session.run(sql), t.rawRelations);
  return derivePersonTags(session, config.exclusions, t.masking.policy.key, { kind: 'import', importId: t.importId });
}
