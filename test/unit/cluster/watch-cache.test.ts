/**
 * The cache's restart logic against a scripted fake API server: every failure the
 * @kubernetes/client-node informer would stop on must lead to a retry here.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { KubeClient, RequestSpec, StreamSpec } from '../../../src/cluster/client.ts';
import type { ResourceInfo } from '../../../src/cluster/discovery.ts';
import { ApiStatusError, ApiUnreachableError } from '../../../src/cluster/errors.ts';
import { WatchCache, type ChangeEvent } from '../../../src/cluster/watch-cache.ts';
import { configMap } from '../../support/objects.ts';

const info: ResourceInfo = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  resource: 'configmaps',
  namespaced: true,
  verbs: ['list', 'watch'],
};

const obj = (name: string, rv: string) => configMap({ name, namespace: 'ns', resourceVersion: rv });
const line = (type: string, object: unknown): string => JSON.stringify({ type, object }) + '\n';

type ListReply = { metadata: { resourceVersion: string; continue?: string }; items: unknown[] } | Error;
/** A watch reply: lines to send then end, lines to send then hang until aborted, or an error. */
type WatchReply = { lines: string[]; hang?: boolean } | Error;

function fakeClient(lists: ListReply[], watches: WatchReply[]) {
  const calls: string[] = [];
  const client = {
    request(spec: RequestSpec): Promise<unknown> {
      calls.push(`list ${spec.path} continue=${spec.query?.continue ?? ''} limit=${spec.query?.limit}`);
      const next = lists.shift();
      if (!next) return new Promise(() => {});
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(structuredClone(next));
    },
    stream(spec: StreamSpec): Promise<Readable> {
      calls.push(`watch ${spec.path} rv=${spec.query?.resourceVersion}`);
      const next = watches.shift() ?? { lines: [], hang: true };
      if (next instanceof Error) return Promise.reject(next);
      const body = new Readable({ read() {} });
      for (const l of next.lines) body.push(l);
      if (!next.hang) body.push(null);
      spec.signal?.addEventListener('abort', () => body.destroy(new Error('aborted')));
      return Promise.resolve(body);
    },
  };
  return { client: client as unknown as KubeClient, calls };
}

async function within(ms: number, check: () => void): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      return check();
    } catch (e) {
      if (Date.now() - start > ms) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const status = (code: number) =>
  ApiStatusError.from(code, { reason: String(code), message: `HTTP ${code}` }, '', 'GET');

describe('WatchCache restarts', () => {
  it('retries every kind of failure, resumes from the last resourceVersion, relists on 410', async () => {
    const { client, calls } = fakeClient(
      [
        {
          metadata: { resourceVersion: '10', continue: 'p2' },
          items: [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' } }],
        },
        { metadata: { resourceVersion: '10' }, items: [obj('b', '6')] },
        // After the 410: a changed, b gone, c new.
        { metadata: { resourceVersion: '20' }, items: [obj('a', '15'), obj('c', '16')] },
      ],
      [
        { lines: [] }, // clean end straight away (server timeout)
        status(500),
        new ApiUnreachableError('connection refused'),
        {
          lines: [
            line('MODIFIED', obj('a', '11')),
            line('BOOKMARK', { metadata: { resourceVersion: '12' } }),
          ],
        },
        status(403), // after the first sync: retried, never fatal
        { lines: [line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' })] },
        { lines: [line('ADDED', obj('d', '21'))], hang: true },
      ],
    );
    const events: ChangeEvent[] = [];
    const logs: string[] = [];
    const cache = new WatchCache(client, {
      pageSize: 1,
      onChange: (ev) => events.push(ev),
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    try {
      await cache.track(info, ['ns']);
      // List items get apiVersion/kind filled in.
      expect(cache.get(info, 'ns', 'a')).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
      await within(5000, () => expect(cache.get(info, 'ns', 'd')).toBeDefined());
      expect(cache.synced).toBe(true);
      expect(calls).toEqual([
        'list /api/v1/namespaces/ns/configmaps continue= limit=1',
        'list /api/v1/namespaces/ns/configmaps continue=p2 limit=1',
        'watch /api/v1/namespaces/ns/configmaps rv=10',
        'watch /api/v1/namespaces/ns/configmaps rv=10',
        'watch /api/v1/namespaces/ns/configmaps rv=10',
        'watch /api/v1/namespaces/ns/configmaps rv=10',
        'watch /api/v1/namespaces/ns/configmaps rv=12',
        'watch /api/v1/namespaces/ns/configmaps rv=12',
        'list /api/v1/namespaces/ns/configmaps continue= limit=1',
        'watch /api/v1/namespaces/ns/configmaps rv=20',
      ]);
      expect(
        events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`),
      ).toEqual([
        'MODIFIED a@11',
        'MODIFIED a@15', // the relist's differences
        'ADDED c@16',
        'DELETED b@6',
        'ADDED d@21',
      ]);
      expect(
        [...['a', 'b', 'c', 'd']].map((n) => cache.get(info, 'ns', n)?.metadata.resourceVersion),
      ).toEqual(['15', undefined, '16', '21']);
      expect(logs.filter((l) => l.startsWith('warn'))).toHaveLength(3); // 500, unreachable, 403
      expect(logs).toContain('info watch expired (410 Gone): relisting');
    } finally {
      cache.stop();
    }
  });

  it('fails track() when the first LIST is refused, and retries it when the server is unreachable', async () => {
    const refused = fakeClient([status(403)], []);
    const cache = new WatchCache(refused.client);
    await expect(cache.track(info, ['ns'])).rejects.toMatchObject({ status: 403 });
    expect(cache.covers(info, 'ns')).toBe(false);
    expect(cache.synced).toBe(true);

    const flaky = fakeClient(
      [
        new ApiUnreachableError('refused'),
        status(503),
        { metadata: { resourceVersion: '3' }, items: [obj('a', '2')] },
      ],
      [],
    );
    const cache2 = new WatchCache(flaky.client);
    try {
      await cache2.track(info);
      expect(cache2.get(info, 'ns', 'a')).toBeDefined();
      expect(flaky.calls.at(-1)).toBe('watch /api/v1/configmaps rv=3');
    } finally {
      cache2.stop();
    }
  });

  it('rejects a pending track() on stop()', async () => {
    const { client } = fakeClient([], []);
    const cache = new WatchCache(client);
    const pending = cache.track(info);
    cache.stop();
    await expect(pending).rejects.toThrow(/stopped/);
  });

  it('keeps going when the change handler throws', async () => {
    const { client } = fakeClient(
      [{ metadata: { resourceVersion: '1' }, items: [] }],
      [{ lines: [line('ADDED', obj('x', '2')), line('ADDED', obj('y', '3'))], hang: true }],
    );
    const logs: string[] = [];
    const cache = new WatchCache(client, {
      onChange: () => {
        throw new Error('boom');
      },
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    try {
      await cache.track(info, ['ns']);
      await within(1000, () => expect(cache.get(info, 'ns', 'y')).toBeDefined());
      expect(logs.filter((l) => l === 'error watch cache change handler failed')).toHaveLength(2);
    } finally {
      cache.stop();
    }
  });
});
