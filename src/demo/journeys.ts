/**
 * Plays one visit: which pages a person sees, what they click and type, and which scripted steps (signup,
 * onboarding, funnel) happen, as tool-neutral events routed to the tool that instruments each page. Planted
 * friction (dead, rage and error clicks) is decided here, click by click, from the PLANTED rates.
 */
import {
  AREA_TOOL,
  BLOG_SLUGS,
  HELP_SLUGS,
  INTEGRATION_NAMES,
  MOBILE_SCREENS,
  ONBOARDING_STEPS,
  PAGES,
  TEMPLATE_SLUGS,
  type ElementDef,
  type PageDef,
  type PageKey,
  type Tool,
  element,
} from './catalog.js';
import { type DemoWindow, monthIndex } from './clock.js';
import type { EventContext, PageContext, SimError, SimEvent, SimKind, Visit } from './model.js';
import { PLANTED } from './population.js';
import { PiiPlanter } from './planted-pii.js';
import { Rng } from './random.js';

export type Emit = (tool: Tool, event: SimEvent, ctx: EventContext) => void;

interface Pending {
  readonly tool: Tool;
  readonly event: SimEvent;
  readonly identified: boolean;
}

interface Friction {
  dead: boolean;
  rageTotal: number;
  errorClick: boolean;
  error?: SimError;
}

const ERRORS: Record<string, SimError> = {
  integrations: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'oauthUrl')", source: 'https://app.acmeboards.com/assets/integrations-4f2a9c.js', line: 1187 },
  integrationsTimeout: { type: 'Error', message: 'Request failed with status code 502', source: 'https://app.acmeboards.com/assets/api-client-88be12.js', line: 342 },
  automations: { type: 'RangeError', message: 'Maximum call stack size exceeded', source: 'https://app.acmeboards.com/assets/automation-builder-c81d0e.js', line: 77 },
  generic: { type: 'TypeError', message: "Cannot read properties of null (reading 'focus')", source: 'https://app.acmeboards.com/assets/app-1b9f3d.js', line: 9021 },
};

const ENTRY_REFERRERS: readonly (readonly [string, number])[] = [
  ['https://www.google.com/', 45],
  ['', 25],
  ['https://www.linkedin.com/', 10],
  ['https://t.co/', 6],
  ['https://news.ycombinator.com/', 5],
  ['https://duckduckgo.com/', 5],
  ['https://www.bing.com/', 4],
];

/** The random walk of an ongoing web-app visit: next page weights, by what the person uses. */
function nextPageWeights(uses: Visit['person']['uses']): (readonly [PageKey, number])[] {
  const w: (readonly [PageKey, number])[] = [
    ['projects', 8],
    ['project', 12],
    ['list', 6],
    ['inbox', 5],
    ['settings_profile', 1.2],
    ['settings_team', 0.8],
    ['billing', 0.5],
  ];
  if (uses.board) w.push(['board', 30]);
  if (uses.automations) w.push(['automations', 7]);
  if (uses.timeline) w.push(['timeline', 10]);
  if (uses.templates) w.push(['templates', 5], ['template', 2.5]);
  if (uses.reports) w.push(['reports', 6], ['report', 9]);
  if (uses.integrations) w.push(['integrations', 4], ['integration', 3]);
  return w;
}

class Journey {
  private readonly rng: Rng;
  /** Plants PII in some custom events (planted-pii.ts), from a random stream of its own. */
  private readonly planter: PiiPlanter;
  private t: number;
  private identified: boolean;
  private prevUrl = '';
  private pageSeq = 0;
  private projectId: number;

  constructor(
    private readonly visit: Visit,
    seed: number,
    private readonly window: DemoWindow,
    private readonly emit: Emit,
  ) {
    this.rng = new Rng(seed, 3_000_000 + visit.seq);
    this.planter = new PiiPlanter(seed, visit.seq);
    this.t = visit.start;
    const p = visit.person;
    // Known from the start: signed up earlier (logged in / cookie), and not the install's first open.
    this.identified = p.userId !== null && p.signedUpAt !== null && visit.start > p.signedUpAt && !visit.actions.includes('signup') && !visit.firstOpen;
    this.projectId = this.rng.pick(visit.person.projectIds);
  }

  private event(kind: SimKind, t: number, extra: Partial<SimEvent> = {}): SimEvent {
    return { kind, t, us: this.rng.int(0, 999), rage: 0, rageTotal: 0, dead: false, errorClick: false, ...extra };
  }

