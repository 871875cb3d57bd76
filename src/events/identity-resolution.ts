/**
 * Person resolution (docs/events.md "Identity"): a union-find over identity links in time order.
 * - Nodes are user ids ("u:<user_id>") and source-scoped anonymous ids ("a:<source>:<anonymous_id>"); anonymous
 *   ids are scoped by source because two tools' device ids are different namespaces.
 * - A link joins two components unless that would put two different user ids in one person: two user ids are
 *   never merged. The earlier link wins (a shared device stays with the first user identified on it).
 * - A person's id is its user id node when it has one, else its smallest anonymous node: stable whatever the
 *   order links arrive in.
 */

export interface IdentityLink {
  readonly source: string;
  readonly anonymousId: string;
  /** The product user id this anonymous id was seen with, or null for an anonymous-to-anonymous link. */
  readonly userId: string | null;
  /** Another anonymous id of the same source (Heap user migrations), or null. */
  readonly otherAnonymousId: string | null;
  /** Epoch microseconds (or any comparable number); earlier links win conflicts. */
  readonly linkedAt: number;
}

export const anonymousNode = (source: string, anonymousId: string): string => `a:${source}:${anonymousId}`;
export const userNode = (userId: string): string => `u:${userId}`;

export interface IdentityResolution {
  /** anonymous node → person id, for every anonymous id that appears in a link. */
  readonly personOfAnonymous: ReadonlyMap<string, string>;
  /** Links refused because they would have merged two different user ids. */
  readonly conflicts: number;
}

export function resolveIdentities(links: readonly IdentityLink[]): IdentityResolution {
  const parent = new Map<string, string>();
  const userOf = new Map<string, string>(); // root → user node
  const minAnon = new Map<string, string>(); // root → smallest anonymous node

  const add = (node: string): void => {
    if (parent.has(node)) return;
    parent.set(node, node);
    if (node.startsWith('u:')) userOf.set(node, node);
    else minAnon.set(node, node);
  };
  const find = (node: string): string => {
    let root = node;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let cur = node;
    while (cur !== root) {
      const next = parent.get(cur)!;
      parent.set(cur, root);
      cur = next;
    }
    return root;
  };
  let conflicts = 0;
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    const ua = userOf.get(ra);
    const ub = userOf.get(rb);
    if (ua !== undefined && ub !== undefined && ua !== ub) {
      conflicts++;
      return;
    }
    parent.set(rb, ra);
    if (ua === undefined && ub !== undefined) userOf.set(ra, ub);
    const ma = minAnon.get(ra);
    const mb = minAnon.get(rb);
    if (mb !== undefined && (ma === undefined || mb < ma)) minAnon.set(ra, mb);
    userOf.delete(rb);
    minAnon.delete(rb);
  };

  const ordered = [...links].sort(
    (x, y) =>
      x.linkedAt - y.linkedAt ||
      cmp(x.source, y.source) ||
      cmp(x.anonymousId, y.anonymousId) ||
      cmp(x.userId ?? '', y.userId ?? '') ||
      cmp(x.otherAnonymousId ?? '', y.otherAnonymousId ?? ''),
  );
  for (const link of ordered) {
    const a = anonymousNode(link.source, link.anonymousId);
    add(a);
    if (link.userId !== null) {
      const u = userNode(link.userId);
      add(u);
      union(u, a);
    }
    if (link.otherAnonymousId !== null) {
      const o = anonymousNode(link.source, link.otherAnonymousId);
      add(o);
      union(a, o);
    }
  }
  const personOfAnonymous = new Map<string, string>();
  for (const node of parent.keys()) {
    if (!node.startsWith('a:')) continue;
    const root = find(node);
    personOfAnonymous.set(node, userOf.get(root) ?? minAnon.get(root)!);
  }
  return { personOfAnonymous, conflicts };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
