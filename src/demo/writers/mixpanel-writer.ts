/**
 * Mixpanel Raw Event Export bodies (NDJSON, gzip), one per calendar month as `from_date`/`to_date` exports
 * would be run: `{"event": …, "properties": {time (epoch seconds), distinct_id, $insert_id, $device_id, $user_id,
 * …}}`. Two sources feed the project: the iOS / Android apps (screen and action events, `$ae_*` automatic events)
 * and the help centre's JS autocapture (`$mp_web_page_view`, `$mp_click`, `$mp_submit`, `$mp_rage_click`,
 * `$mp_dead_click`). Simplified ID merge: before login distinct_id is "$device:<device id>", after it the user id.
 */
import { ancestry, type ElementDef, type PageDef } from '../catalog.js';
import { type DemoWindow, utcDate } from '../clock.js';
import type { EventContext, SimEvent, ToolWriter } from '../model.js';
import { RollingGzipFiles, TimeOrderedQueue } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { joinMembers, MemberMasking, TextMemo } from './common.js';

const clickCache = new Map<string, string>();

/** The autocapture element properties of a click as JSON members (cached per element: they never change). */
function clickJson(page: PageDef, el: ElementDef, eventType: 'click' | 'submit'): string {
  const key = `${page.key}/${el.key}/${eventType}`;
  let json = clickCache.get(key);
  if (json === undefined) {
    const nodes = ancestry(page, el);
    const self = nodes[nodes.length - 1]!;
    json = JSON.stringify({
      $event_type: eventType,
      $host: page.host,
      $elements: [...nodes].reverse().slice(0, 6).map((n) => ({
        $tag_name: n.tag,
        $classes: n.classes,
        ...(n.id === undefined ? {} : { $id: n.id }),
        $nth_child: n.nthChild,
        $nth_of_type: n.nthOfType,
        ...(n.href === undefined ? {} : { '$attr-href': n.href }),
      })),
      ...(self.href === undefined ? {} : { $el_attr__href: self.href }),
      $el_tag_name: self.tag,
      $el_classes: self.classes,
      ...(self.id === undefined ? {} : { $el_id: self.id }),
      $el_text: el.text,
      $x: 200 + ((el.text.length * 13) % 500),
      $y: 240,
    }).slice(1, -1);
    clickCache.set(key, json);
  }
  return json;
}

interface VisitState {
  key: string;
  /** JSON members (no braces) of the properties shared by the visit (app) or page (web). */
  fragment: string;
}

const APP_VERSION = '4.12.0';
const APP_BUILD = '41207';

export class MixpanelWriter implements ToolWriter {
  readonly tool = 'mixpanel' as const;
  count = 0;
  private readonly rng: Rng;
  private readonly queue = new TimeOrderedQueue<string>();
  private readonly out: RollingGzipFiles;

  /** Masks records as they are built, as the PostHog writer does: fragments once, whole lines if it must. */
  private readonly masking: MemberMasking;
  /** Masked property members by their JSON text (masking only: elements, screens and events repeat). */
  private readonly maskedParts = new TextMemo(20_000);

