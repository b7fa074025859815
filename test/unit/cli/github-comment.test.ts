/**
 * The GitHub Action's pull-request comment (action/pr-comment.js, src/cli/github-comment.ts)
 * against a loopback server standing in for api.github.com: one comment posted, then updated
 * in place, found across pages by its hidden marker; 5xx retried, 4xx not; the token only
 * ever in the Authorization header.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect } from '../../support/process.ts';
import {
  commentBody,
  commentMarker,
  MAX_COMMENT,
  nextLink,
  pullRequestNumber,
} from '../../../src/cli/github-comment.ts';

const script = resolve(import.meta.dirname, '../../../action/pr-comment.js');
const TOKEN = 'ghs_FakeJobToken0123456789';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** api.github.com for one repository's issue comments, on 127.0.0.1. */
class FakeGithub {
  requests: Recorded[] = [];
  comments: { id: number; body: string }[] = [];
  failNext: number[] = [];
  nextId = 1000;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const fail = this.failNext.shift();
        if (fail) {
          res.writeHead(fail, { 'content-type': 'application/json' }).end('{"message":"Server Error"}');
          return;
        }
        const u = new URL(req.url!, this.url);
        const list = /^\/repos\/octo\/deploy\/issues\/(\d+)\/comments$/.exec(u.pathname);
        const one = /^\/repos\/octo\/deploy\/issues\/comments\/(\d+)$/.exec(u.pathname);
        const json = (status: number, v: unknown, headers: Record<string, string> = {}) =>
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(v));
        if (list && req.method === 'GET') {
          const per = Number(u.searchParams.get('per_page') ?? 30);
          const page = Number(u.searchParams.get('page') ?? 1);
          const slice = this.comments.slice((page - 1) * per, page * per);
          const more = page * per < this.comments.length;
          const link = `<${this.url}${u.pathname}?per_page=${per}&page=${page + 1}>; rel="next"`;
          return json(200, slice, more ? { link } : {});
        }
        if (list && req.method === 'POST') {
          const c = { id: this.nextId++, body: (JSON.parse(body) as { body: string }).body };
          this.comments.push(c);
          return json(201, {
            ...c,
            html_url: `https://github.com/octo/deploy/pull/${list[1]}#issuecomment-${c.id}`,
          });
        }
        if (one && req.method === 'PATCH') {
          const c = this.comments.find((x) => x.id === Number(one[1]));
          if (!c) return json(404, { message: 'Not Found' });
          c.body = (JSON.parse(body) as { body: string }).body;
          return json(200, c);
        }
        json(404, { message: 'Not Found' });
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return collect(
    spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

describe('pull-request comment of the diff job', () => {
  const gh = new FakeGithub();
  const dir = mkdtempSync(join(tmpdir(), 'tether-comment-'));
  const event = join(dir, 'event.json');
  const output = join(dir, 'output');
  const md = join(dir, 'diff.md');
  writeFileSync(event, JSON.stringify({ action: 'synchronize', pull_request: { number: 42 } }));
  const env = () => ({
    GITHUB_API_URL: gh.url,
    GITHUB_REPOSITORY: 'octo/deploy',
    GITHUB_EVENT_PATH: event,
    GITHUB_OUTPUT: output,
    GITHUB_TOKEN: TOKEN,
    TETHER_COMMENT_BACKOFF_MS: '10',
  });
  beforeAll(() => gh.start());
  afterAll(() => gh.close());
  beforeEach(() => {
    gh.requests = [];
    gh.comments = [];
    gh.failNext = [];
    writeFileSync(output, '');
  });

  it('posts one comment, then updates that same comment on the next push', async () => {
    writeFileSync(md, '### tether diff\n\n`web`: image nginx:1.27 -> nginx:1.28\n');
    const first = await run([md, 'shop'], env());
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('created comment 1000 on pull request #42');
    expect(gh.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /repos/octo/deploy/issues/42/comments?per_page=100',
      'POST /repos/octo/deploy/issues/42/comments',
    ]);
    for (const r of gh.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.headers.accept).toBe('application/vnd.github+json');
      expect(r.headers['x-github-api-version']).toBe('2022-11-28');
    }
    const posted = JSON.parse(gh.requests[1]!.body) as { body: string };
    expect(Object.keys(posted)).toEqual(['body']);
    expect(posted.body).toBe(
      '<!-- tether-diff:shop -->\n### tether diff\n\n`web`: image nginx:1.27 -> nginx:1.28\n',
    );
    expect(readFileSync(output, 'utf8')).toContain('comment-id=1000\n');

    gh.requests = [];
    writeFileSync(md, '### tether diff\n\n`web`: image nginx:1.27 -> nginx:1.29\n');
    const second = await run([md, 'shop'], env());
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('updated comment 1000 on pull request #42');
    expect(gh.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /repos/octo/deploy/issues/42/comments?per_page=100',
      'PATCH /repos/octo/deploy/issues/comments/1000',
    ]);
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]!.body).toContain('nginx:1.29');
    expect(gh.comments[0]!.body.startsWith('<!-- tether-diff:shop -->\n')).toBe(true);
    for (const r of [first, second]) expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("finds its comment on a later page and leaves other apps' and people's comments alone", async () => {
    gh.comments = Array.from({ length: 150 }, (_, i) => ({ id: i + 1, body: `comment ${i + 1}` }));
    gh.comments[120]!.body = '<!-- tether-diff:other -->\nanother app';
    gh.comments[130]!.body = '<!-- tether-diff:shop -->\nold diff';
    writeFileSync(md, 'new diff\n');
    const r = await run([md, 'shop'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(gh.requests.map((x) => `${x.method} ${x.url}`)).toEqual([
      'GET /repos/octo/deploy/issues/42/comments?per_page=100',
      'GET /repos/octo/deploy/issues/42/comments?per_page=100&page=2',
      'PATCH /repos/octo/deploy/issues/comments/131',
    ]);
    expect(gh.comments[130]!.body).toBe('<!-- tether-diff:shop -->\nnew diff\n');
    expect(gh.comments[120]!.body).toBe('<!-- tether-diff:other -->\nanother app');
  });

  it('retries a 5xx with backoff, and gives up on a 403 at once with a hint, never printing the token', async () => {
    writeFileSync(md, 'diff\n');
    gh.failNext = [502, 503];
    const r = await run([md, 'shop'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(gh.requests.map((x) => x.method)).toEqual(['GET', 'GET', 'GET', 'POST']);
    expect(r.stderr).toContain('HTTP 502');
    expect(r.stderr).toContain('retrying');

    gh.requests = [];
    gh.failNext = [403];
    const denied = await run([md, 'shop'], env());
    expect(denied.code).toBe(2);
    expect(gh.requests).toHaveLength(1);
    expect(denied.stderr).toContain('HTTP 403');
    expect(denied.stderr).toContain('pull-requests: write');

    gh.requests = [];
    gh.failNext = [500, 500, 500, 500];
    const down = await run([md, 'shop'], env());
    expect(down.code).toBe(2);
    expect(gh.requests).toHaveLength(4);
    expect(down.stderr).toContain('gave up after 4 attempts');
    for (const x of [r, denied, down]) expect(x.stdout + x.stderr).not.toContain(TOKEN);
  });

  it('posts nothing outside a pull request', async () => {
    const push = join(dir, 'push.json');
    writeFileSync(push, JSON.stringify({ ref: 'refs/heads/main' }));
    writeFileSync(md, 'diff\n');
    const r = await run([md, 'shop'], { ...env(), GITHUB_EVENT_PATH: push });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('::notice');
    expect(gh.requests).toHaveLength(0);
  });
});

describe('comment helpers', () => {
  it('keys the marker by app, with nothing that could end the HTML comment', () => {
    expect(commentMarker('shop')).toBe('<!-- tether-diff:shop -->');
    expect(commentMarker('a --> b')).toBe('<!-- tether-diff:a_--__b -->');
  });
  it('reads the PR number from pull_request and issue_comment events', () => {
    expect(pullRequestNumber({ pull_request: { number: 7 } })).toBe(7);
    expect(pullRequestNumber({ issue: { number: 8, pull_request: {} } })).toBe(8);
    expect(pullRequestNumber({ issue: { number: 9 } })).toBeUndefined();
    expect(pullRequestNumber({})).toBeUndefined();
  });
  it('follows the rel="next" link', () => {
    expect(nextLink('<https://x/a?page=2>; rel="next", <https://x/a?page=5>; rel="last"')).toBe(
      'https://x/a?page=2',
    );
    expect(nextLink('<https://x/a?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
  it("cuts a diff longer than GitHub's comment limit, keeping the marker", () => {
    const body = commentBody(commentMarker('shop'), 'x'.repeat(100_000));
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT);
    expect(body.startsWith('<!-- tether-diff:shop -->\n')).toBe(true);
    expect(body).toContain('diff truncated');
  });
});
