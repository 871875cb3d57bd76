/**
 * The hook through which the demo's vendor records are masked before they are written to exports/, as usagelab's
 * exporters mask what a vendor API returns (docs/governance.md). The demo knows nothing of PII policies (module
 * boundaries: demo imports core and events only), and it writes from worker threads, which cannot receive a
 * function: so the caller names a module and its options, and each worker loads the masker from it
 * (src/library/demo-masking.ts is the one `usagelab demo` uses).
 */
import type { Tool } from './catalog.js';

export interface DemoRecordMasker {
  /** One vendor record as compact JSON text, masked; 64-bit integers keep their digits. */
  line(tool: Tool, table: string, json: string): string;
  /** One record object (Heap's Avro rows, longs as bigint), masked; a value may change type (a hashed id is text). */
  record(tool: Tool, table: string, record: Record<string, unknown>): Record<string, unknown>;
  /**
   * Some top-level members of one record masked as they would be within the whole record, as JSON text: the
   * `"name":value` pairs joined by commas, in their order, without the ones the masker drops ('' when it drops all).
   * Masking goes member by member, so a writer that builds its records from fragments repeated across events (a
   * visit's device fields) can mask each fragment once and join the pieces. Names must not look like array
   * indexes (JSON.stringify would move them first, where the whole record keeps them in place).
   */
  members(tool: Tool, table: string, members: Record<string, unknown>): string;
  /**
   * The same for children of `field` (PostHog's `properties`, whose members are masked one by one). Undefined when
   * they are not (a rule replaces the whole field): then only `line` and `record` give the masked record.
   */
  childMembers(tool: Tool, table: string, field: string, members: Record<string, unknown>): string | undefined;
}

/** What a worker needs to build the masker: a module exporting `createDemoRecordMasker(options)`, and its options. */
export interface DemoMasking {
  /** The module's URL (file: URL), loaded with import(). */
  readonly module: string;
  /** Passed to createDemoRecordMasker; must survive structured cloning (it crosses into worker threads). */
  readonly options: unknown;
}

export async function loadRecordMasker(masking: DemoMasking): Promise<DemoRecordMasker> {
  const mod = (await import(masking.module)) as { createDemoRecordMasker?: (options: unknown) => DemoRecordMasker };
  if (typeof mod.createDemoRecordMasker !== 'function') throw new Error(`demo masking module ${masking.module} does not export createDemoRecordMasker`);
  return mod.createDemoRecordMasker(masking.options);
}
