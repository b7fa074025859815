import { describe, expect, it } from 'vitest';
import { parsePath, pointerAt, valueAt } from '../../../src/fieldset/index.ts';
import { fixture } from './load-fixture.ts';

describe('valueAt', () => {
  const live = fixture('deployment-web.live');
  const svc = fixture('service-web.live');

  it('resolves fields, key items, set items and indexes', () => {
    expect(valueAt(live, parsePath('.spec.replicas'))).toEqual({ found: true, value: 5 });
    expect(
      valueAt(live, parsePath('.spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value')),
    ).toEqual({
      found: true,
      value: 'debug',
    });
    expect(
      valueAt(
        live,
        parsePath('.spec.template.spec.containers[name=web].ports[containerPort=80,protocol=TCP].name'),
      ),
    ).toEqual({ found: true, value: 'http' });
    expect(valueAt(svc, parsePath('.spec.ports[port=9090,protocol=TCP].targetPort'))).toEqual({
      found: true,
      value: 9091,
    });
    expect(valueAt(svc, parsePath('.metadata.finalizers[=example.com/backup]'))).toEqual({
      found: true,
      value: 'example.com/backup',
    });
    expect(valueAt(svc, parsePath('.spec.clusterIPs[0]'))).toEqual({ found: true, value: '10.96.14.201' });
    expect(valueAt(live, parsePath('.metadata.labels["app.kubernetes.io/name"]')).value).toBe('web');
    expect(valueAt(live, [])).toEqual({ found: true, value: live });
  });

  it('reports missing steps, wrong container kinds and partial key matches as not found', () => {
    for (const p of [
      '.spec.paused',
      '.spec.template.spec.containers[name=api].image',
      '.spec.ports[port=9090,protocol=UDP]',
      '.metadata.finalizers[=example.com/protect]',
      '.spec.clusterIPs[1]',
      '.spec.replicas.x',
      '.spec.template.spec.containers.name',
    ]) {
      const obj =
        p.startsWith('.spec.ports') || p.includes('finalizers') || p.includes('clusterIPs') ? svc : live;
      expect(valueAt(obj, parsePath(p)), p).toEqual({ found: false });
    }
    expect(valueAt({ a: null }, parsePath('.a'))).toEqual({ found: true, value: null });
  });
});

describe('pointerAt', () => {
  it('gives the RFC 6901 pointer with list positions and escaping', () => {
    const svc = fixture('service-web.live');
    expect(pointerAt(svc, parsePath('.spec.ports[port=9090,protocol=TCP].targetPort'))).toBe(
      '/spec/ports/1/targetPort',
    );
    expect(pointerAt(svc, parsePath('.metadata.labels["app.kubernetes.io/name"]'))).toBe(
      '/metadata/labels/app.kubernetes.io~1name',
    );
    expect(pointerAt({ 'a~b': 1 }, [{ field: 'a~b' }])).toBe('/a~0b');
    expect(pointerAt(svc, parsePath('.spec.nope'))).toBeUndefined();
    expect(pointerAt(svc, [])).toBe('');
  });
});
