/**
 * previewCommit (`tether diff`), in process, against the real kube-apiserver: create, update,
 * unchanged, delete and orphan, Secret values masked everywhere, and nothing written.
 */
import { describe, expect, it } from 'vitest';
import { CommitRejectedError, ObjectRejectedError } from '../../../src/sync/errors.ts';
import { applyCommit } from '../../../src/sync/execute.ts';
import type { Preview } from '../../../src/sync/preview.ts';
import { kubectl } from '../../support/cluster.ts';
import { configMap, deployment, secret } from '../../support/objects.ts';
import {
  applyInput,
  applyPlan,
  newCommit,
  planOf,
  preview,
  requests,
  statuses,
  syncTestContext,
  writes,
} from './helpers.ts';

const t = syncTestContext('preview');

const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = ['hunter2-old', 'hunter2-new', 'sup3r-s3cret-token', 'retired-passw0rd'];

/** name -> resourceVersion of every ConfigMap and Secret of the namespace. */
async function versions(namespace: string): Promise<Record<string, string>> {
  const out = await kubectl([
    '-n',
    namespace,
    'get',
    'configmaps,secrets',
    '-o',
    'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
  ]);
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=') as [string, string]),
  );
}

describe('previewCommit', () => {
  it('previews create, update, unchanged, delete and orphan with Secrets masked, and writes nothing', async () => {
    const { conn, namespace, app } = await t.fresh('preview');
    await applyPlan(
      conn,
      {
        'cms.yaml': [
          configMap({ name: 'same', data: { k: 'v' } }),
          configMap({ name: 'changed', data: { k: 'v1', keep: 'x' } }),
          configMap({ name: 'gone', data: { k: 'v' } }),
        ],
        'secrets.yaml': [
          secret({ name: 'creds', data: { password: b64('hunter2-old'), user: b64('admin') } }),
          secret({ name: 'retired', data: { password: b64('retired-passw0rd') } }),
        ],
      },
      { namespace, app, commit: newCommit() },
    );

    const second = { namespace, app, commit: newCommit() };
    const plan = planOf(
      conn,
      {
        'cms.yaml': [
          configMap({ name: 'same', data: { k: 'v' } }),
          configMap({ name: 'changed', data: { k: 'v2', keep: 'x' } }),
          configMap({ name: 'added', data: { k: 'new' } }),
        ],
        'secrets.yaml': [
          secret({ name: 'creds', data: { password: b64('hunter2-new'), user: b64('admin') } }),
          secret({ name: 'token', stringData: { token: 'sup3r-s3cret-token' } }),
        ],
      },
      second,
    );
    const before = await versions(namespace);
    const patchesBefore = requests(conn, 'patch');
    const writesBefore = writes(conn);
    const dryRunsBefore = requests(conn, 'patch', true);

    const previews = await preview(conn, plan, second);
    expect(statuses(previews)).toEqual({
      'ConfigMap/same': 'unchanged',
      'ConfigMap/changed': 'update',
      'ConfigMap/added': 'create',
      'Secret/creds': 'update',
      'Secret/token': 'create',
      'ConfigMap/gone': 'delete',
      'Secret/retired': 'delete',
    });
    const of = (kind: string, name: string): Preview =>
      previews.find((p) => p.id.kind === kind && p.id.name === name)!;

    expect(of('ConfigMap', 'same').change).toBeUndefined();

    const changed = of('ConfigMap', 'changed');
    expect(changed.change?.patch).toEqual([{ op: 'replace', path: '/data/k', value: 'v2' }]);
    expect((changed.change?.before as { data: unknown }).data).toEqual({ k: 'v1', keep: 'x' });
    expect((changed.change?.after as { data: unknown }).data).toEqual({ k: 'v2', keep: 'x' });
    expect(changed.fields).toEqual([
      {
        path: '.data.k',
        desired: 'v2',
        live: 'v1',
        owners: [expect.objectContaining({ manager: 'tether', operation: 'Apply' })],
      },
    ]);

    const added = of('ConfigMap', 'added');
    expect(added.change?.before).toBeUndefined();
    expect(added.change?.after).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name: 'added', namespace, labels: { 'tether.dev/app': app } },
      data: { k: 'new' },
    });
    expect(added.change?.patch).toEqual([{ op: 'add', path: '', value: added.change?.after }]);

    const creds = of('Secret', 'creds');
    expect((creds.change?.before as { data: unknown }).data).toEqual({ password: '***', user: '***' });
    expect((creds.change?.after as { data: unknown }).data).toEqual({
      password: '*** (changed)',
      user: '***',
    });
    expect(creds.change?.patch).toEqual([{ op: 'replace', path: '/data/password', value: '*** (changed)' }]);
    expect(creds.fields.map((f) => [f.path, f.desired, f.live])).toEqual([['.data.password', '***', '***']]);

    const token = of('Secret', 'token');
    expect(token.change?.before).toBeUndefined();
    const tokenAfter = token.change?.after as { data?: Record<string, string>; stringData?: unknown };
    expect(Object.keys(tokenAfter.data ?? {})).toEqual(['token']);
    expect(tokenAfter.data!.token).toMatch(/^\*\*\*/);

    const gone = of('ConfigMap', 'gone');
    expect(gone.id).toEqual({ group: '', version: 'v1', kind: 'ConfigMap', namespace, name: 'gone' });
    expect((gone.change?.before as { data: unknown }).data).toEqual({ k: 'v' });
    expect(gone.change?.after).toBeUndefined();
    expect(gone.change?.patch).toEqual([{ op: 'remove', path: '' }]);
    expect(gone.message).toBeUndefined();
    expect((of('Secret', 'retired').change?.before as { data: unknown }).data).toEqual({ password: '***' });

    // No Secret value, plain or base64, anywhere in the previews.
    const text = JSON.stringify(previews);
    for (const s of SECRETS) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(b64(s));
    }

    // Prune off: the same object is an orphan, kept.
    const kept = await preview(conn, plan, second, false);
    expect(statuses(kept)).toEqual({
      'ConfigMap/same': 'unchanged',
      'ConfigMap/changed': 'update',
      'ConfigMap/added': 'create',
      'Secret/creds': 'update',
      'Secret/token': 'create',
      'ConfigMap/gone': 'orphan',
      'Secret/retired': 'orphan',
    });
    expect(kept.find((p) => p.id.name === 'gone')!.message).toBe(
      'no longer in Git; kept because prune is off',
    );
    expect((kept.find((p) => p.id.name === 'retired')!.change?.before as { data: unknown }).data).toEqual({
      password: '***',
    });
    expect(JSON.stringify(kept)).not.toContain(b64('retired-passw0rd'));

    // Nothing written: only dry-run PATCHes went out, and every object is as it was.
    expect(requests(conn, 'patch')).toBe(patchesBefore);
    expect(writes(conn)).toBe(writesBefore);
    expect(requests(conn, 'patch', true)).toBeGreaterThan(dryRunsBefore);
    expect(await versions(namespace)).toEqual(before);
    expect(Object.keys(before).sort()).toEqual(
      expect.arrayContaining([
        'ConfigMap/changed',
        'ConfigMap/gone',
        'ConfigMap/same',
        'Secret/creds',
        'Secret/retired',
      ]),
    );
    expect(Object.keys(before)).not.toContain('ConfigMap/added');
  });

  it('shows an imperative edit as an update back to Git naming its owner, and throws CommitRejectedError for a refused object', async () => {
    const { conn, namespace, app } = await t.fresh('preview');
    const run = { namespace, app, commit: newCommit() };
    const web = deployment({ name: 'web', replicas: 2 });
    const plan = planOf(conn, { 'web.yaml': [web] }, run);
    await applyCommit(applyInput(conn, plan, run));
    await kubectl(['-n', namespace, 'scale', 'deployment', 'web', '--replicas=6']);

    const [p] = await preview(conn, plan, run);
    expect(p!.status).toBe('update');
    expect(p!.change?.patch).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    expect(p!.fields).toHaveLength(1);
    expect(p!.fields[0]).toMatchObject({ path: '.spec.replicas', desired: 2, live: 6 });
    expect(p!.fields[0]!.owners.map((o) => o.operation)).toEqual(['Update']);
    expect(p!.fields[0]!.owners[0]!.manager).toMatch(/^kubectl/);

    const bad = planOf(
      conn,
      { 'web.yaml': [web], 'broken.yaml': [deployment({ name: 'broken', replicas: -1 })] },
      { namespace, app, commit: newCommit() },
    );
    const err = await preview(conn, bad, run).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommitRejectedError);
    const errors = (err as CommitRejectedError).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ObjectRejectedError);
    expect(errors[0]!.id.name).toBe('broken');
    expect(errors[0]!.message).toMatch(/^broken\.yaml:1:1: /);
    expect(
      await kubectl(['-n', namespace, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']),
    ).toBe('6');
  });

  // diff must not promise a deletion that sync will not do.
  it('does not preview as a deletion an orphan that tether.dev/prune: "false" keeps', async () => {
    const { conn, namespace, app } = await t.fresh('preview');
    const keepMe = configMap({
      name: 'keep-me',
      annotations: { 'tether.dev/prune': 'false' },
      data: { k: 'v' },
    });
    const stays = configMap({ name: 'stays', data: { k: 'v' } });
    await applyPlan(conn, { 'cms.yaml': [stays, keepMe] }, { namespace, app, commit: newCommit() });
    const second = { namespace, app, commit: newCommit() };
    const plan = planOf(conn, { 'cms.yaml': [stays] }, second);

    const said = await preview(conn, plan, second);
    // What sync does: keeps it.
    const applied = await applyCommit(applyInput(conn, plan, second, { prune: true }));
    expect(applied.results.find((r) => r.id.name === 'keep-me')?.status).toBe('skipped');
    expect(await kubectl(['-n', namespace, 'get', 'configmap', 'keep-me', '-o', 'name'])).toContain(
      'keep-me',
    );
    // What diff said sync would do.
    expect(said.find((p) => p.id.name === 'keep-me')).toMatchObject({
      status: 'orphan',
      message: 'not pruned: tether.dev/prune: "false"',
    });
  });
});
