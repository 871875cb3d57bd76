/**
 * GA4 file reader: rows of the BigQuery export (events_YYYYMMDD / events_intraday_YYYYMMDD) saved as NDJSON, JSON
 * or Parquet. Containers are first brought to one row shape (ga4-docs.ts), then mapped once (ga4-mapping.ts).
 * GA4 records no frustration signals, so rage clicks are left to the pipeline (GA4 has no element either).
 */
import type { SourceReader, FileProbe, Detection, StageContext, StagedFile } from '../source-reader.js';
import { detectGa4 } from './ga4-detect.js';
import { loadGa4Docs } from './ga4-docs.js';
import { stageGa4Docs } from './ga4-mapping.js';

export const ga4Reader: SourceReader = {
  id: 'ga4',

  detect(probe: FileProbe): Detection | undefined {
    return detectGa4(probe);
  },

  async stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile> {
    const docs = await loadGa4Docs(probe, detection, ctx);
    return { relation: await stageGa4Docs(docs, ctx), nativeRageClicks: false };
  },
};
