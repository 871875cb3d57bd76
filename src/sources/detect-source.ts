/**
 * Chooses the reader for an input: the most confident detection wins; with --source, that reader must accept
 * the input, else the error says what the file looks like instead.
 */
import type { Detection, FileProbe, SourceReader } from './source-reader.js';
import { UsageLabError } from '../core/errors.js';
import { allReaders, readerFor } from './registry.js';

export interface ChosenReader {
  reader: SourceReader;
  detection: Detection;
}

function describe(probe: FileProbe): string {
  if (probe.isDirectory) return `a folder of ${probe.directoryFiles.length} file${probe.directoryFiles.length === 1 ? '' : 's'}`;
  if (probe.format === undefined) return 'not JSON, NDJSON, CSV, Parquet, Avro or zip';
  return probe.compression === 'none' ? probe.format : `${probe.format} (${probe.compression})`;
}

export function chooseReader(probe: FileProbe, forced: string | undefined): ChosenReader {
  const candidates = allReaders()
    .map((reader) => ({ reader, detection: reader.detect(probe) }))
    .filter((c): c is ChosenReader => c.detection !== undefined)
    .sort((a, b) => b.detection.confidence - a.detection.confidence);
  if (forced !== undefined) {
    const reader = readerFor(forced);
    if (reader === undefined) {
      throw new UsageLabError('import_source_unknown', `--source ${forced} is not a known source`, {
        hint: `use one of: ${allReaders().map((r) => r.id).join(', ')}`,
      });
    }
    const detection = reader.detect(probe);
    if (detection === undefined) {
      const best = candidates[0];
      const looks = best !== undefined ? `it looks like ${best.detection.layout}` : probe.format === undefined ? `it is ${describe(probe)}` : `it looks like ${describe(probe)}`;
      throw new UsageLabError('import_wrong_source', `not a ${forced} export; ${looks}`, {
        place: { file: probe.path, source: forced },
        hint:
          best !== undefined
            ? `drop --source to let usagelab detect it, or use --source ${best.reader.id}`
            : `check that the file is the ${forced} export you meant (usagelab reads JSON, NDJSON, CSV with a header line, Parquet, Avro and zip)`,
      });
    }
    return { reader, detection };
  }
  const best = candidates[0];
  if (best === undefined) {
    throw new UsageLabError('import_format_unknown', `unknown format (${describe(probe)})`, {
      place: { file: probe.path },
      hint: probe.isDirectory
        ? 'a folder is read only as a Heap Connect sync folder; pass the export files inside it instead (e.g. FOLDER/*.json.gz)'
        : probe.format === 'zip'
          ? "a zip is read only as Amplitude's Export API archive; unzip it and import the files inside"
          : 'usagelab reads the export files of FullStory, Amplitude, Mixpanel, Heap, PostHog and GA4, and any CSV/NDJSON/Parquet event log with --map',
    });
  }
  const second = candidates[1];
  if (second !== undefined && second.detection.confidence === best.detection.confidence && best.detection.confidence >= 0.5) {
    throw new UsageLabError(
      'import_format_ambiguous',
      `could be ${best.detection.layout} or ${second.detection.layout}`,
      { place: { file: probe.path }, hint: `pass --source ${best.reader.id} or --source ${second.reader.id}` },
    );
  }
  return best;
}
