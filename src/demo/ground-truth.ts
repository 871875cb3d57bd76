/**
 * The demo's answer key. While events are written, an observer counts what the simulation actually did
 * (tool-neutral: one count per simulated click or page, whatever records each tool makes of it); at the end the
 * planted behaviours are written with where they are, which tool carries them, what an analysis should find
 * (expected direction and rough size) and what the data holds (observed). docs/demo.md documents the shape.
 */
import { AREA_TOOL, INTEGRATION_NAMES, type PageKey, type Tool } from './catalog.js';
import { DAY_MS, type DemoWindow, monthIndex } from './clock.js';
import type { EventContext, SimEvent } from './model.js';
import { PLANTED } from './population.js';

export type BehaviourKind =
  | 'funnel_drop_off'
  | 'dead_clicks'
  | 'rage_clicks'
  | 'error_page'
  | 'feature_adopted'
  | 'feature_ignored'
  | 'feature_frustrating'
  | 'month_over_month_change';

export interface PlantedBehaviour {
  readonly id: string;
  readonly kind: BehaviourKind;
  readonly description: string;
  /** The tool(s) whose export carries the behaviour. */
  readonly sources: readonly Tool[];
  /** Where to look: any of event, funnel, page (cleaned path), element (text), selector, platform, feature, months. */
  readonly where: Readonly<Record<string, unknown>>;
  /** What an analysis should find: metric, direction, and the planted value(s) with a tolerance. */
  readonly expected: Readonly<Record<string, unknown>>;
  /** What the generated data holds, counted by the simulation (tool-neutral). */
  readonly observed: Readonly<Record<string, unknown>>;
}

interface PageStats {
  sessions: Set<number>;
  dead: Set<number>;
  rage: Set<number>;
  error: Set<number>;
}

interface ElementStats {
  clicks: number;
  dead: number;
  rageClicks: number;
  rageSeries: number;
  errors: number;
}

interface FunnelPerson {
  platform: 'desktop' | 'mobile';
  signup: number;
  create?: number;
  invite?: number;
  upgrade?: number;
}

const CLEAN_PATH: Partial<Record<PageKey, string>> = {
  board: '/projects/:id/board',
  timeline: '/projects/:id/timeline',
  automations: '/projects/:id/automations',
  report: '/reports/:id',
  integration: '/integrations/:name',
  project: '/projects/:id',
};

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;
const ratio = (a: number, b: number): number | null => (b === 0 ? null : round(a / b));

export class Observer {
  private readonly active = new Set<number>();
  private readonly identifiedActive = new Set<number>();
  private readonly webApp = new Set<number>();
  private readonly featureUsers = { board: new Set<number>(), timeline: new Set<number>(), automations: new Set<number>() };
  private readonly pages = new Map<PageKey, PageStats>();
  private readonly elements = new Map<string, ElementStats>();
  private readonly funnel = new Map<number, FunnelPerson>();
  private readonly onboarding = new Map<number, { month: number; completed: boolean }>();
  private readonly mobileInviteDead = { clicks: 0, dead: 0 };

  constructor(private readonly window: DemoWindow) {}

  private pageStats(key: PageKey): PageStats {
    let s = this.pages.get(key);
    if (s === undefined) {
      s = { sessions: new Set(), dead: new Set(), rage: new Set(), error: new Set() };
      this.pages.set(key, s);
    }
    return s;
  }

