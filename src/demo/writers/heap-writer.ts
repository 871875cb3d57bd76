/**
 * A Heap Connect S3 sync: `sync_<dump_id>/<table>/part-00000-<uuid>-c000.avro` (Avro object containers, snappy
 * codec) for users, sessions, pageviews, all_events, user_migrations and one table per synced event definition,
 * plus `manifests/sync_<dump_id>.json` listing every file (the signal that the sync is complete). Times are epoch
 * milliseconds; ids are random 64-bit longs written exactly (many above 2^53). As on S3, identity merges are not
 * applied to event rows: a second device's Heap user stays on its events and is mapped by user_migrations.
 */
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import avro from 'avsc';
import { ancestry } from '../catalog.js';
import type { DemoWindow } from '../clock.js';
import { int64Id, uuidV4 } from '../ids.js';
import type { EventContext, SimEvent, ToolWriter } from '../model.js';
import { TimeOrderedQueue, ensureDir } from '../output.js';
import { Rng } from '../random.js';
import type { DemoRecordMasker } from '../record-masking.js';
import { deviceLabel, fullName, ipFor } from './common.js';
import { AVRO_ENCODERS } from '../../core/avro-codecs.js';
import { exactLong } from '../../core/avro-exact-long.js';

export const HEAP_DUMP_ID = 1042;
export const HEAP_BUCKET = 'heap-rs3-acmeboards';

/** Avro `long` carried as a bigint, so ids above 2^53 are written exactly. */


type Col = readonly [name: string, type: 'long' | 'string', required?: boolean];

const SESSION_PROPS: Col[] = [
  ['library', 'string'], ['platform', 'string'], ['device_type', 'string'], ['device', 'string'], ['country', 'string'],
  ['region', 'string'], ['city', 'string'], ['ip', 'string'], ['referrer', 'string'], ['landing_page', 'string'], ['browser', 'string'],
];
const PAGE_PROPS: Col[] = [['domain', 'string'], ['path', 'string'], ['query', 'string'], ['hash', 'string'], ['title', 'string'], ['heap_previous_page', 'string']];
const EVENT_IDS: Col[] = [['event_id', 'long', true], ['user_id', 'long', true], ['session_id', 'long', true], ['time', 'long', true]];

const TABLE_COLUMNS: Record<string, Col[]> = {
  users: [['user_id', 'long', true], ['identity', 'string'], ['joindate', 'long'], ['last_modified', 'long'], ['email', 'string'], ['name', 'string'], ['company', 'string'], ['plan', 'string']],
  sessions: [
    ['event_id', 'long', true], ['session_id', 'long', true], ['user_id', 'long', true], ['time', 'long', true], ...SESSION_PROPS,
    ['landing_page_query', 'string'], ['landing_page_hash', 'string'], ['utm_source', 'string'], ['utm_medium', 'string'], ['utm_campaign', 'string'],
    ['utm_term', 'string'], ['utm_content', 'string'], ['search_keyword', 'string'],
  ],
  pageviews: [...EVENT_IDS, ...SESSION_PROPS, ...PAGE_PROPS],
  all_events: [...EVENT_IDS, ['event_table_name', 'string', true]],
  user_migrations: [['from_user_id', 'long', true], ['to_user_id', 'long', true], ['time', 'long', true]],
};
const CLICK_COLUMNS: Col[] = [...EVENT_IDS, ...SESSION_PROPS, ...PAGE_PROPS, ['type', 'string'], ['target_text', 'string'], ['hierarchy', 'string'], ['href', 'string']];

/** Synced event definitions: which clicks land in which per-event table (any_template_click overlaps two). */
const DEFINITIONS: Record<string, readonly string[]> = {
  templates_use: ['click_on_use_template', 'any_template_click'],
  template_use: ['click_on_use_template', 'any_template_click'],
  templates_preview: ['click_on_preview_template', 'any_template_click'],
  templates_category: ['click_on_template_category'],
  timeline_zoom_in: ['use_timeline_controls'],
  timeline_zoom_out: ['use_timeline_controls'],
  timeline_today: ['use_timeline_controls'],
};
const EVENT_TABLES = ['any_template_click', 'click_on_preview_template', 'click_on_template_category', 'click_on_use_template', 'use_timeline_controls'];

/**
 * A table's Avro schema. `masked`: every long column may also hold text or null, since masking can hash an id or
 * replace a number (hash_if_pii, a card-like number) — the same widening the Heap exporter applies to a column
 * whose masked values no longer fit (src/sources/heap/heap-avro-mask.ts).
 */
