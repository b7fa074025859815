import { createHmac } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookHandler, signGeneric, signGithub } from '../../../src/agent/webhook.ts';
import type { WebhookApp, WebhookEndpoint, WebhookLogLevel } from '../../../src/agent/webhook.ts';

const SECRET = 'It5-a-s3cret!';
const REPO = 'https://git.example.com/org/deploy.git';
const MAX = 4096;

const apps: WebhookApp[] = [
  { name: 'shop', repo: REPO, ref: 'main' },
  { name: 'shop-staging', repo: 'https://git.example.com/org/deploy', ref: 'staging' },
  { name: 'any-branch', repo: 'git@git.example.com:org/deploy.git' },
  { name: 'other', repo: 'https://git.example.com/org/other.git', ref: 'main' },
];

/** One webhook of each type, all with SECRET. */
const webhooks = (): WebhookEndpoint[] => [
  { name: 'github', type: 'github', secret: Buffer.from(SECRET) },
  { name: 'gitlab', type: 'gitlab', secret: Buffer.from(SECRET) },
  { name: 'ci', type: 'generic', secret: Buffer.from(SECRET) },
];

/** A server on a free local port that runs `handler`, and its base URL. */
async function serve(
  handler: ReturnType<typeof createWebhookHandler>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** A signed push of main of REPO to the generic webhook. */
function postCi(url: string): Promise<Response> {
  const body = JSON.stringify({ repo: REPO, ref: 'main' });
  return fetch(`${url}/webhook/ci`, { method: 'POST', body, headers: signGeneric(SECRET, body) });
}

let server: Server;
let base = '';
let triggers: { apps: string[]; reason: string }[] = [];
let logs: { level: WebhookLogLevel; msg: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const handler = createWebhookHandler({
    webhooks: webhooks(),
    apps: () => apps,
    trigger: (names, reason) => triggers.push({ apps: names, reason }),
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    maxBodyBytes: MAX,
  });
  ({ server, url: base } = await serve(handler));
});

afterAll(() => close(server));

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

