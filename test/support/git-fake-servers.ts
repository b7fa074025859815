/**
 * Servers that are not healthy git servers, for transport error tests: one that answers
 * HTML, one that accepts connections and never answers, and an HTTPS proxy (self-signed
 * certificate from a throwaway CA made with openssl) in front of a GitServer.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';

const run = promisify(execFile);

export interface Running {
  url: string;
  close(): Promise<void>;
}

function closer(server: Server | NetServer, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: Server | NetServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function listen(server: Server | NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function htmlServer(): Promise<Running> {
  const server = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><html><body>Sign in</body></html>');
  });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/org/repo`, close: closer(server, sockets) };
}

export async function silentServer(): Promise<Running> {
  const server = createNetServer(() => {
    // Accept and say nothing.
  });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/repo.git`, close: closer(server, sockets) };
}

export interface TlsProxy extends Running {
  caFile: string;
  /** https base URL; append `/name.git`. */
  base: string;
}

/** HTTPS in front of an HTTP git server, with a certificate for 127.0.0.1 from a fresh CA. */
export async function tlsProxy(upstreamBase: string): Promise<TlsProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-tls-'));
  const p = (n: string) => join(dir, n);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    p('srv.key'),
    '-out',
    p('srv.csr'),
  ]);
  await writeFile(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('srv.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('ext.cnf'),
    '-out',
    p('srv.pem'),
  ]);
  const upstream = new URL(upstreamBase);
  const server = createHttpsServer(
    { key: await readFile(p('srv.key')), cert: await readFile(p('srv.pem')) },
    (req, res) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    },
  );
  const sockets = track(server);
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    url: `https://127.0.0.1:${port}`,
    base: `https://127.0.0.1:${port}`,
    caFile: p('ca.pem'),
    close: async () => {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
