/**
 * Renders a vega-lite specification to SVG in Node, headless (no canvas: text widths are estimated from
 * character counts). The output is deterministic: the same spec gives the same bytes (tested).
 */
import type * as Vega from 'vega';
import type { TopLevelSpec, compile as Compile } from 'vega-lite';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';

/**
 * vega numbers gradients and clip paths from a process-wide counter, so the second render of the same chart
 * would differ: ids are renamed after the chart and their order in the file (which also keeps them unique when
 * several charts are inlined in one HTML page).
 */
export function stableIds(svg: string, name: string): string {
  const prefix = name.replace(/[^A-Za-z0-9_-]/g, '-');
  const ids = [...new Set([...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!))];
  if (ids.length === 0) return svg;
  const renamed = new Map(ids.map((id, i) => [id, `${prefix}-${i + 1}`]));
  const escaped = ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return svg.replace(new RegExp(`(id="|url\\(#|href="#)(${escaped})(?=[")])`, 'g'), (_, lead: string, id: string) => `${lead}${renamed.get(id)!}`);
}

interface Renderer {
  readonly vega: typeof Vega;
  readonly compile: typeof Compile;
}
let renderer: Promise<Renderer> | undefined;

/**
 * vega and vega-lite, loaded on the first chart: together they take about 0.5 s to load, which every other command
 * (an import, a query, `--version`) would otherwise pay at start.
 */
function loadRenderer(): Promise<Renderer> {
  renderer ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vegaLite]) => ({ vega, compile: vegaLite.compile }));
  return renderer;
}

/** vega-lite's warnings about a spec (a sort it drops, a conflicting scale): tests require none for the report's charts. */
export async function compileWarnings(spec: object): Promise<string[]> {
  const { compile } = await loadRenderer();
  const warnings: string[] = [];
  compile(spec as TopLevelSpec, { logger: collectingLogger(warnings) });
  return warnings;
}

function collectingLogger(warnings: string[]): Parameters<typeof Compile>[1] extends infer O ? (O extends { logger?: infer L } ? NonNullable<L> : never) : never {
  const logger = {
    level: () => logger,
    info: () => logger,
    debug: () => logger,
    warn: (...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    error: (...args: unknown[]) => {
      throw new Error(args.map(String).join(' '));
    },
  };
  return logger as never;
}

export async function renderSvg(spec: object, name = 'chart'): Promise<string> {
  const { vega, compile } = await loadRenderer();
  let view: Vega.View | undefined;
  try {
    // Warnings go nowhere here (stdout is for results); compileWarnings lets tests keep the specs clean.
    const compiled = compile(spec as TopLevelSpec, { logger: collectingLogger([]) }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    return `${stableIds(await view.toSVG(), name)}\n`;
  } catch (err) {
    throw new UsageLabError('report_chart_failed', `chart ${name} could not be rendered: ${err instanceof Error ? err.message : String(err)}`, {
      exitCode: EXIT.internal,
      cause: err,
      hint: 'this is likely a bug in usagelab; please report it',
    });
  } finally {
    view?.finalize();
  }
}