/** Sends `text` as is on a new connection; resolves with everything the server sent before closing. */
function rawRequest(url: string, text: string, timeoutMs = 2_000): Promise<string> {
  const { hostname: host, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(got)}`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.write(text);
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

  it('a body over the limit is 413, refused on its Content-Length; one without a length is 411', async () => {
    const big = Buffer.alloc(MAX * 50, 'x');
    const headers = { 'x-github-event': 'push', 'x-hub-signature-256': signGithub(SECRET, big) };
    const declared = await send('/webhook/github', { body: big, headers });
    expect(declared).toMatchObject({ status: 413, json: { error: `body larger than ${MAX} bytes` } });
    expect(declared.headers['connection']).toBe('close');
    const streamed = await send('/webhook/github', { body: big, chunked: true, headers });
    expect(streamed).toMatchObject({
      status: 411,
      json: { error: 'a chunked body is not accepted: send the body with a Content-Length header' },
    });
    const none = await rawRequest(
      base,
      'POST /webhook/github HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n\r\n',
    );
    expect(none).toMatch(/^HTTP\/1.1 411 .*Content-Length required/s);
    expect(logs.map((l) => l.msg)).toEqual([
      'webhook body too large',
      'webhook rejected: no Content-Length',
      'webhook rejected: no Content-Length',
    ]);
    expect(triggers).toEqual([]);
  });

  it('an empty body with Content-Length 0 is read (and fails its signature)', async () => {
    const reply = await send('/webhook/github', {
      body: '',
      headers: {
        'content-length': '0',
        'x-github-event': 'push',
        'x-hub-signature-256': signGithub('x', 'y'),
      },
    });
    expect(reply.status).toBe(401);
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

describe('what a request may cost before its signature is checked', () => {
  const LIMITS = { maxInFlight: 2, maxBufferedBytes: 3000, bodyTimeoutMs: 400, maxBodyBytes: 2000 };
  let small: Server;
  let url = '';
  let gateLogs: { msg: string; fields: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    const handler = createWebhookHandler({
      webhooks: webhooks(),
      apps: () => apps,
      trigger: () => undefined,
      log: (_level, msg, fields) => gateLogs.push({ msg, fields }),
      ...LIMITS,
    });
    ({ server: small, url } = await serve(handler));
  });
  afterAll(() => close(small));
  beforeEach(() => {
    gateLogs = [];
  });

  const head = (path: string, length: number, headers: Record<string, string>) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const wrongSig = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };

  /** A connection that sends its headers and `part` of a body, then nothing. */
  function slow(length: number, part = 'x'): { closed: Promise<string>; socket: ReturnType<typeof connect> } {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(got)));
    socket.write(head('/webhook/github', length, wrongSig) + part);
    return { closed, socket };
  }

  it('refuses a request without a signature, or with a wrong GitLab token, before reading its body', async () => {
    // Each declares a body it never sends: only an answer without reading explains a close.
    const noSig = await rawRequest(url, head('/webhook/github', 1000, { 'x-github-event': 'push' }));
    expect(noSig).toMatch(/^HTTP\/1.1 401 .*missing X-Hub-Signature-256 header/s);
    const badSig = await rawRequest(
      url,
      head('/webhook/github', 1000, { 'x-hub-signature-256': 'sha1=abc' }),
    );
    expect(badSig).toMatch(/^HTTP\/1.1 401 .*malformed X-Hub-Signature-256 header/s);
    const gitlab = await rawRequest(url, head('/webhook/gitlab', 1000, { 'x-gitlab-token': 'wrong' }));
    expect(gitlab).toMatch(/^HTTP\/1.1 401 .*token does not match/s);
    const old = signGeneric(SECRET, '{}', Date.now() - 10 * 60_000);
    const replay = await rawRequest(url, head('/webhook/ci', 2, old));
    expect(replay).toMatch(/^HTTP\/1.1 401 .*more than 5 minutes/s);
    const tooBig = await rawRequest(url, head('/webhook/github', 2001, wrongSig));
    expect(tooBig).toMatch(/^HTTP\/1.1 413 /);
    const unknown = await rawRequest(url, head('/webhook/nope', 1000, wrongSig));
    expect(unknown).toMatch(/^HTTP\/1.1 404 /);
  });

  it('answers 503 with Retry-After beyond the requests in flight, 408 to a slow body, then serves again', async () => {
    const t0 = performance.now();
    const a = slow(100);
    const b = slow(100);
    await new Promise((r) => setTimeout(r, 50));
    const third = await rawRequest(url, head('/webhook/github', 100, wrongSig) + 'x');
    expect(third).toMatch(/^HTTP\/1.1 503 /);
    expect(third).toMatch(/retry-after: 10/i);
    expect(third).toContain('too many webhook requests at once');
    const [ra, rb] = await Promise.all([a.closed, b.closed]);
    const elapsed = performance.now() - t0;
    for (const r of [ra, rb]) expect(r).toMatch(/^HTTP\/1.1 408 .*did not arrive within 0.4 s/s);
    expect(elapsed).toBeGreaterThan(350);
    expect(elapsed).toBeLessThan(1_500);
    const body = githubPush('refs/heads/main');
    const good = await fetch(`${url}/webhook/github`, {
      method: 'POST',
      body,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': signGithub(SECRET, body) },
    });
    expect(good.status).toBe(202);
    expect(gateLogs.map((l) => l.msg)).toEqual([
      'webhook rejected: too many requests at once',
      'webhook rejected: body too slow',
      'webhook rejected: body too slow',
      'webhook push',
    ]);
  });

  it('answers 503 when the declared bytes in flight would pass the limit; small bodies still pass', async () => {
    const big = slow(2000);
    await new Promise((r) => setTimeout(r, 50));
    const second = await rawRequest(url, head('/webhook/github', 1500, wrongSig));
    expect(second).toMatch(/^HTTP\/1.1 503 /);
    expect(gateLogs[0]?.fields).toMatchObject({ limit: 'bytes', inFlight: 1, bufferedBytes: 2000 });
    expect((await postCi(url)).status).toBe(202);
    big.socket.destroy();
    await big.closed;
  });

  it('gives the slot back when a client goes away mid-body, and when a request is done', async () => {
    for (let i = 0; i < 5; i++) {
      const gone = slow(100);
      await new Promise((r) => setTimeout(r, 10));
      gone.socket.destroy();
      await gone.closed;
    }
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 6; i++) {
      expect((await postCi(url)).status).toBe(202);
    }
  });

  it('logs a flood of rejections a few times a minute, not once per request', async () => {
    const held = [slow(100), slow(100)];
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 30; i++) {
      expect(await rawRequest(url, head('/webhook/github', 100, wrongSig))).toMatch(/^HTTP\/1.1 503 /);
    }
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    const lines = gateLogs.filter((l) => l.msg === 'webhook rejected: too many requests at once');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(10);
  });
});