function schemaFor(table: string, cols: readonly Col[], masked: boolean): avro.Type {
  return avro.Type.forSchema(
    {
      type: 'record',
      name: table,
      namespace: 'heap',
      fields: cols.map(([name, type, required]) =>
        masked && type === 'long' ? { name, type: ['null', 'long', 'string'], default: null } : required ? { name, type } : { name, type: ['null', type], default: null },
      ),
    },
    { registry: { long: exactLong } },
  );
}

interface TableFile {
  readonly name: string;
  readonly file: string;
  readonly cols: readonly Col[];
  readonly encoder: avro.streams.BlockEncoder;
  readonly out: WriteStream;
  error?: Error;
}

interface HeapUser {
  readonly userId: bigint;
  readonly identity: string;
  readonly email: string;
  readonly name: string;
  readonly company: string;
  plan: string;
  joindate: number;
  lastModified: number;
}

interface SessionState {
  sessionId: bigint;
  landing: string;
  pageSeq: number;
  previousPage: string;
}

type Row = { table: string; record: Record<string, unknown> };

export class HeapWriter implements ToolWriter {
  readonly tool = 'heap' as const;
  count = 0;
  private readonly rng: Rng;
  private readonly tables = new Map<string, TableFile>();
  private readonly queue = new TimeOrderedQueue<Row[]>();
  private readonly users = new Map<number, HeapUser>();
  private readonly migrated = new Set<number>();
  private readonly migrations: Record<string, unknown>[] = [];
  private readonly syncDir: string;

  constructor(
    private readonly dir: string,
    seed: number,
    _window: DemoWindow,
    private readonly masker?: DemoRecordMasker,
  ) {
    this.rng = new Rng(seed, 51);
    this.syncDir = join(dir, `sync_${HEAP_DUMP_ID}`);
    ensureDir(join(dir, 'manifests'));
  }

  private table(name: string): TableFile {
    let t = this.tables.get(name);
    if (t === undefined) {
      const cols = TABLE_COLUMNS[name] ?? CLICK_COLUMNS;
      const folder = join(this.syncDir, name);
      ensureDir(folder);
      const file = `part-00000-${uuidV4(this.rng)}-c000.avro`;
      const encoder = new avro.streams.BlockEncoder(schemaFor(name, cols, this.masker !== undefined), {
        codec: 'snappy',
        codecs: AVRO_ENCODERS,
        syncMarker: Buffer.from(this.rng.hex(32), 'hex'),
        // A table without rows (a small demo has no user migrations) is still a valid Avro file: header, no blocks.
        writeHeader: 'always',
      });
      const out = createWriteStream(join(folder, file));
      encoder.pipe(out);
      const entry: TableFile = { name, file, cols, encoder, out };
      const fail = (err: Error): void => {
        entry.error ??= err;
      };
      encoder.on('error', fail);
      out.on('error', fail);
      t = entry;
      this.tables.set(name, t);
    }
    return t;
  }

  /** The person's Heap user: the first device seen carries the identity; later devices are migrated onto it. */
  private heapUser(ctx: EventContext, t: number): void {
    const { person, device } = ctx;
    let user = this.users.get(person.idx);
    if (user === undefined) {
      user = {
        userId: device.ids.heapUserId,
        identity: person.userId!,
        email: person.email,
        name: fullName(person),
        company: person.company,
        plan: person.plan,
        joindate: t,
        lastModified: t,
      };
      this.users.set(person.idx, user);
    } else if (user.userId !== device.ids.heapUserId && !this.migrated.has(device.key)) {
      this.migrated.add(device.key);
      this.migrations.push({ from_user_id: device.ids.heapUserId, to_user_id: user.userId, time: BigInt(t) });
    }
    user.lastModified = t;
    user.plan = person.plan;
  }

