/**
 * Draws the demo's people: who they are, which devices they use, which features they touch, and how their
 * signup funnel and onboarding will go. The planted behaviours are decided here, person by person, from the rates
 * in PLANTED so that the ground truth and the data come from the same numbers.
 */
import { COMPANIES, COUNTRIES, FIRST_NAMES, LAST_NAMES } from './catalog.js';
import { DAY_MS, type DemoWindow, monthIndex } from './clock.js';
import { gaClientId, int64Id, mixpanelWebDeviceId, uuidV4, uuidV7 } from './ids.js';
import type { Device, DeviceKind, FunnelPlan, Person, PersonKind } from './model.js';
import { Rng } from './random.js';

/** The rates behind the planted behaviours (also quoted in the ground truth). */
export const PLANTED = {
  signupOnMobile: 0.3,
  createProject: { desktop: 0.8, mobile: 0.72 },
  inviteTeammate: { desktop: 0.55, mobile: 0.15 },
  upgrade: 0.35,
  /** Onboarding completion by signup month: every month but the last, then the last (new onboarding shipped). */
  onboardingCompletion: { before: 0.4, lastMonth: 0.65 },
  exportPdfDead: 0.82,
  billingSaveRage: 0.4,
  integrationsConnectError: 0.45,
  integrationsPageError: 0.2,
  automationsAddTriggerRage: 0.2,
  automationsRunNowDead: 0.5,
  automationsPageError: 0.22,
  mobileInviteSendDead: 0.9,
  usesBoard: 0.93,
  usesTimeline: 0.022,
  usesAutomations: 0.25,
  /** Background rates everywhere else. */
  background: { dead: 0.012, rage: 0.004, error: 0.003 },
} as const;

interface DeviceProfile {
  kind: DeviceKind;
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  brand: string;
  model: string;
  screen: [number, number];
  viewport: [number, number];
  ua: string;
}

