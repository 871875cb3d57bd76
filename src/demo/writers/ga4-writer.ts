/**
 * GA4 BigQuery export rows as NDJSON (what `bq extract --destination_format NEWLINE_DELIMITED_JSON` writes):
 * INT64 values are JSON strings, NULL fields are left out, event_params / user_properties are repeated
 * key/value records. One daily table per day of the property's time zone (America/New_York), `events_YYYYMMDD`,
 * and for the last day also the streaming table `events_intraday_YYYYMMDD` holding the same rows — a snapshot
 * taken while both exist, which an importer must not count twice.
 */
import { type DemoWindow, ZoneCalendar } from '../clock.js';
import type { Device, EventContext, SimEvent, ToolWriter } from '../model.js';
import { RollingGzipFiles, TimeOrderedQueue } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { joinMembers, MemberMasking, TextMemo } from './common.js';

export const GA4_PROPERTY_TIME_ZONE = 'America/New_York';
const STREAM_ID = '4178492031';
/** Placeholder replaced by the pre-serialised event_params array. */
const PARAMS_SLOT = '@@event_params@@';

type Param = { key: string; value: { string_value?: string; int_value?: string; double_value?: number } };
const str = (key: string, v: string): Param => ({ key, value: { string_value: v } });
const int = (key: string, v: number): Param => ({ key, value: { int_value: String(v) } });

interface DeviceState {
  sessions: number;
  bundle: number;
  firstVisitDone: boolean;
  source: { name: string; medium: string; source: string };
}

interface SessionState {
  sessionId: number;
  sessionNumber: number;
  pageSeq: number;
  batchPage: number;
  batchOrdering: number;
  batchIndex: number;
  fragmentKey: string;
  fragment: Fragment;
  paramsJson: string;
}

/** JSON members (no braces): as generated, and masked (the same when not masking). */
interface Fragment {
  readonly plain: string;
  readonly masked: string;
}

const SOURCES = [
  { name: '(organic)', medium: 'organic', source: 'google' },
  { name: '(direct)', medium: '(none)', source: '(direct)' },
  { name: '(referral)', medium: 'referral', source: 'linkedin.com' },
  { name: 'fall_launch', medium: 'cpc', source: 'google' },
] as const;

function deviceRecord(d: Device, language: string, hostname: string): Record<string, unknown> {
  const os = d.os === 'Mac OS X' ? 'Macintosh' : d.os;
  return {
    category: d.kind === 'desktop' ? 'desktop' : 'mobile',
    mobile_brand_name: d.brand === '' ? '(not set)' : d.brand === 'samsung' ? 'Samsung' : d.brand,
    mobile_model_name: d.kind === 'desktop' ? d.browser : d.model,
    mobile_marketing_name: d.kind === 'desktop' ? '(not set)' : d.model,
    operating_system: os,
    operating_system_version: d.osVersion === '' ? os : `${os} ${d.osVersion}`,
    language,
    is_limited_ad_tracking: 'No',
    web_info: { browser: d.browser, browser_version: d.browserVersion, hostname },
  };
}

export class Ga4Writer implements ToolWriter {
  readonly tool = 'ga4' as const;
  count = 0;
  /** Rows also written to the intraday table (duplicates of daily rows). */
  intradayRows = 0;
  private readonly rng: Rng;
  private readonly zone = new ZoneCalendar(GA4_PROPERTY_TIME_ZONE);
  private readonly queue = new TimeOrderedQueue<{ date: string; line: string }>();
  private readonly daily: RollingGzipFiles;
  private readonly intraday: RollingGzipFiles;
  private readonly devices = new Map<number, DeviceState>();
  /** The user, device and geo members per device, host, identity and plan, as written and masked. */
  private readonly fragments = new Map<string, Fragment>();
  private readonly maskedElements = new TextMemo(20_000);
  private readonly lastDate: string;
  /**
   * Masks records as they are built, member by member: the device, user and page fields every row of a page
   * repeats are masked once, and no line is parsed back.
   */
  private readonly masking: MemberMasking;

