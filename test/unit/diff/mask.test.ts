import { describe, expect, it } from 'vitest';
import { MASK, MASK_CHANGED, isSecret, maskSecret, maskSecretPair } from '../../../src/diff/index.ts';

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db',
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}',
      other: 'kept',
    },
  },
  data: { password: 'aHVudGVyMg==', username: 'YXBw' },
  stringData: { token: 'plain-token' },
  type: 'Opaque',
};

describe('maskSecret', () => {
  it('masks data, stringData and the last-applied annotation, keeps everything else', () => {
    const masked = maskSecret(secret);
    expect(masked).toEqual({
      ...secret,
      metadata: {
        name: 'db',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': MASK, other: 'kept' },
      },
      data: { password: MASK, username: MASK },
      stringData: { token: MASK },
    });
    expect(secret.data.password).toBe('aHVudGVyMg=='); // input untouched
  });

  it('leaves other kinds alone (same object)', () => {
    const cm = { kind: 'ConfigMap', data: { a: 'b' } };
    expect(maskSecret(cm)).toBe(cm);
    expect(isSecret(cm)).toBe(false);
    expect(isSecret({ kind: 'Secret', apiVersion: 'example.com/v1' })).toBe(true);
  });

  it('marks values that differ from the other side of a diff', () => {
    const after = structuredClone(secret);
    after.data.password = 'bmV3';
    const [b, a] = maskSecretPair(secret, after);
    expect(b.data).toEqual({ password: MASK, username: MASK });
    expect(a.data).toEqual({ password: MASK_CHANGED, username: MASK });
    const [, created] = maskSecretPair(undefined, secret);
    expect(created?.data).toEqual({ password: MASK_CHANGED, username: MASK_CHANGED });
    expect(JSON.stringify([b, a, created])).not.toMatch(/aHVudGVyMg|bmV3|YXBw|plain-token/);
  });
});
