/**
 * FullStory Segment Export files: FORMAT_JSON (one JSON array of PascalCase event rows), gzip, one export per UTC
 * day (hauser exports at most 24 h per job). IndvId / UserId / SessionId / PageId are int64 written as exact
 * integer text, many above 2^53. Frustration lives on click rows: EventModFrustrated is the running count
 * within a rage series, EventModDead 1 for dead clicks, EventModError 1/2/3; like real exports, the mod fields
 * are omitted when zero.
 */
import { cssSelector } from '../catalog.js';
import { DAY_MS, type DemoWindow, dayStart, isoMs, utcDate } from '../clock.js';
import { int64Id } from '../ids.js';
import type { EventContext, SimEvent, ToolWriter } from '../model.js';
import { RollingGzipFiles, TimeOrderedQueue } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { deviceLabel, fullName, ipFor } from './common.js';

interface SessionState {
  sessionId: bigint;
  sessionStart: number;
  pageSeq: number;
  pageId: bigint;
  pageErrors: number;
  fragmentKey: string;
  /** JSON members (no braces) of the user, session and page fields repeated on every row of the page. */
  fragment: string;
}

const CLUSTER: Record<string, number> = {
  settings_profile: 811,
  settings_team: 812,
  billing: 813,
  integrations: 820,
  integration: 821,
};

function customVars(props: Readonly<Record<string, string | number | boolean>> | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (props === undefined) return out;
  for (const [k, v] of Object.entries(props)) {
    const suffix = typeof v === 'string' ? 'str' : typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int' : 'real';
    out[`evt_${k}_${suffix}`] = v;
  }
  return out;
}

export class FullstoryWriter implements ToolWriter {
  readonly tool = 'fullstory' as const;
  count = 0;
  private readonly rng: Rng;
  private readonly queue = new TimeOrderedQueue<string>();
  private readonly out: RollingGzipFiles;
  /** Start of the next day that has no file yet. */
  private nextDay: number;

  constructor(
    private readonly dir: string,
    seed: number,
    private readonly window: DemoWindow,
    masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 11);
    this.out = new RollingGzipFiles(dir, 'json-array', masker === undefined ? undefined : (line) => masker.line('fullstory', 'events', line));
    this.nextDay = window.start;
  }

  private session(ctx: EventContext, t: number): SessionState {
    const state = (ctx.visit.toolState ??= {});
    let s = state.fullstory as SessionState | undefined;
    if (s === undefined) {
      s = { sessionId: int64Id(this.rng), sessionStart: t, pageSeq: 0, pageId: 0n, pageErrors: 0, fragmentKey: '', fragment: '' };
      state.fullstory = s;
    }
    if (ctx.page !== undefined && ctx.page.seq !== s.pageSeq) {
      s.pageSeq = ctx.page.seq;
      s.pageId = int64Id(this.rng);
      s.pageErrors = 0;
    }
    return s;
  }

  private pageFragment(ctx: EventContext, s: SessionState): string {
    const { person, device } = ctx;
    const page = ctx.page!;
    const duration = page.end - page.start;
    return JSON.stringify({
      UserCreated: isoMs(device.firstSeen),
      UserAppKey: ctx.identified ? person.userId : '',
      UserDisplayName: ctx.identified ? fullName(person) : '',
      UserEmail: ctx.identified ? person.email : '',
      SessionStart: isoMs(s.sessionStart),
      PageStart: isoMs(page.start),
      PageDuration: duration,
      PageActiveDuration: Math.round(duration * 0.7),
      PageUrl: page.url,
      PageRefererUrl: page.referrer,
      PageIp: ipFor(person),
      PageLatLong: person.country.latLong,
      PageUserAgent: device.userAgent,
      PageBrowser: device.browser,
      PageBrowserVersion: device.browserVersion,
      PageDevice: deviceLabel(device),
      PagePlatform: 'Web',
      PageOperatingSystem: device.os === 'Mac OS X' ? 'OS X' : device.os,
      PageScreenWidth: device.screenW,
      PageScreenHeight: device.screenH,
      PageViewportWidth: device.viewportW,
      PageViewportHeight: device.viewportH,
      PageNumInfos: 0,
      PageNumWarnings: 0,
      PageClusterId: CLUSTER[page.def.key] ?? 800,
      PageMaxScrollDepthPercent: 60 + (page.seq % 5) * 10,
      user_plan_str: person.plan,
      user_company_str: person.company,
    }).slice(1, -1);
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    if (ev.kind === 'identify' || ctx.page === undefined) return;
    const { person, device, page } = ctx;
    const s = this.session(ctx, ev.t);
    let type: string;
    const detail: Record<string, unknown> = {};
    switch (ev.kind) {
      case 'page':
        type = 'navigate';
        break;
      case 'click': {
        type = 'click';
        detail.EventTargetText = ev.el!.text;
        detail.EventTargetSelector = cssSelector(page.def, ev.el!);
        if (ev.rage > 0) detail.EventModFrustrated = ev.rage;
        if (ev.dead) detail.EventModDead = 1;
        if (ev.errorClick) {
          s.pageErrors++;
          detail.EventModError = ev.error?.type === 'TypeError' ? 3 : this.rng.chance(0.3) ? 2 : 1;
        }
        break;
      }
      case 'input':
        type = 'change';
        detail.EventTargetSelector = cssSelector(page.def, ev.el!);
        // Only a form input the demo planted PII in has properties (planted-pii.ts): the typed value.
        Object.assign(detail, customVars(ev.props));
        break;
      case 'exception':
        type = 'exception';
        s.pageErrors++;
        detail.EventSubType = 'uncaught';
        detail.EventTargetText = `${ev.error!.type}: ${ev.error!.message}`;
        detail.EventWebSourceFileUrl = ev.error!.source;
        break;
      default:
        type = 'custom';
        detail.EventCustomName = ev.name;
        Object.assign(detail, customVars(ev.props));
    }
    if (s.fragmentKey !== `${page.seq}/${ctx.identified}`) {
      s.fragmentKey = `${page.seq}/${ctx.identified}`;
      s.fragment = this.pageFragment(ctx, s);
    }
    const own = JSON.stringify({
      EventStart: isoMs(ev.t),
      EventType: type,
      ...detail,
      EventPageOffset: ev.t - page.start,
      EventSessionOffset: ev.t - s.sessionStart,
      PageNumErrors: s.pageErrors,
    });
    // int64 ids as exact integer text: JSON.stringify cannot write a bigint, and a number would round.
    const line = `{"IndvId":${ctx.identified ? person.ids.fullstoryIndvId : device.ids.fullstoryUserId},"UserId":${device.ids.fullstoryUserId},"SessionId":${s.sessionId},"PageId":${s.pageId},${own.slice(1, -1)},${s.fragment}}`;
    this.queue.push(ev.t, line);
    this.count++;
  }

  /** Days up to `day` (exclusive) that have had no events still get their export: an empty array. */
  private async fillTo(day: number): Promise<void> {
    while (this.nextDay < day) {
      await this.out.writeEmpty(`segment-export_${utcDate(this.nextDay)}.json.gz`);
      this.nextDay += DAY_MS;
    }
  }

  async flush(watermark: number): Promise<void> {
    for (const { t, item } of this.queue.take(watermark)) {
      const day = dayStart(t);
      if (day >= this.nextDay) {
        await this.fillTo(day);
        this.nextDay = day + DAY_MS;
      }
      const wait = this.out.write(`segment-export_${utcDate(t)}.json.gz`, item);
      if (wait) await wait;
    }
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    await this.out.close();
    await this.fillTo(this.window.end);
    return [...this.out.files].sort();
  }
}
