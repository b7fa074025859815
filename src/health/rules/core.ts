/** v1 PersistentVolumeClaim and Service. */
import { list, str, type Obj } from '../read.ts';
import { current, inProgress, type Health } from '../types.ts';

export function pvcHealth(obj: Obj): Health {
  const phase = str(obj, 'status.phase');
  if (phase !== 'Bound') return inProgress('NotBound', `PVC not bound yet (phase ${phase || 'unset'})`);
  return current(`PVC bound to volume ${str(obj, 'spec.volumeName') || '(unnamed)'}`);
}

/**
 * Only a LoadBalancer Service has something to wait for. kstatus waits just for a cluster IP
 * (which the API server assigns at creation); here, as in Argo CD, the load balancer controller
 * must also have published an ingress point, since that is what makes the Service reachable.
 */
export function serviceHealth(obj: Obj): Health {
  const type = str(obj, 'spec.type', 'ClusterIP');
  if (type !== 'LoadBalancer') return current(`${type} Service is ready`);
  if (str(obj, 'spec.clusterIP') === '')
    return inProgress('NoIPAssigned', 'LoadBalancer Service has no cluster IP yet');
  const ingress = list(obj, 'status.loadBalancer.ingress');
  if (ingress.length === 0)
    return inProgress(
      'NoLoadBalancerIngress',
      'waiting for the load balancer controller to publish an ingress point',
    );
  const points = ingress.map((i) => str(i, 'ip') || str(i, 'hostname')).filter((p) => p !== '');
  return current(`LoadBalancer Service reachable at ${points.join(', ') || 'its ingress point'}`);
}
