import { describe, expect, it } from 'vitest';
import { clusterCondition, forbiddenRequest } from '../../../src/sync/errors.ts';

describe('clusterCondition: refusals that are the cluster state say what to check there', () => {
  it('names the identity, verb, resource and namespace RBAC forbids', () => {
    const detail =
      'deployments.apps "web" is forbidden: User "system:serviceaccount:tether:agent" cannot patch resource "deployments" in API group "apps" in the namespace "shop"';
    expect(forbiddenRequest(detail)).toEqual({
      user: 'system:serviceaccount:tether:agent',
      verb: 'patch',
      resource: 'deployments',
      group: 'apps',
      namespace: 'shop',
    });
    expect(clusterCondition(403, 'Forbidden', detail)).toBe(
      "the cluster's RBAC forbids it: grant system:serviceaccount:tether:agent, the identity Tether runs as, the verb patch on deployments.apps in namespace shop (a Role and a RoleBinding there, or a ClusterRoleBinding); Tether needs get, list, watch and patch (delete too, to prune)",
    );
    const clusterScoped =
      'clusterroles.rbac.authorization.k8s.io "r" is forbidden: User "u" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope';
    expect(clusterCondition(403, 'Forbidden', clusterScoped)).toContain(
      'grant u, the identity Tether runs as, the verb get on clusterroles.rbac.authorization.k8s.io at the cluster scope (a ClusterRole and a ClusterRoleBinding)',
    );
    expect(clusterCondition(403, 'Forbidden', 'forbidden')).toBe(
      "the cluster's RBAC forbids it: grant the agent's identity this permission",
    );
  });

  it('names a missing or terminating namespace and what to do about it', () => {
    expect(clusterCondition(404, 'NotFound', 'namespaces "shop" not found')).toBe(
      'its namespace does not exist: create it (kubectl create namespace shop) or add its Namespace to the repository',
    );
    expect(
      clusterCondition(
        403,
        'Forbidden',
        'configmaps "a" is forbidden: unable to create new content in namespace shop because it is being terminated',
      ),
    ).toMatch(/^its namespace shop is being deleted: .*kubectl get namespace shop -o yaml/);
  });

  it('leaves the manifest faults alone', () => {
    expect(clusterCondition(422, 'Invalid', 'ConfigMap "a" is invalid: data: Invalid value')).toBeUndefined();
    expect(
      clusterCondition(404, 'NotFound', 'the server could not find the requested resource'),
    ).toBeUndefined();
  });
});
