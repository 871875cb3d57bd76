/**
 * `usagelab demo` data: about three months of synthetic usage of "Acme Boards" written in the six tools' native
 * export formats under `<dir>/exports/<tool>/`, plus `<dir>/demo-ground-truth.json` naming the behaviours planted
 * in it. Seeded and deterministic: the same seed, size and window give byte-identical files.
 *
 * Everything is written into a staging folder first and swapped into place tool folder by tool folder, so a
 * failed run leaves the previous demo exports untouched and a re-run replaces them (stale files included).
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UsageLabError } from '../core/errors.js';
import { traceStep } from '../core/statement-trace.js';
import { AREA_TOOL, TOOLS, type Tool } from './catalog.js';
import { demoWindow, utcDate } from './clock.js';
import { generatePart, type PartInput, type PartResult } from './demo-part.js';
import type { PlantedBehaviour } from './ground-truth.js';
import { ensureDir } from './output.js';
import type { DemoMasking } from './record-masking.js';
import { AMPLITUDE_APP_ID } from './writers/amplitude-writer.js';
import { GA4_PROPERTY_TIME_ZONE } from './writers/ga4-writer.js';
import { HEAP_DUMP_ID } from './writers/heap-writer.js';

export interface DemoOptions {
  /** PRNG seed (default 42). */
  seed?: number;
  /** Simulated people (default 5,500). */
  people?: number;
  /** First day, YYYY-MM-DD (default: `months` complete months before `now`). */
  start?: string;
  /** Calendar months of data (default 3). */
  months?: number;
  /** "Today" for the default window (default: the current time). */
  now?: Date;
  /**
   * Write with two worker threads (default true). Both replay the same simulation and write different tools,
   * so the files are the same either way; false runs everything on the calling thread.
   */
  parallel?: boolean;
  /**
   * Masks every vendor record before it is written (src/demo/record-masking.ts); `usagelab demo` passes the
   * workspace's PII policy, as the exporters use it. Absent: the records are written as generated.
   */
  masking?: DemoMasking;
}

export interface GroundTruth {
  readonly generator: string;
  readonly product: string;
  readonly seed: number;
  readonly window: { readonly start: string; readonly end: string; readonly months: readonly string[] };
  readonly people: Readonly<Record<string, number>>;
  readonly events: Readonly<Record<Tool, number>>;
  readonly ga4IntradayDuplicateRows: number;
  readonly coverage: Readonly<Record<Tool, string>>;
  readonly identity: readonly string[];
  readonly behaviours: readonly PlantedBehaviour[];
}

export interface DemoManifest {
  /** Absolute paths. */
  readonly dir: string;
  readonly exportsDir: string;
  readonly groundTruthFile: string;
  readonly seed: number;
  readonly window: GroundTruth['window'];
  /** Simulated people. */
  readonly people: number;
  /** Events per tool (records a reader should import; GA4 intraday duplicates not counted). */
  readonly events: Readonly<Record<Tool, number>>;
  readonly totalEvents: number;
  readonly ga4IntradayDuplicateRows: number;
  /** Files written per tool, relative to `exportsDir/<tool>/`. */
  readonly files: Readonly<Record<Tool, readonly string[]>>;
  readonly groundTruth: GroundTruth;
  readonly elapsedMs: number;
}

export const DEMO_DEFAULTS = { seed: 42, people: 5_500, months: 3 } as const;

