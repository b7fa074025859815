import { createHmac } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookHandler, signGeneric, signGithub } from '../../../src/agent/webhook.ts';
import type { WebhookApp, WebhookLogLevel } from '../../../src/agent/webhook.ts';

const SECRET = 'It5-a-s3cret!';
const REPO = 'https://git.example.com/org/deploy.git';
const MAX = 4096;

const apps: WebhookApp[] = [
  { name: 'shop', repo: REPO, ref: 'main' },
  { name: 'shop-staging', repo: 'https://git.example.com/org/deploy', ref: 'staging' },
  { name: 'any-branch', repo: 'git@git.example.com:org/deploy.git' },
  { name: 'other', repo: 'https://git.example.com/org/other.git', ref: 'main' },
];

let server: Server;
let base = '';
let triggers: { apps: string[]; reason: string }[] = [];
let logs: { level: WebhookLogLevel; msg: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const handler = createWebhookHandler({
    webhooks: [
      { name: 'github', type: 'github', secret: Buffer.from(SECRET) },
      { name: 'gitlab', type: 'gitlab', secret: Buffer.from(SECRET) },
      { name: 'ci', type: 'generic', secret: Buffer.from(SECRET) },
    ],
    apps: () => apps,
    trigger: (names, reason) => triggers.push({ apps: names, reason }),
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    maxBodyBytes: MAX,
  });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  triggers = [];
  logs = [];
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  json: unknown;
}

/**
 * One request with node:http, so that bodies can be streamed without a length and a server
 * that answers before reading everything (413) is seen as the client sees it.
 */
function send(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = request(`${base}${path}`, {
      method: opts.method ?? 'POST',
      headers: {
        ...(body && !opts.chunked && { 'content-length': String(body.length) }),
        ...opts.headers,
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: text ? JSON.parse(text) : undefined,
        });
      });
    });
    // The server may close while a large body is still being written; the answer counts.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (body && opts.chunked) {
      for (let i = 0; i < body.length; i += 1024) req.write(body.subarray(i, i + 1024));
    } else if (body) req.write(body);
    req.end();
  });
}

const githubPush = (ref: string, repo = 'org/deploy') =>
  JSON.stringify({
    ref,
    repository: {
      clone_url: `https://git.example.com/${repo}.git`,
      html_url: `https://git.example.com/${repo}`,
      ssh_url: `git@git.example.com:${repo}.git`,
    },
    head_commit: { message: 'TOP-SECRET-PAYLOAD' },
  });

const gitlabPush = (ref: string) =>
  JSON.stringify({
    object_kind: 'push',
    ref,
    project: {
      git_http_url: 'https://GIT.example.com/org/deploy.git',
      git_ssh_url: 'git@git.example.com:org/deploy.git',
      web_url: 'https://git.example.com/org/deploy',
    },
  });

