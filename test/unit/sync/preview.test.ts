import { describe, expect, it } from 'vitest';
import { overlay } from '../../../src/sync/preview.ts';

describe('overlay: the recreated object as diff shows it when no dry-run can', () => {
  it("lays Git's fields over the live object, keeping server defaults, item by item in lists of equal length", () => {
    const live = {
      metadata: { name: 'j', uid: 'u' },
      spec: {
        template: { spec: { containers: [{ name: 'm', image: 'a:1', imagePullPolicy: 'IfNotPresent' }] } },
      },
    };
    const git = {
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'm', image: 'a:2' }] } } },
    };
    expect(overlay(live, git)).toEqual({
      metadata: { name: 'j', uid: 'u' },
      spec: {
        template: { spec: { containers: [{ name: 'm', image: 'a:2', imagePullPolicy: 'IfNotPresent' }] } },
      },
    });
    // Lists of another length, and scalars, are Git's.
    expect(overlay({ a: [1, 2], b: 1 }, { a: [3], b: 2 })).toEqual({ a: [3], b: 2 });
  });
});
