import { describe, expect, it } from 'vitest';
import { parsePath, withoutPaths } from '../../../src/fieldset/index.ts';

describe('withoutPaths', () => {
  const obj = {
    metadata: { name: 'web', labels: { team: 'a' } },
    spec: {
      replicas: 3,
      template: {
        spec: {
          containers: Array.from({ length: 11 }, (_, i) => ({ name: `c${i}`, image: `img:${i}` })),
        },
      },
    },
  };

  it('removes keyed list items and fields without touching the input', () => {
    const out = withoutPaths(obj, [
      parsePath('.spec.replicas'),
      parsePath('.spec.template.spec.containers[name=c9]'),
      parsePath('.spec.template.spec.containers[name=c10]'),
    ]);
    expect(out.spec).not.toHaveProperty('replicas');
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual([
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
      'c6',
      'c7',
      'c8',
    ]);
    expect(obj.spec.replicas).toBe(3);
    expect(obj.spec.template.spec.containers).toHaveLength(11);
  });

  it('drops maps a removal leaves empty, but keeps the root and non-empty parents', () => {
    const out = withoutPaths(obj, [parsePath('.metadata.labels.team')]);
    expect(out.metadata).toEqual({ name: 'web' });
  });

  it('ignores paths that are not there', () => {
    expect(withoutPaths(obj, [parsePath('.spec.nothing.here')])).toEqual(obj);
  });
});
