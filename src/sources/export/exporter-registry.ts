/** Every source that can be exported from its vendor's API, by id. FullStory, Heap and GA4 register here later. */
import { amplitudeExporterDefinition } from '../amplitude/amplitude-export.js';
import { mixpanelExporterDefinition } from '../mixpanel/mixpanel-export.js';
import { posthogExporterDefinition } from '../posthog/posthog-export.js';
import type { ExporterDefinition } from './exporter-definition.js';

export const EXPORTERS: Readonly<Record<string, ExporterDefinition>> = {
  amplitude: amplitudeExporterDefinition,
  mixpanel: mixpanelExporterDefinition,
  posthog: posthogExporterDefinition,
};

export function exporterFor(source: string): ExporterDefinition | undefined {
  return Object.prototype.hasOwnProperty.call(EXPORTERS, source) ? EXPORTERS[source] : undefined;
}
