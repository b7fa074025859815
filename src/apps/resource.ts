/**
 * The App resource (apps.tether.dev/v1alpha1): its names, and the shape of what the agent
 * reads from it. The schema itself is the CRD in charts/tether/crds/; the agent validates a
 * spec again with the config file's rules (to-config.ts), so an App and a config file's app
 * mean exactly the same thing.
 */
import type { ResourceInfo } from '../cluster/discovery.ts';

export const APP_GROUP = 'tether.dev';
export const APP_VERSION = 'v1alpha1';
export const APP_KIND = 'App';
export const APP_RESOURCE = 'apps';
export const APP_API_VERSION = `${APP_GROUP}/${APP_VERSION}`;

/** Set by `tether reconcile app` (any new value): reconcile now, as Flux's reconcile.fluxcd.io/requestedAt. */
export const RECONCILE_ANNOTATION = 'tether.dev/reconcile-requested-at';
/** Holds a deleted App with `spec.prune: true` until its objects are pruned. */
export const PRUNE_FINALIZER = 'tether.dev/prune';
/** The field manager of the agent's status and finalizer writes. */
export const STATUS_MANAGER = 'tether-agent';

export const APP_INFO: ResourceInfo = {
  group: APP_GROUP,
  version: APP_VERSION,
  kind: APP_KIND,
  resource: APP_RESOURCE,
  namespaced: true,
  verbs: ['get', 'list', 'watch', 'patch', 'update'],
};

export interface SecretRef {
  name: string;
}

export interface AppSpec {
  suspend?: boolean;
  prune?: boolean;
  serviceAccountName?: string;
  source?: Record<string, unknown> & { secretRef?: SecretRef; verify?: Record<string, unknown> };
  destination?: Record<string, unknown>;
  sync?: Record<string, unknown>;
  render?: Record<string, unknown>;
  notifications?: (Record<string, unknown> & { secretRef?: SecretRef & { key?: string } })[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface AppResourceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  state?: string;
  health?: string;
  commit?: string;
  lastAppliedCommit?: string;
  lastSeenCommit?: string;
  driftedObjects?: number;
  lastError?: string;
  lastReconcileAt?: string;
  lastHandledReconcileAt?: string;
  mode?: string;
}

export interface AppResource {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: AppSpec;
  status?: AppResourceStatus;
}

/** `namespace/name`: how messages and the CLI name an App resource. */
export function resourceKey(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}
