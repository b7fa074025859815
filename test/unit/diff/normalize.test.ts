import { describe, expect, it } from 'vitest';
import { isServerManagedPath, normalizeForDiff } from '../../../src/diff/index.ts';
import { parsePath } from '../../../src/fieldset/index.ts';
import { fixture } from '../fieldset/load-fixture.ts';

describe('normalizeForDiff', () => {
  it('strips server bookkeeping and status, keeps content', () => {
    const live = fixture('deployment-web.live');
    const n = normalizeForDiff(live) as Record<string, Record<string, unknown>>;
    expect(Object.keys(n)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(n['metadata'] as object)).toEqual(['name', 'namespace', 'labels', 'annotations']);
    expect(n['spec']).toEqual(live['spec']);
    expect((live['metadata'] as Record<string, unknown>)['managedFields']).toBeDefined(); // input untouched
  });

  it('drops the last-applied annotation and an annotations map it leaves empty', () => {
    const obj = {
      metadata: {
        name: 'x',
        deletionTimestamp: 't',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
    };
    expect(normalizeForDiff(obj)).toEqual({ metadata: { name: 'x' } });
    expect(normalizeForDiff('text')).toBe('text');
  });

  it('knows which paths it strips', () => {
    for (const p of ['.status.replicas', '.metadata.managedFields', '.metadata.resourceVersion'])
      expect(isServerManagedPath(parsePath(p)), p).toBe(true);
    expect(
      isServerManagedPath(
        parsePath('.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]'),
      ),
    ).toBe(true);
    for (const p of ['.spec.status', '.metadata.labels.status', '.metadata.annotations.x', '.metadata.name'])
      expect(isServerManagedPath(parsePath(p)), p).toBe(false);
  });
});
