/**
 * The settings a retention run uses: the definition's keys, else its preset's, else our defaults
 * (docs/analyses/retention.md#presets). Keeps track of which keys the preset filled, for the result.
 */
import type { WhereFilter } from '../common/definition-parts.js';
import type { CalendarInterval } from '../common/time-buckets.js';
import type { RetentionDefinition, RetentionEventRef } from './retention-definition.js';
import { PRESET_SETTINGS, RETENTION_DEFAULTS, type CohortType, type RetentionPreset } from './retention-presets.js';

export interface ResolvedEventRef {
  event: string;
  where: WhereFilter;
}

/** Every setting the computation uses, defaults and preset filled in. */
export interface RetentionSettings {
  target: ResolvedEventRef;
  returning: ResolvedEventRef;
  cohort: CohortType;
  interval: CalendarInterval;
  intervals: number;
  cumulative: boolean;
  min_occurrences: number;
  rolling: boolean;
  round_to_hour: boolean;
  preset: RetentionPreset | null;
  /** The keys whose value came from the preset (not from the definition, not our default). */
  from_preset: string[];
}

const resolveRef = (ref: RetentionEventRef): ResolvedEventRef => ({ event: ref.event, where: { ...(ref.where ?? {}) } });

export function retentionSettings(def: RetentionDefinition): RetentionSettings {
  const preset = def.preset ?? null;
  const fromPreset: string[] = [];
  const presetValues = preset === null ? {} : PRESET_SETTINGS[preset];
  function pick<K extends 'cohort' | 'interval' | 'rolling' | 'round_to_hour' | 'cumulative'>(key: K, explicit: RetentionDefinition[K]): NonNullable<RetentionDefinition[K]> {
    if (explicit !== undefined) return explicit as NonNullable<RetentionDefinition[K]>;
    const fromThePreset = presetValues[key];
    if (fromThePreset !== undefined) {
      fromPreset.push(key);
      return fromThePreset as NonNullable<RetentionDefinition[K]>;
    }
    return RETENTION_DEFAULTS[key] as NonNullable<RetentionDefinition[K]>;
  }
  let returning: ResolvedEventRef;
  if (def.returning !== undefined) returning = resolveRef(def.returning);
  else if (presetValues.returning !== undefined) {
    fromPreset.push('returning');
    returning = { event: presetValues.returning, where: {} };
  } else returning = resolveRef(def.target);
  const cohort = pick('cohort', def.cohort);
  const interval = pick('interval', def.interval);
  const rolling = pick('rolling', def.rolling);
  // A preset's hour rounding belongs to its rolling windows: it does not apply when the definition turns them off.
  const round = def.round_to_hour === undefined && !rolling ? false : pick('round_to_hour', def.round_to_hour);
  const cumulative = pick('cumulative', def.cumulative);
  return {
    target: resolveRef(def.target),
    returning,
    cohort,
    interval,
    intervals: def.intervals ?? RETENTION_DEFAULTS.intervals,
    cumulative,
    min_occurrences: def.min_occurrences ?? RETENTION_DEFAULTS.min_occurrences,
    rolling,
    round_to_hour: round,
    preset,
    from_preset: fromPreset,
  };
}

