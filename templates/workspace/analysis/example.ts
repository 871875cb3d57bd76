// An analysis script on the usagelab library: run with `npx tsx analysis/example.ts` from the workspace.
import { openWorkspace } from 'usagelab';

const ws = await openWorkspace('.');
try {
  const rows = await ws.sql(
    `SELECT event_name, count(*) AS events, count(DISTINCT person_id) AS people
     FROM events GROUP BY event_name ORDER BY events DESC LIMIT 10`,
  );
  console.table(rows);
} finally {
  ws.close();
}
