/**
 * The agent's HTTP endpoints: /metrics (Prometheus), /healthz (the process answers),
 * /readyz (config loaded, caches synced, or a standby waiting its turn), /status (per app, for
 * `tether status`), /audit (the audit log as it is on disk, for `tether audit --url`), and
 * /webhook/<name> (push triggers), and the status page at / with its data under /api/
 * (src/ui/server/routes.ts). Nothing here writes, except what a verified webhook triggers.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { snapshotSize } from '../audit/verify.ts';
import type { UiRoutes } from '../ui/server/routes.ts';
import type { Metrics } from './metrics.ts';

export interface ServerDeps {
  metrics: Metrics;
  ready: () => boolean;
  status: () => unknown;
  /** The audit log's path (served read-only, up to a size no append is half way through). */
  auditLog: string;
  webhook: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The status page and its data, and the credentials check in front of them, /status and /audit. */
  ui?: UiRoutes;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
}

/**
 * Limits of the HTTP server itself, for every endpoint: a client must send its headers within
 * HEADERS_TIMEOUT_MS and its whole request within REQUEST_TIMEOUT_MS (checked every
 * CHECK_INTERVAL_MS; Node's default interval is 30 s), with at most MAX_HEADERS headers; an idle
 * connection is closed after IDLE_TIMEOUT_MS. The number of connections is not capped: that
 * would shut out /healthz and /metrics with the attacker. The webhook endpoint bounds what its
 * requests may cost on its own (webhook.ts).
 */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
const CHECK_INTERVAL_MS = 1_000;
const IDLE_TIMEOUT_MS = 120_000;
const MAX_HEADERS = 100;

export async function startServer(
  host: string,
  port: number,
  deps: ServerDeps,
): Promise<{ server: Server; port: number }> {
  const options = {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
  };
  const server = createServer(options, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handle = async (): Promise<void> => {
      if (path.startsWith('/webhook/')) return deps.webhook(req, res);
      if (req.method !== 'GET') {
        // Whatever body came with it is not read: close instead of draining it.
        res.setHeader('Connection', 'close');
        return send(res, 405, 'method not allowed\n');
      }
      if (path === '/healthz') return send(res, 200, 'ok\n');
      if (path === '/readyz') return deps.ready() ? send(res, 200, 'ready\n') : send(res, 503, 'not ready\n');
      if (deps.ui && (await deps.ui.handle(req, res, path))) return;
      if (path === '/status')
        return send(res, 200, JSON.stringify(deps.status(), null, 2) + '\n', 'application/json');
      if (path === '/audit') {
        const size = await snapshotSize(deps.auditLog).catch(() => 0);
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
        if (size === 0) return void res.end();
        createReadStream(deps.auditLog, { start: 0, end: size - 1 })
          .on('error', () => res.destroy())
          .pipe(res);
        return;
      }
      if (path === '/metrics') {
        const { contentType, body } = await deps.metrics.render();
        return send(res, 200, body, contentType);
      }
      send(
        res,
        404,
        `not found: try ${deps.ui?.enabled ? '/ (the status page), ' : ''}/status, /audit, /metrics, /healthz, /readyz\n`,
      );
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  server.maxHeadersCount = MAX_HEADERS;
  server.setTimeout(IDLE_TIMEOUT_MS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
