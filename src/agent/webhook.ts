/**
 * Webhook receiver: `POST /webhook/<name>` from GitHub, GitLab or anything that signs
 * requests Tether's way (see webhook/verify.ts). A verified push triggers a reconcile of
 * the apps tracking that repository and ref; the reconcile itself reads Git, so a webhook
 * can only make Tether look sooner, never change what it applies.
 *
 * Answers: 202 `{"triggered": [...]}` when apps were triggered; 200 `{"triggered": []}` for
 * a ping, another event, or a push no app tracks; 400 bad payload; 401 bad or missing
 * signature; 404 unknown webhook; 405 not POST; 413 body over `maxBytes`. Log lines carry
 * neither the payload nor the signature.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookType } from '../config/types.ts';
import { readBody } from './webhook/body.ts';
import { WebhookPayloadError } from './webhook/errors.ts';
import { matchApps } from './webhook/match.ts';
import type { WebhookApp } from './webhook/match.ts';
import { parseEvent } from './webhook/payload.ts';
import type { WebhookEndpoint } from './webhook/secret.ts';
import { verifyGeneric, verifyGithub, verifyGitlab } from './webhook/verify.ts';
import type { VerifyResult } from './webhook/verify.ts';

export { matchApps, normalizeRepoUrl, refMatches } from './webhook/match.ts';
export type { PushEvent, WebhookApp } from './webhook/match.ts';
export { loadWebhookEndpoints, readWebhookSecret } from './webhook/secret.ts';
export type { WebhookEndpoint } from './webhook/secret.ts';
export { signGeneric, signGithub, verifyGeneric, verifyGithub, verifyGitlab } from './webhook/verify.ts';
export { WebhookPayloadError, WebhookSecretError } from './webhook/errors.ts';

export type WebhookLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type WebhookLog = (level: WebhookLogLevel, msg: string, fields: Record<string, unknown>) => void;

export interface WebhookHandlerOptions {
  webhooks: WebhookEndpoint[];
  /** Read on every request, so a reloaded config applies at once. */
  apps: () => WebhookApp[];
  trigger: (appNames: string[], reason: string) => void;
  log: WebhookLog;
  /** Default 1 MiB; GitHub caps its payloads at 25 MB but pushes are far smaller. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const PATH = /^\/webhook\/([^/]+)\/?$/;

export function createWebhookHandler(
  opts: WebhookHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const byName = new Map(opts.webhooks.map((w) => [w.name, w]));

  return async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const name = PATH.exec(pathname)?.[1];
    const hook = name === undefined ? undefined : byName.get(safeDecode(name));
    if (!hook) return send(res, 404, { error: `no webhook at ${pathname}` }, { close: true });
    const fields = { webhook: hook.name, type: hook.type, remote: req.socket.remoteAddress };
    if (req.method !== 'POST')
      return send(res, 405, { error: 'use POST' }, { close: true, headers: { allow: 'POST' } });

    const read = await readBody(req, maxBytes);
    if (!read.ok) {
      if (read.reason === 'aborted') return;
      opts.log('warn', 'webhook body too large', { ...fields, maxBytes });
      return send(res, 413, { error: `body larger than ${maxBytes} bytes` }, { close: true });
    }
    const body = read.body;

    const verified = verify(hook.type, hook.secret, req, body);
    if (!verified.ok) {
      opts.log('warn', 'webhook rejected: bad signature', {
        ...fields,
        reason: verified.reason,
        bytes: body.length,
      });
      return send(res, 401, { error: `signature check failed: ${verified.reason}` });
    }

    try {
      const event = parseEvent(hook.type, req.headers, body);
      if (event.kind === 'ping') {
        opts.log('info', 'webhook ping', fields);
        return send(res, 200, { triggered: [] });
      }
      if (event.kind === 'ignored') {
        opts.log('debug', 'webhook event ignored', { ...fields, event: event.event });
        return send(res, 200, { triggered: [] });
      }
      const triggered = matchApps(opts.apps(), event.push);
      opts.log('info', 'webhook push', { ...fields, ref: event.push.ref, triggered });
      if (triggered.length === 0) return send(res, 200, { triggered });
      opts.trigger(triggered, `webhook:${hook.name}`);
      return send(res, 202, { triggered });
    } catch (err) {
      if (err instanceof WebhookPayloadError) {
        opts.log('warn', 'webhook rejected: bad payload', { ...fields, reason: err.message });
        return send(res, 400, { error: err.message });
      }
      opts.log('error', 'webhook handling failed', { ...fields, error: (err as Error).message });
      return send(res, 500, { error: 'internal error' });
    }
  };
}

function verify(type: WebhookType, secret: Buffer, req: IncomingMessage, body: Buffer): VerifyResult {
  switch (type) {
    case 'github':
      return verifyGithub(secret, req.headers, body);
    case 'gitlab':
      return verifyGitlab(secret, req.headers);
    case 'generic':
      return verifyGeneric(secret, req.headers, body);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * `close` ends the connection after the answer when the body was not read (or not all of
 * it), so an unwanted upload is not drained into the server.
 */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  opts: { close?: boolean; headers?: Record<string, string> } = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(opts.close && { connection: 'close' }),
    ...opts.headers,
  });
  res.end(text);
}