  constructor(
    private readonly dir: string,
    seed: number,
    _window: DemoWindow,
    masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 31);
    this.masking = new MemberMasking('mixpanel', masker, 'properties');
    this.out = new RollingGzipFiles(dir, 'ndjson', this.masking.lineMask);
  }

  /** Property members given as JSON text, masked when masking by member (remembered by text). */
  private part(text: string): string {
    if (this.masking.masker === undefined || text === '') return text;
    return this.maskedParts.get(text, () => this.masking.children(JSON.parse(`{${text}}`) as Record<string, unknown>));
  }

  private insertId(): string {
    // Mixpanel SDKs send 36-character random ids.
    return `${this.rng.hex(8)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(4)}-${this.rng.hex(12)}`;
  }

  /**
   * Writes one event: `apiMs` is $mp_api_timestamp_ms (web events), `own` the event's own properties as JSON members
   * (parts cached per element and page), `fragment` the members (no braces) shared by the whole visit or page,
   * serialised (and masked) once.
   */
  private write(event: string, ev: SimEvent, apiMs: number | undefined, own: readonly string[], fragment: string): void {
    const time = Math.floor(ev.t / 1000);
    const insertId = this.insertId();
    const processing = ev.t + this.rng.int(300, 60_000);
    const properties = joinMembers(
      this.masking.children({ time, $mp_api_timestamp_ms: apiMs }),
      ...own.map((part) => this.part(part)),
      this.masking.children({ $insert_id: insertId, mp_processing_time_ms: processing }),
      fragment,
    );
    // The masker leaves out a field all of whose members it drops.
    const line = `{${joinMembers(this.masking.members({ event }), properties === '' ? '' : `"properties":{${properties}}`)}}`;
    this.queue.push(ev.t, line);
    this.count++;
  }

  private state(ctx: EventContext): VisitState {
    const st = (ctx.visit.toolState ??= {});
    let s = st.mixpanel as VisitState | undefined;
    if (s === undefined) {
      s = { key: '', fragment: '' };
      st.mixpanel = s;
    }
    return s;
  }

  private identity(ctx: EventContext): Record<string, unknown> {
    const deviceId = ctx.device.ids.mixpanelDeviceId;
    return ctx.identified
      ? { distinct_id: ctx.person.userId, $device_id: deviceId, $user_id: ctx.person.userId }
      : { distinct_id: `$device:${deviceId}`, $device_id: deviceId };
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    if (ev.kind === 'identify' || ev.kind === 'exception') return;
    if (ctx.page === undefined) this.emitApp(ev, ctx);
    else this.emitWeb(ev, ctx);
  }

  private emitApp(ev: SimEvent, ctx: EventContext): void {
    const s = this.state(ctx);
    const key = `app/${ctx.identified}`;
    if (s.key !== key) {
      const d = ctx.device;
      const ios = d.kind === 'ios';
      s.key = key;
      s.fragment = this.masking.children({
        ...this.identity(ctx),
        $app_build_number: APP_BUILD,
        $app_version_string: APP_VERSION,
        $carrier: ctx.person.country.code === 'US' ? 'Verizon' : '',
        $city: ctx.person.country.city,
        $lib_version: ios ? '4.3.0' : '7.5.2',
        $manufacturer: ios ? 'Apple' : d.brand,
        $model: d.model,
        $os: d.os,
        $os_version: d.osVersion,
        $region: ctx.person.country.region,
        $screen_height: d.screenH,
        $screen_width: d.screenW,
        $wifi: ctx.visit.seq % 3 !== 0,
        mp_country_code: ctx.person.country.code,
        mp_lib: ios ? 'swift' : 'android',
      });
    }
    const own: Record<string, unknown> = ev.kind === 'screen' ? { screen_name: ev.name } : { ...ev.props };
    if (ev.name === '$ae_first_open') own.$had_persisted_distinct_id = false;
    this.write(ev.kind === 'screen' ? 'Screen Viewed' : ev.name!, ev, undefined, [JSON.stringify(own).slice(1, -1)], s.fragment);
  }

  private emitWeb(ev: SimEvent, ctx: EventContext): void {
    const page = ctx.page!;
    const d = ctx.device;
    const s = this.state(ctx);
    const key = `${page.seq}/${ctx.identified}`;
    if (s.key !== key) {
      s.key = key;
      s.fragment = this.masking.children({
        ...this.identity(ctx),
        $browser: d.browser,
        $browser_version: Number.parseFloat(d.browserVersion),
        $city: ctx.person.country.city,
        $current_url: page.url,
        $device: d.kind === 'desktop' ? undefined : d.model,
        $initial_referrer: '$direct',
        $initial_referring_domain: '$direct',
        $lib_version: '2.55.1',
        $mp_api_endpoint: 'api-js.mixpanel.com',
        $os: d.os,
        $referrer: page.referrer === '' ? undefined : page.referrer,
        $region: ctx.person.country.region,
        $screen_height: d.screenH,
        $screen_width: d.screenW,
        current_domain: page.def.host,
        current_page_title: page.title,
        current_url_path: page.path,
        current_url_protocol: 'https:',
        mp_country_code: ctx.person.country.code,
        mp_lib: 'web',
      });
    }
    const apiMs = ev.t + this.rng.int(20, 400);
    if (ev.kind === 'page') {
      this.write('$mp_web_page_view', ev, apiMs, [], s.fragment);
      return;
    }
    if (ev.kind === 'input') return; // autocapture of input changes is off in this project
    if (ev.kind === 'click') {
      const el = ev.el!;
      const submit = el.key === 'help_send';
      const pageMembers = `"$pathname":${JSON.stringify(page.path)},"$viewportHeight":${d.viewportH},"$viewportWidth":${d.viewportW},"$pageHeight":${d.viewportH * 2},"$pageWidth":${d.viewportW}`;
      const own = [clickJson(page.def, el, submit ? 'submit' : 'click'), pageMembers];
      this.write(submit ? '$mp_submit' : '$mp_click', ev, apiMs, own, s.fragment);
      const asClick = submit ? [clickJson(page.def, el, 'click'), pageMembers] : own;
      // Mixpanel's default rage threshold is 4 clicks within a second; it reports the series once.
      if (ev.rage >= 3 && ev.rage === Math.min(4, ev.rageTotal)) this.write('$mp_rage_click', ev, apiMs, asClick, s.fragment);
      if (ev.dead) this.write('$mp_dead_click', ev, apiMs, asClick, s.fragment);
      return;
    }
    this.write(ev.name!, ev, apiMs, ev.props === undefined ? [] : [JSON.stringify(ev.props).slice(1, -1)], s.fragment);
  }

  /** One export per calendar month (from_date = the 1st, to_date = the last day). */
  private fileFor(t: number): string {
    const month = utcDate(t).slice(0, 7);
    const [y, m] = month.split('-').map(Number) as [number, number];
    return `export_${month}-01_${utcDate(Date.UTC(y, m, 0))}.ndjson.gz`;
  }

  async flush(watermark: number): Promise<void> {
    let month = '';
    let name = '';
    for (const { t, item } of this.queue.take(watermark)) {
      const m = utcDate(t).slice(0, 7);
      if (m !== month) {
        month = m;
        name = this.fileFor(t);
      }
      const wait = this.out.write(name, item);
      if (wait) await wait;
    }
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    await this.out.close();
    return this.out.files;
  }
}
