/**
 * The audit log as a user meets it: `tether sync` writes an intent before its first write and
 * a completion after, anchors the head in the cluster, and every `tether audit` subcommand
 * reads exactly the file named by --audit-log (or the agent's log with --url), run from
 * another directory. verify catches a changed line, a deleted tail and a recomputed chain.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecord } from '../../src/audit/chain.ts';
import { recordLine, type AuditRecord } from '../../src/audit/record.ts';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, kubectlJson, tether } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

const records = (file: string): AuditRecord[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord);

/** Rewrites a log from `records`, every hash and prev recomputed: a forger's perfect chain. */
function writeChain(file: string, recs: AuditRecord[]): void {
  let prev = recs[0]!.prev;
  const out = recs.map((r) => {
    const { hash: _h, ...rest } = { ...r, prev };
    const hash = hashRecord(rest);
    prev = hash;
    return recordLine({ ...rest, hash });
  });
  writeFileSync(file, out.join('\n') + '\n');
}

describe('tether audit, as a user runs it', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let work: string;
  let log: string;

  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('audited');
    ns = await createNamespace('audit');
    work = mkdtempSync(join(tmpdir(), 'tether-audit-cwd-'));
    log = join(mkdtempSync(join(tmpdir(), 'tether-audit-log-')), 'audit.jsonl');
    const sync = (msg: string, value: string) => {
      repo.commit({ 'app/cm.yaml': toYaml(configMap({ name: 'settings', data: { v: value } })) }, msg);
      return tether(
        [
          'sync',
          '--repo',
          git.url('audited'),
          '--path',
          'app',
          '-n',
          ns.name,
          '--app',
          'audited',
          '--audit-log',
          log,
        ],
        {},
        work,
      );
    };
    for (const [m, v] of [
      ['first', '1'],
      ['second', '2'],
    ] as const) {
      const r = await sync(m, v);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
  afterAll(async () => {
    repo.dispose();
    await git.close();
    await ns.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes an intent before each write and a completion that names it', () => {
    const recs = records(log);
    expect(recs.map((r) => r.result)).toEqual(['intent', 'applied', 'intent', 'applied']);
    expect(recs[0]!.objects).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', name: 'settings', namespace: ns.name, action: 'planned' }),
    ]);
    expect(recs[1]!.details).toEqual({ intent: recs[0]!.seq });
    expect(recs[3]!.details).toEqual({ intent: recs[2]!.seq });
    // The second intent names the field about to change, and who owns it now.
    expect(recs[2]!.objects[0]!.fields).toEqual([
      expect.objectContaining({ path: '.data.v', desired: '2', live: '1' }),
    ]);
  });

  it('anchors the head on the inventory, and verify of the named file checks against it', async () => {
    const recs = records(log);
    const inv = await kubectlJson<{ metadata: { annotations: Record<string, string> } }>([
      '-n',
      ns.name,
      'get',
      'configmap',
      'tether-inventory-audited',
    ]);
    const anchor = Object.entries(inv.metadata.annotations).find(([k]) => k.startsWith('audit.tether.dev/'));
    expect(anchor).toEqual([`audit.tether.dev/${recs[0]!.hash.slice(0, 16)}`, `4:${recs[3]!.hash}`]);
    const r = await tether(['audit', 'verify', '--audit-log', log], {}, work);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok: 4 record(s), chain intact, head seq 4:${recs[3]!.hash}`);
    expect(r.stdout).toMatch(
      new RegExp(`anchored up to seq 4 \\(${ns.name}/tether-inventory-audited\\); 0 record`),
    );
  });

  it('lists the named file from another directory, with filters', async () => {
    const r = await tether(['audit', '--audit-log', log, '--result', 'intent', '-o', 'json'], {}, work);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as AuditRecord[]).map((x) => x.seq)).toEqual([1, 3]);
    const text = await tether(['audit', '--audit-log', log, '--app', 'audited'], {}, work);
    expect(text.stdout).toMatch(/applied/);
  });

  it('fails on a file that does not exist instead of checking another one', async () => {
    const r = await tether(['audit', 'verify', '--audit-log', join(work, 'missing.jsonl')], {}, work);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('missing.jsonl does not exist');
  });

  it('catches a changed line, a deleted tail and a recomputed chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-tamper-'));
    const original = records(log);

    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, readFileSync(log, 'utf8').replace('"message":"second"', '"message":"innocent"'));
    const c = await tether(['audit', 'verify', '--audit-log', changed], {}, work);
    expect(c.code).not.toBe(0);
    // The second commit first appears in its intent, record 3.
    expect(c.stderr).toMatch(/changed\.jsonl:3: hash mismatch/);

    const truncated = join(dir, 'truncated.jsonl');
    writeChain(truncated, original.slice(0, 2));
    const t = await tether(['audit', 'verify', '--audit-log', truncated], {}, work);
    expect(t.code).not.toBe(0);
    expect(t.stderr).toMatch(/anchors seq 4, but the log ends at seq 2: records after it were deleted/);

    const forged = join(dir, 'forged.jsonl');
    writeChain(
      forged,
      original.map((r) => (r.seq === 2 ? { ...r, trigger: 'manual' as const } : r)),
    );
    const f = await tether(['audit', 'verify', '--audit-log', forged], {}, work);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toMatch(/anchors seq 4 with another hash: the log was rewritten/);

    // --head checks against a head saved elsewhere, without the cluster.
    const head = `4:${original[3]!.hash}`;
    const ok = await tether(['audit', 'verify', '--audit-log', log, '--head', head], {}, work);
    expect(ok.code).toBe(0);
    const bad = await tether(
      ['audit', 'verify', '--audit-log', forged, '--head', head, '--no-cluster'],
      {},
      work,
    );
    expect(bad.code).not.toBe(0);
    const none = await tether(['audit', 'verify', '--audit-log', forged, '--no-cluster'], {}, work);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(
      'not anchored: 4 record(s) (not checked against the cluster (--no-cluster))',
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads and verifies the agent's log over its listener with --url", async () => {
    const agent = await startAgent({
      apps: `  - name: served
    source: {repo: "${git.url('audited')}", ref: main, path: app, interval: 1m}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
`,
    });
    try {
      await waitFor(async () => (await agent.status()).apps[0]!.reconciles > 0, 30_000, 'first reconcile');
      const listed = await tether(['audit', '--url', agent.url, '--app', 'served', '-o', 'json'], {}, work);
      expect(listed.code).toBe(0);
      const served = JSON.parse(listed.stdout) as AuditRecord[];
      expect(served.length).toBeGreaterThan(0);
      expect(served.every((r) => r.app === 'served')).toBe(true);
      const v = await tether(['audit', 'verify', '--url', agent.url], {}, work);
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/ok: \d+ record\(s\), chain intact/);
      const both = await tether(['audit', '--url', agent.url, '--audit-log', log], {}, work);
      expect(both.code).not.toBe(0);
      expect(both.stderr).toContain('give --url or --audit-log, not both');
    } finally {
      await agent.stop('SIGTERM');
    }
  });
});
