/** App resources through the API server, for the CLI: list, read, and the patches users make. */
import type { KubeClient } from '../cluster/client.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { TetherError } from '../errors.ts';
import { APP_GROUP, APP_VERSION, type AppResource } from './resource.ts';

/** The App CRD is not installed in the cluster. */
export class AppCrdMissingError extends TetherError {}
/** No App of that name in that namespace. */
export class AppNotFoundError extends TetherError {}

const base = `/apis/${APP_GROUP}/${APP_VERSION}`;

function path(namespace: string | undefined, name?: string): string {
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/apps${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

function crdMissing(client: KubeClient): AppCrdMissingError {
  return new AppCrdMissingError(
    `the cluster at ${client.server} does not serve apps.tether.dev (the App CRD)`,
    {
      hint: 'install it with `tether install-crds` (or the Helm chart), then declare Apps with kubectl apply',
    },
  );
}

/** The Apps of one namespace, or of every namespace (undefined). */
export async function listApps(client: KubeClient, namespace?: string): Promise<AppResource[]> {
  try {
    const list = await client.request<{ items?: AppResource[] }>({
      method: 'GET',
      path: path(namespace),
      verb: 'list',
    });
    return list.items ?? [];
  } catch (e) {
    if (e instanceof ApiStatusError && e.status === 404) throw crdMissing(client);
    throw e;
  }
}

export async function getApp(client: KubeClient, namespace: string, name: string): Promise<AppResource> {
  try {
    return await client.request<AppResource>({ method: 'GET', path: path(namespace, name) });
  } catch (e) {
    if (e instanceof ApiStatusError && e.status === 404) {
      const known = await listApps(client, namespace);
      throw new AppNotFoundError(`app ${JSON.stringify(name)} not found in namespace ${namespace}`, {
        hint: known.length
          ? `apps in ${namespace}: ${known.map((a) => a.metadata.name).join(', ')}; or pass -n NAMESPACE`
          : `no App in namespace ${namespace}; pass -n NAMESPACE, or list them all with tether get apps -A`,
      });
    }
    throw e;
  }
}

/** A JSON merge patch of an App (its spec or metadata), as `kubectl patch --type=merge`. */
export async function patchApp(
  client: KubeClient,
  namespace: string,
  name: string,
  patch: Record<string, unknown>,
): Promise<AppResource> {
  await getApp(client, namespace, name);
  return client.request<AppResource>({
    method: 'PATCH',
    path: path(namespace, name),
    contentType: 'application/merge-patch+json',
    body: patch,
    query: { fieldManager: 'tether' },
  });
}
