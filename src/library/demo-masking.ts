/**
 * How `usagelab demo` masks its synthetic vendor records before they land in exports/: with the exporters' own
 * masker (vendorRecordMasker, each tool's record layout), as `usagelab export` does with what a vendor API returns.
 * exports/ is where usagelab writes, and usagelab writes nothing there unmasked — the demo included.
 *
 * Speed: masking a record scans every string in it with every detector (~0.5 ms for a PostHog event), which would
 * multiply the demo's generation time several times over. But masking is member by member — each top-level field
 * (and each member of a JSON column with mapped children, like Mixpanel's and PostHog's `properties`) is masked on
 * its own, by its path and value only — and the demo's members repeat (the same person, page, device on many
 * events). So each member's masked value is remembered by (path, value), and only the members not seen lately are
 * masked, all of a record's at once, by the same masker. Ids and timestamps never repeat: on a path whose rule
 * leaves harmless text alone (probed once), a value in which no detector pattern occurs is its own masked value
 * and skips the masker. The output is byte-identical to masking the whole record: demo-masking.test.ts checks it
 * on hand-made records; on a 1,000-person demo (92,822 records, all six tools) no record differed.
 */
import type { PiiConfig } from '../core/config-schema.js';
import type { Tool } from '../demo/catalog.js';
import type { DemoMasking, DemoRecordMasker } from '../demo/record-masking.js';
import type { RecordTransform, VendorRecord } from '../sources/export/exporter.js';
import { parseLossless, stringifyLossless } from '../sources/export/lossless-json.js';
import type { RecordLayout } from '../sources/export/record-layout.js';
import { AMPLITUDE_RECORD_LAYOUT } from '../sources/amplitude/amplitude-export.js';
import { FULLSTORY_RECORD_LAYOUT } from '../sources/fullstory/fullstory-export.js';
import { GA4_RECORD_LAYOUT } from '../sources/ga4/ga4-export.js';
import { HEAP_EVENT_LAYOUT, HEAP_USER_LAYOUT } from '../sources/heap/heap-export.js';
import { MIXPANEL_RECORD_LAYOUT } from '../sources/mixpanel/mixpanel-export.js';
import { POSTHOG_RECORD_LAYOUT } from '../sources/posthog/posthog-export.js';
import { piiPolicy } from '../governance/pii-policy.js';
import { mayHoldFindings, type Scanners } from '../governance/pii-scanners.js';
import { vendorRecordMasker } from './export-source.js';

export interface DemoMaskingOptions {
  readonly pii: PiiConfig;
  /** The workspace's environment with .env (the hash key's variable). */
  readonly env: Record<string, string>;
}

/** The record layout each tool's exporter masks with (Heap: per table, as its sync exporter does). */
export function demoRecordLayout(tool: Tool, table: string): RecordLayout {
  switch (tool) {
    case 'amplitude':
      return AMPLITUDE_RECORD_LAYOUT;
    case 'fullstory':
      return FULLSTORY_RECORD_LAYOUT;
    case 'ga4':
      return GA4_RECORD_LAYOUT;
    case 'heap':
      return table === 'users' ? HEAP_USER_LAYOUT : HEAP_EVENT_LAYOUT;
    case 'mixpanel':
      return MIXPANEL_RECORD_LAYOUT;
    case 'posthog':
      return POSTHOG_RECORD_LAYOUT;
  }
}

/** Remembered values per member path; beyond this many that path's memory is cleared. */
const CAPACITY = 20_000;
/** Lookups after which a path that hardly ever repeats (ids, timestamps) stops being remembered. */
const TRIAL = 2_000;
/** A path repeating in fewer than this share of its trial lookups (ids, timestamps: none) is not remembered. */
const MIN_HIT_RATE = 0.01;
/** Marks a member the masker removed from the record. */
const ABSENT = Symbol('absent');
/** Marks a value not remembered. */
const UNKNOWN = Symbol('unknown');

/**
 * stringifyLossless's text, without its replacer (called for every member) when there is no bigint to write:
 * JSON.stringify refuses a bigint, and only then is the lossless writer needed.
 */
function stringifyFast(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (e instanceof TypeError) return stringifyLossless(value);
    throw e;
  }
}

/**
 * A non-text member value as a memory key: a scalar is its own key (a Map tells 1 from 1n and true from "true",
 * and -0 from 0 no more than JSON does); anything else is its lossless JSON text, which no scalar key equals.
 */
function valueKey(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? `j${stringifyFast(v)}` : v;
}