describe('GitHub', () => {
  it('a signed push triggers the apps tracking that repository and branch', async () => {
    const body = githubPush('refs/heads/main');
    const reply = await send('/webhook/github', {
      body,
      headers: {
        'x-github-event': 'push',
        'x-hub-signature-256': signGithub(SECRET, body),
        'content-type': 'application/json',
      },
    });
    expect(reply.status).toBe(202);
    expect(reply.json).toEqual({ triggered: ['shop', 'any-branch'] });
    expect(triggers).toEqual([{ apps: ['shop', 'any-branch'], reason: 'webhook:github' }]);
  });

  it('accepts the form-encoded payload GitHub can send', async () => {
    const body = new URLSearchParams({ payload: githubPush('refs/heads/staging') }).toString();
    const reply = await send('/webhook/github', {
      body,
      headers: {
        'x-github-event': 'push',
        'x-hub-signature-256': signGithub(SECRET, body),
        'content-type': 'application/x-www-form-urlencoded',
      },
    });
    expect(reply).toMatchObject({ status: 202, json: { triggered: ['shop-staging', 'any-branch'] } });
  });

  it('a wrong signature is 401, logged without the payload or the signature', async () => {
    const body = githubPush('refs/heads/main');
    const bad = signGithub('not-the-secret', body);
    const reply = await send('/webhook/github', {
      body,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': bad },
    });
    expect(reply).toMatchObject({
      status: 401,
      json: { error: 'signature check failed: signature does not match' },
    });
    expect(triggers).toEqual([]);
    expect(logs).toHaveLength(1);
    const line = JSON.stringify(logs[0]);
    expect(logs[0]).toMatchObject({
      level: 'warn',
      msg: 'webhook rejected: bad signature',
      fields: { webhook: 'github', type: 'github', reason: 'signature does not match', bytes: body.length },
    });
    expect(line).not.toContain('TOP-SECRET-PAYLOAD');
    expect(line).not.toContain(bad.slice(7));
    expect(line).not.toContain(SECRET);
  });

  it('a missing, malformed or short signature is 401', async () => {
    const body = githubPush('refs/heads/main');
    const good = signGithub(SECRET, body);
    for (const sig of [undefined, 'sha1=abc', good.slice(0, -2), `${good}00`, good.replace('sha256=', '')]) {
      const reply = await send('/webhook/github', {
        body,
        headers: { 'x-github-event': 'push', ...(sig !== undefined && { 'x-hub-signature-256': sig }) },
      });
      expect(reply.status).toBe(401);
    }
    expect(triggers).toEqual([]);
  });

  it('a signature over a different body is 401', async () => {
    const reply = await send('/webhook/github', {
      body: githubPush('refs/heads/main'),
      headers: {
        'x-github-event': 'push',
        'x-hub-signature-256': signGithub(SECRET, githubPush('refs/heads/x')),
      },
    });
    expect(reply.status).toBe(401);
  });

  it('ping answers 200 without triggering; other events are ignored', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const ping = await send('/webhook/github', {
      body,
      headers: { 'x-github-event': 'ping', 'x-hub-signature-256': signGithub(SECRET, body) },
    });
    expect(ping).toMatchObject({ status: 200, json: { triggered: [] } });
    const pr = await send('/webhook/github', {
      body,
      headers: { 'x-github-event': 'pull_request', 'x-hub-signature-256': signGithub(SECRET, body) },
    });
    expect(pr).toMatchObject({ status: 200, json: { triggered: [] } });
    expect(triggers).toEqual([]);
  });

  it('a push to a branch no app tracks, or another repository, is 200 with nothing triggered', async () => {
    for (const body of [githubPush('refs/heads/feature'), githubPush('refs/heads/main', 'org/unknown')]) {
      const reply = await send('/webhook/github', {
        body,
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': signGithub(SECRET, body) },
      });
      // feature: only the app without a ref follows every branch.
      expect(reply.status).toBe(body.includes('feature') ? 202 : 200);
    }
    expect(triggers).toEqual([{ apps: ['any-branch'], reason: 'webhook:github' }]);
  });

  it('a signed body that is not JSON is 400', async () => {
    const body = 'not json';
    const reply = await send('/webhook/github', {
      body,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': signGithub(SECRET, body) },
    });
    expect(reply).toMatchObject({ status: 400, json: { error: 'the body is not valid JSON' } });
  });
});

describe('GitLab', () => {
  it('the right token triggers a push, tags included', async () => {
    const reply = await send('/webhook/gitlab', {
      body: gitlabPush('refs/heads/main'),
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET },
    });
    expect(reply).toMatchObject({ status: 202, json: { triggered: ['shop', 'any-branch'] } });
    const tag = await send('/webhook/gitlab', {
      body: gitlabPush('refs/tags/staging'),
      headers: { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRET },
    });
    expect(tag).toMatchObject({ status: 202, json: { triggered: ['shop-staging', 'any-branch'] } });
  });

  it('a wrong, longer, shorter or missing token is 401', async () => {
    for (const token of ['wrong', `${SECRET}x`, SECRET.slice(0, -1), undefined]) {
      const reply = await send('/webhook/gitlab', {
        body: gitlabPush('refs/heads/main'),
        headers: { 'x-gitlab-event': 'Push Hook', ...(token !== undefined && { 'x-gitlab-token': token }) },
      });
      expect(reply.status).toBe(401);
    }
    expect(triggers).toEqual([]);
    expect(JSON.stringify(logs)).not.toContain('wrong');
  });

  it('other events are 200 without a trigger', async () => {
    const reply = await send('/webhook/gitlab', {
      body: '{}',
      headers: { 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': SECRET },
    });
    expect(reply).toMatchObject({ status: 200, json: { triggered: [] } });
  });
});