  run(): void {
    switch (this.visit.kind) {
      case 'marketing':
        return this.marketing();
      case 'app':
        return this.app();
      case 'mobile_app':
        return this.mobileApp();
      case 'help':
        return this.help();
    }
  }

  // ---- pages -----------------------------------------------------------------------------------------------

  private pathFor(def: PageDef, param?: string): string {
    if (!def.template.includes(':')) return def.template;
    const value =
      param ??
      (def.template.includes(':id')
        ? String(def.key === 'report' ? this.rng.int(100, 160) : this.projectId)
        : def.key === 'blog'
          ? this.rng.pick(BLOG_SLUGS)
          : def.key === 'template'
            ? this.rng.pick(TEMPLATE_SLUGS)
            : def.key === 'integration'
              ? this.rng.pick(INTEGRATION_NAMES)
              : def.key === 'help_article'
                ? this.rng.pick(HELP_SLUGS)
                : 'welcome');
    return def.template.replace(/:[a-z]+/, value);
  }

  /**
   * Shows a page: the page view, then whatever `body` adds (clicks, inputs, custom events), then a dwell. Events
   * are collected first so every event can carry the page's duration, as FullStory rows do.
   */
  private page(key: PageKey, body: (p: PageBuilder) => void, param?: string, query = ''): void {
    const def = PAGES[key];
    const path = this.pathFor(def, param);
    const url = `https://${def.host}${path}${query}`;
    const start = this.t;
    const referrer = this.pageSeq === 0 ? this.entryReferrer(def) : this.prevUrl;
    const tool = AREA_TOOL[def.area];
    const b = new PageBuilder(this, def, tool, start + this.rng.int(600, 2500));
    b.pending.push({ tool, event: this.event('page', start), identified: this.identified });
    body(b);
    const end = b.cursor + this.rng.int(1500, 25_000);
    this.pageSeq++;
    const ctxPage: PageContext = { def, url, path, title: def.title, referrer, start, end, seq: this.pageSeq };
    for (const p of b.pending) {
      if (p.event.t >= this.window.end) continue;
      this.emit(p.tool, this.planter.plant(p.event, p.tool), this.ctx(ctxPage, p.identified));
    }
    this.prevUrl = url;
    this.t = end + this.rng.int(150, 900);
  }

  private entryReferrer(def: PageDef): string {
    if (def.area !== 'marketing') return '';
    return this.rng.weighted(ENTRY_REFERRERS);
  }

  ctx(page: PageContext | undefined, identified: boolean): EventContext {
    return { person: this.visit.person, device: this.visit.device, visit: this.visit, page, identified };
  }

  /** Makes later events identified (signup or login on this device). */
  identify(): void {
    this.identified = true;
  }

  isIdentified(): boolean {
    return this.identified;
  }

  random(): Rng {
    return this.rng;
  }

  makeEvent(kind: SimKind, t: number, extra: Partial<SimEvent> = {}): SimEvent {
    return this.event(kind, t, extra);
  }

  // ---- visit kinds ---------------------------------------------------------------------------------------------

  private marketingPages(n: number, thenSignup: boolean): void {
    const entry = this.rng.weighted<PageKey>([['home', 40], ['blog', 30], ['pricing', 15], ['features', 15]]);
    const query = this.rng.chance(0.3) ? `?utm_source=${this.rng.pick(['google', 'linkedin', 'newsletter', 'twitter'])}&utm_medium=${this.rng.pick(['cpc', 'social', 'email'])}&utm_campaign=fall_launch` : '';
    for (let i = 0; i < n; i++) {
      const key: PageKey = i === 0 ? entry : this.rng.weighted<PageKey>([['pricing', 30], ['features', 25], ['customers', 15], ['blog', 15], ['home', 10], ['security', 5]]);
      const last = i === n - 1;
      this.page(
        key,
        (p) => {
          if (last && thenSignup) p.custom('cta_click', { cta_text: 'Start free trial', cta_location: key === 'pricing' ? 'pricing_table' : 'hero' });
        },
        undefined,
        i === 0 ? query : '',
      );
    }
  }

