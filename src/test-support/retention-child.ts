/** Child process for the retention kill test: `retention-child.ts <workspace> <now ms>` runs retention apply. */
import { applyRetention } from '../library/retention-apply.js';
import { openWorkspace } from '../library/workspace.js';

const [dir, now] = process.argv.slice(2);
const ws = await openWorkspace(dir, { env: {} });
process.stdout.write('started\n');
await applyRetention(ws, { now: Number(now), onFileDeleted: (d) => process.stdout.write(`deleted ${d.file}\n`) });
ws.close();
process.stdout.write('done\n');
