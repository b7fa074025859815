/**
 * Notifications from a real `tether agent` against the real API server and git server, with a
 * loopback HTTP server standing in for GitHub, GitLab, a webhook receiver and Slack: the exact
 * requests (method, path, headers, body), commit statuses going pending then success or
 * failure, the webhook's signature, retries of a failing endpoint that shows on /status and in
 * the metrics while the app still reconciles, no secret in the agent's log, and (report mode)
 * drift notified when the drifted set changes, not on every tick.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, tether } from '../support/cluster.ts';
import { configMap, toYaml } from '../support/objects.ts';
import { gitServerSuite } from '../support/suite.ts';

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Records every request; answers 500 under /broken, 201 elsewhere. */
async function standIn(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (path.startsWith('/broken')) res.writeHead(500).end('boom');
      else res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

interface NotifierView {
  name: string;
  lastResult: string | null;
  lastError: string | null;
  failingSince: string | null;
  failed: number;
}

describe('notifications', () => {
  const suite = gitServerSuite();

  /** A stand-in server, a repository with one ConfigMap committed, a namespace and a config dir. */
  async function setUp(name: string) {
    const stand = await standIn();
    suite.cleanups.push(() => new Promise((r) => stand.server.close(r)));
    const repo = suite.git().createRepo(name);
    const ns = await createNamespace(name);
    suite.cleanups.push(ns.cleanup);
    const dir = mkdtempSync(join(tmpdir(), 'tether-notify-'));
    const sha = repo.commit(
      { 'app/cm.yaml': toYaml(configMap({ name: 'settings', data: { a: '1' } })) },
      'settings',
    );
    return { stand, repo, ns, dir, sha, repoUrl: suite.git().url(name) };
  }

  it('posts commit statuses, a signed webhook and a Slack message; a failing endpoint never stops the app', async () => {
    const { stand, repo, ns, dir, sha: good, repoUrl } = await setUp('notify');
    const secrets = {
      github: 'ghp_tokenNeverLogged123',
      gitlab: 'glpat-tokenNeverLogged456',
      hook: 'hmac-secret-never-logged',
      slackPath: '/slack/services/T000/B000/slackSecretNeverLogged',
    };
    writeFileSync(join(dir, 'gh-token'), `${secrets.github}\n`);
    writeFileSync(join(dir, 'gl-token'), secrets.gitlab);
    writeFileSync(join(dir, 'hook-secret'), secrets.hook);
    writeFileSync(join(dir, 'slack-url'), `${stand.url}${secrets.slackPath}\n`);
    const a = await startAgent({
      apps: `  - name: shop
    source: {repo: "${repoUrl}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    notifications:
      - {type: github, apiUrl: "${stand.url}/gh", repository: org/deploy, tokenFile: gh-token}
      - {type: gitlab, apiUrl: "${stand.url}/gl/api/v4", project: grp/deploy, tokenFile: gl-token}
      - {type: webhook, url: "${stand.url}/hook", secretFile: hook-secret}
      - {type: slack, urlFile: slack-url}
      - {type: webhook, name: broken, url: "${stand.url}/broken", secretFile: hook-secret, events: [applied]}
`,
      dir,
    });
    suite.cleanups.push(() => a.stop('SIGKILL'));

    const on = (prefix: string) => stand.seen.filter((s) => s.path.startsWith(prefix));
    const states = (prefix: string, sha: string) =>
      on(prefix)
        .filter((s) => s.path.endsWith(`/statuses/${sha}`))
        .map((s) => (JSON.parse(s.body) as { state: string }).state);

    // GitHub: pending when the commit starts being applied, success once it is healthy.
    await waitFor(() => states('/gh/', good).length >= 2, 30_000, 'the GitHub statuses of the good commit');
    expect(states('/gh/', good)).toEqual(['pending', 'success']);
    const [pending, success] = on('/gh/');
    expect(pending).toMatchObject({
      method: 'POST',
      path: `/gh/repos/org/deploy/statuses/${good}`,
      headers: expect.objectContaining({
        authorization: `Bearer ${secrets.github}`,
        accept: 'application/vnd.github+json',
        'content-type': 'application/json',
        'x-github-api-version': '2022-11-28',
      }) as unknown,
    });
    expect(JSON.parse(pending!.body)).toEqual({
      state: 'pending',
      context: 'tether/shop',
      description: `applying ${good.slice(0, 12)}`,
    });
    expect(JSON.parse(success!.body)).toMatchObject({ state: 'success', context: 'tether/shop' });
    expect((JSON.parse(success!.body) as { description: string }).description).toMatch(
      new RegExp(`^${good.slice(0, 12)} is healthy after [\\d.]+s: every object is Current$`),
    );

    // GitLab: the same, in its words, at the url-encoded project path with PRIVATE-TOKEN.
    await waitFor(() => states('/gl/', good).length >= 2, 10_000, 'the GitLab statuses');
    expect(states('/gl/', good)).toEqual(['pending', 'success']);
    expect(on('/gl/')[0]).toMatchObject({
      method: 'POST',
      path: `/gl/api/v4/projects/grp%2Fdeploy/statuses/${good}`,
      headers: expect.objectContaining({ 'private-token': secrets.gitlab }) as unknown,
    });
    expect(JSON.parse(on('/gl/')[0]!.body)).toMatchObject({ state: 'pending', name: 'tether/shop' });

    // The webhook: applied, then healthy, each signed with HMAC-SHA256 of the exact body.
    await waitFor(() => on('/hook').length >= 2, 10_000, 'the webhook posts');
    for (const post of on('/hook')) {
      const expected = `sha256=${createHmac('sha256', secrets.hook).update(post.body).digest('hex')}`;
      expect(post.headers['x-tether-signature-256']).toBe(expected);
      expect(post.headers['content-type']).toBe('application/json');
    }
    const bodies = on('/hook').map((p) => JSON.parse(p.body) as Record<string, unknown>);
    expect(bodies.map((b) => b['event'])).toEqual(['applied', 'healthy']);
    expect(bodies[0]).toEqual({
      app: 'shop',
      event: 'applied',
      commit: good,
      result: 'applied',
      health: null,
      message: `applied ${good.slice(0, 12)}: 1 created`,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
    expect(bodies[1]).toMatchObject({ event: 'healthy', commit: good, health: 'Current' });

    // Slack: the message names the app and the commit.
    await waitFor(() => on('/slack/').length >= 2, 10_000, 'the Slack messages');
    expect(on('/slack/')[0]).toMatchObject({ method: 'POST', path: secrets.slackPath });
    const texts = on('/slack/').map((p) => (JSON.parse(p.body) as { text: string }).text);
    expect(texts[0]).toContain('*shop* applied');
    expect(texts[0]).toContain(good.slice(0, 12));

    // The broken endpoint: tried 4 times (1 s, 2 s, 4 s apart), then failing on /status and in
    // the metric, while the app is in sync.
    const broken = async () =>
      ((await a.status()).apps[0] as unknown as { notifications: NotifierView[] }).notifications.find(
        (n) => n.name === 'broken',
      );
    await waitFor(
      async () => (await broken())?.lastResult === 'failed',
      20_000,
      'the broken notifier failing',
    );
    expect(on('/broken')).toHaveLength(4);
    expect(await broken()).toMatchObject({
      failed: 1,
      lastError: `webhook ${stand.url}/broken: HTTP 500 Internal Server Error: boom`,
      failingSince: expect.any(String) as unknown,
    });
    expect(await a.metric('tether_notifier_failing', { app: 'shop', notifier: 'broken' })).toBe(1);
    expect(
      await a.metric('tether_notifications_total', { app: 'shop', notifier: 'broken', result: 'failed' }),
    ).toBe(1);
    expect(await a.metric('tether_notifier_failing', { app: 'shop', notifier: 'github' })).toBe(0);
    expect(
      await a.metric('tether_notifications_total', { app: 'shop', notifier: 'github', result: 'sent' }),
    ).toBe(2);
    expect((await a.status()).apps[0]).toMatchObject({ state: 'in-sync', lastAppliedCommit: good });
    const cli = await tether(['status', '--url', a.url]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(
      /^notifier shop\/broken failing \(since \d+s ago\): webhook .*\/broken: HTTP 500/m,
    );

    // A commit the API server refuses (a ConfigMap key may not hold spaces): pending, then failure.
    const bad = repo.commit(
      { 'app/bad.yaml': toYaml(configMap({ name: 'bad', data: { 'no spaces allowed': 'x' } })) },
      'a key the API server refuses',
    );
    await waitFor(() => states('/gh/', bad).length >= 2, 30_000, 'the GitHub statuses of the refused commit');
    expect(states('/gh/', bad)).toEqual(['pending', 'failure']);
    const failure = on('/gh/')
      .filter((s) => s.path.endsWith(bad))
      .at(-1)!;
    // Its dry run fails before any write: the reconcile fails, naming the commit and the object.
    expect((JSON.parse(failure.body) as { description: string }).description).toMatch(
      new RegExp(
        `^reconcile failed: commit ${bad.slice(0, 7)} was rejected by the API server: app/bad.yaml:1:1: v1 ConfigMap ${ns.name}/bad`,
      ),
    );
    await waitFor(() => states('/gl/', bad).length >= 2, 10_000, 'the GitLab statuses of the refused commit');
    expect(states('/gl/', bad)).toEqual(['pending', 'failed']);
    await waitFor(
      () => on('/hook').some((p) => p.body.includes('"event":"failed"')),
      10_000,
      'the failed webhook',
    );
    // Repeated failing reconciles (every second) are not notified again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(states('/gh/', bad)).toEqual(['pending', 'failure']);

    const log = a.logs();
    expect(log).toContain('notification failed');
    for (const s of [secrets.github, secrets.gitlab, secrets.hook, 'slackSecretNeverLogged'])
      expect(log).not.toContain(s);
  });

  it('report mode: drift is notified when the drifted set changes, not on every tick', async () => {
    const { stand, repo, ns, dir, sha, repoUrl } = await setUp('ndrift');
    writeFileSync(join(dir, 'hook-secret'), 'drift-secret');
    const a = await startAgent({
      dir,
      apps: `  - name: watch
    source: {repo: "${repoUrl}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: report}
    notifications:
      - {type: webhook, url: "${stand.url}/hook", secretFile: hook-secret}
`,
    });
    suite.cleanups.push(() => a.stop('SIGKILL'));
    const drifts = () =>
      stand.seen.map((p) => JSON.parse(p.body) as { event: string; message: string; commit: string });

    // Never applied: the ConfigMap is missing, found once however many ticks find it again.
    await waitFor(() => drifts().length >= 1, 30_000, 'the first drift notification');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(drifts()).toEqual([
      expect.objectContaining({
        event: 'drift',
        commit: sha,
        message: `drift at ${sha.slice(0, 12)}: 1 object(s) differ from Git (ConfigMap ${ns.name}/settings)`,
      }),
    ]);
    // A commit adds an object: the drifted set grew, so it is notified again.
    const more = repo.commit(
      { 'app/more.yaml': toYaml(configMap({ name: 'more', data: { b: '1' } })) },
      'more',
    );
    await waitFor(() => drifts().length >= 2, 30_000, 'the second drift notification');
    expect(drifts()[1]).toMatchObject({
      event: 'drift',
      commit: more,
      message: `drift at ${more.slice(0, 12)}: 2 object(s) differ from Git (ConfigMap ${ns.name}/settings, ConfigMap ${ns.name}/more)`,
    });
    expect(drifts().map((d) => d.event)).toEqual(['drift', 'drift']);
    expect((await a.status()).apps[0]).toMatchObject({ state: 'drifted' });
  });
});