  private marketing(): void {
    const signedUp = this.visit.person.userId !== null;
    const n = signedUp ? this.rng.int(1, 2) : this.rng.int(1, 4);
    this.marketingPages(n, this.visit.abandonsSignup === true);
    if (this.visit.abandonsSignup) {
      this.page('signup', (p) => {
        if (this.rng.chance(0.6)) p.input('signup_email');
      });
    }
  }

  private app(): void {
    const actions = this.visit.actions;
    if (actions.includes('signup')) {
      this.marketingPages(this.rng.int(1, 2), true);
      this.signup();
    }
    if (actions.includes('onboarding')) this.onboarding();
    if (actions.includes('create_project')) this.createProject();
    if (actions.includes('invite')) this.invite(true);
    if (actions.includes('invite_fail')) this.invite(false);
    if (actions.includes('upgrade')) this.upgrade();
    const browse = actions.length > 0 ? this.rng.int(0, 3) : this.rng.int(2, 8);
    if (actions.length === 0) {
      const start = this.rng.weighted<PageKey>([
        ['projects', 60],
        ['inbox', 10],
        ['board', this.visit.person.uses.board ? 20 : 0],
        ['reports', this.visit.person.uses.reports ? 10 : 0],
      ]);
      this.browsePage(start);
    }
    if (browse === 0) return;
    const weights = nextPageWeights(this.visit.person.uses);
    for (let i = 0; i < browse; i++) this.browsePage(this.rng.weighted(weights));
  }

  private browsePage(key: PageKey): void {
    if (key === 'project' || key === 'board' || key === 'list' || key === 'automations' || key === 'timeline') {
      if (this.rng.chance(0.3)) this.projectId = this.rng.pick(this.visit.person.projectIds);
    }
    const clicks = key === 'report' || key === 'automations' || key === 'billing' || key === 'integrations' || key === 'integration'
      ? this.rng.int(1, 3)
      : this.rng.weighted([[0, 20], [1, 35], [2, 25], [3, 12], [4, 8]] as const);
    this.page(key, (p) => {
      if (key === 'integrations' || key === 'integration') {
        if (this.rng.chance(PLANTED.integrationsPageError)) p.exception(ERRORS.integrationsTimeout!);
      } else if (key === 'automations') {
        if (this.rng.chance(PLANTED.automationsPageError)) p.exception(ERRORS.automations!);
      }
      if (key === 'report') p.custom('report_viewed', { report_type: this.rng.pick(['velocity', 'workload', 'burndown', 'cycle_time']) });
      p.randomInteractions(clicks);
    });
  }

  private signup(): void {
    const method = this.rng.chance(0.25) ? 'google' : 'email';
    this.page('signup', (p) => {
      if (method === 'email') {
        p.input('signup_email');
        p.input('signup_password');
        p.click('signup_submit');
      } else {
        p.click('signup_google');
      }
      p.wait(this.rng.int(300, 1200));
      p.identify();
      p.custom('signup', { method, plan: 'free' });
      p.custom('sign_up', { method }, 'ga4');
    });
  }

  private onboarding(): void {
    const f = this.visit.person.funnel!;
    const version = monthIndex(this.window, this.visit.start) === this.window.months.length - 1 && this.window.months.length > 1 ? 'v2' : 'v1';
    const stopAt = f.completesOnboarding ? ONBOARDING_STEPS.length : this.rng.int(0, ONBOARDING_STEPS.length - 1);
    for (let i = 0; i < ONBOARDING_STEPS.length; i++) {
      const step = ONBOARDING_STEPS[i]!;
      this.page(
        'onboarding',
        (p) => {
          if (i === 0) p.custom('onboarding_started', { onboarding_version: version });
          if (i === stopAt) {
            p.click('onboarding_skip');
            p.custom('onboarding_skipped', { step, onboarding_version: version });
            return;
          }
          if (step === 'workspace') p.input('onboarding_workspace');
          p.click('onboarding_continue');
          p.custom('onboarding_step_completed', { step, step_number: i + 1, onboarding_version: version });
          if (i === ONBOARDING_STEPS.length - 1) p.custom('onboarding_completed', { onboarding_version: version });
        },
        step,
      );
      if (i === stopAt) break;
    }
  }

  private createProject(): void {
    this.page('projects', (p) => {
      p.click('projects_new');
      p.input('project_name');
      p.click('project_create');
      p.custom('create_project', { template: this.rng.pick(['blank', 'blank', 'kanban', 'product-roadmap']), project_count: 1 });
    });
    this.browsePage('board');
  }