  emit(ev: SimEvent, ctx: EventContext): void {
    const page = ctx.page;
    if (page === undefined || (ev.kind !== 'page' && ev.kind !== 'click')) return;
    this.heapUser(ctx, ev.t);
    const { person, device } = ctx;
    const state = (ctx.visit.toolState ??= {});
    let s = state.heap as SessionState | undefined;
    const rows: Row[] = [];
    const sessionProps = {
      library: 'web',
      platform: device.os === 'Mac OS X' ? 'Mac OS X' : device.os,
      device_type: deviceLabel(device),
      device: device.kind === 'desktop' ? null : device.model,
      country: person.country.name,
      region: person.country.region,
      city: person.country.city,
      ip: ipFor(person),
      referrer: null as string | null,
      landing_page: '',
      browser: device.browser,
    };
    if (s === undefined) {
      s = { sessionId: int64Id(this.rng), landing: `${page.def.host}${page.path}`, pageSeq: 0, previousPage: '' };
      state.heap = s;
      sessionProps.landing_page = s.landing;
      rows.push({
        table: 'sessions',
        record: {
          event_id: int64Id(this.rng),
          session_id: s.sessionId,
          user_id: device.ids.heapUserId,
          time: BigInt(ev.t),
          ...sessionProps,
          landing_page_query: null,
          landing_page_hash: null,
          utm_source: null,
          utm_medium: null,
          utm_campaign: null,
          utm_term: null,
          utm_content: null,
          search_keyword: null,
        },
      });
    }
    sessionProps.landing_page = s.landing;
    const eventId = int64Id(this.rng);
    const ids = { event_id: eventId, user_id: device.ids.heapUserId, session_id: s.sessionId, time: BigInt(ev.t) };
    const pageProps = { domain: page.def.host, path: page.path, query: null, hash: null, title: page.title, heap_previous_page: s.previousPage === '' ? null : s.previousPage };
    if (ev.kind === 'page') {
      rows.push({ table: 'pageviews', record: { ...ids, ...sessionProps, ...pageProps } });
      rows.push({ table: 'all_events', record: { ...ids, event_table_name: 'pageviews' } });
      s.previousPage = page.path;
      s.pageSeq = page.seq;
    } else {
      const tables = DEFINITIONS[ev.el!.key] ?? [];
      if (tables.length === 0) return; // clicks matching no synced definition are not in Heap Connect
      const nodes = ancestry(page.def, ev.el!);
      const self = nodes[nodes.length - 1]!;
      const hierarchy = nodes
        .slice(2)
        .map((n) => `@${n.tag};${n.id === undefined ? '' : `#${n.id};`}${n.classes.map((c) => `.${c};`).join('')}`)
        .join('|');
      const click = { ...ids, ...sessionProps, ...pageProps, type: 'click', target_text: ev.el!.text, hierarchy, href: self.href ?? null };
      for (const table of tables) {
        rows.push({ table, record: click });
        rows.push({ table: 'all_events', record: { ...ids, event_table_name: table } });
      }
    }
    this.queue.push(ev.t, rows);
    this.count++;
  }

  private async write(table: TableFile, record: Record<string, unknown>): Promise<void> {
    if (table.error) throw table.error;
    if (!table.encoder.write(this.masker === undefined ? record : this.masked(table, record))) await once(table.encoder, 'drain');
  }

  /** The record masked; a long that went through masking as JSON text comes back a number, made a bigint again. */
  private masked(table: TableFile, record: Record<string, unknown>): Record<string, unknown> {
    const row = this.masker!.record('heap', table.name, record);
    for (const [name, type] of table.cols) if (type === 'long' && typeof row[name] === 'number') row[name] = BigInt(row[name]);
    return row;
  }

  async flush(watermark: number): Promise<void> {
    for (const { item } of this.queue.take(watermark)) {
      for (const row of item) await this.write(this.table(row.table), row.record);
    }
  }

  async finish(): Promise<string[]> {
    await this.flush(Number.POSITIVE_INFINITY);
    const users = this.table('users');
    for (const u of this.users.values()) {
      await this.write(users, {
        user_id: u.userId,
        identity: u.identity,
        joindate: BigInt(u.joindate),
        last_modified: BigInt(u.lastModified),
        email: u.email,
        name: u.name,
        company: u.company,
        plan: u.plan,
      });
    }
    const migrations = this.table('user_migrations');
    for (const m of this.migrations) await this.write(migrations, m);
    for (const name of ['sessions', 'pageviews', 'all_events', ...EVENT_TABLES]) this.table(name);

    const names = [...this.tables.keys()].sort();
    for (const name of names) {
      const t = this.tables.get(name)!;
      const closed = once(t.out, 'close');
      t.encoder.end();
      await closed;
      if (t.error) throw t.error;
    }
    const manifest = {
      dump_id: HEAP_DUMP_ID,
      tables: names.map((name) => {
        const t = this.tables.get(name)!;
        return {
          name,
          files: [`s3://${HEAP_BUCKET}/sync_${HEAP_DUMP_ID}/${name}/${t.file}`],
          // One full dump of every table: a reader replaces what it had.
          incremental: false,
          columns: t.cols.map(([c]) => c),
        };
      }),
    };
    const manifestName = `manifests/sync_${HEAP_DUMP_ID}.json`;
    writeFileSync(join(this.dir, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
    return [...names.map((name) => `sync_${HEAP_DUMP_ID}/${name}/${this.tables.get(name)!.file}`), manifestName];
  }
}
