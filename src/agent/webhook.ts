/**
 * Webhook receiver: `POST /webhook/<name>` from GitHub, GitLab or anything that signs
 * requests Tether's way (see webhook/verify.ts). A verified push triggers a reconcile of
 * the apps tracking that repository and ref; the reconcile itself reads Git, so a webhook
 * can only make Tether look sooner, never change what it applies.
 *
 * Anyone can reach the endpoint, so what it costs before a signature is checked is bounded.
 * Everything that can be refused from the headers alone is refused before a byte of the body is
 * read, with the connection closed; a body is read only for a request admitted by the gate
 * (webhook/admission.ts: requests in flight, bytes they hold) and only for `bodyTimeoutMs`.
 *
 * Answers, in the order they are decided:
 * - 404 unknown webhook; 405 not POST;
 * - 411 no Content-Length (chunked bodies are refused); 400 a malformed one; 413 over `maxBytes`;
 * - 401 a signature header missing or malformed (GitHub, generic), a generic timestamp more
 *   than 5 minutes off, a wrong GitLab token;
 * - 503 with Retry-After when the gate is full;
 * - 408 when the body did not arrive within `bodyTimeoutMs`;
 * - 401 bad signature; 400 bad payload; 202 `{"triggered": [...]}` when apps were triggered;
 *   200 `{"triggered": []}` for a ping, another event, or a push no app tracks.
 * Log lines carry neither the payload nor the signature; rejections are rate-limited.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookType } from '../config/types.ts';
import { AdmissionGate, DEFAULT_ADMISSION } from './webhook/admission.ts';
import { declaredLength, readBody } from './webhook/body.ts';
import { WebhookPayloadError } from './webhook/errors.ts';
import { limitLog } from './webhook/log-limit.ts';
import { matchApps } from './webhook/match.ts';
import type { WebhookApp } from './webhook/match.ts';
import { parseEvent } from './webhook/payload.ts';
import type { WebhookEndpoint } from './webhook/secret.ts';
import {
  precheckGeneric,
  precheckGithub,
  verifyGeneric,
  verifyGithub,
  verifyGitlab,
} from './webhook/verify.ts';
import type { VerifyResult } from './webhook/verify.ts';

export { matchApps, normalizeRepoUrl, refMatches } from './webhook/match.ts';
export type { PushEvent, WebhookApp } from './webhook/match.ts';
export { loadWebhookEndpoints, readWebhookSecret } from './webhook/secret.ts';
export type { WebhookEndpoint } from './webhook/secret.ts';
export { signGeneric, signGithub, verifyGeneric, verifyGithub, verifyGitlab } from './webhook/verify.ts';
export { WebhookPayloadError, WebhookSecretError } from './webhook/errors.ts';
export { AdmissionGate, DEFAULT_ADMISSION } from './webhook/admission.ts';

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
  /** Requests reading a body at once (default 16); more are answered 503. */
  maxInFlight?: number;
  /** Declared body bytes of those requests together (default 8 MiB); more is answered 503. */
  maxBufferedBytes?: number;
  /** How long a body may take to arrive (default 10 s, GitHub's own delivery timeout); then 408. */
  bodyTimeoutMs?: number;
  /** Seconds in the Retry-After of a 503 (default 10). */
  retryAfterSeconds?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

const PATH = /^\/webhook\/([^/]+)\/?$/;