const COVERAGE: Record<Tool, string> = {
  ga4: 'Marketing site www.acmeboards.com (/, /pricing, /features, /customers, /blog/:slug, /security) and the sign_up conversion on app.acmeboards.com/signup (cross-domain, same client id); BigQuery export, property time zone America/New_York.',
  posthog: 'Core web app app.acmeboards.com: /signup, /onboarding/:step, /projects, /projects/:id, /projects/:id/board, /projects/:id/list, /projects/:id/automations; funnel events signup, create_project, invite_teammate, upgrade (server-side, posthog-node); onboarding_* events.',
  amplitude: 'Reports and inbox in the web app: /reports, /reports/:id, /inbox (browser SDK autocapture incl. frustration interactions; report_viewed, report_exported).',
  fullstory: 'Settings and integrations in the web app: /settings/profile, /settings/team, /settings/billing, /integrations, /integrations/:name (segment export).',
  heap: 'Pilot on templates and the timeline: /templates, /templates/:slug, /projects/:id/timeline (Heap Connect S3 sync).',
  mixpanel: 'iOS and Android apps (Screen Viewed, Card Moved, Comment Added, Notification Opened, Task Completed, Logged In, $ae_*) and the help centre help.acmeboards.com (JS autocapture).',
};

const IDENTITY = [
  'The product user id (usr_…) is shared by every tool once a person is known: PostHog distinct_id after $identify, Amplitude user_id, Mixpanel distinct_id/$user_id, FullStory UserAppKey, Heap users.identity, GA4 user_id.',
  'Each tool has its own device ids: FullStory UserId (int64, IndvId per person), Amplitude device_id, Mixpanel $device_id, PostHog $device_id, Heap user_id (int64), GA4 user_pseudo_id.',
  'New signups browse the marketing site (GA4) and the /signup page (PostHog) anonymously; at signup PostHog gets $identify ($anon_distinct_id = the device id) and GA4 a sign_up event with user_id on the same client id.',
  'Mobile app installs open anonymously ($ae_first_open, distinct_id "$device:<id>") and log in (Logged In, $user_id set).',
  'Some people use several devices (desktop + phone browser, a second desktop, the mobile app). In Heap a second device keeps its own Heap user on events and is mapped by user_migrations.',
  'Visitors who never sign up stay anonymous and cannot be linked across tools, so resolved persons exceed simulated people by roughly the number of visitors who opened /signup.',
];

/**
 * How the tools are split over the two workers, by the measured cost of building, masking and compressing their
 * records (one tool at a time, less the ~1 s simulation each part replays): PostHog 10-12 s for 290k of the 532k
 * events, Amplitude 4.8 s, GA4 4.5 s, Mixpanel 4 s, FullStory 2.8 s, Heap 1 s; the ground-truth observer goes with
 * the second. Generating, the two parts finish within 0.2-1.3 s of each other. (Both writing every other PostHog
 * weekly file, the rest split around it, was no faster: 18.3 / 20.2 / 21.2 s against 17.8 / 18.3 / 20.7 s.) The
 * same files whatever the split.
 */
const PARTS: readonly (readonly Tool[])[] = [
  ['posthog', 'fullstory'],
  ['ga4', 'amplitude', 'mixpanel', 'heap'],
];

/**
 * A larger young generation: the writers make short-lived strings at a high rate, and with V8's default the
 * scavenger runs constantly and promotes records that die a moment later.
 */
const HEAP = { maxYoungGenerationSizeMb: 64 };

/**
 * Runs a part in a worker thread. From compiled JavaScript the worker loads demo-worker.js; from TypeScript
 * sources (tests, tsx) it registers tsx in the worker first, since a worker cannot inherit the loader.
 */
function runInWorker(input: PartInput, started: Worker[]): Promise<PartResult> {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const entry = new URL(fromSource ? './demo-worker.ts' : './demo-worker.js', here);
  const worker = fromSource
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: input, resourceLimits: HEAP })
    : new Worker(entry, { workerData: input, resourceLimits: HEAP });
  started.push(worker);
  return new Promise((resolvePart, reject) => {
    let settled = false;
    worker.once('message', (msg: { result?: PartResult; error?: string }) => {
      settled = true;
      if (msg.result !== undefined) resolvePart(msg.result);
      else reject(new Error(`demo generation failed in a worker: ${msg.error}`));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`demo worker exited with code ${code} before finishing`));
    });
  });
}

