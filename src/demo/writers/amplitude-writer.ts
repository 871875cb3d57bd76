/**
 * Amplitude Export API archives: one ZIP per calendar month (as a monthly `GET /api/2/export?start=…T00&end=…T23`
 * returns), holding `<app>/<app>_YYYY-MM-DD_H#0.json.gz` members — gzipped NDJSON, one file per hour of
 * server_upload_time (the Export API selects by upload time). Times are Amplitude's naive UTC
 * "YYYY-MM-DD HH:MM:SS.ffffff"; session_id is the session start in epoch ms. Browser autocapture and frustration
 * events use the SDK's "[Amplitude] …" names. The archive is streamed with fflate (members are stored: they are
 * gzip already), so memory holds one day of records at most.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Zip, ZipPassThrough } from 'fflate';
import { ancestry, cssSelector, type ElementDef, type PageDef } from '../catalog.js';
import { type DemoWindow, HOUR_MS, amplitudeTime, monthOf, utcDate } from '../clock.js';
import { uuidV4 } from '../ids.js';
import type { Device, EventContext, SimEvent, ToolWriter } from '../model.js';
import { GZIP_LEVEL, TimeOrderedQueue, ensureDir } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { ipFor, joinMembers, MemberMasking, TextMemo } from './common.js';

const gzip = promisify(gzipCb);

export const AMPLITUDE_APP_ID = 434735;
const LIBRARY = 'amplitude-ts/2.11.1';

const LANGUAGES: Record<string, string> = { en: 'English', de: 'German', fr: 'French', pt: 'Portuguese', nl: 'Dutch' };
const DMA: Record<string, string> = { 'San Francisco': 'San Francisco-Oakland-San Jose, CA', 'New York': 'New York, NY' };

interface SessionState {
  sessionId: number;
  rageBegin: number;
  fragmentKey: string;
  fragment: string;
  pageSeq: number;
  pageViewedJson: string;
  pageRefJson: string;
  viewportJson: string;
}


function deviceFamily(d: Device): string {
  if (d.os === 'Mac OS X') return 'Mac';
  if (d.os === 'Windows') return 'Windows';
  if (d.os === 'Linux') return 'Linux';
  if (d.brand === 'Apple') return 'Apple iPhone';
  return `${d.brand} ${d.model}`;
}

const elementCache = new Map<string, string>();

const positionLeft = (el: ElementDef): number => 120 + ((el.text.length * 7) % 600);

/** The autocapture element properties of an element as JSON members (cached: they never change). */
function elementJson(page: PageDef, el: ElementDef, clicked: boolean): string {
  const key = `${page.key}/${el.key}/${clicked}`;
  let json = elementCache.get(key);
  if (json === undefined) {
    const props = buildElementProps(page, el, clicked);
    if (clicked) Object.assign(props, { '[Amplitude] Element Position Left': positionLeft(el), '[Amplitude] Element Position Top': 96 });
    json = JSON.stringify(props).slice(1, -1);
    elementCache.set(key, json);
  }
  return json;
}

function buildElementProps(page: PageDef, el: ElementDef, withText: boolean): Record<string, unknown> {
  const nodes = ancestry(page, el);
  const self = nodes[nodes.length - 1]!;
  return {
    '[Amplitude] Element Tag': self.tag,
    ...(withText ? { '[Amplitude] Element Text': el.text } : {}),
    '[Amplitude] Element Class': self.classes.join(' '),
    ...(self.id === undefined ? {} : { '[Amplitude] Element ID': self.id }),
    ...(self.href === undefined ? {} : { '[Amplitude] Element Href': `https://${page.host}${self.href}` }),
    '[Amplitude] Element Selector': cssSelector(page, el),
    '[Amplitude] Element Hierarchy': nodes
      .slice(-2)
      .reverse()
      .map((n) => ({ tag: n.tag, index: n.nthChild - 1, indexOfType: n.nthOfType - 1, ...(n.id === undefined ? {} : { id: n.id }), classes: n.classes })),
  };
}