function isPlainObject(v: unknown): v is VendorRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The masked values of one member path, by value. Text values are their own key (no key to build); a path whose
 * values do not repeat (uuids, timestamps) is given up after a trial, so it neither costs lookups nor pushes out
 * values that do repeat.
 */
class PathMemory {
  /**
   * Whether masking leaves this path's text values alone when no detector pattern occurs in them (the path's
   * action is keep, mask or hash_if_pii, or a JSON member no rule names); undefined until probed.
   */
  cleanPasses: boolean | undefined;
  /** The same for finite numbers whose digits no detector pattern occurs in; undefined until probed. */
  cleanNumbersPass: boolean | undefined;
  private text = new Map<string, unknown>();
  private other = new Map<unknown, unknown>();
  /** The member's name as JSON text (a memory serves one name). */
  private key: string | undefined;
  private lookups = 0;
  private hits = 0;
  private off = false;

  get(value: unknown): unknown {
    if (this.off) return UNKNOWN;
    this.lookups++;
    const found = typeof value === 'string' ? this.text.get(value) : this.other.get(valueKey(value));
    if (found === undefined) {
      if (this.lookups >= TRIAL && this.hits < TRIAL * MIN_HIT_RATE) this.off = true;
      return UNKNOWN;
    }
    this.hits++;
    return found;
  }

  keyJson(name: string): string {
    return (this.key ??= JSON.stringify(name));
  }

  set(value: unknown, masked: unknown): void {
    if (this.off) return;
    // Map.get answers undefined for a miss, so an undefined result is not remembered (JSON has none anyway).
    if (masked === undefined) return;
    if (typeof value === 'string') {
      if (this.text.size >= CAPACITY) this.text = new Map();
      this.text.set(value, masked);
    } else {
      if (this.other.size >= CAPACITY) this.other = new Map();
      this.other.set(valueKey(value), masked);
    }
  }
}

type UnitPath = readonly [string] | readonly [string, string];

/** A text no detector pattern matches, no hash, no IP address: what a path's action does to harmless text. */
const PROBE = 'probe';

/** A test that no detector may find anything in a text — then scanning changes nothing (pii-scanners.ts). */
export function detectorGate(scanners: Scanners): (text: string) => boolean {
  return (text) => !mayHoldFindings(text, scanners);
}

/** A record masker with member values remembered, which can also mask some of a record's members alone. */
export interface MemoizedRecordMasker {
  /** The whole record, masked: exactly what `mask` gives. */
  readonly record: RecordTransform;
  /**
   * Some members of a record, masked as they are within the whole record: top-level members (`field` undefined),
   * or children of a field whose members are masked one by one (PostHog's `properties`). Members the masker drops
   * are left out, the others keep their order.
   */
  members(field: string | undefined, members: VendorRecord): VendorRecord;
  /** The same as JSON text without the braces: `JSON.stringify(members(field, members)).slice(1, -1)`, 64-bit integers kept. */
  membersText(field: string | undefined, members: VendorRecord): string;
  /**
   * Whether `field`'s members are masked one by one: not when a rule replaces the field as a whole (`properties:
   * drop` makes it null), which only masking the whole field gives.
   */
  splits(field: string): boolean;
}

/**
 * `mask` (a vendorRecordMasker for `layout`) with member values remembered: the same output, record for record,
 * as calling `mask` on the whole record.
 */
