import type { KubeClient } from './client.ts';
import { resourcePath, type ResourceInfo } from './discovery.ts';
import { ApiStatusError } from './errors.ts';

/**
 * Deletes an object; true when it was deleted, false when it was already gone. Background
 * propagation (kubectl's default) lets dependents such as ReplicaSets go with their owner.
 * `uid` makes the delete conditional, so an object recreated meanwhile is not deleted.
 */
export async function deleteObject(
  client: KubeClient,
  info: ResourceInfo,
  namespace: string,
  name: string,
  options: { uid?: string; propagation?: 'Background' | 'Foreground' | 'Orphan'; dryRun?: boolean } = {},
): Promise<boolean> {
  try {
    await client.request({
      method: 'DELETE',
      path: resourcePath(info, namespace, name),
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: options.propagation ?? 'Background',
        ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
      },
    });
    return true;
  } catch (e) {
    if (e instanceof ApiStatusError && e.notFound) return false;
    throw e;
  }
}