export function createWebhookHandler(
  opts: WebhookHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const retryAfter = String(opts.retryAfterSeconds ?? 10);
  const byName = new Map(opts.webhooks.map((w) => [w.name, w]));
  const gate = new AdmissionGate({
    maxInFlight: opts.maxInFlight ?? DEFAULT_ADMISSION.maxInFlight,
    maxBufferedBytes: Math.max(opts.maxBufferedBytes ?? DEFAULT_ADMISSION.maxBufferedBytes, maxBytes),
  });
  const limited = limitLog();
  /** A rejection's log line, at most a few per minute per kind. */
  const reject = (msg: string, fields: Record<string, unknown>) =>
    limited(msg, (extra) => opts.log('warn', msg, { ...fields, ...extra }));

  /** Answers a refusal (closing the connection) and logs it, a few times a minute per kind. */
  const refuse = (res: ServerResponse, r: Refusal, fields: Record<string, unknown>): void => {
    if (r.log) reject(r.log, { ...fields, ...r.logFields });
    send(res, r.status, { error: r.error }, { close: true, ...(r.headers ? { headers: r.headers } : {}) });
  };

  return async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const name = PATH.exec(pathname)?.[1];
    const hook = name === undefined ? undefined : byName.get(safeDecode(name));
    if (!hook) return send(res, 404, { error: `no webhook at ${pathname}` }, { close: true });
    const fields = { webhook: hook.name, type: hook.type, remote: req.socket.remoteAddress };
    const checked = checkBeforeBody(req, hook, maxBytes);
    if ('status' in checked) return refuse(res, checked, fields);

    const admitted = gate.admit(checked.length);
    if (!admitted.ok)
      return refuse(
        res,
        {
          status: 503,
          error: 'too many webhook requests at once; retry later',
          headers: { 'retry-after': retryAfter },
          log: 'webhook rejected: too many requests at once',
          logFields: { limit: admitted.reason, inFlight: gate.inFlight, bufferedBytes: gate.bytes },
        },
        fields,
      );
    try {
      const read = await readBody(req, checked.length, bodyTimeoutMs);
      if (read.ok) return handle(opts, reject, req, res, hook, read.body, fields);
      if (read.reason === 'aborted') return;
      return refuse(
        res,
        read.reason === 'timeout'
          ? {
              status: 408,
              error: `the body did not arrive within ${bodyTimeoutMs / 1000} s`,
              log: 'webhook rejected: body too slow',
              logFields: { timeoutMs: bodyTimeoutMs, declared: checked.length },
            }
          : {
              status: 413,
              error: 'body longer than its Content-Length',
              log: 'webhook body too large',
              logFields: { maxBytes, declared: checked.length },
            },
        fields,
      );
    } finally {
      admitted.ticket.release();
    }
  };
}

/** A delivery whose body arrived: verify it, parse the event, trigger the apps it names. */
function handle(
  opts: WebhookHandlerOptions,
  reject: (msg: string, fields: Record<string, unknown>) => void,
  req: IncomingMessage,
  res: ServerResponse,
  hook: WebhookEndpoint,
  body: Buffer,
  fields: Record<string, unknown>,
): void {
  const verified = verify(hook.type, hook.secret, req, body);
  if (!verified.ok) {
    reject('webhook rejected: bad signature', { ...fields, reason: verified.reason, bytes: body.length });
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
}

/** An answer that refuses a delivery, and its log line (none for plain protocol errors). */
interface Refusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
  log?: string;
  logFields?: Record<string, unknown>;
}

/**
 * What can be refused before a byte of the body is read, in this order: the method, the
 * Content-Length (missing, chunked, malformed, too large), and the signature headers.
 */
function checkBeforeBody(
  req: IncomingMessage,
  hook: WebhookEndpoint,
  maxBytes: number,
): Refusal | { length: number } {
  if (req.method !== 'POST') return { status: 405, error: 'use POST', headers: { allow: 'POST' } };
  const declared = declaredLength(req);
  if (!declared.ok) {
    if (declared.reason === 'invalid') return { status: 400, error: 'malformed Content-Length header' };
    return {
      status: 411,
      error:
        declared.reason === 'chunked'
          ? 'a chunked body is not accepted: send the body with a Content-Length header'
          : 'Content-Length required',
      log: 'webhook rejected: no Content-Length',
      logFields: { reason: declared.reason },
    };
  }
  if (declared.length > maxBytes)
    return {
      status: 413,
      error: `body larger than ${maxBytes} bytes`,
      log: 'webhook body too large',
      logFields: { maxBytes, declared: declared.length },
    };
  const pre = precheck(hook.type, hook.secret, req.headers);
  if (!pre.ok)
    return {
      status: 401,
      error: `signature check failed: ${pre.reason}`,
      log: 'webhook rejected: bad signature',
      logFields: { reason: pre.reason },
    };
  return { length: declared.length };
}

/** The signature checks that need no body (GitLab's token is checked whole: it has none). */
function precheck(type: WebhookType, secret: Buffer, headers: IncomingHttpHeaders): VerifyResult {
  switch (type) {
    case 'github':
      return precheckGithub(headers);
    case 'gitlab':
      return verifyGitlab(secret, headers);
    case 'generic':
      return precheckGeneric(headers);
  }
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
