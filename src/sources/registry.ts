/** Every source's file reader, by id. Detection asks each one; the most confident wins. */
import type { SourceId } from '../events/canonical-event.js';
import type { SourceReader } from './source-reader.js';
import { genericReader } from './generic/generic-reader.js';
import { heapReader } from './heap/heap-reader.js';
import { fullstoryReader } from './fullstory/fullstory-reader.js';
import { amplitudeReader } from './amplitude/amplitude-reader.js';
import { mixpanelReader } from './mixpanel/mixpanel-reader.js';
import { posthogReader } from './posthog/posthog-reader.js';
import { ga4Reader } from './ga4/ga4-reader.js';

export const READERS = {
  fullstory: fullstoryReader,
  amplitude: amplitudeReader,
  mixpanel: mixpanelReader,
  posthog: posthogReader,
  ga4: ga4Reader,
  heap: heapReader,
  generic: genericReader,
} satisfies Partial<Record<SourceId, SourceReader>>;

export function readerFor(id: string): SourceReader | undefined {
  return (READERS as Record<string, SourceReader>)[id];
}

export function allReaders(): SourceReader[] {
  return Object.values(READERS);
}
