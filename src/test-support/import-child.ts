/** Child process for the crash test: imports the files named in argv into the workspace argv[2]. */
import { openWorkspace } from '../library/workspace.js';

const [dir, ...files] = process.argv.slice(2);
const ws = await openWorkspace(dir, { env: {} });
process.stdout.write('started\n');
await ws.import({ files });
ws.close();
process.stdout.write('done\n');
