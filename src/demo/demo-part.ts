/**
 * One part of a demo run: the whole simulation (cheap, deterministic), writing only the given tools' files. Two
 * parts run side by side in worker threads, each replaying the same simulation, so JSON building and
 * compression use both cores while the output stays byte-identical to a single-threaded run.
 */
import { join } from 'node:path';
import type { Tool } from './catalog.js';
import type { DemoWindow } from './clock.js';
import { Observer, type PlantedBehaviour } from './ground-truth.js';
import { MAX_VISIT_MS, runVisit } from './journeys.js';
import type { EventContext, SimEvent, ToolWriter } from './model.js';
import { ensureDir } from './output.js';
import { planPeople } from './population.js';
import { loadRecordMasker, type DemoMasking, type DemoRecordMasker } from './record-masking.js';
import { scheduleVisits } from './schedule.js';
import { AmplitudeWriter } from './writers/amplitude-writer.js';
import { FullstoryWriter } from './writers/fullstory-writer.js';
import { Ga4Writer } from './writers/ga4-writer.js';
import { HeapWriter } from './writers/heap-writer.js';
import { MixpanelWriter } from './writers/mixpanel-writer.js';
import { PosthogWriter } from './writers/posthog-writer.js';

export interface PartInput {
  /** Staging folder: each tool writes into `<staging>/<tool>/`. */
  readonly staging: string;
  readonly seed: number;
  readonly people: number;
  readonly window: DemoWindow;
  readonly tools: readonly Tool[];
  /** Count what the simulation does for the ground truth (one part does). */
  readonly observe: boolean;
  /** Masks every record before it is written (record-masking.ts); absent: records are written as generated. */
  readonly masking?: DemoMasking | undefined;
}

export interface PartResult {
  readonly events: Partial<Record<Tool, number>>;
  readonly files: Partial<Record<Tool, string[]>>;
  readonly ga4IntradayRows: number;
  readonly behaviours: PlantedBehaviour[] | null;
  readonly people: Readonly<Record<string, number>>;
}

function createWriter(tool: Tool, root: string, seed: number, window: DemoWindow, masker: DemoRecordMasker | undefined): ToolWriter {
  const dir = join(root, tool);
  ensureDir(dir);
  switch (tool) {
    case 'fullstory':
      return new FullstoryWriter(dir, seed, window, masker);
    case 'amplitude':
      return new AmplitudeWriter(dir, seed, window, masker);
    case 'mixpanel':
      return new MixpanelWriter(dir, seed, window, masker);
    case 'heap':
      return new HeapWriter(dir, seed, window, masker);
    case 'posthog':
      return new PosthogWriter(dir, seed, window, masker);
    case 'ga4':
      return new Ga4Writer(dir, seed, window, masker);
  }
}

export async function generatePart(input: PartInput): Promise<PartResult> {
  const { staging, seed, people, window, tools } = input;
  const writers: Partial<Record<Tool, ToolWriter>> = {};
  const masker = input.masking === undefined ? undefined : await loadRecordMasker(input.masking);
  for (const tool of tools) writers[tool] = createWriter(tool, staging, seed, window, masker);
  const list = tools.map((t) => writers[t]!);
  const observer = input.observe ? new Observer(window) : undefined;
  const emit = (tool: Tool, ev: SimEvent, ctx: EventContext): void => {
    if (ev.t - ctx.visit.start > MAX_VISIT_MS - 60_000) throw new Error(`demo visit ${ctx.visit.seq} runs longer than MAX_VISIT_MS`);
    writers[tool]?.emit(ev, ctx);
    observer?.observe(tool, ev, ctx);
  };

  const planned = planPeople(seed, people, window);
  const visits = scheduleVisits(seed, planned, window);
  let flushedAt = Number.NEGATIVE_INFINITY;
  for (const visit of visits) {
    // Visits come in start order and last less than MAX_VISIT_MS: records older than that are final.
    if (visit.start - flushedAt >= 20 * 60_000) {
      const watermark = visit.start - MAX_VISIT_MS;
      await Promise.all(list.map((w) => w.flush(watermark)));
      flushedAt = visit.start;
    }
    runVisit(visit, seed, window, emit);
    visit.toolState = undefined;
  }
  const written = await Promise.all(list.map((w) => w.finish()));

  const kinds = { existing: 0, new: 0, visitor: 0, withMobileApp: 0, withSeveralWebDevices: 0 };
  for (const { person } of planned) {
    kinds[person.kind]++;
    if (person.appDevice !== null) kinds.withMobileApp++;
    if (person.webDevices.length > 1) kinds.withSeveralWebDevices++;
  }
  return {
    events: Object.fromEntries(tools.map((t) => [t, writers[t]!.count])),
    files: Object.fromEntries(tools.map((t, i) => [t, written[i]!])),
    ga4IntradayRows: writers.ga4 instanceof Ga4Writer ? writers.ga4.intradayRows : 0,
    behaviours: observer?.behaviours() ?? null,
    people: {
      simulated: people,
      signed_up_before_window: kinds.existing,
      signed_up_in_window: kinds.new,
      visitors_never_signing_up: kinds.visitor,
      with_mobile_app: kinds.withMobileApp,
      with_several_web_devices: kinds.withSeveralWebDevices,
    },
  };
}
