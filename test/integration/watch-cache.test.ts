/**
 * The watch cache against the real kube-apiserver: changes made with kubectl show up within a
 * second, reads make no request, and the cache heals itself after a 410 Gone and after the
 * network to the API server broke (a TCP proxy in the test plays the broken network).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/apply.ts';
import { KubeClient } from '../../src/cluster/client.ts';
import { Discovery, type ResourceInfo } from '../../src/cluster/discovery.ts';
import { WatchCache, type ChangeEvent } from '../../src/cluster/watch-cache.ts';
import { createNamespace, kubeconfig, kubectl } from '../support/cluster.ts';
import { configMap } from '../support/objects.ts';

/** Polls until `check` passes or `ms` elapse; returns the time it took. */
async function within(ms: number, check: () => void): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      check();
      return Date.now() - start;
    } catch (e) {
      if (Date.now() - start > ms) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** A TCP proxy to the API server that can cut every connection and refuse new ones. */
class Proxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private down = false;
  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.down) return client.destroy();
      const upstream = createConnection(target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }
  /** Cuts every connection (RST, as a dead link or a restarted server would) and refuses new ones. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.resetAndDestroy();
  }
  restore(): void {
    this.down = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

/** The same kubeconfig with the server replaced by the proxy (the serving cert has IP SAN 127.0.0.1). */
async function proxiedKubeconfig(dir: string, port: number): Promise<string> {
  const kc = parse(await readFile(kubeconfig(), 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of kc.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  const file = join(dir, 'kubeconfig');
  await writeFile(file, stringify(kc));
  return file;
}

const countOf = (client: KubeClient, verb: string): number =>
  client.requestCounts().find((c) => c.verb === verb && !c.dryRun)?.count ?? 0;

const cm = (name: string, ns: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  JSON.stringify(configMap({ name, namespace: ns, labels, data }));

describe('watch cache', () => {
  let ns: { name: string; cleanup: () => Promise<void> };
  let client: KubeClient;
  let configMaps: ResourceInfo;
  let dir: string;

  beforeAll(async () => {
    ns = await createNamespace('wc');
    client = await KubeClient.create({ kubeconfig: kubeconfig() });
    configMaps = (await new Discovery(client).lookup('', 'v1', 'ConfigMap'))!;
    dir = await mkdtemp(join(tmpdir(), 'tether-wc-'));
  });
  afterAll(async () => {
    client?.close();
    await ns?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sees create, modify and delete within a second, and reads without requests', async () => {
    const events: ChangeEvent[] = [];
    await kubectl(['apply', '-f', '-'], cm('before', ns.name, { a: '1' }));
    const cache = new WatchCache(client, { onChange: (ev) => events.push(ev) });
    try {
      await cache.track(configMaps, [ns.name]);
      expect(cache.synced).toBe(true);
      expect(cache.covers(configMaps, ns.name)).toBe(true);
      expect(cache.covers(configMaps, 'default')).toBe(false);
      const before = cache.get(configMaps, ns.name, 'before');
      expect(before?.data).toEqual({ a: '1' });
      // List items come without apiVersion/kind; the cache fills them in like watch events.
      expect(before).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
      expect(before?.metadata.managedFields).toBeDefined();
      expect(events).toEqual([]); // the initial LIST is not reported as changes

      await kubectl(['apply', '-f', '-'], cm('web', ns.name, { color: 'blue' }));
      const tCreate = await within(1000, () => {
        expect(cache.get(configMaps, ns.name, 'web')?.data).toEqual({ color: 'blue' });
        expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED web']);
      });

      await kubectl(['-n', ns.name, 'patch', 'configmap', 'web', '-p', '{"data":{"color":"green"}}']);
      const tModify = await within(1000, () => {
        expect(cache.get(configMaps, ns.name, 'web')?.data).toEqual({ color: 'green' });
        expect(events.at(-1)?.type).toBe('MODIFIED');
      });

      await kubectl(['-n', ns.name, 'delete', 'configmap', 'web']);
      const tDelete = await within(1000, () => {
        expect(cache.get(configMaps, ns.name, 'web')).toBeUndefined();
        expect(events.at(-1)).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'web' } } });
      });
      console.log(
        `watch cache: create ${tCreate} ms, modify ${tModify} ms, delete ${tDelete} ms after kubectl returned`,
      );

      // Latency from the API server's answer to the cache, without kubectl's start-up in between.
      const sent = Date.now();
      await client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns.name}/configmaps`,
        body: JSON.parse(cm('direct', ns.name, {})) as unknown,
      });
      const answered = Date.now() - sent;
      const seen = await within(1000, () => expect(cache.get(configMaps, ns.name, 'direct')).toBeDefined());
      console.log(`watch cache: a create answered in ${answered} ms was in the cache ${seen} ms later`);

      const counts = JSON.stringify(client.requestCounts());
      for (let i = 0; i < 10_000; i++) cache.get(configMaps, ns.name, i % 2 ? 'before' : 'absent');
      expect(JSON.stringify(client.requestCounts())).toBe(counts);
      expect(countOf(client, 'watch')).toBeGreaterThanOrEqual(1);
    } finally {
      cache.stop();
    }
    expect(cache.synced).toBe(false);
  });

  it("counts changes per owner: one app's objects changing leave another app's revision alone", async () => {
    const owner = 'test.tether.dev/owner';
    const labelOf = (o: KubeObject) => (o.metadata.labels as Record<string, string> | undefined)?.[owner];
    const cache = new WatchCache(client, { ownerOf: labelOf });
    try {
      await kubectl(['apply', '-f', '-'], cm('of-a', ns.name, { v: '1' }, { [owner]: 'a' }));
      await kubectl(['apply', '-f', '-'], cm('of-b', ns.name, { v: '1' }, { [owner]: 'b' }));
      await cache.track(configMaps, [ns.name]);
      const a0 = cache.revisionFor('a');
      const b0 = cache.revisionFor('b');
      await kubectl(['-n', ns.name, 'patch', 'configmap', 'of-a', '-p', '{"data":{"v":"2"}}']);
      await within(1000, () => expect(cache.get(configMaps, ns.name, 'of-a')?.data).toEqual({ v: '2' }));
      expect(cache.revisionFor('a')).not.toBe(a0);
      expect(cache.revisionFor('b')).toBe(b0);
      // Moving an object from a to b changes both: a's reads of it answer differently too.
      const a1 = cache.revisionFor('a');
      await kubectl(['-n', ns.name, 'label', 'configmap', 'of-a', `${owner}=b`, '--overwrite']);
      await within(1000, () => expect(labelOf(cache.get(configMaps, ns.name, 'of-a')!)).toBe('b'));
      expect(cache.revisionFor('a')).not.toBe(a1);
      expect(cache.revisionFor('b')).not.toBe(b0);
      // An object no owner accounts for changes every owner's revision.
      const a2 = cache.revisionFor('a');
      const b2 = cache.revisionFor('b');
      await kubectl(['apply', '-f', '-'], cm('unowned', ns.name, { v: '1' }));
      await within(1000, () => expect(cache.get(configMaps, ns.name, 'unowned')).toBeDefined());
      expect(cache.revisionFor('a')).not.toBe(a2);
      expect(cache.revisionFor('b')).not.toBe(b2);
    } finally {
      cache.stop();
    }
  });

  it('watches cluster-wide with a label selector and pages the LIST', async () => {
    const events: ChangeEvent[] = [];
    const managed = { 'app.kubernetes.io/managed-by': 'tether' };
    const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
    await kubectl(
      ['apply', '-f', '-'],
      [...names.map((n) => cm(n, ns.name, { n }, managed)), cm('unmanaged', ns.name, {})].join('\n'),
    );
    const listsBefore = countOf(client, 'list');
    const cache = new WatchCache(client, {
      labelSelector: 'app.kubernetes.io/managed-by=tether',
      pageSize: 2,
      onChange: (ev) => events.push(ev),
    });
    try {
      await cache.track(configMaps);
      expect(countOf(client, 'list') - listsBefore).toBeGreaterThanOrEqual(3); // 5 objects, pages of 2
      expect(cache.covers(configMaps, 'default')).toBe(true);
      for (const n of names) expect(cache.get(configMaps, ns.name, n)?.data).toEqual({ n });
      expect(cache.get(configMaps, ns.name, 'unmanaged')).toBeUndefined();
      await cache.track(configMaps, [ns.name]); // idempotent: the cluster-wide watch covers it
      expect(countOf(client, 'watch')).toBeGreaterThanOrEqual(1);

      // Losing the label takes the object out of the selection: reported as a deletion.
      await kubectl(['-n', ns.name, 'label', 'configmap', 'm1', 'app.kubernetes.io/managed-by-']);
      await within(1000, () => {
        expect(cache.get(configMaps, ns.name, 'm1')).toBeUndefined();
        expect(events.at(-1)).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'm1' } } });
      });
    } finally {
      cache.stop();
    }
  });

  it('rejects tracking a resource the server does not serve, and keeps the rest going', async () => {
    const cache = new WatchCache(client);
    try {
      await cache.track(configMaps, [ns.name]);
      const bogus: ResourceInfo = { ...configMaps, kind: 'NoSuchThing', resource: 'nosuchthings' };
      await expect(cache.track(bogus, [ns.name])).rejects.toMatchObject({ status: 404 });
      expect(cache.covers(bogus, ns.name)).toBe(false);
      expect(cache.synced).toBe(true);
    } finally {
      cache.stop();
    }
    await expect(cache.track(configMaps)).rejects.toThrow(/stopped/);
  });

  describe('through a proxy that breaks', () => {
    let proxy: Proxy;
    let proxied: KubeClient;

    beforeAll(async () => {
      const target = new URL(client.server);
      proxy = new Proxy({ host: target.hostname, port: Number(target.port) });
      const port = await proxy.listen();
      proxied = await KubeClient.create({ kubeconfig: await proxiedKubeconfig(dir, port) });
    });
    afterAll(async () => {
      proxied?.close();
      await proxy?.close();
    });

    it('re-watches from where it was after the network broke, without relisting', async () => {
      const logs: string[] = [];
      const cache = new WatchCache(proxied, { log: (level, msg) => logs.push(`${level} ${msg}`) });
      try {
        await cache.track(configMaps, [ns.name]);
        const lists = countOf(proxied, 'list');
        const watches = countOf(proxied, 'watch');

        proxy.cut();
        await within(1000, () => expect(cache.synced).toBe(false));
        await kubectl(['apply', '-f', '-'], cm('while-down', ns.name, { x: '1' }));
        await new Promise((r) => setTimeout(r, 1500)); // let a few retries fail
        expect(cache.get(configMaps, ns.name, 'while-down')).toBeUndefined();
        expect(logs.some((l) => l.startsWith('warn watch of ConfigMap'))).toBe(true);

        proxy.restore();
        const took = await within(7000, () => {
          expect(cache.get(configMaps, ns.name, 'while-down')?.data).toEqual({ x: '1' });
          expect(cache.synced).toBe(true);
        });
        console.log(`watch cache: recovered ${took} ms after the network came back`);
        expect(countOf(proxied, 'list')).toBe(lists); // resumed from its resourceVersion: no LIST
        expect(countOf(proxied, 'watch')).toBeGreaterThan(watches);

        // And it keeps watching afterwards.
        await kubectl(['-n', ns.name, 'patch', 'configmap', 'while-down', '-p', '{"data":{"x":"2"}}']);
        await within(1000, () =>
          expect(cache.get(configMaps, ns.name, 'while-down')?.data).toEqual({ x: '2' }),
        );
      } finally {
        cache.stop();
        proxy.restore();
      }
    });

    it('relists after a 410 Gone and reports what changed while it was away', async () => {
      await kubectl(
        ['apply', '-f', '-'],
        [
          cm('keep', ns.name, { v: '1' }),
          cm('edit', ns.name, { v: '1' }),
          cm('drop', ns.name, { v: '1' }),
        ].join('\n'),
      );
      const events: ChangeEvent[] = [];
      const logs: string[] = [];
      const cache = new WatchCache(proxied, {
        onChange: (ev) => events.push(ev),
        log: (level, msg) => logs.push(`${level} ${msg}`),
      });
      try {
        await cache.track(configMaps, [ns.name]);
        const lists = countOf(proxied, 'list');
        proxy.cut();
        await within(1000, () => expect(cache.synced).toBe(false));
        await kubectl(['-n', ns.name, 'patch', 'configmap', 'edit', '-p', '{"data":{"v":"2"}}']);
        await kubectl(['-n', ns.name, 'delete', 'configmap', 'drop']);
        await kubectl(['apply', '-f', '-'], cm('new', ns.name, { v: '1' }));
        cache.expire(configMaps); // the server forgot the resourceVersion the cache would resume from
        proxy.restore();

        await within(7000, () => {
          expect(cache.synced).toBe(true);
          expect(cache.get(configMaps, ns.name, 'edit')?.data).toEqual({ v: '2' });
          expect(cache.get(configMaps, ns.name, 'drop')).toBeUndefined();
          expect(cache.get(configMaps, ns.name, 'new')?.data).toEqual({ v: '1' });
          expect(cache.get(configMaps, ns.name, 'keep')?.data).toEqual({ v: '1' });
        });
        expect(countOf(proxied, 'list')).toBeGreaterThan(lists); // it relisted
        expect(logs).toContain('info watch expired (410 Gone): relisting');
        const seen = events.map((e) => `${e.type} ${e.object.metadata.name}`).sort();
        expect(seen).toEqual(['ADDED new', 'DELETED drop', 'MODIFIED edit']);

        await kubectl(['-n', ns.name, 'delete', 'configmap', 'keep']);
        await within(1000, () => expect(cache.get(configMaps, ns.name, 'keep')).toBeUndefined());
      } finally {
        cache.stop();
        proxy.restore();
      }
    });
  });
});
