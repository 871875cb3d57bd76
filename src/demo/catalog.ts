/**
 * Acme Boards, the made-up project-management product of the demo: its sites, pages, clickable elements, and
 * which analytics tool instruments which part. The split follows how such teams end up with several tools: GA4 on
 * the marketing site, PostHog on the core app, Amplitude on reports, FullStory on settings and integrations,
 * Heap (a pilot) on templates and the timeline, Mixpanel in the mobile app and the help centre.
 */

export const TOOLS = ['fullstory', 'amplitude', 'mixpanel', 'heap', 'posthog', 'ga4'] as const;
export type Tool = (typeof TOOLS)[number];

export type Area = 'marketing' | 'signup' | 'core' | 'pilot' | 'reports' | 'admin' | 'help';

export const AREA_TOOL: Readonly<Record<Area, Tool>> = {
  marketing: 'ga4',
  signup: 'posthog',
  core: 'posthog',
  pilot: 'heap',
  reports: 'amplitude',
  admin: 'fullstory',
  help: 'mixpanel',
};

export const HOSTS = {
  marketing: 'www.acmeboards.com',
  app: 'app.acmeboards.com',
  help: 'help.acmeboards.com',
} as const;

/** One DOM node of an element's ancestry, outermost first. */
export interface DomNode {
  readonly tag: string;
  readonly id?: string;
  readonly classes: readonly string[];
  readonly nthChild: number;
  readonly nthOfType: number;
  readonly href?: string;
}

export interface ElementDef {
  readonly key: string;
  readonly text: string;
  /** Ancestry below <main>, ending with the element itself. */
  readonly nodes: readonly DomNode[];
  /** How often it is clicked when the page is shown (relative weight among the page's elements). */
  readonly weight: number;
  /** An input whose value changes rather than a button that is clicked. */
  readonly input?: boolean;
}

export type PageKey =
  | 'home' | 'pricing' | 'features' | 'customers' | 'blog' | 'security'
  | 'signup' | 'login'
  | 'onboarding' | 'projects' | 'project' | 'board' | 'list' | 'automations'
  | 'timeline' | 'templates' | 'template'
  | 'reports' | 'report' | 'inbox'
  | 'settings_profile' | 'settings_team' | 'billing' | 'integrations' | 'integration'
  | 'help_home' | 'help_article' | 'help_contact';

export interface PageDef {
  readonly key: PageKey;
  readonly area: Area;
  readonly host: string;
  /** Path with ":id" / ":slug" / ":step" / ":name" placeholders. */
  readonly template: string;
  readonly title: string;
  /** Class of the page's <main>, used in selectors. */
  readonly mainClass: string;
  readonly elements: readonly ElementDef[];
}

