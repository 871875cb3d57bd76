/**
 * PostHog batch-export files (model "events", JSONLines, gzip), one per week as the on-demand file download
 * export allows at most a week per run: uuid, event, distinct_id, person_id, properties (an object),
 * person_properties, elements_chain, timestamp / created_at / _inserted_at (µs ISO, UTC).
 * Autocaptured clicks carry the element chain; rage and dead clicks and exceptions are their own events
 * ($rageclick at the third click of a series, $dead_click after the detection delay, $exception).
 */
import { ancestry, type ElementDef, type PageDef } from '../catalog.js';
import { DAY_MS, type DemoWindow, isoMicros, utcDate } from '../clock.js';
import { uuidV7 } from '../ids.js';
import type { EventContext, PageContext, SimEvent, ToolWriter } from '../model.js';
import { RollingGzipFiles, TimeOrderedQueue } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { deviceLabel, fullName, joinMembers, MemberMasking, TextMemo } from './common.js';

interface SessionState {
  sessionId: string;
  windowId: string;
  pageviewId: string;
  pageSeq: number;
  /** JSON members (no braces, masked when masking) of the properties that stay the same for the whole page / visit. */
  pageFragment: string;
  visitFragment: string;
  /** The plan person_properties were last written with, and their member (masked when masking). */
  personKey: string;
  personJson: string;
}

const LIB_VERSION = '1.160.3';

const chainCache = new Map<string, string>();
const pad3 = (n: number): string => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/**
 * PostHog's elements_chain: the element first, then its ancestors, "tag.classes:attr…" joined with ";". Returned
 * as a JSON string literal (cached: the quotes inside make escaping it per event costly).
 */
export function elementsChainJson(page: PageDef, el: ElementDef, withText: boolean): string {
  const key = `${page.key}/${el.key}/${withText}`;
  let chain = chainCache.get(key);
  if (chain === undefined) {
    // The element and its ancestors up to <body>, as posthog-js records them (no <html>).
    const nodes = [...ancestry(page, el)].reverse().slice(0, -1);
    chain = nodes
      .map((n, i) => {
        const attrs: string[] = [];
        if (n.classes.length > 0) attrs.push(`attr__class="${n.classes.join(' ')}"`);
        if (n.href !== undefined) attrs.push(`attr__href="${n.href}"`);
        if (n.id !== undefined) attrs.push(`attr__id="${n.id}"`, `attr_id="${n.id}"`);
        if (n.href !== undefined) attrs.push(`href="${n.href}"`);
        attrs.push(`nth-child="${n.nthChild}"`, `nth-of-type="${n.nthOfType}"`);
        if (i === 0 && withText) attrs.push(`text="${el.text.replace(/"/g, '\\"')}"`);
        return `${n.tag}${n.classes.map((c) => `.${c}`).join('')}:${attrs.join('')}`;
      })
      .join(';');
    chain = JSON.stringify(chain);
    chainCache.set(key, chain);
  }
  return chain;
}

export class PosthogWriter implements ToolWriter {
  readonly tool = 'posthog' as const;
  count = 0;
  private readonly rng: Rng;
  private readonly queue = new TimeOrderedQueue<string>();
  private readonly out: RollingGzipFiles;
  private readonly weekNames = new Map<number, string>();

  /** The elements_chain member of each chain, masked (masking only). */
  private readonly maskedChains = new TextMemo(20_000);
  /** The person_properties member of anonymous events. */
  private anonymousPerson: string | undefined;
  /**
   * Masks records as they are built: the page and visit properties every event of a page repeats are masked once,
   * and no line is parsed back; a policy that replaces `properties` whole masks whole lines.
   */
  private readonly masking: MemberMasking;

