/**
 * Amplitude's Export API output (a zip of gzipped NDJSON, one or more members per hour), a single member
 * file, or the same records as plain NDJSON, staged as canonical events. Mapping, dedup key and
 * limits: docs/sources/amplitude.md.
 */
import type { Detection, FileProbe, SourceReader, StageContext, StagedFile } from '../source-reader.js';
import { AIRBYTE_LAYOUT, detectAmplitude } from './amplitude-detect.js';
import { loadAmplitudeInput } from './amplitude-input.js';
import { amplitudeStagingSql } from './amplitude-staging-sql.js';

/** The event object of a loaded row: NDJSON lines are objects (or NULL) already; Airbyte's wrapper is opened. */
function recordExpr(detection: Detection): string {
  return detection.layout === AIRBYTE_LAYOUT ? `CASE WHEN json_type(doc->'data') = 'OBJECT' THEN doc->'data' END` : 'doc';
}

export const amplitudeReader: SourceReader = {
  id: 'amplitude',

  detect(probe: FileProbe): Detection | undefined {
    return detectAmplitude(probe);
  },

  async stage(probe: FileProbe, detection: Detection, ctx: StageContext): Promise<StagedFile> {
    const input = await loadAmplitudeInput(probe, detection.format, ctx);
    const name = ctx.tempName('amplitude');
    const sql = amplitudeStagingSql({ relation: input, recordExpr: recordExpr(detection), literal: (v) => ctx.literal(v) });
    await ctx.run(`CREATE OR REPLACE TEMP TABLE ${name} AS ${sql}`);
    // Frustration autocapture (Browser SDK ≥ 2.24) is opt-in: when its Rage / Dead Click events are present,
    // Amplitude judged rage clicks itself and deriving more from raw clicks would double them; without them,
    // the pipeline derives rage clicks from [Amplitude] Element Clicked.
    const native = await ctx.all(`SELECT 1 FROM ${name} WHERE rage_click OR dead_click LIMIT 1`);
    return { relation: name, nativeRageClicks: native.length > 0 };
  },
};
