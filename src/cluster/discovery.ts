/**
 * Which resource serves a kind, and whether it is namespaced: aggregated discovery (one
 * request for /api and one for /apis), cached, and refreshed when a kind is missing (for
 * example right after a commit's own CRD was created).
 */
import type { KubeClient } from './client.ts';

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

interface DiscoveryList {
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      resources?: {
        resource: string;
        responseKind?: { kind?: string };
        scope?: string;
        verbs?: string[];
      }[];
    }[];
  }[];
}

const ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const key = (group: string, version: string, kind: string): string => `${group}/${version}/${kind}`;

export class Discovery {
  private readonly client: KubeClient;
  private byGvk = new Map<string, ResourceInfo>();
  private loadedAt = 0;

  constructor(client: KubeClient) {
    this.client = client;
  }

  async refresh(): Promise<void> {
    const next = new Map<string, ResourceInfo>();
    for (const path of ['/api', '/apis']) {
      const list = await this.client.request<DiscoveryList>({ method: 'GET', path, accept: ACCEPT });
      for (const g of list.items ?? []) {
        const group = g.metadata?.name ?? '';
        for (const v of g.versions ?? []) {
          for (const r of v.resources ?? []) {
            const kind = r.responseKind?.kind;
            if (!kind) continue;
            next.set(key(group, v.version, kind), {
              group,
              version: v.version,
              kind,
              resource: r.resource,
              namespaced: r.scope === 'Namespaced',
              verbs: r.verbs ?? [],
            });
          }
        }
      }
    }
    this.byGvk = next;
    this.loadedAt = Date.now();
  }

  private version: Promise<string> | undefined;
  /**
   * The server's version (`v1.36.3`), asked once and only when needed: helm renders a chart's
   * .Capabilities with it, as it would against the cluster.
   */
  serverVersion(): Promise<string> {
    this.version ??= this.client
      .request<{ gitVersion?: string }>({ method: 'GET', path: '/version' })
      .then((v) => (v.gitVersion ?? '').replace(/[-+].*$/, ''));
    this.version.catch(() => (this.version = undefined));
    return this.version;
  }

  /** Looks a kind up, refreshing once if it is not known yet. */
  async lookup(group: string, version: string, kind: string): Promise<ResourceInfo | undefined> {
    if (this.loadedAt === 0) await this.refresh();
    const hit = this.byGvk.get(key(group, version, kind));
    if (hit) return hit;
    await this.refresh();
    return this.byGvk.get(key(group, version, kind));
  }

  /** Without network: what the last refresh knew. */
  cached(group: string, version: string, kind: string): ResourceInfo | undefined {
    return this.byGvk.get(key(group, version, kind));
  }
}

/** The URL path of an object (or of its collection when name is omitted). */
export function resourcePath(info: ResourceInfo, namespace: string, name?: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const ns = info.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