const CHROME_WIN_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const CHROME_MAC_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const PROFILES: Record<DeviceKind, readonly (readonly [DeviceProfile, number])[]> = {
  desktop: [
    [{ kind: 'desktop', browser: 'Chrome', browserVersion: '126.0.6478.127', os: 'Windows', osVersion: '10', brand: '', model: '', screen: [1920, 1080], viewport: [1903, 961], ua: CHROME_WIN_UA }, 34],
    [{ kind: 'desktop', browser: 'Chrome', browserVersion: '126.0.6478.127', os: 'Mac OS X', osVersion: '10.15.7', brand: 'Apple', model: 'Macintosh', screen: [1512, 982], viewport: [1512, 865], ua: CHROME_MAC_UA }, 26],
    [{ kind: 'desktop', browser: 'Safari', browserVersion: '17.5', os: 'Mac OS X', osVersion: '10.15.7', brand: 'Apple', model: 'Macintosh', screen: [1440, 900], viewport: [1440, 789], ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15' }, 14],
    [{ kind: 'desktop', browser: 'Edge', browserVersion: '126.0.2592.87', os: 'Windows', osVersion: '10', brand: '', model: '', screen: [1920, 1080], viewport: [1903, 937], ua: `${CHROME_WIN_UA} Edg/126.0.2592.87` }, 12],
    [{ kind: 'desktop', browser: 'Firefox', browserVersion: '127.0', os: 'Windows', osVersion: '10', brand: '', model: '', screen: [2560, 1440], viewport: [2543, 1289], ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0' }, 9],
    [{ kind: 'desktop', browser: 'Firefox', browserVersion: '127.0', os: 'Linux', osVersion: '', brand: '', model: '', screen: [1920, 1080], viewport: [1920, 975], ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0' }, 5],
  ],
  mobile_web: [
    [{ kind: 'mobile_web', browser: 'Mobile Safari', browserVersion: '17.5', os: 'iOS', osVersion: '17.5.1', brand: 'Apple', model: 'iPhone', screen: [390, 844], viewport: [390, 664], ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' }, 55],
    [{ kind: 'mobile_web', browser: 'Chrome Mobile', browserVersion: '126.0.6478.122', os: 'Android', osVersion: '14', brand: 'Google', model: 'Pixel 8', screen: [412, 915], viewport: [412, 772], ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36' }, 25],
    [{ kind: 'mobile_web', browser: 'Samsung Internet', browserVersion: '25.0', os: 'Android', osVersion: '14', brand: 'Samsung', model: 'SM-S911B', screen: [360, 780], viewport: [360, 648], ua: 'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36' }, 20],
  ],
  ios: [
    [{ kind: 'ios', browser: '', browserVersion: '', os: 'iOS', osVersion: '17.5.1', brand: 'Apple', model: 'iPhone15,2', screen: [393, 852], viewport: [393, 852], ua: '' }, 60],
    [{ kind: 'ios', browser: '', browserVersion: '', os: 'iOS', osVersion: '17.4', brand: 'Apple', model: 'iPhone14,5', screen: [390, 844], viewport: [390, 844], ua: '' }, 40],
  ],
  android: [
    [{ kind: 'android', browser: '', browserVersion: '', os: 'Android', osVersion: '14', brand: 'samsung', model: 'SM-S911B', screen: [1080, 2340], viewport: [1080, 2340], ua: '' }, 55],
    [{ kind: 'android', browser: '', browserVersion: '', os: 'Android', osVersion: '14', brand: 'Google', model: 'Pixel 8', screen: [1080, 2400], viewport: [1080, 2400], ua: '' }, 45],
  ],
};

let deviceKey = 0;

function makeDevice(rng: Rng, kind: DeviceKind, firstSeen: number): Device {
  const p = rng.weighted(PROFILES[kind]);
  const native = kind === 'ios' || kind === 'android';
  const appDeviceId = uuidV4(rng);
  return {
    key: deviceKey++,
    kind,
    browser: p.browser,
    browserVersion: p.browserVersion,
    os: p.os,
    osVersion: p.osVersion,
    brand: p.brand,
    model: p.model,
    screenW: p.screen[0],
    screenH: p.screen[1],
    viewportW: p.viewport[0],
    viewportH: p.viewport[1],
    userAgent: p.ua,
    firstSeen,
    ids: {
      fullstoryUserId: int64Id(rng),
      gaClientId: gaClientId(rng, firstSeen),
      posthogDeviceId: uuidV7(rng, firstSeen),
      amplitudeDeviceId: uuidV4(rng),
      // iOS identifierForVendor style (upper case); Android and web keep their own shapes.
      mixpanelDeviceId: kind === 'ios' ? appDeviceId.toUpperCase() : native ? appDeviceId : mixpanelWebDeviceId(rng, firstSeen),
      heapUserId: int64Id(rng),
    },
  };
}

const ascii = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();

function funnelPlan(rng: Rng, window: DemoWindow, signedUpAt: number): FunnelPlan {
  const signupPlatform = rng.chance(PLANTED.signupOnMobile) ? 'mobile' : 'desktop';
  const creates = rng.chance(PLANTED.createProject[signupPlatform]);
  const invites = creates && rng.chance(PLANTED.inviteTeammate[signupPlatform]);
  const upgrades = invites && rng.chance(PLANTED.upgrade);
  const last = monthIndex(window, signedUpAt) === window.months.length - 1 && window.months.length > 1;
  const completesOnboarding = rng.chance(last ? PLANTED.onboardingCompletion.lastMonth : PLANTED.onboardingCompletion.before);
  return { signupPlatform, creates, invites, upgrades, completesOnboarding };
}

/** The first touch (marketing visit) and signup instant of a person who signs up during the window. */
export interface Acquisition {
  readonly firstTouch: number;
  readonly signup: number | null;
}

export interface PlannedPerson {
  readonly person: Person;
  readonly acquisition: Acquisition | null;
  /** Visits per week of ongoing use, and when the person stops (churn), for the scheduler. */
  readonly activity: number;
  readonly churnAt: number;
  readonly appActivity: number;
}

export function planPeople(seed: number, count: number, window: DemoWindow): PlannedPerson[] {
  deviceKey = 0;
  const out: PlannedPerson[] = [];
  const span = window.end - window.start;
  for (let idx = 0; idx < count; idx++) {
    const rng = new Rng(seed, 1_000_000 + idx);
    const kind = rng.weighted<PersonKind>([
      ['existing', 35],
      ['new', 50],
      ['visitor', 15],
    ]);
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const company = rng.pick(COMPANIES);
    const country = rng.weighted(COUNTRIES.map((c) => [c, c.weight] as const));

    let acquisition: Acquisition | null = null;
    let signedUpAt: number | null = null;
    if (kind === 'existing') {
      signedUpAt = window.start - Math.floor(rng.range(20, 400) * DAY_MS);
    } else {
      // Signups need a few days of window left so their funnel can play out (14-day funnels are read from step 1).
      const latest = Math.max(window.start + 1, window.end - (kind === 'new' ? 9 : 1) * DAY_MS);
      const firstTouch = window.start + Math.floor(rng.next() * Math.max(1, Math.min(span, latest - window.start)));
      const signup = kind === 'new' ? Math.min(firstTouch + Math.floor(rng.exp(1.5) * DAY_MS), latest + 3 * DAY_MS) : null;
      acquisition = { firstTouch, signup };
      signedUpAt = signup;
    }

    const funnel = kind === 'new' ? funnelPlan(rng, window, signedUpAt!) : null;
    const deviceSeen = acquisition?.firstTouch ?? window.start - Math.floor(rng.range(30, 500) * DAY_MS);
    const later = (): number => (signedUpAt ?? deviceSeen) + Math.floor(rng.range(1, 25) * DAY_MS);

    const webDevices: Device[] = [];
    if (kind === 'visitor') {
      webDevices.push(makeDevice(rng, rng.chance(0.35) ? 'mobile_web' : 'desktop', deviceSeen));
    } else if (kind === 'new') {
      const mobileFirst = funnel!.signupPlatform === 'mobile';
      webDevices.push(makeDevice(rng, mobileFirst ? 'mobile_web' : 'desktop', deviceSeen));
      if (mobileFirst ? rng.chance(0.45) : rng.chance(0.12)) webDevices.push(makeDevice(rng, mobileFirst ? 'desktop' : 'mobile_web', later()));
      if (rng.chance(0.12)) webDevices.push(makeDevice(rng, 'desktop', later()));
    } else {
      webDevices.push(makeDevice(rng, rng.chance(0.1) ? 'mobile_web' : 'desktop', deviceSeen));
      if (rng.chance(0.12)) webDevices.push(makeDevice(rng, 'mobile_web', deviceSeen + DAY_MS));
      if (rng.chance(0.15)) webDevices.push(makeDevice(rng, 'desktop', later()));
    }
    const appDevice =
      kind !== 'visitor' && rng.chance(0.35)
        ? makeDevice(rng, rng.chance(0.6) ? 'ios' : 'android', kind === 'existing' ? deviceSeen + 2 * DAY_MS : later())
        : null;

    const signedUp = kind !== 'visitor';
    const uses = {
      board: signedUp && rng.chance(PLANTED.usesBoard),
      automations: signedUp && rng.chance(PLANTED.usesAutomations),
      timeline: signedUp && rng.chance(PLANTED.usesTimeline),
      templates: signedUp && rng.chance(0.2),
      reports: signedUp && rng.chance(0.45),
      integrations: signedUp && rng.chance(0.22),
    };
    const projectIds = Array.from({ length: rng.int(1, 4) }, () => rng.int(10_000, 999_999));
    const userId = signedUp ? `usr_${rng.hex(12)}` : null;
    const email = `${ascii(firstName)}.${ascii(lastName)}${rng.int(1, 99)}@${ascii(company)}.example`;
    const firstSeen = webDevices[0]!.firstSeen;

    const person: Person = {
      idx,
      kind,
      userId,
      firstName,
      lastName,
      email,
      company,
      country,
      signedUpAt,
      plan: kind === 'existing' ? rng.weighted([['free', 55], ['pro', 35], ['business', 10]] as const) : 'free',
      webDevices,
      appDevice,
      projectIds,
      uses,
      funnel,
      ids: {
        fullstoryIndvId: webDevices[0]!.ids.fullstoryUserId,
        amplitudeId: rng.int(100_000_000_000, 999_999_999_999),
        posthogPersonId: uuidV7(rng, firstSeen),
      },
    };

    const activity = rng.weighted([[0.1, 30], [0.24, 30], [0.48, 22], [0.95, 13], [1.9, 5]] as const);
    const churnAt =
      kind === 'new' && rng.chance(0.35)
        ? signedUpAt! + Math.floor(rng.range(3, 21) * DAY_MS)
        : kind === 'existing' && rng.chance(0.08)
          ? window.start + Math.floor(rng.next() * span)
          : Number.POSITIVE_INFINITY;
    const appActivity = rng.weighted([[0.25, 40], [0.7, 40], [1.7, 20]] as const);
    out.push({ person, acquisition, activity, churnAt, appActivity });
  }
  return out;
}
