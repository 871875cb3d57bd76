/**
 * Where a vendor record keeps what the canonical event calls user_id, page_url, properties, ... — so that a
 * PII policy written for canonical columns (docs/governance.md) can mask the vendor's own record before it is
 * written to exports/. A field maps a path in the record to a column whose rule applies to it; a JSON column
 * (properties, user_properties) is masked member by member, except its children that have their own mapping;
 * everything else at the top level is masked as members of `rest` (the readers keep those fields in properties).
 */

/** Canonical columns a PII rule can name (events columns; see PII_COLUMN_ACTIONS in core/config-schema.ts). */
export type PiiColumn =
  | 'user_id'
  | 'anonymous_id'
  | 'source_event_id'
  | 'vendor_session_id'
  | 'event_name'
  | 'page_url'
  | 'referrer'
  | 'element_text'
  | 'element_selector'
  | 'device_type'
  | 'browser'
  | 'os'
  | 'country'
  | 'properties'
  | 'user_properties';

export interface RecordField {
  readonly path: readonly string[];
  readonly column: PiiColumn;
}

export interface RecordLayout {
  readonly fields: readonly RecordField[];
  /** The JSON column whose member rules apply to unmapped top-level fields; null: none are expected. */
  readonly rest: 'properties' | 'user_properties' | null;
}

export const JSON_COLUMNS: readonly PiiColumn[] = ['properties', 'user_properties'];