export function memoizedMasker(layout: RecordLayout, mask: RecordTransform, scanners: Scanners): MemoizedRecordMasker {
  const clean = detectorGate(scanners);
  // Fields with mapped children (Mixpanel's and PostHog's `properties`) are split into their members.
  const split = new Set(layout.fields.filter((f) => f.path.length > 1).map((f) => f.path[0]!));
  // Arrays masked as a JSON column (GA4's event_params and user_properties) are masked element by element: JSON
  // masking never looks across elements, and most elements repeat (the same page, the same plan) where the whole
  // array, with its session id and timestamps, never does.
  const arrays = new Set(layout.fields.filter((f) => f.path.length === 1 && (f.column === 'properties' || f.column === 'user_properties')).map((f) => f.path[0]!));
  const elements = new Map<string, PathMemory>();
  // Per top-level name, and per member of a split field: no key strings to build per record.
  const top = new Map<string, PathMemory>();
  const children = new Map<string, Map<string, PathMemory>>();
  const memoryOf = (map: Map<string, PathMemory>, name: string): PathMemory => {
    let m = map.get(name);
    if (m === undefined) map.set(name, (m = new PathMemory()));
    return m;
  };
  const splitsField = new Map<string, boolean>();
  const splits = (field: string): boolean => {
    let ok = splitsField.get(field);
    if (ok === undefined) {
      const node: unknown = split.has(field) ? mask({ [field]: { [PROBE]: PROBE } }) : undefined;
      splitsField.set(field, (ok = isPlainObject(node) && isPlainObject(node[field])));
    }
    return ok;
  };
  const childrenOf = (name: string): Map<string, PathMemory> => {
    let map = children.get(name);
    if (map === undefined) children.set(name, (map = new Map()));
    return map;
  };
  /** The path's masked value of `value`, masked alone (members are masked independently of each other). */
  const maskAlone = (path: UnitPath, value: unknown): unknown => {
    const node: unknown = mask(path.length === 1 ? { [path[0]]: value } : { [path[0]]: { [path[1]]: value } });
    const inner = isPlainObject(node) && path[0] in node ? node[path[0]] : ABSENT;
    return path.length === 1 ? inner : isPlainObject(inner) && path[1] in inner ? inner[path[1]] : ABSENT;
  };
  const pathOf = (parent: string | undefined, name: string): UnitPath => (parent === undefined ? [name] : [parent, name]);

  // The members of the record in hand, filled by maskUnits and read by the writers below (maskUnits never runs
  // inside itself, so one set of arrays serves every record): the split field a member belongs to (undefined: a
  // top-level member), its name, value, memory, and masked value (UNKNOWN until masked, ABSENT when dropped).
  const parents: (string | undefined)[] = [];
  const names: string[] = [];
  const values: unknown[] = [];
  const memos: PathMemory[] = [];
  const found: unknown[] = [];
  let count = 0;
  let missing = 0;

  const push = (parent: string | undefined, name: string, value: unknown, m: PathMemory, masked: unknown): void => {
    parents[count] = parent;
    names[count] = name;
    values[count] = value;
    memos[count] = m;
    found[count] = masked;
    count++;
  };

  const add = (parent: string | undefined, name: string, m: PathMemory, value: unknown): void => {
    let v = m.get(value);
    // A value not remembered that no detector pattern occurs in, on a path that leaves such values alone, is its
    // own masked value: the ids and timestamps that never repeat skip the masker. (A number is masked only as its
    // digits: scanned as text, or card-checked as a JSON number, which the card pattern would see.)
    if (v === UNKNOWN) {
      if (typeof value === 'string') {
        if ((m.cleanPasses ??= maskAlone(pathOf(parent, name), PROBE) === PROBE) && clean(value)) m.set(value, (v = value));
      } else if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) {
        if ((m.cleanNumbersPass ??= maskAlone(pathOf(parent, name), 1) === 1) && clean(String(value))) v = value;
      }
      if (v === UNKNOWN) missing++;
    }
    push(parent, name, value, m, v);
  };

  /** Adds the children of split field `field`, each with the memory of its name. */
  const addChildren = (field: string, members: VendorRecord): void => {
    const map = childrenOf(field);
    for (const child of Object.keys(members)) add(field, child, memoryOf(map, child), members[child]);
  };

  /** Puts a member into `out`: at the top level, or into the object of its split field. */
  const place = (out: VendorRecord, parent: string | undefined, name: string, value: unknown): void => {
    if (parent === undefined) out[name] = value;
    else ((out[parent] ??= {}) as VendorRecord)[name] = value;
  };

  /** Fills the arrays with the record's members (top-level, or the children of `field`), masked; false when masking must see the whole record. */
  const maskUnits = (record: VendorRecord, field: string | undefined): boolean => {
    count = 0;
    missing = 0;
    if (field !== undefined) addChildren(field, record);
    else {
      for (const name of Object.keys(record)) {
        const value = record[name];
        if (arrays.has(name) && Array.isArray(value) && value.length > 0) {
          const m = memoryOf(elements, name);
          const masked = value.map((element) => m.get(element));
          const unknown = masked.flatMap((v, i) => (v === UNKNOWN ? [i] : []));
          if (unknown.length > 0) {
            const fresh = maskAlone([name], unknown.map((i) => value[i]));
            // Anything but an array of as many elements (a rule dropping the whole field): mask the record whole.
            if (!Array.isArray(fresh) || fresh.length !== unknown.length) return false;
            unknown.forEach((i, k) => {
              masked[i] = fresh[k];
              m.set(value[i], fresh[k]);
            });
          }
          push(undefined, name, value, m, masked);
          continue;
        }
        if (split.has(name) && isPlainObject(value) && Object.keys(value).length > 0 && splits(name)) addChildren(name, value);
        else add(undefined, name, memoryOf(top, name), value);
      }
    }
    // The members not remembered, masked together as one record.
    if (missing > 0) {
      const partial: VendorRecord = {};
      for (let i = 0; i < count; i++) {
        if (found[i] === UNKNOWN) place(partial, parents[i], names[i]!, values[i]);
      }
      const masked = mask(partial);
      for (let i = 0; i < count; i++) {
        if (found[i] !== UNKNOWN) continue;
        const parent = parents[i];
        let node: unknown = isPlainObject(masked) && (parent ?? names[i]!) in masked ? masked[parent ?? names[i]!] : ABSENT;
        if (parent !== undefined) node = isPlainObject(node) && names[i]! in node ? node[names[i]!] : ABSENT;
        found[i] = node;
        memos[i]!.set(values[i], node);
      }
    }
    return true;
  };

  /** The masked members as an object; `flat`: children of one field, by their own names. */
  const asObject = (flat: boolean): VendorRecord => {
    const out: VendorRecord = {};
    for (let i = 0; i < count; i++) {
      const value = found[i];
      if (value !== ABSENT) place(out, flat ? undefined : parents[i], names[i]!, value);
    }
    return out;
  };

  /**
   * The same as JSON text without the braces, written member by member: no object to build and serialise again.
   * The order is the object's: members come in the order of Object.keys, which already puts names that are array
   * indexes first, as JSON.stringify does.
   */
  const asText = (flat: boolean): string => {
    let text = '';
    // The split field whose children are being written (undefined: top-level members), and whether the next
    // member there needs a comma before it.
    let open: string | undefined;
    let comma = false;
    for (let i = 0; i < count; i++) {
      const value = found[i];
      if (value === ABSENT) continue;
      const name = names[i]!;
      const parent = flat ? undefined : parents[i];
      const json = stringifyFast(value) as string | undefined;
      // JSON leaves out a member whose value has none (undefined); its field is still written, as an object would be.
      if (json === undefined && parent === undefined) continue;
      if (parent !== open) {
        if (open !== undefined) {
          text += '}';
          comma = true;
        }
        open = parent;
        if (parent !== undefined) {
          text += `${comma ? ',' : ''}${JSON.stringify(parent)}:{`;
          comma = false;
        }
      }
      if (json === undefined) continue;
      text += `${comma ? ',' : ''}${memos[i]!.keyJson(name)}:${json}`;
      comma = true;
    }
    if (open !== undefined) text += '}';
    return text;
  };

  /** maskUnits for `members`: top-level members, or the children of `field`, which must be split one by one. */
  const maskUnitsOf = (field: string | undefined, members: VendorRecord): boolean => {
    if (field !== undefined && !splits(field)) throw new Error(`demo masking: ${field} is not a field whose members are masked one by one`);
    return maskUnits(members, field);
  };

  return {
    record: (record) => (maskUnits(record, undefined) ? asObject(false) : mask(record)),
    splits,
    members: (field, members) => (maskUnitsOf(field, members) ? asObject(field !== undefined) : mask(members)),
    membersText: (field, members) => (maskUnitsOf(field, members) ? asText(field !== undefined) : stringifyFast(mask(members)).slice(1, -1)),
  };
}

