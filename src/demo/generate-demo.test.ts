import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageLabError } from '../core/errors.js';
import { hashTree, gunzipText, readAvro, readNdjsonGz, readZip } from './__fixtures__/read-demo-files.js';
import { type DemoManifest, generateDemo } from './generate-demo.js';
import { TWO_POW_53 } from './ids.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'usagelab-demo-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('generateDemo (small run)', () => {
  let dir: string;
  let manifest: DemoManifest;
  beforeAll(async () => {
    dir = tempDir();
    manifest = await generateDemo(dir, { people: 260, seed: 7, now: NOW });
  });

  it('covers the three complete months before now', () => {
    expect(manifest.window).toEqual({ start: '2026-08-01', end: '2026-10-31', months: ['2026-08', '2026-09', '2026-10'] });
    expect(manifest.people).toBe(260);
    expect(Object.keys(manifest.events).sort()).toEqual(['amplitude', 'fullstory', 'ga4', 'heap', 'mixpanel', 'posthog']);
    for (const n of Object.values(manifest.events)) expect(n).toBeGreaterThan(0);
  });

  it('writes FullStory segment exports as gzipped JSON arrays, one per UTC day, with exact int64 ids', () => {
    const folder = join(manifest.exportsDir, 'fullstory');
    const files = readdirSync(folder).sort();
    expect(files).toHaveLength(92);
    expect(files[0]).toBe('segment-export_2026-08-01.json.gz');
    let rows = 0;
    const bigIds = new Set<bigint>();
    for (const f of files) {
      const text = gunzipText(join(folder, f));
      const parsed = JSON.parse(text) as Record<string, unknown>[];
      expect(Array.isArray(parsed)).toBe(true);
      rows += parsed.length;
      for (const r of parsed) {
        expect(r.EventStart).toMatch(/^2026-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(typeof r.EventType).toBe('string');
        expect(r.EventStart!.toString().slice(0, 10)).toBe(f.slice(15, 25));
      }
      for (const m of text.matchAll(/"(?:IndvId|UserId|SessionId|PageId)":(\d+)/g)) {
        const id = BigInt(m[1]!);
        if (id > TWO_POW_53) bigIds.add(id);
      }
    }
    expect(rows).toBe(manifest.events.fullstory);
    // Ids beyond 2^53 are written as exact integer text (JSON.parse would round them).
    expect(bigIds.size).toBeGreaterThan(10);
    const sample = [...bigIds][0]!;
    expect(BigInt(Number(sample))).not.toBe(sample);
  });

  it('marks FullStory frustration like real exports: running rage counts, dead=1, error 1-3, omitted when zero', () => {
    const folder = join(manifest.exportsDir, 'fullstory');
    const clicks = readdirSync(folder).flatMap((f) => JSON.parse(gunzipText(join(folder, f))) as Record<string, unknown>[]).filter((r) => r.EventType === 'click');
    expect(clicks.some((c) => c.EventModFrustrated === 3)).toBe(true);
    expect(clicks.filter((c) => 'EventModFrustrated' in c).every((c) => (c.EventModFrustrated as number) >= 1)).toBe(true);
    expect(clicks.filter((c) => 'EventModDead' in c).every((c) => c.EventModDead === 1)).toBe(true);
    expect(clicks.filter((c) => 'EventModError' in c).every((c) => [1, 2, 3].includes(c.EventModError as number))).toBe(true);
    expect(clicks.some((c) => !('EventModDead' in c) && !('EventModError' in c) && !('EventModFrustrated' in c))).toBe(true);
  });

  it('writes Amplitude Export API zips: gzipped NDJSON members per upload hour, readable with yauzl', async () => {
    const folder = join(manifest.exportsDir, 'amplitude');
    const zips = readdirSync(folder).sort();
    expect(zips).toEqual([
      'export_434735_20260801T00_20260831T23.zip',
      'export_434735_20260901T00_20260930T23.zip',
      'export_434735_20261001T00_20261031T23.zip',
    ]);
    let rows = 0;
    const types = new Set<string>();
    for (const z of zips) {
      const members = await readZip(join(folder, z));
      for (const [name, data] of members) {
        const m = /^434735\/434735_(\d{4}-\d\d-\d\d)_(\d{1,2})#0\.json\.gz$/.exec(name);
        expect(m, name).not.toBeNull();
        const path = join(dir, 'member.json.gz');
        writeFileSync(path, data);
        for (const r of readNdjsonGz(path)) {
          rows++;
          types.add(r.event_type as string);
          expect(r.event_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
          // Members are cut by upload hour.
          expect((r.server_upload_time as string).slice(0, 10)).toBe(m![1]);
          expect(Number((r.server_upload_time as string).slice(11, 13))).toBe(Number(m![2]));
          expect(typeof r.session_id).toBe('number');
        }
      }
    }
    expect(rows).toBe(manifest.events.amplitude);
    for (const t of ['[Amplitude] Page Viewed', '[Amplitude] Element Clicked', '[Amplitude] Dead Click', 'session_start']) expect(types.has(t), t).toBe(true);
  });

  it('writes Mixpanel raw export NDJSON (event + properties with epoch-second time)', () => {
    const folder = join(manifest.exportsDir, 'mixpanel');
    const files = readdirSync(folder).sort();
    expect(files).toEqual(['export_2026-08-01_2026-08-31.ndjson.gz', 'export_2026-09-01_2026-09-30.ndjson.gz', 'export_2026-10-01_2026-10-31.ndjson.gz']);
    const rows = files.flatMap((f) => readNdjsonGz(join(folder, f)));
    expect(rows).toHaveLength(manifest.events.mixpanel);
    for (const r of rows) {
      const p = r.properties as Record<string, unknown>;
      expect(Number.isInteger(p.time)).toBe(true);
      expect(typeof p.distinct_id).toBe('string');
      expect(typeof p.$insert_id).toBe('string');
    }
    const names = new Set(rows.map((r) => r.event));
    for (const n of ['$mp_web_page_view', '$mp_click', 'Screen Viewed', '$ae_session']) expect(names.has(n), n).toBe(true);
    // Anonymous app opens carry only the device id; identified events carry $user_id too.
    expect(rows.some((r) => String((r.properties as Record<string, unknown>).distinct_id).startsWith('$device:'))).toBe(true);
  });

  it('writes PostHog batch-export JSONL with elements chains and µs timestamps', () => {
    const folder = join(manifest.exportsDir, 'posthog');
    const files = readdirSync(folder).sort();
    expect(files[0]).toBe('events_2026-08-01T00-00-00Z_2026-08-08T00-00-00Z.jsonl.gz');
    expect(files).toHaveLength(14);
    const rows = files.flatMap((f) => readNdjsonGz(join(folder, f)));
    expect(rows).toHaveLength(manifest.events.posthog);
    const names = new Set(rows.map((r) => r.event));
    for (const n of ['$pageview', '$autocapture', '$identify', '$dead_click', '$exception', 'signup', 'create_project']) expect(names.has(n), n).toBe(true);
    for (const r of rows.slice(0, 500)) {
      expect(r.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(typeof r.uuid).toBe('string');
      expect(typeof r.properties).toBe('object');
    }
    const click = rows.find((r) => r.event === '$autocapture' && (r.properties as Record<string, unknown>).$event_type === 'click')!;
    expect(click.elements_chain).toMatch(/^[a-z]+(\.[\w-]+)*:.*text="[^"]+".*;body:/);
    // Anonymous before signup, identified after: $identify links the device id to the user id.
    const identify = rows.find((r) => r.event === '$identify')!;
    expect((identify.properties as Record<string, unknown>).$anon_distinct_id).not.toBe(identify.distinct_id);
  });

  it('writes GA4 BigQuery NDJSON with INT64 as strings, and an intraday table duplicating the last day', () => {
    const folder = join(manifest.exportsDir, 'ga4');
    const files = readdirSync(folder).sort();
    expect(files).toContain('events_20261031.ndjson.gz');
    expect(files).toContain('events_intraday_20261031.ndjson.gz');
    const daily = files.filter((f) => !f.includes('intraday'));
    const rows = daily.flatMap((f) => readNdjsonGz(join(folder, f)));
    expect(rows).toHaveLength(manifest.events.ga4);
    for (const r of rows.slice(0, 300)) {
      expect(r.event_timestamp).toMatch(/^\d{16}$/);
      expect(typeof r.user_pseudo_id).toBe('string');
      for (const p of r.event_params as { value: Record<string, unknown> }[]) {
        if ('int_value' in p.value) expect(typeof p.value.int_value).toBe('string');
      }
    }
    expect(gunzipText(join(folder, 'events_intraday_20261031.ndjson.gz'))).toBe(gunzipText(join(folder, 'events_20261031.ndjson.gz')));
    expect(manifest.ga4IntradayDuplicateRows).toBe(readNdjsonGz(join(folder, 'events_intraday_20261031.ndjson.gz')).length);
  });

  it('writes a Heap Connect sync: snappy Avro tables listed by the manifest, longs exact', async () => {
    const folder = join(manifest.exportsDir, 'heap');
    const manifestJson = JSON.parse(readFileSync(join(folder, 'manifests/sync_1042.json'), 'utf8')) as {
      dump_id: number;
      tables: { name: string; files: string[]; incremental: boolean; columns: string[] }[];
    };
    expect(manifestJson.dump_id).toBe(1042);
    const names = manifestJson.tables.map((t) => t.name);
    for (const t of ['users', 'sessions', 'pageviews', 'all_events', 'user_migrations', 'click_on_use_template']) expect(names).toContain(t);
    const counts: Record<string, number> = {};
    let big = 0;
    for (const t of manifestJson.tables) {
      expect(t.files).toHaveLength(1);
      const rel = t.files[0]!.replace('s3://heap-rs3-acmeboards/', '');
      expect(rel).toMatch(new RegExp(`^sync_1042/${t.name}/part-00000-[0-9a-f-]{36}-c000\\.avro$`));
      const { codec, records } = await readAvro(join(folder, rel));
      expect(codec).toBe('snappy');
      counts[t.name] = records.length;
      for (const r of records) {
        for (const c of t.columns) expect(c in r).toBe(true);
        for (const v of Object.values(r)) if (typeof v === 'bigint' && v > TWO_POW_53) big++;
      }
    }
    expect(big).toBeGreaterThan(0);
    expect(counts.pageviews).toBeGreaterThan(0);
    // all_events repeats an event once per matching definition, so it is at least the event count.
    expect(counts.all_events).toBeGreaterThanOrEqual(manifest.events.heap);
    expect(counts.users).toBeGreaterThan(0);
  });

  it('writes the ground truth with every planted behaviour', () => {
    const truth = JSON.parse(readFileSync(manifest.groundTruthFile, 'utf8')) as DemoManifest['groundTruth'];
    expect(truth.seed).toBe(7);
    const kinds = truth.behaviours.map((b) => b.kind).sort();
    expect(kinds).toEqual([
      'dead_clicks',
      'error_page',
      'feature_adopted',
      'feature_frustrating',
      'feature_ignored',
      'funnel_drop_off',
      'month_over_month_change',
      'rage_clicks',
    ]);
    for (const b of truth.behaviours) {
      expect(b.description.length).toBeGreaterThan(20);
      expect(b.sources.length).toBeGreaterThan(0);
      expect(Object.keys(b.where).length).toBeGreaterThan(0);
      expect(b.expected).toHaveProperty('direction');
      expect(Object.keys(b.observed).length).toBeGreaterThan(0);
    }
    expect(truth.events).toEqual(manifest.events);
  });
});

describe('generateDemo determinism and re-runs', () => {
  it('gives byte-identical files for the same seed, and different ones for another seed', async () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    await generateDemo(a, { people: 120, seed: 99, now: NOW });
    await generateDemo(b, { people: 120, seed: 99, now: NOW });
    await generateDemo(c, { people: 120, seed: 100, now: NOW });
    const ha = hashTree(a);
    expect(Object.keys(ha).length).toBeGreaterThan(150);
    expect(hashTree(b)).toEqual(ha);
    const hc = hashTree(c);
    expect(hc['exports/posthog/events_2026-08-01T00-00-00Z_2026-08-08T00-00-00Z.jsonl.gz']).not.toBe(ha['exports/posthog/events_2026-08-01T00-00-00Z_2026-08-08T00-00-00Z.jsonl.gz']);
  });

  it('writes the same files on one thread as with two workers', async () => {
    const a = tempDir();
    const b = tempDir();
    await generateDemo(a, { people: 80, seed: 5, now: NOW, parallel: true });
    await generateDemo(b, { people: 80, seed: 5, now: NOW, parallel: false });
    expect(hashTree(b)).toEqual(hashTree(a));
  });

  it('replaces the previous demo exports (stale files go) and leaves other files alone', async () => {
    const dir = tempDir();
    await generateDemo(dir, { people: 60, now: NOW });
    mkdirSync(join(dir, 'exports', 'other-source'), { recursive: true });
    writeFileSync(join(dir, 'exports', 'other-source', 'keep.txt'), 'mine');
    const second = await generateDemo(dir, { people: 60, start: '2026-01-01', months: 1 });
    expect(second.window).toEqual({ start: '2026-01-01', end: '2026-01-31', months: ['2026-01'] });
    expect(existsSync(join(dir, 'exports', 'fullstory', 'segment-export_2026-08-01.json.gz'))).toBe(false);
    expect(existsSync(join(dir, 'exports', 'fullstory', 'segment-export_2026-01-31.json.gz'))).toBe(true);
    expect(readFileSync(join(dir, 'exports', 'other-source', 'keep.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(join(dir, 'exports')).filter((f) => f.startsWith('.'))).toEqual([]);
    // One month: no month-over-month behaviour to plant.
    expect(second.groundTruth.behaviours.map((b) => b.kind)).not.toContain('month_over_month_change');
  });

  it('rejects bad options with a UsageLabError', async () => {
    const dir = tempDir();
    await expect(generateDemo(dir, { people: 0 })).rejects.toBeInstanceOf(UsageLabError);
    await expect(generateDemo(dir, { start: '2026-02-30' })).rejects.toMatchObject({ code: 'demo_option_invalid' });
    await expect(generateDemo(dir, { months: 0 })).rejects.toMatchObject({ code: 'demo_option_invalid' });
    await expect(generateDemo(dir, { seed: -1 })).rejects.toMatchObject({ code: 'demo_option_invalid' });
  });
});

describe('generateDemo at the default size', () => {
  // The full demo: the sizes the issue promises and the planted behaviours at their planted strength.
  it('writes ≥ 5,000 people and ≥ 500,000 events, with every behaviour observable', async () => {
    const dir = tempDir();
    const m = await generateDemo(dir, { now: NOW });
    expect(m.people).toBeGreaterThanOrEqual(5000);
    expect(m.totalEvents).toBeGreaterThanOrEqual(500_000);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- observed values are nested JSON read by path
    const byId = Object.fromEntries(m.groundTruth.behaviours.map((b) => [b.id, b.observed as Record<string, any>]));
    const funnel = byId['funnel-mobile-invite-drop-off']!;
    expect(funnel.mobile.conversion_create_to_invite).toBeGreaterThan(0.08);
    expect(funnel.mobile.conversion_create_to_invite).toBeLessThan(0.23);
    expect(funnel.desktop.conversion_create_to_invite).toBeGreaterThan(0.47);
    expect(funnel.desktop.conversion_create_to_invite).toBeLessThan(0.63);
    expect(byId['dead-clicks-export-pdf']!.dead_share).toBeGreaterThan(0.7);
    expect(byId['dead-clicks-export-pdf']!.other_elements_dead_share).toBeLessThan(0.05);
    const rage = byId['rage-clicks-billing-save']!;
    expect(rage.rage_series_share).toBeGreaterThan(0.3);
    expect(rage.page.share).toBeGreaterThan(rage.page.otherPagesMax);
    const errors = byId['error-page-integrations']!;
    expect(errors.page.share).toBeGreaterThan(0.4);
    expect(errors.page.share).toBeGreaterThan(errors.page.otherPagesMax + 0.2);
    expect(byId['feature-adopted-board-view']!.share_of_active_people).toBeGreaterThan(0.6);
    expect(byId['feature-ignored-timeline']!.share_of_active_people).toBeLessThan(0.03);
    const auto = byId['feature-frustrating-automations']!;
    expect(auto.automations.share_of_sessions_with_rage_dead_or_error).toBeGreaterThan(0.35);
    expect(auto.board.share_of_sessions_with_rage_dead_or_error).toBeLessThan(0.1);
    const months = byId['onboarding-completion-rise']!.by_month as { completion_rate: number }[];
    expect(months[1]!.completion_rate).toBeLessThan(0.48);
    expect(months[2]!.completion_rate).toBeGreaterThan(0.57);
  }, 240_000);
});
