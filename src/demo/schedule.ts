/**
 * Turns each planned person into dated visits: marketing visits before signup, the signup visit with
 * onboarding, the scripted funnel steps, then ongoing use of the web app, the mobile app, the help centre and the
 * blog, at working hours in the person's time zone with quieter weekends.
 */
import { DAY_MS, HOUR_MS, type DemoWindow, dayStart } from './clock.js';
import type { Action, Device, Person, Visit, VisitKind } from './model.js';
import type { PlannedPerson } from './population.js';
import { Rng } from './random.js';

interface Draft {
  start: number;
  person: Person;
  device: Device;
  kind: VisitKind;
  actions: Action[];
  abandonsSignup?: boolean;
  firstOpen?: boolean;
  order: number;
}

/** A time on day `day` (00:00 UTC) during the person's working hours. */
function workingTime(rng: Rng, day: number, utcOffset: number): number {
  const localHour = rng.chance(0.85) ? 8 + rng.range(0, 10) : 19 + rng.range(0, 4);
  return day + Math.floor((localHour - utcOffset) * HOUR_MS);
}

function isWeekend(day: number): boolean {
  // Day 0 of the epoch was a Thursday.
  const d = (Math.floor(day / DAY_MS) + 4) % 7;
  return d === 0 || d === 6;
}

/** Days from `from` to `to` on which a person with `perWeek` visits per week shows up (0-2 visits a day). */
function recurring(rng: Rng, from: number, to: number, perWeek: number, utcOffset: number, push: (t: number) => void): void {
  for (let day = dayStart(from); day < to; day += DAY_MS) {
    const p = (perWeek / 7) * (isWeekend(day) ? 0.35 : 1.26);
    if (!rng.chance(p)) continue;
    const n = rng.chance(p * 0.3) ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const t = workingTime(rng, day, utcOffset);
      if (t >= from && t < to) push(t);
    }
  }
}

export function scheduleVisits(seed: number, planned: readonly PlannedPerson[], window: DemoWindow): Visit[] {
  const drafts: Draft[] = [];
  let order = 0;
  for (const { person, acquisition, activity, churnAt, appActivity } of planned) {
    const rng = new Rng(seed, 2_000_000 + person.idx);
    const add = (start: number, device: Device, kind: VisitKind, actions: Action[] = [], extra: Partial<Draft> = {}): void => {
      if (start < window.start || start >= window.end) return;
      drafts.push({ start, person, device, kind, actions, order: order++, ...extra });
    };
    const offset = person.country.utcOffset;
    const primary = person.webDevices[0]!;

    if (acquisition !== null) {
      // Marketing visits before the signup (or the abandoned signup) on the same browser.
      const last = acquisition.signup ?? acquisition.firstTouch + Math.floor(rng.range(0, 6) * DAY_MS);
      const extra = rng.int(0, 2);
      for (let i = 0; i < extra; i++) {
        const t = acquisition.firstTouch + Math.floor(((last - acquisition.firstTouch) * i) / (extra + 1));
        add(t, primary, 'marketing');
      }
      if (acquisition.signup === null) {
        add(last, primary, 'marketing', [], { abandonsSignup: rng.chance(0.45) });
      }
    }

    const signup = person.kind === 'new' ? acquisition!.signup! : null;
    if (signup !== null) {
      const f = person.funnel!;
      const createSameVisit = f.creates && rng.chance(0.45);
      add(signup, primary, 'app', createSameVisit ? ['signup', 'onboarding', 'create_project'] : ['signup', 'onboarding']);
      let t = signup;
      if (f.creates) {
        if (!createSameVisit) {
          t = signup + Math.floor(rng.range(2, 40) * HOUR_MS);
          add(t, primary, 'app', ['create_project']);
        }
        // Mobile invites fail on the broken "Send invite" button (dead click) rather than not being tried.
        const tryInvite = f.invites || (f.signupPlatform === 'mobile' && rng.chance(0.6));
        if (tryInvite) {
          t += Math.floor(rng.range(1, 60) * HOUR_MS);
          add(t, primary, 'app', [f.invites ? 'invite' : 'invite_fail']);
        }
      }
      if (f.upgrades) {
        t += Math.floor(rng.range(24, 130) * HOUR_MS);
        const desktop = person.webDevices.find((d) => d.kind === 'desktop') ?? primary;
        add(t, desktop, 'app', ['upgrade']);
      }
    }

    if (person.userId !== null) {
      const from = Math.max(window.start, (signup ?? window.start) + DAY_MS);
      const to = Math.min(window.end, churnAt);
      const webDevices = person.webDevices;
      recurring(rng, from, to, activity, offset, (start) => {
        const device = webDevices.length === 1 || rng.chance(0.7) ? primary : rng.pick(webDevices);
        if (device.firstSeen <= start) add(start, device, 'app');
      });
      const app = person.appDevice;
      if (app !== null) {
        let first = person.kind === 'new';
        const appFrom = Math.max(from, app.firstSeen);
        recurring(rng, appFrom, to, appActivity, offset, (start) => {
          add(start, app, 'mobile_app', [], first ? { firstOpen: true } : {});
          first = false;
        });
      }
      recurring(rng, from, to, 0.09, offset, (start) => add(start, primary, 'help'));
      recurring(rng, from, to, 0.12, offset, (start) => add(start, primary, 'marketing'));
    }
  }

  drafts.sort((a, b) => a.start - b.start || a.order - b.order);
  return drafts.map((d, seq) => ({
    seq,
    start: d.start,
    person: d.person,
    device: d.device,
    kind: d.kind,
    actions: d.actions,
    ...(d.abandonsSignup === undefined ? {} : { abandonsSignup: d.abandonsSignup }),
    ...(d.firstOpen === undefined ? {} : { firstOpen: d.firstOpen }),
    toolState: undefined,
  }));
}
