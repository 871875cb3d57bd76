/**
 * Which windows a run exports. Three modes:
 *  - range (--from/--to): every window of the range; with --resume, windows already complete are skipped;
 *  - incremental (no --from): from the newest exported instant minus the source's lookback (late data), plus
 *    any window that failed before, up to what the vendor serves as complete;
 *  - resume (--resume alone): the last run's range again, skipping the windows it (or an earlier resume of it)
 *    completed — so a crash or a partial run is finished without re-exporting what is done.
 * The end is cut where the vendor's data is not yet complete (Amplitude's 2-hour lag, today for Mixpanel).
 */
import { UsageLabError } from '../../core/errors.js';
import type { ExportManifest } from './export-manifest.js';
import type { WindowingRules } from './exporter.js';
import { boundaryEnd, boundaryStart, floorToGrid, makeWindow, parseRangeBoundary, planWindows, type ExportWindow } from './export-window.js';

export type PlanMode = 'range' | 'incremental' | 'resume';

export interface PlanRequest {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly resume?: boolean | undefined;
}

export interface ExportPlan {
  readonly mode: PlanMode;
  readonly from: number;
  readonly to: number;
  /** Windows to fetch, in time order. */
  readonly windows: readonly ExportWindow[];
  /** Windows of the range left alone because they are complete (resume). */
  readonly skipped: readonly ExportWindow[];
  /** Set when the requested end lay beyond what the vendor serves as complete. */
  readonly cut: { readonly requestedTo: number; readonly availableUntil: number } | null;
  /** Complete windows exported at or after this instant count as done for a later bare --resume. */
  readonly doneSince: number;
}

/** The end of the newest final window (provisional windows are exported again, so they do not count). */
function latestExported(manifest: ExportManifest): number | undefined {
  let latest: number | undefined;
  for (const w of manifest.windows) if (w.status === 'complete' && w.provisional !== true) latest = Math.max(latest ?? -Infinity, Date.parse(w.end));
  return latest;
}

export function planExport(manifest: ExportManifest, rules: WindowingRules, request: PlanRequest, now: number, source: string): ExportPlan {
  const grid = rules.grid;
  const available = rules.availableUntil(now);
  const resume = request.resume === true;
  const hasRange = request.from !== undefined || request.to !== undefined;
  let mode: PlanMode;
  let from: number;
  let to: number;
  let doneSince = now;
  let skipCompleteSince: number | undefined;
  const extra: ExportWindow[] = [];

  if (resume && !hasRange) {
    const last = manifest.last_run;
    if (last === null) {
      throw new UsageLabError('export_nothing_to_resume', `no earlier export of ${source} to resume`, {
        place: { source },
        hint: `start one with \`usagelab export ${source} --from YYYY-MM-DD\``,
      });
    }
    mode = 'resume';
    from = Date.parse(last.from);
    to = Date.parse(last.to);
    skipCompleteSince = Date.parse(last.done_since);
    doneSince = skipCompleteSince;
  } else if (request.from !== undefined) {
    mode = 'range';
    from = boundaryStart(parseRangeBoundary(request.from, '--from'), grid, '--from');
    to = request.to === undefined ? available : boundaryEnd(parseRangeBoundary(request.to, '--to'), grid, '--to');
    if (resume) {
      skipCompleteSince = -Infinity;
      doneSince = 0;
    }
  } else {
    const latest = latestExported(manifest);
    const firstProvisional = Math.min(...manifest.windows.filter((w) => w.provisional === true).map((w) => Date.parse(w.start)));
    if (latest === undefined && !Number.isFinite(firstProvisional)) {
      throw new UsageLabError('export_from_required', `nothing of ${source} has been exported yet: say where to start`, {
        place: { source, field: '--from' },
        hint: `usagelab export ${source} --from YYYY-MM-DD (later runs continue from the last exported window)`,
      });
    }
    mode = 'incremental';
    // Only provisional windows so far: continue from the first of them.
    from = latest === undefined ? firstProvisional : floorToGrid(latest - rules.lookbackMs, grid);
    to = request.to === undefined ? available : boundaryEnd(parseRangeBoundary(request.to, '--to'), grid, '--to');
    // Windows that failed earlier or are still provisional and lie before the lookback are exported again too.
    for (const w of manifest.windows) {
      if ((w.status === 'failed' || w.provisional === true) && Date.parse(w.start) < from) extra.push(makeWindow(Date.parse(w.start), Date.parse(w.end), grid));
    }
  }

  let cut: ExportPlan['cut'] = null;
  if (to > available) {
    cut = { requestedTo: to, availableUntil: available };
    to = available;
  }
  if (request.from !== undefined && request.to !== undefined && from >= to && cut === null) {
    throw new UsageLabError('export_range_invalid', `--from ${request.from} is after --to ${request.to}`, { place: { field: '--from' } });
  }
  const all = [...extra, ...(from < to ? planWindows(from, to, grid) : [])].sort((a, b) => a.start - b.start);
  const windows: ExportWindow[] = [];
  const skipped: ExportWindow[] = [];
  for (const w of all) {
    const done =
      skipCompleteSince !== undefined &&
      manifest.windows.some((e) => e.key === w.key && e.status === 'complete' && e.provisional !== true && Date.parse(e.exported_at) >= skipCompleteSince!);
    (done ? skipped : windows).push(w);
  }
  return { mode, from, to: Math.max(from, to), windows, skipped, cut, doneSince };
}
