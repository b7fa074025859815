/**
 * The status page's routes on the agent's listener, all GET and read-only:
 *
 *   /                 the page (index.html), /assets/* its script, stylesheet and icon
 *   /api/...          its data (src/ui/shared/api.ts), /api/events its live updates
 *
 * and the credentials check (ui.auth) in front of them and of /status and /audit. With basic
 * auth every one of those asks for credentials (the browser prompts); with only a bearer
 * token the page itself (which holds no data) loads without, and asks for the token when its
 * data is refused. /healthz, /readyz and /metrics stay open, /webhook/ keeps its HMAC.
 *
 * On a loopback listener, a request whose Host is not a loopback name is refused: a web page
 * elsewhere cannot read the agent through a DNS name rebound to 127.0.0.1.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AppStatus } from '../../agent/app-runner.ts';
import type { AuditStatus } from '../../agent/audit-sink.ts';
import type { RunnerView } from '../../agent/runner-view.ts';
import { clientVersion } from '../../cli/client-version.ts';
import { ANCHOR_PREFIX } from '../../cluster/audit-anchor.ts';
import { inventoryName } from '../../cluster/inventory.ts';
import type { UiConfig } from '../../config/types.ts';
import { redactUrl } from '../../errors.ts';
import type { AnchorView, AppsView, AuditView, ErrorView } from '../shared/api.ts';
import { loadAssets, type Assets } from './assets.ts';
import { AuditWindow, type AuditSnapshot } from './audit-window.ts';
import { createAuthenticator, type UiAuthError } from './auth.ts';
import { commitDiff, DiffBusyError, DiffGate } from './diff.ts';
import { ChangeFeed } from './events.ts';
import {
  appDetail,
  appSummary,
  commitGroups,
  commitOfInfo,
  commitsOfRecords,
  type CommitLookup,
} from './views.ts';

export interface UiRunner {
  readonly name: string;
  status(): AppStatus;
  view(): RunnerView;
}

export interface UiDeps {
  config: UiConfig;
  /** The host the agent listens on (a loopback one turns on the Host check). */
  listenHost: string;
  /** The apps running now (they change while the agent runs: config reload, App resources). */
  runners: () => readonly UiRunner[];
  agent: () => { identity: string; leader: boolean; audit: AuditStatus };
  auditLog: string;
  warn: (msg: string) => void;
}