  private invite(succeeds: boolean): void {
    this.page('project', (p) => {
      p.click('project_share');
      p.input('invite_email');
      if (succeeds) {
        p.click('invite_send');
        p.custom('invite_teammate', { role: this.rng.pick(['member', 'member', 'admin']), invitees: this.rng.int(1, 3) });
      } else {
        // On phones the modal's "Send invite" button sits under the keyboard's accessory bar: taps do nothing.
        const tries = this.rng.int(1, 3);
        for (let i = 0; i < tries; i++) {
          p.click('invite_send', { dead: this.rng.chance(PLANTED.mobileInviteSendDead), rageTotal: 0, errorClick: false });
          p.wait(this.rng.int(800, 4000));
        }
      }
    });
  }

  private upgrade(): void {
    this.page('billing', (p) => {
      p.click('billing_upgrade');
      p.input('billing_card');
      p.click('billing_save');
      p.custom('upgrade', { plan: 'pro', billing_period: this.rng.pick(['monthly', 'annual']), seats: this.rng.int(2, 12) }, 'posthog', true);
    });
    this.visit.person.plan = 'pro';
  }

  private mobileApp(): void {
    const rng = this.rng;
    const emitApp = (ev: SimEvent): void => {
      if (ev.t < this.window.end) this.emit('mixpanel', this.planter.plant(ev, 'mixpanel'), this.ctx(undefined, this.identified));
    };
    const start = this.t;
    if (this.visit.firstOpen) {
      emitApp(this.event('custom', this.t, { name: '$ae_first_open' }));
      this.t += rng.int(500, 3000);
      emitApp(this.event('screen', this.t, { name: 'Login' }));
      this.t += rng.int(8000, 40_000);
      this.identify();
      emitApp(this.event('custom', this.t, { name: 'Logged In', props: { method: rng.pick(['password', 'google', 'magic_link']) } }));
    }
    const screens = rng.int(2, 8);
    for (let i = 0; i < screens; i++) {
      this.t += rng.int(2000, 45_000);
      const screen = i === 0 ? 'Projects' : rng.pick(MOBILE_SCREENS);
      emitApp(this.event('screen', this.t, { name: screen }));
      const action =
        screen === 'Board' && rng.chance(0.5)
          ? 'Card Moved'
          : screen === 'Card' && rng.chance(0.35)
            ? 'Comment Added'
            : screen === 'Inbox' && rng.chance(0.6)
              ? 'Notification Opened'
              : screen === 'Project' && rng.chance(0.3)
                ? 'Task Completed'
                : undefined;
      if (action !== undefined) {
        this.t += rng.int(1500, 20_000);
        emitApp(this.event('custom', this.t, { name: action, props: { screen_name: screen, project_id: String(this.projectId) } }));
      }
    }
    this.t += rng.int(1000, 10_000);
    emitApp(this.event('session_end', this.t, { name: '$ae_session', props: { $ae_session_length: Math.round((this.t - start) / 100) / 10 } }));
  }

  private help(): void {
    this.page('help_home', (p) => {
      if (this.rng.chance(0.5)) p.input('help_search');
      p.click('help_article_link');
    });
    const articles = this.rng.int(1, 3);
    for (let i = 0; i < articles; i++) {
      this.page('help_article', (p) => p.randomInteractions(this.rng.int(0, 2)));
    }
    if (this.rng.chance(0.15)) {
      this.page('help_contact', (p) => {
        p.input('help_message');
        p.click('help_send');
      });
    }
  }
}

const clickableCache = new Map<PageKey, (readonly [ElementDef, number])[]>();
/** The page's elements that are clicked or typed into unprompted, with their weights. */
function clickable(def: PageDef): (readonly [ElementDef, number])[] {
  let list = clickableCache.get(def.key);
  if (list === undefined) {
    list = def.elements.filter((e) => e.weight > 0).map((e) => [e, e.weight] as const);
    clickableCache.set(def.key, list);
  }
  return list;
}

/** Collects one page's events on a time cursor. */
class PageBuilder {
  readonly pending: Pending[] = [];

  constructor(
    private readonly journey: Journey,
    private readonly def: PageDef,
    private readonly tool: Tool,
    public cursor: number,
  ) {}

  private push(event: SimEvent, tool = this.tool): void {
    this.pending.push({ tool, event, identified: this.journey.isIdentified() });
  }