function validate(options: DemoOptions): { seed: number; people: number; months: number } {
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  const people = options.people ?? DEMO_DEFAULTS.people;
  const months = options.months ?? DEMO_DEFAULTS.months;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageLabError('demo_option_invalid', `seed must be an integer from 0 to 4294967295, got ${seed}`, { hint: 'for example --seed 42' });
  }
  if (!Number.isInteger(people) || people < 1 || people > 1_000_000) {
    throw new UsageLabError('demo_option_invalid', `people must be an integer from 1 to 1000000, got ${people}`, { hint: 'the default is 5500' });
  }
  return { seed, people, months };
}

/** Moves each staged tool folder over the live one (old one removed), then drops the staging folder. */
function swapIntoPlace(staging: string, exportsDir: string): void {
  for (const tool of TOOLS) {
    const live = join(exportsDir, tool);
    const old = join(staging, `${tool}.previous`);
    if (existsSync(live)) renameSync(live, old);
    renameSync(join(staging, tool), live);
    rmSync(old, { recursive: true, force: true });
  }
  rmSync(staging, { recursive: true, force: true });
}

export async function generateDemo(target: string, options: DemoOptions = {}): Promise<DemoManifest> {
  const began = performance.now();
  const dir = resolve(target);
  const { seed, people, months } = validate(options);
  const window = demoWindow({ months, now: options.now ?? new Date(), ...(options.start === undefined ? {} : { start: options.start }) });
  const exportsDir = join(dir, 'exports');
  const staging = join(exportsDir, `.demo-staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  ensureDir(staging);
  // Every tool gets its folder, even when a small run gives it no events.
  for (const tool of TOOLS) ensureDir(join(staging, tool));

  const workers: Worker[] = [];
  try {
    const parallel = options.parallel ?? true;
    const results = await Promise.all(
      PARTS.map((tools, i) => {
        const input: PartInput = { staging, seed, people, window, tools, observe: i === PARTS.length - 1, masking: options.masking };
        const started = Date.now();
        return (parallel ? runInWorker(input, workers) : generatePart(input)).then((result) => {
          traceStep(`demo generation of ${tools.join(', ')}`, started);
          return result;
        });
      }),
    );
    const events = Object.fromEntries(TOOLS.map((t) => [t, results.find((r) => r.events[t] !== undefined)!.events[t]!])) as Record<Tool, number>;
    const files = Object.fromEntries(TOOLS.map((t) => [t, results.find((r) => r.files[t] !== undefined)!.files[t]!])) as Record<Tool, string[]>;
    const ga4Intraday = results.reduce((n, r) => n + r.ga4IntradayRows, 0);
    const groundTruth: GroundTruth = {
      generator: 'usagelab demo (src/demo)',
      product: 'Acme Boards — a made-up project-management SaaS',
      seed,
      window: { start: utcDate(window.start), end: utcDate(window.end - 1), months: window.months },
      people: results[0]!.people,
      events,
      ga4IntradayDuplicateRows: ga4Intraday,
      coverage: COVERAGE,
      identity: IDENTITY,
      behaviours: results.find((r) => r.behaviours !== null)!.behaviours!,
    };

    swapIntoPlace(staging, exportsDir);
    const groundTruthFile = join(dir, 'demo-ground-truth.json');
    const tmp = `${groundTruthFile}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(groundTruth, null, 2)}\n`);
    renameSync(tmp, groundTruthFile);

    return {
      dir,
      exportsDir,
      groundTruthFile,
      seed,
      window: groundTruth.window,
      people,
      events,
      totalEvents: Object.values(events).reduce((a, b) => a + b, 0),
      ga4IntradayDuplicateRows: ga4Intraday,
      files,
      groundTruth,
      elapsedMs: Math.round(performance.now() - began),
    };
  } catch (err) {
    // Stop the other part before removing the folder it writes into.
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Tools and the ids the demo's exports use, for docs and tests. */
export const DEMO_IDS = { amplitudeAppId: AMPLITUDE_APP_ID, heapDumpId: HEAP_DUMP_ID, ga4TimeZone: GA4_PROPERTY_TIME_ZONE, areaTool: AREA_TOOL } as const;
