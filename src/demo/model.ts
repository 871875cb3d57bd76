/**
 * The tool-neutral simulation model: people, their devices and visits, and the events a visit produces. Tool
 * writers turn these into each vendor's native records; nothing here knows a vendor field name.
 */
import type { Country, ElementDef, PageDef, Tool } from './catalog.js';

export type DeviceKind = 'desktop' | 'mobile_web' | 'ios' | 'android';

export interface Device {
  readonly key: number;
  readonly kind: DeviceKind;
  readonly browser: string;
  readonly browserVersion: string;
  readonly os: string;
  readonly osVersion: string;
  readonly brand: string;
  readonly model: string;
  readonly screenW: number;
  readonly screenH: number;
  readonly viewportW: number;
  readonly viewportH: number;
  readonly userAgent: string;
  /** When the device (cookie / install) was first seen; before the window for existing users. */
  readonly firstSeen: number;
  /** Every tool keeps its own device / cookie id. */
  readonly ids: {
    readonly fullstoryUserId: bigint;
    readonly gaClientId: string;
    readonly posthogDeviceId: string;
    readonly amplitudeDeviceId: string;
    readonly mixpanelDeviceId: string;
    readonly heapUserId: bigint;
  };
}

export type PersonKind = 'existing' | 'new' | 'visitor';

export interface FunnelPlan {
  readonly signupPlatform: 'desktop' | 'mobile';
  readonly creates: boolean;
  readonly invites: boolean;
  readonly upgrades: boolean;
  readonly completesOnboarding: boolean;
}

export interface Person {
  readonly idx: number;
  readonly kind: PersonKind;
  /** The product's own user id; null for visitors who never sign up. */
  readonly userId: string | null;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly company: string;
  readonly country: Country;
  readonly signedUpAt: number | null;
  plan: 'free' | 'pro' | 'business';
  /** Web devices, the signup / main one first. */
  readonly webDevices: readonly Device[];
  readonly appDevice: Device | null;
  readonly projectIds: readonly number[];
  readonly uses: {
    readonly board: boolean;
    readonly automations: boolean;
    readonly timeline: boolean;
    readonly templates: boolean;
    readonly reports: boolean;
    readonly integrations: boolean;
  };
  readonly funnel: FunnelPlan | null;
  /** Person-level ids some tools keep besides device ids. */
  readonly ids: {
    readonly fullstoryIndvId: bigint;
    readonly amplitudeId: number;
    readonly posthogPersonId: string;
  };
}

export type Action = 'signup' | 'onboarding' | 'create_project' | 'invite' | 'invite_fail' | 'upgrade';

export type VisitKind = 'marketing' | 'app' | 'mobile_app' | 'help';

export interface Visit {
  readonly seq: number;
  readonly start: number;
  readonly person: Person;
  readonly device: Device;
  readonly kind: VisitKind;
  /** Scripted steps (funnel, onboarding); ongoing usage has none. */
  readonly actions: readonly Action[];
  /** marketing: ends on /signup without signing up. */
  readonly abandonsSignup?: boolean;
  /** mobile_app: the install's first open (logs in during it). */
  readonly firstOpen?: boolean;
  /** Per-tool session state, dropped once the visit is written. */
  toolState: Partial<Record<Tool, unknown>> | undefined;
}

export interface PageContext {
  readonly def: PageDef;
  readonly url: string;
  readonly path: string;
  readonly title: string;
  readonly referrer: string;
  readonly start: number;
  readonly end: number;
  /** 1-based page number within the visit. */
  readonly seq: number;
}

export type SimKind = 'page' | 'click' | 'input' | 'custom' | 'exception' | 'identify' | 'screen' | 'session_end';

export interface SimError {
  readonly type: string;
  readonly message: string;
  readonly source: string;
  readonly line: number;
}

export interface SimEvent {
  readonly kind: SimKind;
  readonly t: number;
  /** Sub-millisecond part, 0..999. */
  readonly us: number;
  readonly name?: string;
  readonly props?: Readonly<Record<string, string | number | boolean>>;
  readonly el?: ElementDef;
  /** Position in a rage-click series (1..rageTotal), 0 when not part of one. */
  readonly rage: number;
  readonly rageTotal: number;
  readonly dead: boolean;
  readonly errorClick: boolean;
  readonly error?: SimError;
  /** Sent by the backend (no browser context). */
  readonly server?: boolean;
}

export interface EventContext {
  readonly person: Person;
  readonly device: Device;
  readonly visit: Visit;
  readonly page: PageContext | undefined;
  /** The tool knows who the user is at this event (after signup / login on this device). */
  readonly identified: boolean;
}

/** A tool's writer: receives events in visit order, writes files in time buckets. */
export interface ToolWriter {
  readonly tool: Tool;
  /** Events written so far (records in the tool's files, not counting GA4's intraday duplicates). */
  readonly count: number;
  emit(event: SimEvent, ctx: EventContext): void;
  /** Every event before `watermark` has been emitted: complete buckets may be written. */
  flush(watermark: number): Promise<void>;
  /** Writes what is left and closes files; returns the files written (relative to the tool folder). */
  finish(): Promise<string[]>;
}
