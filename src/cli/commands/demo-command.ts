import type { ExitCode } from '../../core/exit-codes.js';
import { EXIT } from '../../core/exit-codes.js';
import { runDemo } from '../../library/run-demo.js';
import { printJson, type Io } from '../output.js';
import { importProgressBar } from '../progress-bar.js';
import { summarizeImport } from './import-command.js';
import { RESULT_RENDERERS } from '../result-renderers.js';

/** `usagelab demo [dir]`: synthetic exports of all six tools → import → saved queries. */
export async function demoCommand(io: Io, dir: string, flags: { json?: boolean; seed?: string; people?: string }): Promise<ExitCode> {
  const bar = importProgressBar(io);
  const started = Date.now();
  const run = await runDemo(dir, {
    ...(flags.seed === undefined ? {} : { seed: Number(flags.seed) }),
    ...(flags.people === undefined ? {} : { people: Number(flags.people) }),
    onProgress: bar.update,
    onStage: (stage) => io.stderr(`demo: ${stage}\n`),
  });
  bar.stop();
  if (flags.json) {
    printJson(io, { dir: run.dir, groundTruth: run.manifest.groundTruthFile, events: run.manifest.events, imported: run.imported, queries: run.queries, report: run.report });
    return EXIT.ok;
  }
  io.stdout(`demo workspace: ${run.dir}\n`);
  io.stdout(`synthetic exports: ${run.manifest.totalEvents.toLocaleString('en-US')} events of ${run.manifest.people.toLocaleString('en-US')} people in ${run.manifest.exportsDir}\n`);
  io.stdout(`planted behaviours (ground truth): ${run.manifest.groundTruthFile}\n\n`);
  io.stdout(summarizeImport(run.imported));
  for (const q of run.queries) io.stdout(`\n${q.file}\n${RESULT_RENDERERS[q.result.kind]?.table(q.result) ?? `${JSON.stringify(q.result, null, 2)}\n`}`);
  io.stdout(`\nusage report for ${run.report.month}: ${run.report.markdown}\n  HTML: ${run.report.html}\n  insights: ${run.report.insights.markdown}\n`);
  io.stdout(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s. Next: cd ${dir} && npx usagelab check\n`);
  return EXIT.ok;
}