  constructor(
    private readonly dir: string,
    seed: number,
    private readonly window: DemoWindow,
    masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 41);
    this.masking = new MemberMasking('posthog', masker, 'properties');
    this.out = new RollingGzipFiles(dir, 'ndjson', this.masking.lineMask);
  }

  private session(ctx: EventContext, t: number): SessionState {
    const state = (ctx.visit.toolState ??= {});
    let s = state.posthog as SessionState | undefined;
    if (s === undefined) {
      s = { sessionId: uuidV7(this.rng, t), windowId: uuidV7(this.rng, t), pageviewId: '', pageSeq: 0, pageFragment: '', visitFragment: '', personKey: '', personJson: '' };
      state.posthog = s;
    }
    if (ctx.page !== undefined && ctx.page.seq !== s.pageSeq) {
      s.pageSeq = ctx.page.seq;
      s.pageviewId = uuidV7(this.rng, ctx.page.start);
      s.pageFragment = this.pageFragment(ctx, s, ctx.page);
    }
    return s;
  }

  /** The page and session properties every event of the page repeats, serialised once per page. */
  private pageFragment(ctx: EventContext, s: SessionState, page: PageContext): string {
    const { device, person } = ctx;
    if (s.visitFragment === '') {
      s.visitFragment = this.masking.children({
        $os: device.os,
        $browser: device.browser,
        $browser_version: Number.parseFloat(device.browserVersion),
        $device_type: deviceLabel(device),
        $lib: 'web',
        $lib_version: LIB_VERSION,
        $device_id: device.ids.posthogDeviceId,
        $session_id: s.sessionId,
        $window_id: s.windowId,
        $geoip_country_code: person.country.code,
      });
    }
    const referrer = page.referrer;
    const pageMembers = this.masking.children({
      $current_url: page.url,
      $host: page.def.host,
      $pathname: page.path,
      $referrer: referrer === '' ? '$direct' : referrer,
      $referring_domain: referrer === '' ? '$direct' : (/^https?:\/\/([^/?#]+)/.exec(referrer)?.[1] ?? '$direct'),
      $pageview_id: s.pageviewId,
    });
    return joinMembers(pageMembers, s.visitFragment);
  }

  /** The person_properties member (masked when masking), kept per visit while the plan stays the same. */
  private personMember(ctx: EventContext, s: SessionState | undefined): string {
    if (!ctx.identified) return (this.anonymousPerson ??= this.masking.members({ person_properties: {} }));
    const p = ctx.person;
    if (s !== undefined && s.personKey === p.plan) return s.personJson;
    const json = this.masking.members({ person_properties: { email: p.email, name: fullName(p), plan: p.plan } });
    if (s !== undefined) {
      s.personKey = p.plan;
      s.personJson = json;
    }
    return json;
  }

  /** The elements_chain member; `chainJson` is the chain as a JSON string literal. */
  private chainMember(chainJson: string): string {
    if (this.masking.masker === undefined) return `"elements_chain":${chainJson}`;
    return this.maskedChains.get(chainJson, () => this.masking.members({ elements_chain: JSON.parse(chainJson) as string }));
  }

  /**
   * Writes one record. `own` holds the event's own properties; browser events add the page fragment (built once
   * per page) instead of re-serialising the same properties for every event. `chainJson` is the elements chain
   * already as a JSON string. Ids and event names are plain ASCII and are written without escaping.
   */
  private write(event: string, t: number, us: number, ctx: EventContext, own: Record<string, unknown> | undefined, chainJson = '""', browser = true): void {
    const distinctId = ctx.identified ? ctx.person.userId! : ctx.device.ids.posthogDeviceId;
    const created = t + this.rng.int(80, 2500);
    const micros = t * 1000 + us;
    const session = ctx.visit.toolState?.posthog as SessionState | undefined;
    // The random draws in the order the record's members are written.
    const insertId = this.rng.hex(16);
    const time = `${Math.floor(micros / 1e6)}.${pad3(Math.floor(micros / 1000) % 1000)}`;
    const uuid = uuidV7(this.rng, t);
    const createdAt = isoMicros(created, this.rng.int(0, 999));
    const insertedAt = isoMicros(created + this.rng.int(500, 4000), this.rng.int(0, 999));
    const fragment = browser ? (session?.pageFragment ?? '') : '';
    const person = this.personMember(ctx, session);
    const chain = this.chainMember(chainJson);
    let line: string;
    // Unmasked, the line is written as text: `$time` keeps its three decimals (…734.100), which the number the
    // masker is given would not.
    if (this.masking.masker === undefined) {
      const ownJson = own === undefined ? '' : `${JSON.stringify(own).slice(1, -1)},`;
      const properties = `{${ownJson}"$insert_id":"${insertId}","$time":${time},"distinct_id":"${distinctId}"${fragment === '' ? '' : `,${fragment}`}}`;
      line =
        `{"uuid":"${uuid}","event":"${event}","distinct_id":"${distinctId}","person_id":"${ctx.person.ids.posthogPersonId}",` +
        `"properties":${properties},${person},${chain},"timestamp":"${isoMicros(t, us)}","created_at":"${createdAt}","_inserted_at":"${insertedAt}"}`;
    } else {
      const properties = joinMembers(
        own === undefined ? '' : this.masking.children(own),
        this.masking.children({ $insert_id: insertId, $time: Number(time), distinct_id: distinctId }),
        fragment,
      );
      line = `{${joinMembers(
        this.masking.members({ uuid, event, distinct_id: distinctId, person_id: ctx.person.ids.posthogPersonId }),
        // The masker leaves out a field all of whose members it drops.
        properties === '' ? '' : `"properties":{${properties}}`,
        person,
        chain,
        this.masking.members({ timestamp: isoMicros(t, us), created_at: createdAt, _inserted_at: insertedAt }),
      )}}`;
    }
    this.queue.push(t, line);
    this.count++;
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    if (ev.server) {
      // posthog-node on the backend: no browser, session or page context.
      this.write(ev.name!, ev.t, ev.us, ctx, { ...ev.props, $lib: 'posthog-node', $lib_version: '4.3.1', $geoip_disable: true }, '""', false);
      return;
    }
    this.session(ctx, ev.t);
    const page = ctx.page;
    switch (ev.kind) {
      case 'page':
        this.write('$pageview', ev.t, ev.us, ctx, { title: page?.title ?? '' });
        return;
      case 'click': {
        const el = ev.el!;
        const chain = elementsChainJson(page!.def, el, true);
        this.write('$autocapture', ev.t, ev.us, ctx, { $event_type: 'click', $ce_version: 1, $el_text: el.text }, chain);
        if (ev.rage === 3) this.write('$rageclick', ev.t, ev.us, ctx, { $el_text: el.text }, chain);
        if (ev.dead) {
          const detected = ev.t + this.rng.int(2500, 3200);
          this.write('$dead_click', detected, ev.us, ctx, {
            $ce_version: 1,
            $event_type: 'click',
            $el_text: el.text,
            $dead_click_scroll_timeout: true,
            $dead_click_mutation_timeout: true,
            $dead_click_absolute_timeout: true,
            $dead_click_selection_changed_timeout: true,
            $dead_click_absolute_delay_ms: detected - ev.t,
            $dead_click_event_timestamp: ev.t,
          }, chain);
        }
        return;
      }
      case 'input':
        this.write('$autocapture', ev.t, ev.us, ctx, { $event_type: 'change', $ce_version: 1 }, elementsChainJson(page!.def, ev.el!, false));
        return;
      case 'exception': {
        const e = ev.error!;
        this.write('$exception', ev.t, ev.us, ctx, {
          $exception_list: [
            {
              type: e.type,
              value: e.message,
              mechanism: { handled: false, synthetic: false, type: 'onerror' },
              stacktrace: { type: 'raw', frames: [{ filename: e.source, lineno: e.line, colno: 23, function: 'n', in_app: true, platform: 'web:javascript' }] },
            },
          ],
          $exception_level: 'error',
          $exception_fingerprint: `${e.type}:${e.line}`,
        });
        return;
      }
      case 'identify': {
        const p = ctx.person;
        this.write('$identify', ev.t, ev.us, ctx, {
          $anon_distinct_id: ctx.device.ids.posthogDeviceId,
          $set: { email: p.email, name: fullName(p), company: p.company, plan: p.plan },
          $set_once: { $initial_referrer: '$direct', $initial_current_url: page?.url ?? '' },
        });
        return;
      }
      default:
        this.write(ev.name!, ev.t, ev.us, ctx, ev.props);
    }
  }

  /** The weekly file (file download exports cover at most a week) holding instant t. */
  private fileFor(t: number): string {
    const week = Math.floor((t - this.window.start) / (7 * DAY_MS));
    let name = this.weekNames.get(week);
    if (name === undefined) {
      const start = this.window.start + week * 7 * DAY_MS;
      const end = Math.min(start + 7 * DAY_MS, this.window.end);
      name = `events_${utcDate(start)}T00-00-00Z_${utcDate(end)}T00-00-00Z.jsonl.gz`;
      this.weekNames.set(week, name);
    }
    return name;
  }

  async flush(watermark: number): Promise<void> {
    for (const { t, item } of this.queue.take(watermark)) {
      const wait = this.out.write(this.fileFor(t), item);
      if (wait) await wait;
    }
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    await this.out.close();
    return this.out.files;
  }
}