  constructor(
    private readonly dir: string,
    seed: number,
    private readonly window: DemoWindow,
    masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 61);
    this.lastDate = this.zone.dateKey(window.end - 1);
    this.masking = new MemberMasking('ga4', masker);
    this.daily = new RollingGzipFiles(dir, 'ndjson');
    this.intraday = new RollingGzipFiles(dir, 'ndjson');
  }

  /**
   * event_params elements (JSON text, no brackets) masked, remembered by text: masking goes element by element.
   * Undefined when a policy replaces event_params as a whole (then the row is masked whole).
   */
  private maskedParams(text: string): string | undefined {
    if (text === '') return '';
    return this.maskedElements.get(text, () => {
      const member = this.masking.members({ event_params: JSON.parse(`[${text}]`) as unknown });
      const open = '"event_params":[';
      return member.startsWith(open) && member.endsWith(']') ? member.slice(open.length, -1) : undefined;
    });
  }

  private deviceState(d: Device): DeviceState {
    let s = this.devices.get(d.key);
    if (s === undefined) {
      s = {
        // Devices first seen before the window have had sessions already.
        sessions: d.firstSeen < this.window.start ? 3 + (d.key % 40) : 0,
        bundle: 0,
        firstVisitDone: d.firstSeen < this.window.start,
        source: SOURCES[d.key % SOURCES.length]!,
      };
      this.devices.set(d.key, s);
    }
    return s;
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    const page = ctx.page;
    if (page === undefined || ev.kind === 'click' || ev.kind === 'input' || ev.kind === 'identify' || ev.kind === 'exception') return;
    const ds = this.deviceState(ctx.device);
    const state = (ctx.visit.toolState ??= {});
    let s = state.ga4 as SessionState | undefined;
    const newSession = s === undefined;
    if (s === undefined) {
      ds.sessions++;
      s = { sessionId: Math.floor(ev.t / 1000), sessionNumber: ds.sessions, pageSeq: 0, batchPage: 0, batchOrdering: 0, batchIndex: 0, fragmentKey: '', fragment: { plain: '', masked: '' }, paramsJson: '' };
      state.ga4 = s;
    }
    const newPage = page.seq !== s.pageSeq;
    if (newPage) {
      s.pageSeq = page.seq;
      s.batchPage++;
    }
    if (newPage || s.paramsJson === '') {
      // Page and session params repeat on every row of the page: serialised once.
      const params = [
        str('page_location', page.url),
        str('page_title', page.title),
        ...(page.referrer === '' ? [] : [str('page_referrer', page.referrer)]),
        int('ga_session_id', s.sessionId),
        int('ga_session_number', s.sessionNumber),
        int('engaged_session_event', 1),
        str('session_engaged', '1'),
      ];
      s.paramsJson = JSON.stringify(params).slice(1, -1);
    }
    if (ev.kind === 'page') {
      if (newSession) {
        if (!ds.firstVisitDone) {
          ds.firstVisitDone = true;
          this.row('first_visit', ev.t, ev.us, ctx, []);
        }
        this.row('session_start', ev.t, ev.us, ctx, []);
      }
      this.row('page_view', ev.t, ev.us, ctx, page.seq === 1 ? [int('entrances', 1)] : []);
      const duration = page.end - page.start;
      if (this.rng.chance(0.3)) this.row('scroll', page.start + Math.floor(duration * 0.6), this.rng.int(0, 999), ctx, [int('percent_scrolled', 90)]);
      this.row('user_engagement', page.end, this.rng.int(0, 999), ctx, [int('engagement_time_msec', Math.floor(duration * 0.8))]);
      return;
    }
    const custom = Object.entries(ev.props ?? {}).map(([k, v]) =>
      typeof v === 'number' ? int(k, v) : str(k, String(v)),
    );
    this.row(ev.name!, ev.t, ev.us, ctx, custom);
  }

  private row(name: string, t: number, us: number, ctx: EventContext, params: Param[]): void {
    const ds = this.deviceState(ctx.device);
    const s = ctx.visit.toolState!.ga4 as SessionState;
    ds.bundle++;
    s.batchIndex++;
    if (s.batchIndex > 4) {
      s.batchIndex = 1;
      s.batchOrdering++;
    }
    // Device, geo and user fields change only when the user becomes known (at signup), their plan changes or the
    // host changes: cached per device.
    const key = `${ctx.device.key}/${ctx.page!.def.host}/${ctx.identified}/${ctx.person.plan}`;
    if (s.fragmentKey !== key) {
      s.fragmentKey = key;
      let fragment = this.fragments.get(key);
      if (fragment === undefined) {
        const members = this.fragment(ctx, ds, t * 1000 + us);
        const plain = JSON.stringify(members).slice(1, -1);
        fragment = { plain, masked: this.masking.masker === undefined ? plain : this.masking.members(members) };
        this.fragments.set(key, fragment);
      }
      s.fragment = fragment;
    }
    const date = this.zone.dateKey(t);
    const paramsJson = params.length === 0 ? '' : JSON.stringify(params).slice(1, -1);
    const head = { event_date: date, event_timestamp: String(t * 1000 + us), event_name: name };
    const tail = { event_bundle_sequence_id: String(ds.bundle), event_server_timestamp_offset: String(this.rng.int(120_000, 2_500_000)) };
    const batch = { batch_event_index: String(s.batchIndex), batch_page_id: String(s.batchPage), batch_ordering_id: String(s.batchOrdering + 1) };
    const masked = this.masking.masker !== undefined;
    const pageParams = masked ? this.maskedParams(s.paramsJson) : s.paramsJson;
    const ownParams = masked ? this.maskedParams(paramsJson) : paramsJson;
    let line: string;
    if (pageParams !== undefined && ownParams !== undefined) {
      line = `{${joinMembers(this.masking.members(head), `"event_params":[${joinMembers(pageParams, ownParams)}]`, this.masking.members(tail), s.fragment.masked, this.masking.members(batch))}}`;
    } else {
      const unmasked = JSON.stringify({ ...head, event_params: PARAMS_SLOT, ...tail }).replace(`"${PARAMS_SLOT}"`, () => `[${joinMembers(s.paramsJson, paramsJson)}]`);
      line = this.masking.masker!.line('ga4', 'events', `${unmasked.slice(0, -1)},${s.fragment.plain},${JSON.stringify(batch).slice(1, -1)}}`);
    }
    this.queue.push(t, { date, line });
    this.count++;
  }

  /** The user, device and geo fields, built once per device, host, identity and plan. */
  private fragment(ctx: EventContext, ds: DeviceState, setMicros: number): Record<string, unknown> {
    const p = ctx.person;
    return {
      ...(ctx.identified ? { user_id: p.userId } : {}),
      user_pseudo_id: ctx.device.ids.gaClientId,
      privacy_info: { analytics_storage: 'Yes', ads_storage: 'No', uses_transient_token: 'No' },
      user_properties: ctx.identified ? [{ key: 'plan', value: { string_value: p.plan, set_timestamp_micros: String(setMicros) } }] : [],
      user_first_touch_timestamp: String(ctx.device.firstSeen * 1000),
      device: deviceRecord(ctx.device, p.country.language, ctx.page!.def.host),
      geo: { city: p.country.city, country: p.country.name, continent: p.country.continent, region: p.country.region, sub_continent: p.country.subContinent, metro: '(not set)' },
      traffic_source: ds.source,
      stream_id: STREAM_ID,
      platform: 'WEB',
      items: [],
      is_active_user: true,
    };
  }

  async flush(watermark: number): Promise<void> {
    for (const { item } of this.queue.take(watermark)) {
      const wait = this.daily.write(`events_${item.date}.ndjson.gz`, item.line);
      if (wait) await wait;
      if (item.date === this.lastDate) {
        this.intradayRows++;
        const w2 = this.intraday.write(`events_intraday_${item.date}.ndjson.gz`, item.line);
        if (w2) await w2;
      }
    }
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    await this.daily.close();
    await this.intraday.close();
    return [...this.daily.files, ...this.intraday.files];
  }
}