  observe(tool: Tool, ev: SimEvent, ctx: EventContext): void {
    const idx = ctx.person.idx;
    this.active.add(idx);
    if (ctx.person.userId !== null) this.identifiedActive.add(idx);
    const page = ctx.page;
    if (page !== undefined && tool === AREA_TOOL[page.def.area]) {
      const area = page.def.area;
      if (area === 'core' || area === 'pilot' || area === 'reports' || area === 'admin') this.webApp.add(idx);
      const key = page.def.key;
      const ps = this.pageStats(key);
      const visit = ctx.visit.seq;
      if (ev.kind === 'page') {
        ps.sessions.add(visit);
        if (key === 'board' || key === 'timeline' || key === 'automations') this.featureUsers[key].add(idx);
      }
      if (ev.kind === 'click') {
        const ek = `${key}/${ev.el!.key}`;
        let es = this.elements.get(ek);
        if (es === undefined) this.elements.set(ek, (es = { clicks: 0, dead: 0, rageClicks: 0, rageSeries: 0, errors: 0 }));
        es.clicks++;
        if (ev.dead) {
          es.dead++;
          ps.dead.add(visit);
        }
        if (ev.rage > 0) {
          es.rageClicks++;
          if (ev.rage === 1) es.rageSeries++;
          ps.rage.add(visit);
        }
        if (ev.errorClick) {
          es.errors++;
          ps.error.add(visit);
        }
        if (ev.el!.key === 'invite_send' && ctx.device.kind !== 'desktop') {
          this.mobileInviteDead.clicks++;
          if (ev.dead) this.mobileInviteDead.dead++;
        }
      }
      if (ev.kind === 'exception') ps.error.add(visit);
    }
    if (ev.kind !== 'custom' || (tool !== 'posthog')) return;
    const name = ev.name;
    if (name === 'signup') {
      this.funnel.set(idx, { platform: ctx.device.kind === 'desktop' ? 'desktop' : 'mobile', signup: ev.t });
    } else if (name === 'create_project' || name === 'invite_teammate' || name === 'upgrade') {
      const f = this.funnel.get(idx);
      if (f === undefined) return;
      const step = name === 'create_project' ? 'create' : name === 'invite_teammate' ? 'invite' : 'upgrade';
      f[step] ??= ev.t;
    } else if (name === 'onboarding_started') {
      this.onboarding.set(idx, { month: monthIndex(this.window, ev.t), completed: false });
    } else if (name === 'onboarding_completed') {
      const o = this.onboarding.get(idx);
      if (o !== undefined) o.completed = true;
    }
  }

  private funnelCounts(platform: 'desktop' | 'mobile'): Record<string, number | null> {
    const within = 14 * DAY_MS;
    let signups = 0;
    let creates = 0;
    let invites = 0;
    let upgrades = 0;
    for (const f of this.funnel.values()) {
      if (f.platform !== platform) continue;
      signups++;
      const end = f.signup + within;
      if (f.create === undefined || f.create > end) continue;
      creates++;
      if (f.invite === undefined || f.invite < f.create || f.invite > end) continue;
      invites++;
      if (f.upgrade !== undefined && f.upgrade >= f.invite && f.upgrade <= end) upgrades++;
    }
    return {
      signup: signups,
      create_project: creates,
      invite_teammate: invites,
      upgrade: upgrades,
      conversion_create_to_invite: ratio(invites, creates),
      conversion_signup_to_invite: ratio(invites, signups),
    };
  }

  private element(page: PageKey, key: string): ElementStats {
    return this.elements.get(`${page}/${key}`) ?? { clicks: 0, dead: 0, rageClicks: 0, rageSeries: 0, errors: 0 };
  }

  /** Share of sessions on the page with a signal, and the highest such share among the other pages. */
  private pageShare(keys: readonly PageKey[], signal: 'dead' | 'rage' | 'error'): { sessions: number; share: number | null; otherPagesMax: number | null } {
    let sessions = 0;
    let hit = 0;
    let otherMax = 0;
    for (const [key, s] of this.pages) {
      if (keys.includes(key)) {
        sessions += s.sessions.size;
        hit += s[signal].size;
      } else if (s.sessions.size >= 50) {
        otherMax = Math.max(otherMax, s[signal].size / s.sessions.size);
      }
    }
    return { sessions, share: ratio(hit, sessions), otherPagesMax: round(otherMax) };
  }

  private otherElements(exclude: readonly string[], field: 'dead' | 'rageClicks' | 'errors'): number | null {
    let clicks = 0;
    let hits = 0;
    for (const [key, s] of this.elements) {
      if (exclude.includes(key)) continue;
      clicks += s.clicks;
      hits += s[field];
    }
    return ratio(hits, clicks);
  }