/** The masker `usagelab demo`'s workers load (src/demo/record-masking.ts): the workspace's PII policy, per tool. */
export function createDemoRecordMasker(options: unknown): DemoRecordMasker {
  const { pii, env } = options as DemoMaskingOptions;
  const { scanners } = piiPolicy(pii, env);
  const maskers = new Map<string, MemoizedRecordMasker>();
  const maskerFor = (tool: Tool, table: string): MemoizedRecordMasker => {
    const id = tool === 'heap' && table === 'users' ? 'heap/users' : tool;
    let m = maskers.get(id);
    if (m === undefined) {
      const layout = demoRecordLayout(tool, table);
      maskers.set(id, (m = memoizedMasker(layout, vendorRecordMasker(pii, layout, env), scanners)));
    }
    return m;
  };
  return {
    line: (tool, table, json) => stringifyFast(maskerFor(tool, table).record(parseLossless(json) as VendorRecord)),
    record: (tool, table, record) => maskerFor(tool, table).record(record),
    members: (tool, table, members) => maskerFor(tool, table).membersText(undefined, members),
    childMembers: (tool, table, field, members) => {
      const m = maskerFor(tool, table);
      return m.splits(field) ? m.membersText(field, members) : undefined;
    },
  };
}

/** The hook runDemo hands to generateDemo: this module, loaded in each worker, with the workspace's policy. */
export function demoMasking(options: DemoMaskingOptions): DemoMasking {
  const here = import.meta.url;
  return { module: new URL(here.endsWith('.ts') ? './demo-masking.ts' : './demo-masking.js', here).href, options };
}
