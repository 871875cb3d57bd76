/**
 * Mixpanel's Raw Event Export (NDJSON, gzip or not, possibly ending in `terminated early`), or the same
 * records pretty-printed, staged as canonical events. Mapping, identity rule, dedup
 * key and time zones: docs/sources/mixpanel.md.
 */
import type { Detection, FileProbe, SourceReader, StageContext, StagedFile } from '../source-reader.js';
import { detectMixpanel } from './mixpanel-detect.js';
import { loadMixpanelInput } from './mixpanel-input.js';
import { mixpanelStagingSql } from './mixpanel-staging-sql.js';

export const mixpanelReader: SourceReader = {
  id: 'mixpanel',

  detect(probe: FileProbe): Detection | undefined {
    return detectMixpanel(probe);
  },

  async stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile> {
    const input = await loadMixpanelInput(probe, detection.format, ctx);
    const name = ctx.tempName('mixpanel');
    const sql = mixpanelStagingSql({
      relation: input,
      // Both loaders leave doc NULL for anything but a JSON object.
      recordExpr: 'doc',
      projectTimezone: ctx.config.sources.mixpanel?.project_timezone,
      literal: (v) => ctx.literal(v),
    });
    await ctx.run(`CREATE OR REPLACE TEMP TABLE ${name} AS ${sql}`);
    // Mixpanel's autocapture, which produces the raw $mp_click events, flags rage clicks itself
    // ($mp_rage_click, on by default), so the pipeline must not derive more.
    return { relation: name, nativeRageClicks: true };
  },
};