  behaviours(): PlantedBehaviour[] {
    const months = this.window.months;
    const last = months.length - 1;
    const active = this.active.size;
    const adoption = (set: Set<number>): Record<string, number | null> => ({
      users: set.size,
      share_of_active_people: ratio(set.size, active),
      share_of_signed_up_active_users: ratio(set.size, this.identifiedActive.size),
      share_of_web_app_users: ratio(set.size, this.webApp.size),
    });
    const frustration = (key: PageKey): Record<string, number | null> => {
      const s = this.pages.get(key);
      if (s === undefined) return { sessions: 0, share_of_sessions_with_rage_dead_or_error: null };
      const any = new Set([...s.dead, ...s.rage, ...s.error]);
      return {
        sessions: s.sessions.size,
        sessions_with_rage: s.rage.size,
        sessions_with_dead: s.dead.size,
        sessions_with_error: s.error.size,
        share_of_sessions_with_rage_dead_or_error: ratio(any.size, s.sessions.size),
      };
    };
    const pdf = this.element('report', 'report_export_pdf');
    const save = this.element('billing', 'billing_save');
    const connect = [this.element('integrations', 'integrations_connect'), this.element('integration', 'integration_connect')];
    const onboarding = months.map((month, i) => {
      let started = 0;
      let completed = 0;
      for (const o of this.onboarding.values()) {
        if (o.month !== i) continue;
        started++;
        if (o.completed) completed++;
      }
      return { month, started, completed, completion_rate: ratio(completed, started) };
    });

    const out: PlantedBehaviour[] = [
      {
        id: 'funnel-mobile-invite-drop-off',
        kind: 'funnel_drop_off',
        description:
          'New signups on phones rarely invite a teammate: the share modal\'s "Send invite" button does nothing on mobile browsers, so create_project → invite_teammate converts at about 15% on mobile against about 55% on desktop.',
        sources: ['posthog'],
        where: {
          funnel: ['signup', 'create_project', 'invite_teammate', 'upgrade'],
          step: 'invite_teammate',
          platform: 'mobile',
          breakdown: 'device_type of the first step (PostHog $device_type: Mobile / Desktop)',
          conversion_window_days: 14,
          related: { page: '/projects/:id', element: 'Send invite', signal: 'dead_click', platform: 'mobile' },
        },
        expected: {
          metric: 'conversion from create_project to invite_teammate, by platform of the signup',
          direction: 'much lower on mobile',
          mobile: PLANTED.inviteTeammate.mobile,
          desktop: PLANTED.inviteTeammate.desktop,
          tolerance: 0.08,
        },
        observed: {
          mobile: this.funnelCounts('mobile'),
          desktop: this.funnelCounts('desktop'),
          mobile_send_invite_clicks: this.mobileInviteDead.clicks,
          mobile_send_invite_dead: this.mobileInviteDead.dead,
        },
      },
      {
        id: 'dead-clicks-export-pdf',
        kind: 'dead_clicks',
        description: 'The "Export PDF" button on report pages mostly does nothing (the export job silently fails): most clicks on it are dead.',
        sources: ['amplitude'],
        where: { page: '/reports/:id', element: 'Export PDF', selector: 'button#export-pdf', event: '[Amplitude] Dead Click' },
        expected: {
          metric: 'dead clicks / clicks on the element',
          direction: 'far above every other element',
          value: PLANTED.exportPdfDead,
          tolerance: 0.1,
          other_elements_below: 0.05,
          note:
            'Amplitude records a dead click as its own "[Amplitude] Dead Click" event beside the "[Amplitude] Element Clicked" one: dead-click events / Element Clicked events ≈ value; as a share of all click rows on the element (both kinds) it is value / (1 + value) ≈ 0.45.',
        },
        observed: { clicks: pdf.clicks, dead: pdf.dead, dead_share: ratio(pdf.dead, pdf.clicks), other_elements_dead_share: this.otherElements(['report/report_export_pdf', 'automations/auto_run_now', 'project/invite_send'], 'dead') },
      },
      {
        id: 'rage-clicks-billing-save',
        kind: 'rage_clicks',
        description: 'The "Save" button on the billing settings page responds slowly; in about 40% of its uses people click it again and again (rage clicks).',
        sources: ['fullstory'],
        where: {
          page: '/settings/billing',
          element: 'Save',
          selector: 'button#billing-save',
          signal: 'EventModFrustrated > 0 (every click of a series is flagged, with its running count)',
        },
        expected: {
          metric: 'share of uses of the element that are rage series; share of page sessions with rage clicks',
          direction: 'the top rage-click element and page',
          value: PLANTED.billingSaveRage,
          tolerance: 0.1,
        },
        observed: {
          uses: save.clicks - save.rageClicks + save.rageSeries,
          rage_series: save.rageSeries,
          rage_clicks: save.rageClicks,
          rage_series_share: ratio(save.rageSeries, save.clicks - save.rageClicks + save.rageSeries),
          page: this.pageShare(['billing'], 'rage'),
        },
      },
      {
        id: 'error-page-integrations',
        kind: 'error_page',
        description: 'The integrations pages throw: "Connect" fails with an uncaught TypeError about half the time, and page loads often hit a 502 from the API.',
        sources: ['fullstory'],
        where: {
          page_prefix: '/integrations',
          pages: ['/integrations', ...INTEGRATION_NAMES.map((n) => `/integrations/${n}`)],
          note: 'integration names are words, not ids, so path cleaning keeps them (/integrations/slack, …)',
          element: 'Connect',
          events: ['click with EventModError', 'exception'],
        },
        expected: {
          metric: 'share of sessions on the page with an error click or exception',
          direction: 'the top error page by far',
          value: 0.5,
          tolerance: 0.2,
          other_pages_below: 0.05,
        },
        observed: {
          connect_clicks: connect[0]!.clicks + connect[1]!.clicks,
          connect_error_clicks: connect[0]!.errors + connect[1]!.errors,
          page: this.pageShare(['integrations', 'integration'], 'error'),
        },
      },
      {
        id: 'feature-adopted-board-view',
        kind: 'feature_adopted',
        description: 'The board view is how most people use the product.',
        sources: ['posthog'],
        where: { feature: 'Board view', page: '/projects/:id/board', event: '$pageview' },
        expected: { metric: 'feature users / active users', direction: 'adopted', min: 0.6 },
        observed: { ...adoption(this.featureUsers.board), active_people: active, signed_up_active_users: this.identifiedActive.size, web_app_users: this.webApp.size },
      },
      {
        id: 'feature-ignored-timeline',
        kind: 'feature_ignored',
        description: 'The Timeline view (Heap pilot) is almost never opened.',
        sources: ['heap'],
        where: { feature: 'Timeline', page: '/projects/:id/timeline', event: 'pageviews' },
        expected: { metric: 'feature users / active users', direction: 'ignored', max: 0.03 },
        observed: adoption(this.featureUsers.timeline),
      },
      {
        id: 'feature-frustrating-automations',
        kind: 'feature_frustrating',
        description: 'Automations are used by about one signed-up user in seven, but "Add trigger" draws rage clicks, "Run now" is often dead and the builder throws RangeErrors: over half of the sessions there hit a signal.',
        sources: ['posthog'],
        where: {
          feature: 'Automations',
          page: '/projects/:id/automations',
          elements: { 'Add trigger': 'rage clicks ($rageclick, one per series)', 'Run now': 'dead clicks ($dead_click, ~3 s after the click)' },
          event: '$exception',
        },
        expected: {
          metric: 'share of feature sessions with rage, dead or error signals',
          direction: 'frustrating: used, with a high signal rate',
          min_share_of_sessions: 0.35,
          adoption_between: [0.1, 0.35],
          compare: { page: CLEAN_PATH.board, max_share_of_sessions: 0.1 },
        },
        observed: { adoption: adoption(this.featureUsers.automations), automations: frustration('automations'), board: frustration('board') },
      },
    ];
    if (months.length > 1) {
      out.push({
        id: 'onboarding-completion-rise',
        kind: 'month_over_month_change',
        description: `A redesigned onboarding shipped at the start of ${months[last]}: onboarding completion (onboarding_started → onboarding_completed, by month of start) rises from about 40% to about 65%.`,
        sources: ['posthog'],
        where: { events: ['onboarding_started', 'onboarding_completed'], months: [months[last - 1], months[last]], property: 'onboarding_version (v1 → v2)' },
        expected: {
          metric: 'onboarding completion rate by month of onboarding_started',
          direction: 'up',
          from: PLANTED.onboardingCompletion.before,
          to: PLANTED.onboardingCompletion.lastMonth,
          tolerance: 0.08,
        },
        observed: { by_month: onboarding },
      });
    }
    return out;
  }
}
