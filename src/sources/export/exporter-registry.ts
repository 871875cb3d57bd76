/** Every source that can be exported from its vendor's API, by id. FullStory, Heap and GA4 register here later. */
import { amplitudeExporterDefinition } from '../amplitude/amplitude-export.js';
import { fullstoryExporterDefinition } from '../fullstory/fullstory-export.js';
import { ga4ExporterDefinition } from '../ga4/ga4-export.js';
import { heapExporterDefinition } from '../heap/heap-export.js';
import { mixpanelExporterDefinition } from '../mixpanel/mixpanel-export.js';
import { posthogExporterDefinition } from '../posthog/posthog-export.js';
import type { ExporterDefinition } from './exporter-definition.js';

export const EXPORTERS: Readonly<Record<string, ExporterDefinition>> = {
  amplitude: amplitudeExporterDefinition,
  fullstory: fullstoryExporterDefinition,
  ga4: ga4ExporterDefinition,
  heap: heapExporterDefinition,
  mixpanel: mixpanelExporterDefinition,
  posthog: posthogExporterDefinition,
};

export function exporterFor(source: string): ExporterDefinition | undefined {
  return Object.prototype.hasOwnProperty.call(EXPORTERS, source) ? EXPORTERS[source] : undefined;
}
