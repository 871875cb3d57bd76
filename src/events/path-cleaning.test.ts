import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanPath, type PathCleaning } from './path-cleaning.js';
import { DuckdbSession } from '../warehouse/duckdb/duckdb-connection.js';
import { pathCleaningMacro } from '../warehouse/duckdb/path-cleaning-sql.js';

const defaults: PathCleaning = { collapse_ids: true, rules: [] };
const CASES: [string | null, string | null][] = [
  ['https://app.acme.io/projects/123/board?utm_source=x#top', '/projects/:id/board'],
  ['https://app.acme.io/', '/'],
  ['https://app.acme.io', '/'],
  ['/merchant/550e8400-e29b-41d4-a716-446655440000/dashboard/', '/merchant/:id/dashboard'],
  ['/files/0123456789abcdef0123/edit', '/files/:id/edit'],
  ['/invite/aZ3kP9qR2mX7vB1nL5tY8w', '/invite/:id'],
  ['/blog/how-to-plan-sprints-in-2024', '/blog/how-to-plan-sprints-in-2024'],
  ['/settings/billing', '/settings/billing'],
  ['HomeScreen', 'HomeScreen'],
  ['', null],
  [null, null],
];

describe('path cleaning', () => {
  let session: DuckdbSession;
  beforeAll(async () => {
    session = await DuckdbSession.open({ path: ':memory:' });
  });
  afterAll(() => session.close());

  it.each(CASES)('%s → %s', (url, expected) => {
    expect(cleanPath(url, defaults)).toBe(expected);
  });

  it('the SQL form gives the same paths as the TypeScript form, with project rules', async () => {
    const cleaning: PathCleaning = { collapse_ids: true, rules: [{ pattern: '^/w/[^/]+', replacement: '/w/:workspace' }] };
    await session.run(pathCleaningMacro(cleaning));
    const urls = [...CASES.map(([u]) => u), 'https://x.io/w/acme/projects/42', '/w/beta'];
    for (const url of urls) {
      const rows = await session.all<{ p: string | null }>(`SELECT ul_clean_path(${url === null ? 'NULL' : `'${url}'`}) AS p`);
      expect(rows[0]!.p).toBe(cleanPath(url, cleaning));
    }
    expect(cleanPath('https://x.io/w/acme/projects/42', cleaning)).toBe('/w/:workspace/projects/:id');
  });
});
