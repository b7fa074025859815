/**
 * The pull-request comment of the GitHub Action's `diff` job: one comment per app, found again
 * by a hidden marker and updated on each push, through the GitHub REST API with the job's
 * token. Node built-ins only (the action runs it from its checkout, see action/pr-comment.js).
 * The token goes into the Authorization header and nowhere else: no message or error names it.
 */

export const API_VERSION = '2022-11-28';

/** The hidden line that identifies the comment of one app (any characters that could end it removed). */
export function commentMarker(app: string): string {
  return `<!-- tether-diff:${app.replace(/[^A-Za-z0-9._/-]/g, '_')} -->`;
}

/** GitHub limits an issue comment to 65,536 characters; a longer diff is cut with a note. */
export const MAX_COMMENT = 65_536;

export function commentBody(marker: string, markdown: string): string {
  const note = '\n\n_(diff truncated: see the job log for all of it)_\n';
  const head = `${marker}\n`;
  const body = head + markdown;
  if (body.length <= MAX_COMMENT) return body;
  return head + markdown.slice(0, MAX_COMMENT - head.length - note.length) + note;
}

export interface CommentTarget {
  /** GITHUB_API_URL, e.g. https://api.github.com */
  apiUrl: string;
  /** GITHUB_REPOSITORY, owner/name */
  repository: string;
  /** the pull request's number */
  number: number;
  token: string;
}

export interface UpsertOptions {
  fetch?: typeof fetch;
  /** attempts per request on 5xx, 429 and network errors (default 4) */
  attempts?: number;
  /** first backoff in ms, doubled per retry (default 1000) */
  backoffMs?: number;
  log?: (line: string) => void;
}

export interface UpsertResult {
  action: 'created' | 'updated';
  id: number;
  url?: string;
}

interface IssueComment {
  id: number;
  body?: string;
  html_url?: string;
}

export class GithubApiError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'GithubApiError';
    this.status = status;
  }
}

/** The PR number of a pull_request / pull_request_target event payload (GITHUB_EVENT_PATH). */
export function pullRequestNumber(event: unknown): number | undefined {
  const e = event as {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
  };
  const n = e?.pull_request?.number ?? (e?.issue?.pull_request ? e.issue.number : undefined);
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Posts the comment carrying `marker`, or updates the one already there. */
export async function upsertComment(
  target: CommentTarget,
  marker: string,
  body: string,
  opts: UpsertOptions = {},
): Promise<UpsertResult> {
  if (!/^[\w.-]+\/[\w.-]+$/.test(target.repository))
    throw new GithubApiError(
      `GITHUB_REPOSITORY must be owner/name, not ${JSON.stringify(target.repository)}`,
    );
  if (!target.token) throw new GithubApiError('no GitHub token (input github-token, default github.token)');
  const base = target.apiUrl.replace(/\/+$/, '');
  const repo = target.repository;
  const request = requester(target.token, opts);
  let next: string | undefined = `${base}/repos/${repo}/issues/${target.number}/comments?per_page=100`;
  let existing: IssueComment | undefined;
  for (let page = 0; next && page < 50 && !existing; page++) {
    const res = await request('GET', next);
    const comments = (await res.json()) as IssueComment[];
    existing = comments.find((c) => typeof c.body === 'string' && c.body.includes(marker));
    next = nextLink(res.headers.get('link'));
  }
  if (existing) {
    const res = await request('PATCH', `${base}/repos/${repo}/issues/comments/${existing.id}`, { body });
    const c = (await res.json()) as IssueComment;
    return { action: 'updated', id: c.id ?? existing.id, ...(c.html_url ? { url: c.html_url } : {}) };
  }
  const res = await request('POST', `${base}/repos/${repo}/issues/${target.number}/comments`, { body });
  const c = (await res.json()) as IssueComment;
  return { action: 'created', id: c.id, ...(c.html_url ? { url: c.html_url } : {}) };
}

/** The rel="next" URL of a Link header. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

function requester(token: string, opts: UpsertOptions) {
  const doFetch = opts.fetch ?? fetch;
  const attempts = Math.max(1, opts.attempts ?? 4);
  const backoff = opts.backoffMs ?? 1000;
  const log = opts.log ?? (() => {});
  const redact = (s: string) => (token ? s.replaceAll(token, '***') : s);
  return async (method: string, url: string, json?: unknown): Promise<Response> => {
    const where = `${method} ${new URL(url).pathname}`;
    let last = '';
    for (let i = 1; i <= attempts; i++) {
      try {
        const res = await doFetch(url, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/vnd.github+json',
            'X-GitHub-Api-Version': API_VERSION,
            'User-Agent': 'tether-action',
            ...(json === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(json === undefined ? {} : { body: JSON.stringify(json) }),
          signal: AbortSignal.timeout(30_000),
        });
        if (res.ok) return res;
        const text = redact((await res.text()).slice(0, 300));
        last = `${where}: HTTP ${res.status}${text ? ` ${text}` : ''}`;
        if (res.status < 500 && res.status !== 429)
          throw new GithubApiError(hint(last, res.status), res.status);
      } catch (e) {
        if (e instanceof GithubApiError) throw e;
        last = `${where}: ${redact(e instanceof Error ? e.message : String(e))}`;
      }
      if (i < attempts) {
        const wait = backoff * 2 ** (i - 1);
        log(`${last}; retrying in ${wait} ms (attempt ${i + 1} of ${attempts})`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    throw new GithubApiError(`${last} (gave up after ${attempts} attempts)`);
  };
}

function hint(message: string, status: number): string {
  if (status === 401) return `${message}\nhint: the token is invalid or expired`;
  if (status === 403 || status === 404)
    return `${message}\nhint: the job's token needs \`permissions: pull-requests: write\` (and forks get a read-only token)`;
  return message;
}