let nth = 0;
function node(spec: string, extra: Partial<DomNode> = {}): DomNode {
  // "button#save.btn.btn-primary" → tag, id, classes
  const m = /^([a-z0-9]+)(?:#([\w-]+))?((?:\.[\w-]+)*)$/.exec(spec);
  if (m === null) throw new Error(`bad node spec ${spec}`);
  nth = (nth % 5) + 1;
  return {
    tag: m[1]!,
    ...(m[2] === undefined ? {} : { id: m[2] }),
    classes: m[3] ? m[3].slice(1).split('.') : [],
    nthChild: nth,
    nthOfType: Math.max(1, nth - 1),
    ...extra,
  };
}

function el(key: string, text: string, path: string, weight: number, opts: { input?: boolean; href?: string } = {}): ElementDef {
  const specs = path.split(' ');
  const nodes = specs.map((s, i) => (i === specs.length - 1 && opts.href !== undefined ? node(s, { href: opts.href }) : node(s)));
  return { key, text, nodes, weight, ...(opts.input ? { input: true } : {}) };
}

const NAV = [
  el('nav_projects', 'Projects', 'nav.sidebar a.nav-link', 2, { href: '/projects' }),
  el('nav_reports', 'Reports', 'nav.sidebar a.nav-link', 1, { href: '/reports' }),
  el('nav_templates', 'Templates', 'nav.sidebar a.nav-link', 0.6, { href: '/templates' }),
  el('nav_inbox', 'Inbox', 'nav.sidebar a.nav-link', 1, { href: '/inbox' }),
  el('nav_settings', 'Settings', 'nav.sidebar a.nav-link', 0.5, { href: '/settings/profile' }),
];

function page(key: PageKey, area: Area, host: string, template: string, title: string, elements: ElementDef[]): PageDef {
  return { key, area, host, template, title, mainClass: `page-${key.replace(/_/g, '-')}`, elements };
}

const app = HOSTS.app;
const www = HOSTS.marketing;
const help = HOSTS.help;

export const PAGES: Readonly<Record<PageKey, PageDef>> = {
  home: page('home', 'marketing', www, '/', 'Acme Boards | Plan, track and ship together', []),
  pricing: page('pricing', 'marketing', www, '/pricing', 'Pricing | Acme Boards', []),
  features: page('features', 'marketing', www, '/features', 'Features | Acme Boards', []),
  customers: page('customers', 'marketing', www, '/customers', 'Customer stories | Acme Boards', []),
  blog: page('blog', 'marketing', www, '/blog/:slug', 'Blog | Acme Boards', []),
  security: page('security', 'marketing', www, '/security', 'Security | Acme Boards', []),

  signup: page('signup', 'signup', app, '/signup', 'Create your account | Acme Boards', [
    el('signup_email', 'Work email', 'form.signup-form input#email.input', 3, { input: true }),
    el('signup_password', 'Password', 'form.signup-form input#password.input', 2, { input: true }),
    el('signup_submit', 'Create account', 'form.signup-form button.btn.btn-primary', 0),
    el('signup_google', 'Sign up with Google', 'div.sso button.btn.btn-google', 0.5),
  ]),
  login: page('login', 'signup', app, '/login', 'Log in | Acme Boards', [
    el('login_submit', 'Log in', 'form.login-form button.btn.btn-primary', 1),
  ]),

  onboarding: page('onboarding', 'core', app, '/onboarding/:step', 'Get started | Acme Boards', [
    el('onboarding_continue', 'Continue', 'div.onboarding-card div.actions button.btn.btn-primary', 0),
    el('onboarding_skip', 'Skip for now', 'div.onboarding-card div.actions button.btn.btn-link', 0),
    el('onboarding_workspace', 'Workspace name', 'div.onboarding-card input#workspace-name.input', 0, { input: true }),
  ]),
  projects: page('projects', 'core', app, '/projects', 'Projects | Acme Boards', [
    el('projects_new', 'New project', 'header.page-header button.btn.btn-primary', 0.6),
    el('projects_search', 'Search projects', 'header.page-header input.search', 0.8, { input: true }),
    el('projects_open', 'Open project', 'ul.project-grid li.project-card a.card-link', 4),
    el('projects_star', 'Star', 'ul.project-grid li.project-card button.icon-btn.star', 0.4),
    el('project_name', 'Project name', 'div.new-project-modal input#project-name.input', 0, { input: true }),
    el('project_create', 'Create project', 'div.new-project-modal button.btn.btn-primary', 0),
    ...NAV,
  ]),
  project: page('project', 'core', app, '/projects/:id', 'Project overview | Acme Boards', [
    el('tab_board', 'Board', 'nav.project-tabs a.tab', 4),
    el('tab_list', 'List', 'nav.project-tabs a.tab', 1.5),
    el('tab_timeline', 'Timeline', 'nav.project-tabs a.tab', 0.2),
    el('tab_automations', 'Automations', 'nav.project-tabs a.tab', 0.8),
    el('project_share', 'Share', 'header.project-header button.btn.btn-secondary', 0.4),
    el('project_comment', 'Add comment', 'section.activity textarea.comment-box', 0.6, { input: true }),
    el('invite_email', 'Teammate email', 'div.share-modal input#invite-email.input', 0, { input: true }),
    el('invite_send', 'Send invite', 'div.share-modal div.modal-footer button.btn.btn-primary.send-invite', 0),
    ...NAV,
  ]),
  board: page('board', 'core', app, '/projects/:id/board', 'Board | Acme Boards', [
    el('board_add_card', 'Add card', 'div.board-column button.add-card', 3),
    el('board_open_card', 'Open card', 'div.board-column div.card', 4),
    el('board_filter', 'Filter', 'header.board-toolbar button.btn.btn-ghost', 1),
    el('board_card_title', 'Card title', 'div.card-modal input.card-title', 1.5, { input: true }),
    el('board_close_card', 'Close', 'div.card-modal button.icon-btn.close', 1.5),
  ]),
  list: page('list', 'core', app, '/projects/:id/list', 'List | Acme Boards', [
    el('list_add_task', 'Add task', 'div.task-list button.add-task', 2),
    el('list_sort', 'Sort', 'header.list-toolbar button.btn.btn-ghost', 1),
    el('list_complete', 'Mark complete', 'div.task-list div.task-row input.checkbox', 3),
  ]),
  automations: page('automations', 'core', app, '/projects/:id/automations', 'Automations | Acme Boards', [
    el('auto_add_trigger', 'Add trigger', 'div.automation-builder button.btn.btn-primary.add-trigger', 3),
    el('auto_run_now', 'Run now', 'header.automation-toolbar button.btn.btn-secondary.run-now', 2),
    el('auto_save', 'Save automation', 'div.automation-builder div.actions button.btn.btn-primary', 1.5),
    el('auto_condition', 'Condition', 'div.automation-builder select.condition', 1, { input: true }),
  ]),

  timeline: page('timeline', 'pilot', app, '/projects/:id/timeline', 'Timeline | Acme Boards', [
    el('timeline_zoom_in', 'Zoom in', 'header.timeline-toolbar button.icon-btn.zoom-in', 2),
    el('timeline_zoom_out', 'Zoom out', 'header.timeline-toolbar button.icon-btn.zoom-out', 1),
    el('timeline_today', 'Today', 'header.timeline-toolbar button.btn.btn-ghost', 1),
  ]),
  templates: page('templates', 'pilot', app, '/templates', 'Templates | Acme Boards', [
    el('templates_preview', 'Preview', 'ul.template-grid li.template-card button.btn.btn-secondary', 3),
    el('templates_use', 'Use template', 'ul.template-grid li.template-card button.btn.btn-primary', 1.5),
    el('templates_category', 'Marketing', 'aside.template-filters a.category', 1),
  ]),
  template: page('template', 'pilot', app, '/templates/:slug', 'Template | Acme Boards', [
    el('template_use', 'Use template', 'header.template-header button.btn.btn-primary', 2),
    el('template_back', 'Back to templates', 'header.template-header a.back-link', 1),
  ]),

  reports: page('reports', 'reports', app, '/reports', 'Reports | Acme Boards', [
    el('reports_open', 'Open report', 'table.report-table tr.report-row a.report-link', 4),
    el('reports_new', 'New report', 'header.page-header button.btn.btn-primary', 0.7),
    ...NAV,
  ]),
  report: page('report', 'reports', app, '/reports/:id', 'Report | Acme Boards', [
    el('report_export_pdf', 'Export PDF', 'header.report-toolbar button#export-pdf.btn.btn-secondary', 2.2),
    el('report_export_csv', 'Export CSV', 'header.report-toolbar button#export-csv.btn.btn-secondary', 1),
    el('report_date_range', 'Last 30 days', 'header.report-toolbar button.date-range', 2),
    el('report_share', 'Share report', 'header.report-toolbar button.btn.btn-ghost', 0.6),
  ]),
  inbox: page('inbox', 'reports', app, '/inbox', 'Inbox | Acme Boards', [
    el('inbox_item', 'Notification', 'ul.inbox-list li.notification a.notification-link', 3),
    el('inbox_mark_all', 'Mark all as read', 'header.page-header button.btn.btn-ghost', 1),
  ]),

  settings_profile: page('settings_profile', 'admin', app, '/settings/profile', 'Profile settings | Acme Boards', [
    el('profile_name', 'Full name', 'form.profile-form input#full-name.input', 1, { input: true }),
    el('profile_save', 'Save profile', 'form.profile-form div.form-actions button.btn.btn-primary', 1),
    el('settings_billing_link', 'Billing', 'nav.settings-nav a.settings-link', 0.6, { href: '/settings/billing' }),
    el('settings_team_link', 'Team', 'nav.settings-nav a.settings-link', 0.6, { href: '/settings/team' }),
  ]),
  settings_team: page('settings_team', 'admin', app, '/settings/team', 'Team settings | Acme Boards', [
    el('team_invite', 'Invite member', 'header.page-header button.btn.btn-primary', 1),
    el('team_role', 'Role', 'table.member-table select.role-select', 1, { input: true }),
  ]),
  billing: page('billing', 'admin', app, '/settings/billing', 'Billing | Acme Boards', [
    el('billing_upgrade', 'Upgrade to Pro', 'section.plan-card button.btn.btn-primary.upgrade', 0.5),
    el('billing_card', 'Card number', 'form.billing-form input#card-number.input', 1, { input: true }),
    el('billing_save', 'Save', 'form.billing-form div.form-actions button#billing-save.btn.btn-primary', 2),
    el('billing_invoice', 'Download invoice', 'table.invoice-table a.invoice-link', 1),
  ]),
  integrations: page('integrations', 'admin', app, '/integrations', 'Integrations | Acme Boards', [
    el('integrations_connect', 'Connect', 'ul.integration-grid li.integration-card button.btn.btn-primary.connect', 3),
    el('integrations_open', 'Learn more', 'ul.integration-grid li.integration-card a.integration-link', 2),
  ]),
  integration: page('integration', 'admin', app, '/integrations/:name', 'Integration | Acme Boards', [
    el('integration_connect', 'Connect', 'header.integration-header button.btn.btn-primary.connect', 3),
    el('integration_test', 'Test connection', 'section.integration-settings button.btn.btn-secondary', 1.5),
  ]),

  help_home: page('help_home', 'help', help, '/', 'Acme Boards Help Center', [
    el('help_search', 'Search help articles', 'form.help-search input.search', 2, { input: true }),
    el('help_article_link', 'Getting started with boards', 'ul.popular-articles a.article-link', 3),
  ]),
  help_article: page('help_article', 'help', help, '/articles/:slug', 'Help article | Acme Boards', [
    el('help_helpful_yes', 'Yes', 'div.feedback button.btn.btn-ghost.yes', 1),
    el('help_helpful_no', 'No', 'div.feedback button.btn.btn-ghost.no', 0.5),
    el('help_related', 'Related article', 'aside.related a.article-link', 1.5),
    el('help_contact_link', 'Contact support', 'footer.article-footer a.contact-link', 0.6, { href: '/contact' }),
  ]),
  help_contact: page('help_contact', 'help', help, '/contact', 'Contact support | Acme Boards', [
    el('help_message', 'Message', 'form.contact-form textarea.message', 1, { input: true }),
    el('help_send', 'Send message', 'form.contact-form button.btn.btn-primary', 1),
  ]),
};

export function element(pageKey: PageKey, key: string): ElementDef {
  const found = PAGES[pageKey].elements.find((e) => e.key === key);
  if (found === undefined) throw new Error(`no element ${key} on ${pageKey}`);
  return found;
}

export const BLOG_SLUGS = [
  'kanban-vs-scrum', 'remote-team-rituals', 'how-we-plan-sprints', 'roadmaps-that-survive-contact', 'okrs-in-practice',
  'automations-101', 'meeting-free-wednesdays', 'product-launch-checklist',
] as const;
export const TEMPLATE_SLUGS = ['product-roadmap', 'sprint-planning', 'bug-tracker', 'content-calendar', 'hiring-pipeline', 'okr-tracker'] as const;
export const INTEGRATION_NAMES = ['slack', 'github', 'google-drive', 'jira', 'figma', 'zapier'] as const;
export const HELP_SLUGS = [
  'getting-started-with-boards', 'inviting-your-team', 'exporting-reports', 'billing-faq', 'connecting-slack', 'automation-recipes',
] as const;
export const ONBOARDING_STEPS = ['welcome', 'workspace', 'invite', 'first-project'] as const;
export const MOBILE_SCREENS = ['Projects', 'Project', 'Board', 'Card', 'Inbox', 'Settings'] as const;

export interface Country {
  readonly code: string;
  readonly name: string;
  readonly region: string;
  readonly city: string;
  readonly continent: string;
  readonly subContinent: string;
  /** Typical UTC offset of the person's working day, in hours. */
  readonly utcOffset: number;
  readonly latLong: string;
  readonly language: string;
  readonly weight: number;
}

export const COUNTRIES: readonly Country[] = [
  { code: 'US', name: 'United States', region: 'California', city: 'San Francisco', continent: 'Americas', subContinent: 'Northern America', utcOffset: -7, latLong: '37.7749,-122.4194', language: 'en-us', weight: 24 },
  { code: 'US', name: 'United States', region: 'New York', city: 'New York', continent: 'Americas', subContinent: 'Northern America', utcOffset: -4, latLong: '40.7128,-74.0060', language: 'en-us', weight: 20 },
  { code: 'GB', name: 'United Kingdom', region: 'England', city: 'London', continent: 'Europe', subContinent: 'Northern Europe', utcOffset: 1, latLong: '51.5072,-0.1276', language: 'en-gb', weight: 12 },
  { code: 'DE', name: 'Germany', region: 'Berlin', city: 'Berlin', continent: 'Europe', subContinent: 'Western Europe', utcOffset: 2, latLong: '52.5200,13.4050', language: 'de-de', weight: 10 },
  { code: 'FR', name: 'France', region: 'Île-de-France', city: 'Paris', continent: 'Europe', subContinent: 'Western Europe', utcOffset: 2, latLong: '48.8566,2.3522', language: 'fr-fr', weight: 6 },
  { code: 'CA', name: 'Canada', region: 'Ontario', city: 'Toronto', continent: 'Americas', subContinent: 'Northern America', utcOffset: -4, latLong: '43.6532,-79.3832', language: 'en-ca', weight: 6 },
  { code: 'IN', name: 'India', region: 'Karnataka', city: 'Bengaluru', continent: 'Asia', subContinent: 'Southern Asia', utcOffset: 5.5, latLong: '12.9716,77.5946', language: 'en-in', weight: 8 },
  { code: 'BR', name: 'Brazil', region: 'São Paulo', city: 'São Paulo', continent: 'Americas', subContinent: 'South America', utcOffset: -3, latLong: '-23.5505,-46.6333', language: 'pt-br', weight: 5 },
  { code: 'AU', name: 'Australia', region: 'New South Wales', city: 'Sydney', continent: 'Oceania', subContinent: 'Australasia', utcOffset: 10, latLong: '-33.8688,151.2093', language: 'en-au', weight: 4 },
  { code: 'NL', name: 'Netherlands', region: 'North Holland', city: 'Amsterdam', continent: 'Europe', subContinent: 'Western Europe', utcOffset: 2, latLong: '52.3676,4.9041', language: 'nl-nl', weight: 4 },
];

export const FIRST_NAMES = [
  'Ava', 'Liam', 'Noah', 'Emma', 'Olivia', 'Mateo', 'Sofia', 'Lucas', 'Mia', 'Ethan', 'Amelia', 'Hiro', 'Priya', 'Arjun', 'Chloé',
  'Léa', 'Jonas', 'Lena', 'Zoë', 'Ana', 'João', 'Fatima', 'Omar', 'Yuki', 'Grace', 'Daniel', 'Sara', 'Felix', 'Nora', 'Marta',
] as const;
export const LAST_NAMES = [
  'Smith', 'García', 'Müller', 'Martin', 'Rossi', 'Silva', 'Kumar', 'Patel', 'Tanaka', 'Nguyen', 'Brown', 'Wilson', 'Dubois',
  'Schmidt', 'Jansen', 'Cohen', "O'Brien", 'Kowalski', 'Novak', 'Andersson', 'Lee', 'Walker', 'Moreau', 'Costa',
] as const;
export const COMPANIES = [
  'Northwind', 'Globex', 'Initech', 'Umbrella Labs', 'Hooli', 'Vandelay', 'Stark Design', 'Wayne Ventures', 'Acme Widgets',
  'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka Studio', 'Oceanic', 'Massive Dynamic', 'Pied Piper', 'Bluth & Co', 'Gringotts',
] as const;

const PAGE_PREFIX: readonly DomNode[] = [
  { tag: 'html', classes: [], nthChild: 1, nthOfType: 1 },
  { tag: 'body', classes: [], nthChild: 2, nthOfType: 1 },
  { tag: 'div', id: 'app', classes: ['app-shell'], nthChild: 1, nthOfType: 1 },
];
const ancestryCache = new Map<string, readonly DomNode[]>();

/** The element's full ancestry from <html>, outermost first (what selectors and element chains are built from). */
export function ancestry(page: PageDef, el: ElementDef): readonly DomNode[] {
  const key = `${page.key}/${el.key}`;
  let nodes = ancestryCache.get(key);
  if (nodes === undefined) {
    nodes = [...PAGE_PREFIX, { tag: 'main', classes: [page.mainClass], nthChild: 2, nthOfType: 1 }, ...el.nodes];
    ancestryCache.set(key, nodes);
  }
  return nodes;
}

/** "html body div#app.app-shell main.page-billing form.billing-form button#billing-save.btn.btn-primary" */
export function cssSelector(page: PageDef, el: ElementDef): string {
  const key = `${page.key}/${el.key}`;
  let css = selectorCache.get(key);
  if (css === undefined) {
    css = ancestry(page, el)
      .map((n) => `${n.tag}${n.id === undefined ? '' : `#${n.id}`}${n.classes.map((c) => `.${c}`).join('')}`)
      .join(' ');
    selectorCache.set(key, css);
  }
  return css;
}
const selectorCache = new Map<string, string>();