export class AmplitudeWriter implements ToolWriter {
  readonly tool = 'amplitude' as const;
  count = 0;
  private readonly rng: Rng;
  /** Lines queued by server_upload_time: the Export API's files are cut by upload hour. */
  private readonly queue = new TimeOrderedQueue<string>();
  private hour = Number.NaN;
  private hourLines: string[] = [];
  /** Members being compressed on the thread pool, added to the zip in order as they are done. */
  private compressing: { hourStart: number; name: string; data: Promise<Uint8Array>; done?: Uint8Array }[] = [];
  private readonly eventIds = new Map<number, number>();
  /** event_properties members masked, by their JSON text (masking only: most repeat per page and element). */
  private readonly maskedProperties = new TextMemo(50_000);
  /** Masks records as they are built: a visit's fields once, each event's own members per event. */
  private readonly masking: MemberMasking;
  private readonly files: string[] = [];
  private zip: { month: string; zip: Zip; out: WriteStream; chunks: Uint8Array[]; error?: Error } | undefined;

  constructor(
    private readonly dir: string,
    seed: number,
    private readonly window: DemoWindow,
    masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 21);
    this.masking = new MemberMasking('amplitude', masker);
    ensureDir(dir);
  }

  private session(ctx: EventContext, t: number): SessionState {
    const state = (ctx.visit.toolState ??= {});
    let s = state.amplitude as SessionState | undefined;
    if (s === undefined) {
      s = { sessionId: t, rageBegin: t, fragmentKey: '', fragment: '', pageSeq: 0, pageViewedJson: '', pageRefJson: '', viewportJson: '' };
      state.amplitude = s;
    }
    return s;
  }

  /** JSON members (no braces) of the fields that depend only on the user and device, built once per visit. */
  private fragment(ctx: EventContext, s: SessionState): string {
    const key = `${ctx.identified}/${ctx.person.plan}`;
    if (s.fragmentKey === key) return s.fragment;
    const { person, device } = ctx;
    const family = deviceFamily(device);
    const identified = ctx.identified;
    const country = person.country;
    s.fragmentKey = key;
    const members = {
      $insert_key: null,
      $schema: null,
      adid: null,
      amplitude_attribution_ids: null,
      amplitude_event_type: null,
      amplitude_id: person.ids.amplitudeId,
      app: AMPLITUDE_APP_ID,
      city: country.city,
      country: country.name,
      data: { path: '/2/httpapi', user_properties_updated: false, group_first_event: {}, group_ids: {} },
      data_type: 'event',
      device_brand: device.brand === '' ? null : device.brand,
      device_carrier: null,
      device_family: family,
      device_id: device.ids.amplitudeDeviceId,
      device_manufacturer: device.brand === '' ? null : device.brand,
      device_model: device.model === '' ? device.os : device.model,
      device_type: family,
      dma: country.code === 'US' ? (DMA[country.city] ?? null) : null,
      global_user_properties: {},
      group_properties: {},
      groups: {},
      idfa: null,
      ip_address: ipFor(person),
      is_attribution_event: false,
      language: LANGUAGES[country.language.slice(0, 2)] ?? 'English',
      library: LIBRARY,
      location_lat: null,
      location_lng: null,
      os_name: device.browser,
      os_version: device.browserVersion.split('.')[0]!,
      partner_id: null,
      paying: null,
      plan: {},
      platform: 'Web',
      region: country.region,
      sample_rate: null,
      source_id: null,
      start_version: null,
      user_creation_time: amplitudeTime(Math.min(device.firstSeen, person.signedUpAt ?? device.firstSeen)),
      user_id: identified ? person.userId : null,
      user_properties: identified ? { plan: person.plan, company: person.company, email: person.email } : {},
      version_name: null,
    };
    s.fragment = this.masking.members(members);
    return s.fragment;
  }

  /**
   * Writes one event; `propsJson` is event_properties already serialised (its parts are cached per element,
   * page and device). Event types are plain text and need no escaping.
   */
  private write(eventType: string, t: number, us: number, ctx: EventContext, propsJson: string, s: SessionState): void {
    const device = ctx.device;
    const eventId = (this.eventIds.get(device.key) ?? 0) + 1;
    this.eventIds.set(device.key, eventId);
    const clientUpload = t + this.rng.int(150, 2500);
    // The export is cut by upload time: the last events of the window must upload inside it to be exported.
    const received = Math.min(clientUpload + this.rng.int(30, 250), this.window.end - 20);
    const upload = received + this.rng.int(2, 12);
    const eventTime = amplitudeTime(t, us);
    // The random draws in the order the record's members are written.
    const insertId = uuidV4(this.rng);
    const processed = upload + this.rng.int(200, 900);
    const uuid = uuidV4(this.rng);
    const fragment = this.fragment(ctx, s);
    const m = this.masking;
    const line = `{${joinMembers(
      m.members({ $insert_id: insertId, client_event_time: eventTime, client_upload_time: amplitudeTime(clientUpload), event_id: eventId }),
      this.eventProperties(propsJson),
      m.members({
        event_time: eventTime,
        event_type: eventType,
        processed_time: amplitudeTime(processed),
        server_received_time: amplitudeTime(received),
        server_upload_time: amplitudeTime(upload),
        session_id: s.sessionId,
        uuid,
      }),
      fragment,
    )}}`;
    this.queue.push(upload, line);
    this.count++;
  }

  /** The event_properties member (masked when masking); `propsJson` is the properties object as JSON text. */
  private eventProperties(propsJson: string): string {
    if (this.masking.masker === undefined) return `"event_properties":${propsJson}`;
    return this.maskedProperties.get(propsJson, () => this.masking.members({ event_properties: JSON.parse(propsJson) as unknown }));
  }

  /** Page-level property members, rebuilt when the page changes. */
  private pageJson(ctx: EventContext, s: SessionState): void {
    const page = ctx.page!;
    if (s.pageSeq === page.seq) return;
    s.pageSeq = page.seq;
    const url = page.url.split('?')[0]!;
    s.pageViewedJson = JSON.stringify({
      '[Amplitude] Page Domain': page.def.host,
      '[Amplitude] Page Location': page.url,
      '[Amplitude] Page Path': page.path,
      '[Amplitude] Page Title': page.title,
      '[Amplitude] Page URL': url,
    });
    s.pageRefJson = JSON.stringify({ '[Amplitude] Page URL': url, '[Amplitude] Page Title': page.title }).slice(1, -1);
    s.viewportJson = JSON.stringify({ '[Amplitude] Viewport Height': ctx.device.viewportH, '[Amplitude] Viewport Width': ctx.device.viewportW }).slice(1, -1);
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    const page = ctx.page;
    if (page === undefined || ev.kind === 'identify' || ev.kind === 'exception') return;
    const isNew = ctx.visit.toolState?.amplitude === undefined;
    const s = this.session(ctx, ev.t);
    if (isNew) this.write('session_start', ev.t, ev.us, ctx, '{}', s);
    this.pageJson(ctx, s);
    switch (ev.kind) {
      case 'page':
        this.write('[Amplitude] Page Viewed', ev.t, ev.us, ctx, s.pageViewedJson, s);
        return;
      case 'click': {
        const el = elementJson(page.def, ev.el!, true);
        const clicked = `{${el},${s.pageRefJson},${s.viewportJson}}`;
        this.write('[Amplitude] Element Clicked', ev.t, ev.us, ctx, clicked, s);
        if (ev.rage === 1) s.rageBegin = ev.t;
        if (ev.rage > 0 && ev.rage === ev.rageTotal) {
          const left = positionLeft(ev.el!);
          const clicks = Array.from({ length: ev.rageTotal }, (_v, i) => ({
            X: left + 10,
            Y: 110,
            Time: s.rageBegin + Math.round(((ev.t - s.rageBegin) * i) / Math.max(1, ev.rageTotal - 1)),
          }));
          const rage = JSON.stringify({
            '[Amplitude] Begin Time': new Date(s.rageBegin).toISOString(),
            '[Amplitude] End Time': new Date(ev.t).toISOString(),
            '[Amplitude] Duration': ev.t - s.rageBegin,
            '[Amplitude] Clicks': clicks,
            '[Amplitude] Click Count': ev.rageTotal,
          }).slice(1, -1);
          this.write('[Amplitude] Rage Click', ev.t, ev.us, ctx, `{${el},${rage},${s.pageRefJson}}`, s);
        }
        if (ev.dead) this.write('[Amplitude] Dead Click', ev.t, ev.us, ctx, clicked, s);
        return;
      }
      case 'input':
        this.write('[Amplitude] Element Changed', ev.t, ev.us, ctx, `{${elementJson(page.def, ev.el!, false)},${s.pageRefJson},${s.viewportJson}}`, s);
        return;
      default:
        this.write(ev.name!, ev.t, ev.us, ctx, JSON.stringify(ev.props ?? {}), s);
    }
  }

  async flush(watermark: number): Promise<void> {
    for (const { t, item } of this.queue.take(watermark)) {
      const hour = Math.floor(t / HOUR_MS);
      if (hour !== this.hour) await this.endHour(hour);
      this.hourLines.push(item);
    }
  }

  /** Hands the finished hour to the compressor and starts `next`; keeps a few hours compressing at once. */
  private async endHour(next: number): Promise<void> {
    if (this.hourLines.length > 0) {
      const hourStart = this.hour * HOUR_MS;
      const name = `${AMPLITUDE_APP_ID}/${AMPLITUDE_APP_ID}_${utcDate(hourStart)}_${new Date(hourStart).getUTCHours()}#0.json.gz`;
      const member: (typeof this.compressing)[number] = { hourStart, name, data: gzip(`${this.hourLines.join('\n')}\n`, { level: GZIP_LEVEL }) };
      member.data.then((d) => (member.done = d), () => undefined);
      this.compressing.push(member);
    }
    this.hour = next;
    this.hourLines = [];
    // Add finished members without waiting; wait only when many are in flight (or at the end).
    const limit = Number.isNaN(next) ? 0 : 48;
    while (this.compressing.length > 0 && (this.compressing[0]!.done !== undefined || this.compressing.length > limit)) {
      const m = this.compressing.shift()!;
      await this.addMember(m.hourStart, m.name, m.done ?? (await m.data));
    }
  }

  private async addMember(hourStart: number, name: string, data: Uint8Array): Promise<void> {
    const month = monthOf(hourStart);
    if (this.zip === undefined || this.zip.month !== month) {
      await this.closeZip();
      this.openZip(month);
    }
    const z = this.zip!;
    const file = new ZipPassThrough(name);
    file.mtime = new Date(hourStart + HOUR_MS);
    z.zip.add(file);
    file.push(data, true);
    await this.drainZip();
  }

  private openZip(month: string): void {
    const [y, m] = month.split('-').map(Number) as [number, number];
    const first = Date.UTC(y, m - 1, 1);
    const last = Date.UTC(y, m, 0);
    const stamp = (t: number): string => utcDate(t).replace(/-/g, '');
    const name = `export_${AMPLITUDE_APP_ID}_${stamp(first)}T00_${stamp(last)}T23.zip`;
    this.files.push(name);
    const out = createWriteStream(join(this.dir, name));
    const state: NonNullable<AmplitudeWriter['zip']> = { month, zip: undefined as unknown as Zip, out, chunks: [] };
    out.on('error', (err) => (state.error ??= err));
    state.zip = new Zip((err, chunk, _final) => {
      if (err) state.error ??= err;
      else state.chunks.push(chunk);
    });
    this.zip = state;
  }

  private async drainZip(): Promise<void> {
    const z = this.zip!;
    if (z.error) throw z.error;
    const chunks = z.chunks;
    z.chunks = [];
    for (const c of chunks) if (!z.out.write(c)) await once(z.out, 'drain');
  }

  private async closeZip(): Promise<void> {
    const z = this.zip;
    if (z === undefined) return;
    z.zip.end();
    await this.drainZip();
    const closed = once(z.out, 'close');
    z.out.end();
    await closed;
    if (z.error) throw z.error;
    this.zip = undefined;
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    await this.endHour(Number.NaN);
    await this.closeZip();
    return this.files;
  }
}
