/**
 * "Wrong region" for `usagelab check`: Amplitude, Mixpanel and PostHog keep each region's projects on their own
 * host, and a key sent to the wrong one is refused (401) or the host does not exist. When the configured host
 * refuses, the probe asks the source's other hosts once; a host that accepts the key means the region setting is
 * wrong, which is worth saying instead of "bad key".
 */
import { isUsageLabError, UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { ProbeOptions, ProbeResult } from './exporter-definition.js';

export interface RegionHost {
  /** The region id as the config spells it (`eu`). */
  readonly region: string;
  /** The vendor's base URL for it. */
  readonly base: string;
  /** The config line that selects it, e.g. `sources.amplitude.region: eu`. */
  readonly fix: string;
}

/** Refusals another region could explain: the key refused, or the host unknown. */
function regionCouldExplain(err: unknown): boolean {
  return isUsageLabError(err) && (err.code === 'export_auth_failed' || err.code === 'export_host_unreachable');
}

/**
 * Runs `attempt` against the configured base; if that is refused, against each other region's base (the
 * vendor's host, or options.regionEndpoints; none when the configured base is an override without those).
 */
export async function probeAcrossRegions(options: {
  readonly displayName: string;
  readonly source: string;
  readonly current: { readonly region: string; readonly base: string };
  readonly others: readonly RegionHost[];
  /** Whether the configured base is an override (a proxy or test server): vendor hosts are then not tried. */
  readonly overridden: boolean;
  readonly probe: ProbeOptions;
  readonly attempt: (base: string) => Promise<string>;
}): Promise<ProbeResult> {
  try {
    return { ok: true, detail: await options.attempt(options.current.base) };
  } catch (err) {
    if (!regionCouldExplain(err)) throw err;
    for (const other of options.others) {
      const base = options.probe.regionEndpoints?.[other.region] ?? (options.overridden ? undefined : other.base);
      if (base === undefined) continue;
      try {
        await options.attempt(base);
      } catch {
        continue;
      }
      throw new UsageLabError(
        'check_wrong_region',
        `${options.displayName} refused the credentials at ${options.current.base} (${options.current.region.toUpperCase()}) but accepts them at ${base} (${other.region.toUpperCase()})`,
        { exitCode: EXIT.usage, hint: `the project lives in ${options.displayName}'s ${other.region.toUpperCase()} region: set ${other.fix} in usagelab.yaml`, place: { source: options.source, field: other.fix.split(':')[0]! } },
      );
    }
    throw err;
  }
}