  wait(ms: number): void {
    this.cursor += ms;
  }

  identify(): void {
    this.journey.identify();
    this.push(this.journey.makeEvent('identify', this.cursor));
    this.cursor += this.journey.random().int(20, 200);
  }

  input(key: string): void {
    const el = element(this.def.key, key);
    this.cursor += this.journey.random().int(1500, 9000);
    this.push(this.journey.makeEvent('input', this.cursor, { el }));
  }

  click(key: string, friction?: Friction): void {
    const rng = this.journey.random();
    const el = element(this.def.key, key);
    const f = friction ?? this.friction(el);
    this.cursor += rng.int(800, 6000);
    if (f.rageTotal > 0) {
      for (let i = 1; i <= f.rageTotal; i++) {
        this.push(this.journey.makeEvent('click', this.cursor, { el, rage: i, rageTotal: f.rageTotal }));
        if (i < f.rageTotal) this.cursor += rng.int(110, 260);
      }
    } else {
      this.push(this.journey.makeEvent('click', this.cursor, { el, dead: f.dead, errorClick: f.errorClick }));
    }
    if (f.error !== undefined) {
      this.cursor += rng.int(30, 400);
      this.push(this.journey.makeEvent('exception', this.cursor, { el, error: f.error }));
    }
  }

  custom(name: string, props: Record<string, string | number | boolean>, tool?: Tool, server = false): void {
    this.cursor += this.journey.random().int(5, 120);
    this.push(this.journey.makeEvent('custom', this.cursor, { name, props, ...(server ? { server: true } : {}) }), tool ?? this.tool);
  }

  exception(error: SimError): void {
    this.cursor += this.journey.random().int(50, 1500);
    this.push(this.journey.makeEvent('exception', this.cursor, { error }));
  }

  /** Clicks / inputs on the page's elements by weight, with the page's friction rates. */
  randomInteractions(n: number): void {
    const rng = this.journey.random();
    const weighted = clickable(this.def);
    if (weighted.length === 0) return;
    for (let i = 0; i < n; i++) {
      const el = rng.weighted(weighted);
      if (el.input) {
        this.input(el.key);
        continue;
      }
      const f = this.friction(el);
      this.click(el.key, f);
      // A dead "Export PDF" is often tried again.
      if (f.dead && el.key === 'report_export_pdf' && rng.chance(0.5)) this.click(el.key, this.friction(el));
      else if (!f.dead && (el.key === 'report_export_pdf' || el.key === 'report_export_csv')) {
        this.custom('report_exported', { format: el.key === 'report_export_pdf' ? 'pdf' : 'csv' });
      }
    }
  }

  private friction(el: ElementDef): Friction {
    const rng = this.journey.random();
    const none: Friction = { dead: false, rageTotal: 0, errorClick: false };
    switch (el.key) {
      case 'report_export_pdf':
        return { ...none, dead: rng.chance(PLANTED.exportPdfDead) };
      case 'billing_save':
        return rng.chance(PLANTED.billingSaveRage) ? { ...none, rageTotal: rng.int(3, 7) } : none;
      case 'integrations_connect':
      case 'integration_connect':
        return rng.chance(PLANTED.integrationsConnectError) ? { ...none, errorClick: true, error: ERRORS.integrations! } : none;
      case 'auto_add_trigger':
        return rng.chance(PLANTED.automationsAddTriggerRage) ? { ...none, rageTotal: rng.int(3, 6) } : none;
      case 'auto_run_now':
        return { ...none, dead: rng.chance(PLANTED.automationsRunNowDead) };
      default: {
        const bg = PLANTED.background;
        const r = rng.next();
        if (r < bg.dead) return { ...none, dead: true };
        if (r < bg.dead + bg.rage) return { ...none, rageTotal: 3 };
        if (r < bg.dead + bg.rage + bg.error) return { ...none, errorClick: true, error: ERRORS.generic! };
        return none;
      }
    }
  }
}

export function runVisit(visit: Visit, seed: number, window: DemoWindow, emit: Emit): void {
  new Journey(visit, seed, window, emit).run();
}

/**
 * No event of a visit is later than this after the visit's start (with upload and detection delays; visits last
 * minutes). Writers release records older than the next visit's start minus this.
 */
export const MAX_VISIT_MS = 60 * 60 * 1000;
