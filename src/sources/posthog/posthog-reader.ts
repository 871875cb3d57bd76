/**
 * PostHog file reader: batch-export / file-download JSONL and Parquet, CSV exports, and saved query-API pages.
 * Each layout is first brought to the batch-export event shape (posthog-docs.ts), then mapped once
 * (posthog-mapping.ts). PostHog records rage clicks itself ($rageclick), so none are derived.
 */
import type { SourceReader, FileProbe, Detection, StageContext, StagedFile } from '../source-reader.js';
import { detectPosthog } from './posthog-detect.js';
import { loadPosthogDocs } from './posthog-docs.js';
import { POSTHOG_MACROS } from './posthog-macros.js';
import { stagePosthogDocs } from './posthog-mapping.js';

export const posthogReader: SourceReader = {
  id: 'posthog',

  detect(probe: FileProbe): Detection | undefined {
    return detectPosthog(probe);
  },

  async stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile> {
    for (const macro of POSTHOG_MACROS) await ctx.run(macro);
    const docs = await loadPosthogDocs(probe, detection, ctx);
    return { relation: await stagePosthogDocs(docs, ctx), nativeRageClicks: true };
  },
};
