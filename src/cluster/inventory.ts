/**
 * The inventory of an app: which objects Tether applied for it, kept in the cluster as a
 * ConfigMap in the app's namespace and written only after a successful apply. Prune deletes
 * what is in the inventory and no longer in Git, so nothing Tether never applied is deleted.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { INVENTORY_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../contract.ts';
import type { ObjectId } from '../manifests/index.ts';
import { applyObject, type KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { Discovery } from './discovery.ts';
import type { LiveReader } from './live.ts';

export { INVENTORY_LABEL };

export interface Inventory {
  app: string;
  namespace: string;
  commit?: string;
  entries: ObjectId[];
}

export function inventoryName(app: string): string {
  return `tether-inventory-${app.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
}

const entryKey = (e: ObjectId): string => [e.group, e.kind, e.namespace, e.name].join('\u0000');

/** Sorted, without duplicates; keys are built once (not inside the comparator). */
function sortEntries(entries: ObjectId[]): { entries: ObjectId[]; digest: string } {
  const byKey = new Map(entries.map((e) => [entryKey(e), e]));
  const keys = [...byKey.keys()].sort();
  return {
    entries: keys.map((k) => byKey.get(k)!),
    digest: createHash('sha256').update(keys.join('\n')).digest('hex'),
  };
}

// Each version of an inventory is decoded once (by uid and resourceVersion): the watch cache
// hands out a fresh copy on every read. Bounded: a few inventories per app at most.
const decoded = new Map<string, Inventory & { digest: string }>();
const DECODED_MAX = 256;

/**
 * The entries are stored gzipped (binaryData): as plain JSON, an app of about 10,000 objects
 * would pass the API server's 1 MiB limit for one object.
 */
function decode(cm: KubeObject, app: string, namespace: string): Inventory & { digest: string } {
  const data = (cm.data ?? {}) as Record<string, string>;
  const binary = (cm.binaryData ?? {}) as Record<string, string>;
  const json = binary['objects.json.gz']
    ? gunzipSync(Buffer.from(binary['objects.json.gz'], 'base64')).toString('utf8')
    : (data.objects ?? '[]');
  const entries = JSON.parse(json) as ObjectId[];
  return {
    app,
    namespace,
    ...(data.commit ? { commit: data.commit } : {}),
    entries,
    digest: data.digest ?? '',
  };
}

export async function readInventory(
  conn: { discovery: Discovery; live: LiveReader },
  app: string,
  namespace: string,
): Promise<(Inventory & { digest: string }) | undefined> {
  const info = (await conn.discovery.lookup('', 'v1', 'ConfigMap'))!;
  const cm = await conn.live.get(info, namespace, inventoryName(app));
  if (!cm) return undefined;
  const { uid, resourceVersion } = cm.metadata as { uid?: string; resourceVersion?: string };
  const key = uid && resourceVersion ? `${uid}@${resourceVersion}` : undefined;
  let inv = key ? decoded.get(key) : undefined;
  if (!inv) {
    inv = decode(cm, app, namespace);
    if (key) {
      if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value!);
      decoded.set(key, inv);
    }
  }
  return inv;
}

/** Writes the inventory unless it is already exactly this (no write on a no-op reconcile). */
export async function writeInventory(
  client: KubeClient,
  discovery: Discovery,
  inventory: Inventory,
  previous: (Inventory & { digest: string }) | undefined,
  /** Awaited right before the write, when there is one (the write gate). */
  beforeWrite?: () => Promise<void>,
): Promise<boolean> {
  const { entries, digest } = sortEntries(inventory.entries);
  if (previous && previous.commit === inventory.commit && previous.digest === digest) return false;
  await beforeWrite?.();
  const info = (await discovery.lookup('', 'v1', 'ConfigMap'))!;
  const cm: Partial<KubeObject> = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: inventoryName(inventory.app),
      namespace: inventory.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INVENTORY_LABEL]: inventory.app },
    },
    data: { app: inventory.app, commit: inventory.commit ?? '', digest, count: String(entries.length) },
    binaryData: { 'objects.json.gz': gzipSync(JSON.stringify(entries)).toString('base64') },
  };
  await applyObject(client, info, cm, { force: true });
  return true;
}
