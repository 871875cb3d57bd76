/** Test helper for differential tests: the same dataset in several warehouses (of either engine). */
import type { EngineSession } from '../analyses/analysis-kind.js';
import type { TestEvent } from './analysis-events.js';
import { insertEvents, tagPerson } from './engine-warehouse.js';

/** Replaces the events and tags of both warehouses with `events` (p1 tagged internal, p2 bot). */
export async function loadDataset(sessions: readonly EngineSession[], events: readonly TestEvent[]): Promise<void> {
  for (const s of sessions) {
    if (s.engine === 'clickhouse') {
      await s.clickhouse.command('TRUNCATE TABLE events');
      await s.clickhouse.command('TRUNCATE TABLE person_tags');
    } else {
      await s.connection.run('DELETE FROM events');
      await s.connection.run('DELETE FROM person_tags');
    }
    await insertEvents(s, events);
    await tagPerson(s, 'p1', 'internal');
    await tagPerson(s, 'p2', 'bot');
  }
}