describe('generic', () => {
  const body = JSON.stringify({
    repo: 'https://user:pw@git.example.com/org/deploy/',
    ref: 'refs/heads/main',
  });

  it('a fresh signed request triggers', async () => {
    const reply = await send('/webhook/ci', { body, headers: signGeneric(SECRET, body) });
    expect(reply).toMatchObject({ status: 202, json: { triggered: ['shop', 'any-branch'] } });
    expect(triggers).toEqual([{ apps: ['shop', 'any-branch'], reason: 'webhook:ci' }]);
  });

  it('the signature covers the timestamp: changing it is 401', async () => {
    const headers = signGeneric(SECRET, body);
    const moved = String(Number(headers['x-tether-timestamp']) + 1);
    const reply = await send('/webhook/ci', { body, headers: { ...headers, 'x-tether-timestamp': moved } });
    expect(reply).toMatchObject({
      status: 401,
      json: { error: 'signature check failed: signature does not match' },
    });
  });

  it('a replay of a request older than 5 minutes is 401, and so is one from the future', async () => {
    for (const skew of [-5 * 60_000 - 2_000, 5 * 60_000 + 2_000]) {
      const reply = await send('/webhook/ci', {
        body,
        headers: signGeneric(SECRET, body, Date.now() + skew),
      });
      expect(reply).toMatchObject({
        status: 401,
        json: {
          error:
            'signature check failed: timestamp is more than 5 minutes from now (replayed, or a clock is off)',
        },
      });
    }
    const recent = await send('/webhook/ci', {
      body,
      headers: signGeneric(SECRET, body, Date.now() - 4 * 60_000),
    });
    expect(recent.status).toBe(202);
  });

  it('missing headers and a wrong secret are 401', async () => {
    const good = signGeneric(SECRET, body);
    const cases: Record<string, string>[] = [
      {},
      { 'x-tether-signature': good['x-tether-signature'] },
      { 'x-tether-timestamp': good['x-tether-timestamp'] },
      { ...good, 'x-tether-timestamp': 'yesterday' },
      signGeneric('other', body),
    ];
    for (const headers of cases) expect((await send('/webhook/ci', { body, headers })).status).toBe(401);
    expect(triggers).toEqual([]);
  });

  it('a body without repo is 400', async () => {
    const bad = JSON.stringify({ ref: 'main' });
    const reply = await send('/webhook/ci', { body: bad, headers: signGeneric(SECRET, bad) });
    expect(reply).toMatchObject({
      status: 400,
      json: { error: 'the body must be JSON {"repo": "<url>", "ref": "<ref>"} with a repo' },
    });
  });
});

describe('HTTP', () => {
  it('an unknown webhook name is 404, before any signature check', async () => {
    expect((await send('/webhook/nope', { body: '{}' })).status).toBe(404);
    expect((await send('/metrics', { method: 'GET' })).status).toBe(404);
    expect((await send('/webhook/github/extra', { body: '{}' })).status).toBe(404);
  });

  it('a method other than POST is 405 with Allow', async () => {
    const reply = await send('/webhook/github', { method: 'GET' });
    expect(reply.status).toBe(405);
    expect(reply.headers['allow']).toBe('POST');
  });

  it('a body over the limit is 413, whether declared or streamed', async () => {
    const big = Buffer.alloc(MAX * 50, 'x');
    const declared = await send('/webhook/github', { body: big, headers: { 'x-github-event': 'push' } });
    expect(declared).toMatchObject({ status: 413, json: { error: `body larger than ${MAX} bytes` } });
    const streamed = await send('/webhook/github', {
      body: big,
      chunked: true,
      headers: { 'x-github-event': 'push' },
    });
    expect(streamed.status).toBe(413);
    expect(logs.map((l) => l.msg)).toEqual(['webhook body too large', 'webhook body too large']);
    expect(triggers).toEqual([]);
  });

  it('a body of exactly the limit is read', async () => {
    const padded = JSON.stringify({ repo: REPO, ref: 'main', pad: '' });
    const body = padded.replace('"pad":""', `"pad":"${'x'.repeat(MAX - padded.length)}"`);
    expect(body.length).toBe(MAX);
    expect((await send('/webhook/ci', { body, headers: signGeneric(SECRET, body) })).status).toBe(202);
  });

  it('the server keeps serving after rejected requests', async () => {
    const body = githubPush('refs/heads/main');
    const sig = createHmac('sha256', SECRET).update(body).digest('hex');
    const reply = await send('/webhook/github', {
      body,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sig}` },
    });
    expect(reply.status).toBe(202);
  });
});
