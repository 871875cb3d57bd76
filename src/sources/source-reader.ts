/**
 * The contract every source's file reader fulfils. A reader recognises its tool's export files (detect) and
 * stages them as canonical rows (stage). Parsing runs inside DuckDB whatever the target warehouse is, because
 * DuckDB's readers parse NDJSON/CSV/Parquet several times faster than line-by-line JavaScript (DESIGN.md §5);
 * a reader therefore writes DuckDB SQL over the StageContext's helpers and never imports a driver itself.
 */
import type { Readable } from 'node:stream';
import type { SourceId } from '../events/canonical-event.js';
import type { UsageLabConfig } from '../core/config-schema.js';

export type FileFormat = 'ndjson' | 'json-array' | 'json-object' | 'csv' | 'parquet' | 'zip' | 'avro-folder';
export type Compression = 'none' | 'gzip' | 'zstd';

/** What the pipeline learnt about an input before choosing a reader. */
export interface FileProbe {
  readonly path: string;
  readonly displayName: string;
  readonly isDirectory: boolean;
  /** Lower-cased file name without compression suffix, e.g. "events.jsonl" for "events.jsonl.gz". */
  readonly baseName: string;
  readonly compression: Compression;
  readonly sizeBytes: number;
  /** Up to 64 KiB of the (decompressed) head of the file; empty for directories, parquet and zip. */
  readonly head: string;
  /** The first JSON value found in the head (first NDJSON line, first array element, or the object). */
  readonly firstRecord: Record<string, unknown> | undefined;
  /** Header names when the head parses as CSV. */
  readonly csvHeader: readonly string[] | undefined;
  /** Column names of a Parquet file. */
  readonly parquetColumns: readonly string[] | undefined;
  /** For directories: every file below it, relative paths with "/" separators, sorted. */
  readonly directoryFiles: readonly string[];
  /** For zip archives: member names. */
  readonly zipMembers: readonly string[];
  /** The detected container / encoding of the content. */
  readonly format: FileFormat | undefined;
}

export interface Detection {
  readonly format: FileFormat;
  /** 0..1; the highest wins. Use ≥ 0.9 only for an unmistakable layout (vendor-specific field names). */
  readonly confidence: number;
  /** Human-readable layout name, e.g. "FullStory segment export (CSV)". */
  readonly layout: string;
}

/** Options the user gave on the command line that readers may need. */
export interface ReaderOptions {
  /** --map target=sourceColumn pairs for the generic reader. */
  readonly columnMap: Readonly<Record<string, string>>;
}

/**
 * Helpers a reader stages with. Every relation a helper returns is a DuckDB temp table (Parquet: a view) that lives until the
 * import finishes. `_line` is the 1-based line (NDJSON, JSON array element index, CSV data row + header
 * offset, Parquet row number + 1) used in quarantine messages.
 */
export interface StageContext {
  readonly config: UsageLabConfig;
  readonly options: ReaderOptions;
  /** Folder for files the reader extracts (zip members, decompressed data); removed after the import. */
  readonly tempDir: string;
  /** Runs DuckDB SQL (staging connection; temp tables only). */
  run(sql: string): Promise<void>;
  /** Runs DuckDB SQL and returns rows as plain JSON-compatible objects (bigints become strings). */
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** A fresh temp-table name with this prefix. */
  tempName(prefix: string): string;
  /** SQL string literal for a value (quotes doubled). Use for paths and constants, never concatenate. */
  literal(value: string): string;
  /**
   * NDJSON (gzip or plain) as rows (_line BIGINT, line VARCHAR, doc JSON): `doc` is NULL when the line is not
   * valid JSON (the pipeline quarantines such lines), blank lines are dropped. A trailing non-JSON line such as
   * Mixpanel's "terminated early" appears as a row with doc NULL, for the reader to recognise.
   */
  readNdjsonLines(path: string): Promise<string>;
  /**
   * Several NDJSON streams (each gzip or plain, told by its first bytes), read one after another, in one scan, as
   * (_file, _line, line, doc): `_file` is the part's name, `_line` the line within that part. For archives of many
   * small members, streamed without extracting them; a part whose `size` is given and small is read whole. A truncated gzip part or a failing stream fails with
   * import_file_corrupt naming the part.
   */
  readNdjsonStreams(parts: AsyncIterable<{ readonly name: string; readonly stream: Readable; readonly size?: number }>): Promise<string>;
  /** A JSON array file (gzip or plain) as (_line BIGINT = element index + 1, doc JSON). */
  readJsonArray(path: string): Promise<string>;
  /**
   * CSV with a header, every column VARCHAR, original header names kept, plus _line (the line of the record's
   * start). Rows DuckDB cannot parse become rejects that the pipeline quarantines with their line.
   */
  readCsv(path: string): Promise<string>;
  /** Parquet with its own column types, plus _line (row number + 1). */
  readParquet(path: string): Promise<string>;
  /** Avro object-container files (null/deflate/snappy codecs) as (_line, doc JSON), records in file order. */
  readAvro(paths: readonly string[]): Promise<string>;
  /** Marks the file partial (e.g. a body that ends in "terminated early"): imported, but the command exits 5. */
  markPartial(reason: string): void;
}

/**
 * Output of stage(): the name of a relation with exactly the staged canonical columns (STAGED_COLUMNS, in any
 * order, typed as docs/events.md says: occurred_at/received_at TIMESTAMPTZ, flags BOOLEAN, properties JSON)
 * plus `_line BIGINT` and `_reject VARCHAR` (NULL for a good row; else "field: reason").
 */
export interface StagedFile {
  readonly relation: string;
  /**
   * Optional identity links beyond the (anonymous_id, user_id) pairs on events: a relation with columns
   * (anonymous_id VARCHAR, user_id VARCHAR, other_anonymous_id VARCHAR, linked_at TIMESTAMPTZ), e.g. Heap's
   * users.identity and user_migrations.
   */
  readonly links?: string;
  /** True when the source flags rage clicks itself; otherwise the pipeline derives them from raw clicks. */
  readonly nativeRageClicks: boolean;
}

export interface SourceReader {
  readonly id: SourceId;
  /** Returns how sure this reader is that it can read the input, or undefined when it cannot. */
  detect(probe: FileProbe): Detection | undefined;
  stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile>;
}
