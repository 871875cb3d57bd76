/** The terminal / CSV renderer of each analysis kind, for `usagelab query` (which runs any kind). */
import type { ResultRenderer } from './result-output.js';
import { adoptionRenderer } from './commands/adoption-command.js';
import { frictionRenderer } from './commands/friction-command.js';
import { funnelRenderer } from './commands/funnel-command.js';
import { pathsRenderer } from './commands/paths-command.js';
import { retentionRenderer } from './commands/retention-command.js';
import { segmentRenderer } from './commands/segment-command.js';
import { trendsRenderer } from './commands/trends-command.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a heterogeneous table keyed by `kind`
export const RESULT_RENDERERS: Readonly<Record<string, ResultRenderer<any>>> = {
  funnel: funnelRenderer,
  adoption: adoptionRenderer,
  friction: frictionRenderer,
  paths: pathsRenderer,
  retention: retentionRenderer,
  trends: trendsRenderer,
  segment: segmentRenderer,
};
