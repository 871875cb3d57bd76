/**
 * The FullStory file reader: Segment Export files (FORMAT_JSON / FORMAT_NDJSON / FORMAT_CSV, gzip or not) and
 * the newer events table (CSV / NDJSON / Parquet). docs/sources/fullstory.md documents the mapping.
 */
import type { Detection, FileProbe, SourceReader, StageContext, StagedFile } from '../source-reader.js';
import { UsageLabError } from '../../core/errors.js';
import { classifyProbe, layoutLabel } from './fullstory-layout.js';
import { loadFullstoryRecords } from './fullstory-records.js';
import { segmentExportSql } from './segment-export-sql.js';
import { eventsTableSql } from './events-table-sql.js';

export const fullstoryReader: SourceReader = {
  id: 'fullstory',

  detect(probe: FileProbe): Detection | undefined {
    const layout = classifyProbe(probe);
    if (layout === undefined || probe.format === undefined) return undefined;
    return { format: probe.format, confidence: 0.95, layout: layoutLabel(layout, probe.format) };
  },

  async stage(probe: FileProbe, _detection: Detection, ctx: StageContext): Promise<StagedFile> {
    const layout = classifyProbe(probe);
    if (layout === undefined) {
      throw new UsageLabError('import_format_unsupported', `${probe.displayName} does not look like a FullStory export`, {
        place: { file: probe.path, source: 'fullstory' },
        hint: 'FullStory files need the Segment Export fields EventStart, EventType and UserId, or the events-table columns event_id, event_time, event_type and device_id',
      });
    }
    const records = await loadFullstoryRecords(probe, ctx);
    const relation = ctx.tempName('fullstory_staged');
    await ctx.run(layout === 'segment-export' ? segmentExportSql(records, relation) : eventsTableSql(records, relation));
    // The Segment Export flags rage clicks itself (EventModFrustrated); the events table may carry
    // fs_rage_count, but when it does not, the pipeline's derivation is the only source of rage clicks.
    return { relation, nativeRageClicks: layout === 'segment-export' };
  },
};