export interface UiRoutes {
  /** ui.enabled: the page is served. */
  readonly enabled: boolean;
  /** Answers the request and returns true, or returns false for the server's other routes. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  close(): void;
}

/** Paths the credentials protect: the page and every endpoint that shows the agent's data. */
const DATA_PATHS = ['/status', '/audit'];
const isPagePath = (p: string) => p === '/' || p === '/index.html' || p.startsWith('/assets/');

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
/** The page loads only what the agent serves, and talks only to it. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(JSON.stringify(body));
}

const error = (res: ServerResponse, status: number, message: string) =>
  json(res, status, { error: message } satisfies ErrorView);

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The Host header's host name, without port and brackets. */
function hostOf(req: IncomingMessage): string {
  const h = (req.headers.host ?? '').toLowerCase();
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(h) ?? /^([^:]+)(?::\d+)?$/.exec(h);
  return m?.[1] ?? '';
}

export function createUiRoutes(deps: UiDeps): UiRoutes {
  const auth = createAuthenticator(deps.config.auth, (e: UiAuthError) => deps.warn(e.message));
  // With only a bearer token, the page (no data in it) loads and asks for the token itself.
  const pageNeedsAuth = auth !== undefined && deps.config.auth?.basicAuthFile !== undefined;
  const loopbackOnly = isLoopback(deps.listenHost);
  const audit = new AuditWindow(deps.auditLog);
  const diffs = new DiffGate();
  const byName = (name: string) => deps.runners().find((r) => r.name === name);
  const feed = new ChangeFeed(() =>
    JSON.stringify([deps.agent().audit.head.seq, deps.runners().map((r) => r.status())]),
  );
  let assets: Promise<Assets> | undefined;

  if (!auth && !loopbackOnly)
    deps.warn(
      `the status page and /status, /audit are open to anyone who reaches ${deps.listenHost}: set ui.auth (a bearer token or basic auth file) to protect them`,
    );

  const commitLookup = (snapshot: AuditSnapshot): CommitLookup => {
    const known = commitsOfRecords(snapshot.records);
    for (const r of deps.runners()) {
      const c = r.view().commit;
      if (c) known.set(c.sha, commitOfInfo(c));
    }
    return (sha) => known.get(sha);
  };

  const appsView = async (): Promise<AppsView> => {
    const known = commitLookup(await audit.read());
    const agent = deps.agent();
    return {
      agent: { identity: agent.identity, leader: agent.leader, version: clientVersion() },
      audit: agent.audit,
      apps: deps.runners().map((r) => appSummary(r.status(), known)),
    };
  };

  const anchorsOf = (snapshot: AuditSnapshot): AnchorView[] => {
    const { chain, records } = snapshot;
    if (!chain.chain) return [];
    const out: AnchorView[] = [];
    for (const r of deps.runners()) {
      const { app, conn, tracker } = r.view();
      const info = conn.discovery.cached('', 'v1', 'ConfigMap');
      const name = inventoryName(app.name);
      const cm = info ? tracker.peek(info, app.destination.namespace, name) : undefined;
      const annotations = cm?.metadata.annotations as Record<string, string> | undefined;
      const m = /^(\d+):([0-9a-f]{64})$/.exec(annotations?.[`${ANCHOR_PREFIX}${chain.chain}`] ?? '');
      if (!m) continue;
      const seq = Number(m[1]);
      const source = `${app.destination.namespace}/${name}`;
      const hash = snapshot.hashes.get(seq);
      const oldest = records[0]?.seq ?? 0;
      const problem =
        seq > chain.head.seq
          ? `anchors seq ${seq}, but the log ends at seq ${chain.head.seq}: records after it were deleted`
          : hash === undefined && seq >= oldest
            ? `anchors seq ${seq}, which the log does not have`
            : hash === undefined
              ? `anchors seq ${seq}, older than the records shown: check it with tether audit verify`
              : hash !== m[2]
                ? `anchors seq ${seq} with another hash: the log was rewritten up to there`
                : undefined;
      out.push({
        app: app.name,
        source,
        seq,
        matches: problem === undefined,
        ...(problem ? { problem } : {}),
      });
    }
    return out;
  };

  const auditView = async (app: string | undefined): Promise<AuditView> => {
    let snapshot = await audit.read();
    let anchors = anchorsOf(snapshot);
    // An anchor written after the log was read (the next record's) is checked against that record.
    if (anchors.some((a) => a.seq > snapshot.chain.head.seq)) {
      snapshot = await audit.read();
      anchors = anchorsOf(snapshot);
    }
    const groups = commitGroups(snapshot.records, app);
    return {
      chain: snapshot.chain,
      anchors,
      groups,
      shown: groups.reduce((n, g) => n + g.records.length, 0),
      total: snapshot.chain.records,
    };
  };

  const serveAsset = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    assets ??= loadAssets();
    assets.catch(() => (assets = undefined));
    const a = (await assets).get(path === '/index.html' ? '/' : path);
    if (!a) return false;
    const headers: Record<string, string> = {
      'Content-Type': a.type,
      'Cache-Control': 'no-cache',
      ETag: a.etag,
      Vary: 'Accept-Encoding',
      ...SECURITY_HEADERS,
      ...(a.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
    };
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
    res.end(gzip ? a.gzip : a.body);
    return true;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    let parts: string[];
    try {
      parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
    } catch {
      return error(res, 400, 'malformed path');
    }
    if (parts.length === 1 && parts[0] === 'events') return feed.open(req, res);
    if (parts.length === 1 && parts[0] === 'apps') return json(res, 200, await appsView());
    if (parts.length === 1 && parts[0] === 'audit') {
      const app = url.searchParams.get('app') ?? undefined;
      if (app !== undefined && !byName(app)) return error(res, 404, `no app named ${JSON.stringify(app)}`);
      return json(res, 200, await auditView(app));
    }
    if (parts[0] === 'apps' && (parts.length === 2 || (parts.length === 3 && parts[2] === 'diff'))) {
      const runner = byName(parts[1]!);
      if (!runner) return error(res, 404, `no app named ${JSON.stringify(parts[1])}`);
      if (parts.length === 2) {
        const known = commitLookup(await audit.read());
        return json(res, 200, appDetail(appSummary(runner.status(), known), runner.view()));
      }
      const sha = url.searchParams.get('commit') ?? runner.status().lastSeenCommit;
      if (!sha || !FULL_SHA.test(sha))
        return error(res, 400, 'commit must be a full commit sha (40 or 64 lowercase hex digits)');
      try {
        const view = runner.view();
        return json(res, 200, await diffs.run(`${runner.name}@${sha}`, () => commitDiff(view, sha)));
      } catch (e) {
        if (e instanceof DiffBusyError) {
          res.setHeader('Retry-After', '2');
          return error(res, 429, e.message);
        }
        return error(
          res,
          502,
          `diff of ${sha.slice(0, 7)} failed: ${redactUrl(e instanceof Error ? e.message : String(e))}`,
        );
      }
    }
    error(
      res,
      404,
      'not found: try /api/apps, /api/apps/{name}, /api/apps/{name}/diff?commit={sha}, /api/audit, /api/events',
    );
  };

  return {
    enabled: deps.config.enabled,
    async handle(req, res, path) {
      const page = deps.config.enabled && isPagePath(path);
      const data = deps.config.enabled && (path === '/api' || path.startsWith('/api/'));
      const guarded = DATA_PATHS.includes(path) || data || (page && pageNeedsAuth);
      if (!page && !data && !guarded) return false;
      if ((page || data) && loopbackOnly && !isLoopback(hostOf(req))) {
        error(res, 403, 'this agent listens on loopback only: open it as localhost or 127.0.0.1');
        return true;
      }
      if (guarded && auth && !auth.check(req)) {
        res.setHeader('WWW-Authenticate', auth.challenge);
        error(res, 401, 'credentials required (ui.auth in the agent config)');
        return true;
      }
      if (page) return serveAsset(req, res, path);
      if (data) {
        await api(req, res, new URL(req.url ?? '/', 'http://agent'));
        return true;
      }
      return false;
    },
    close: () => feed.close(),
  };
}
