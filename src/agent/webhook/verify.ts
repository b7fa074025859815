/**
 * Signature checks for the three webhook flavours. Every comparison is between two SHA-256
 * digests (equal length by construction) with crypto.timingSafeEqual, so neither timing nor
 * an early length mismatch tells an attacker how much of a guess was right.
 *
 * Generic (Tether's own) scheme, for CI jobs and scripts:
 *   X-Tether-Timestamp: <unix seconds>
 *   X-Tether-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * Signing the timestamp with the body lets the receiver refuse replays: requests whose
 * timestamp is more than 5 minutes from the receiver's clock (either way) are rejected.
 * `signGeneric` makes these headers.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export const GENERIC_MAX_SKEW_MS = 5 * 60_000;

const SHA256_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/** One header's value; repeated headers count as missing, since only one can be right. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

function hmacMatches(secret: Buffer, parts: (string | Buffer)[], signatureHeader: string): boolean {
  const m = SHA256_HEADER.exec(signatureHeader);
  if (!m) return false;
  const hmac = createHmac('sha256', secret);
  for (const p of parts) hmac.update(p);
  return timingSafeEqual(hmac.digest(), Buffer.from(m[1] ?? '', 'hex'));
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. */
export function verifyGithub(secret: Buffer, headers: IncomingHttpHeaders, body: Buffer): VerifyResult {
  const sig = header(headers, 'x-hub-signature-256');
  if (sig === undefined) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  return hmacMatches(secret, [body], sig) ? { ok: true } : { ok: false, reason: 'signature does not match' };
}

/**
 * The checks of verifyGithub that need no body: the header is there, once, and well formed.
 * Run before the body is read, so a request that can never verify is refused unread.
 */
export function precheckGithub(headers: IncomingHttpHeaders): VerifyResult {
  const sig = header(headers, 'x-hub-signature-256');
  if (sig === undefined) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  if (!SHA256_HEADER.test(sig))
    return { ok: false, reason: 'malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)' };
  return { ok: true };
}

/** GitLab sends the secret itself in `X-Gitlab-Token`; compared as digests so lengths match. */
export function verifyGitlab(secret: Buffer, headers: IncomingHttpHeaders): VerifyResult {
  const token = header(headers, 'x-gitlab-token');
  if (token === undefined) return { ok: false, reason: 'missing X-Gitlab-Token header' };
  const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();
  return timingSafeEqual(digest(token), digest(secret))
    ? { ok: true }
    : { ok: false, reason: 'token does not match' };
}

/** Tether's scheme (see the top of this file). */
export function verifyGeneric(
  secret: Buffer,
  headers: IncomingHttpHeaders,
  body: Buffer,
  nowMs: number = Date.now(),
): VerifyResult {
  const sig = header(headers, 'x-tether-signature');
  const ts = header(headers, 'x-tether-timestamp');
  if (sig === undefined) return { ok: false, reason: 'missing X-Tether-Signature header' };
  if (ts === undefined || !/^\d{1,12}$/.test(ts))
    return { ok: false, reason: 'missing or malformed X-Tether-Timestamp header (unix seconds)' };
  if (!hmacMatches(secret, [ts, '.', body], sig)) return { ok: false, reason: 'signature does not match' };
  if (Math.abs(nowMs - Number(ts) * 1000) > GENERIC_MAX_SKEW_MS)
    return { ok: false, reason: 'timestamp is more than 5 minutes from now (replayed, or a clock is off)' };
  return { ok: true };
}

/**
 * The checks of verifyGeneric that need no body: both headers there and well formed, and the
 * timestamp within 5 minutes of now. Run before the body is read.
 */
export function precheckGeneric(headers: IncomingHttpHeaders, nowMs: number = Date.now()): VerifyResult {
  const sig = header(headers, 'x-tether-signature');
  const ts = header(headers, 'x-tether-timestamp');
  if (sig === undefined) return { ok: false, reason: 'missing X-Tether-Signature header' };
  if (!SHA256_HEADER.test(sig))
    return { ok: false, reason: 'malformed X-Tether-Signature header (expected sha256=<64 hex digits>)' };
  if (ts === undefined || !/^\d{1,12}$/.test(ts))
    return { ok: false, reason: 'missing or malformed X-Tether-Timestamp header (unix seconds)' };
  if (Math.abs(nowMs - Number(ts) * 1000) > GENERIC_MAX_SKEW_MS)
    return { ok: false, reason: 'timestamp is more than 5 minutes from now (replayed, or a clock is off)' };
  return { ok: true };
}

/** Headers for a generic webhook request. */
export function signGeneric(
  secret: Buffer | string,
  body: Buffer | string,
  nowMs: number = Date.now(),
): { 'x-tether-timestamp': string; 'x-tether-signature': string } {
  const ts = String(Math.floor(nowMs / 1000));
  const hex = createHmac('sha256', secret).update(ts).update('.').update(body).digest('hex');
  return { 'x-tether-timestamp': ts, 'x-tether-signature': `sha256=${hex}` };
}

/** The `X-Hub-Signature-256` value GitHub would send for `body`. */
export function signGithub(secret: Buffer | string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
