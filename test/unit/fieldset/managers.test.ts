import { describe, expect, it } from 'vitest';
import {
  FieldSet,
  ManagedFieldsError,
  managerSet,
  ownersOf,
  ownsPath,
  parseManagedFields,
  parsePath,
} from '../../../src/fieldset/index.ts';
import { fixture } from './load-fixture.ts';

describe('parseManagedFields', () => {
  it('reads one owner and set per entry, in order, with subresource only when present', () => {
    const managed = parseManagedFields(fixture('deployment-web.live'));
    expect(managed.map((m) => m.owner)).toEqual([
      { manager: 'tether', operation: 'Apply', time: '2026-03-02T10:00:00Z' },
      { manager: 'kubectl', operation: 'Update', time: '2026-03-02T10:05:12Z', subresource: 'scale' },
      { manager: 'kubectl-label', operation: 'Update', time: '2026-03-02T10:08:30Z' },
      { manager: 'kubectl-edit', operation: 'Update', time: '2026-03-02T10:12:40Z' },
      { manager: 'kube-controller-manager', operation: 'Update', time: '2026-03-02T10:12:41Z' },
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        time: '2026-03-02T10:12:55Z',
        subresource: 'status',
      },
    ]);
    expect(managed[1]?.set.paths().length).toBe(1);
  });

  it('accepts the managedFields array itself, and objects without managedFields', () => {
    const md = fixture('service-web.live')['metadata'] as { managedFields: unknown[] };
    expect(parseManagedFields(md.managedFields).length).toBe(4);
    expect(parseManagedFields({ metadata: { name: 'x' } })).toEqual([]);
    expect(parseManagedFields(undefined)).toEqual([]);
    const [noFields] = parseManagedFields([{ manager: 'm', operation: 'Update' }]);
    expect(noFields?.set.isEmpty()).toBe(true);
  });

  it.each([
    [{ metadata: { managedFields: {} } }, 'not a list'],
    [[{ operation: 'Apply' }], 'manager is not a string'],
    [[{ manager: 'm', operation: 'Patch' }], 'expected Apply or Update'],
    [[{ manager: 'm', operation: 'Apply', fieldsType: 'FieldsV2', fieldsV1: {} }], 'expected FieldsV1'],
    [[{ manager: 'm', operation: 'Apply', fieldsV1: { 'q:x': {} } }], 'managedFields[0] (manager m)'],
  ])('rejects %j', (input, msg) => {
    expect(() => parseManagedFields(input)).toThrow(ManagedFieldsError);
    expect(() => parseManagedFields(input)).toThrow(msg);
  });

  it('managerSet unions the entries of one manager and operation', () => {
    const managed = parseManagedFields(fixture('deployment-web.live'));
    expect(managerSet(managed, 'kube-controller-manager')?.size).toBe(2 + 20);
    expect(managerSet(managed, 'tether', 'Update')).toBeUndefined();
    expect(managerSet(managed, 'tether', 'Apply')?.has(parsePath('.spec.replicas'))).toBe(false);
  });
});

describe('ownersOf', () => {
  const managed = parseManagedFields(fixture('deployment-web.live'));
  const owners = (p: string): string[] => ownersOf(parsePath(p), managed).map((o) => o.manager);

  it('names the manager that took a field over', () => {
    expect(owners('.spec.replicas')).toEqual(['kubectl']);
    expect(owners('.metadata.labels.team')).toEqual(['kubectl-label']);
    expect(owners('.spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value')).toEqual([
      'kubectl-edit',
    ]);
    expect(owners('.spec.template.spec.containers[name=web].image')).toEqual(['tether']);
  });

  it('counts owners of descendants, lists each owner once', () => {
    expect(owners('.metadata.labels')).toEqual(['tether', 'kubectl-label']);
    expect(owners('.spec.template.spec.containers[name=web].env[name=LOG_LEVEL]')).toEqual([
      'tether',
      'kubectl-edit',
    ]);
    expect(owners('.metadata')).toEqual(['tether', 'kubectl-label', 'kube-controller-manager']);
  });

  it('an atomic ancestor owns what is inside it; an item marker "." does not', () => {
    expect(owners('.spec.selector.matchLabels["app.kubernetes.io/name"]')).toEqual(['tether']);
    const s = FieldSet.fromFieldsV1({ 'f:l': { 'k:{"name":"a"}': { '.': {}, 'f:name': {} } } });
    expect(ownsPath(s, parsePath('.l[name=a].image'))).toBe(false);
    expect(ownsPath(s, parsePath('.l[name=a]'))).toBe(true);
    expect(ownsPath(s, parsePath('.l[name=b]'))).toBe(false);
    expect(owners('.spec.strategy')).toEqual([]);
  });
});
