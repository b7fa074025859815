import type { IncomingMessage } from 'node:http';

export type BodyResult =
  { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'aborted' | 'timeout' };

/** What a request says about its body's length, before any of it is read. */
export type DeclaredLength =
  { ok: true; length: number } | { ok: false; reason: 'chunked' | 'missing' | 'invalid' };

/**
 * The body length from Content-Length. A body without one (chunked, or a POST that names no
 * length) is refused: its size is only known once it has been read, and senders of webhooks
 * (GitHub, GitLab, curl) all send the length.
 */
export function declaredLength(req: IncomingMessage): DeclaredLength {
  if (req.headers['transfer-encoding'] !== undefined) return { ok: false, reason: 'chunked' };
  const raw = req.headers['content-length'];
  if (raw === undefined) return { ok: false, reason: 'missing' };
  // Node has already refused a repeated or non-numeric Content-Length; this is the last word.
  if (!/^\d{1,15}$/.test(raw)) return { ok: false, reason: 'invalid' };
  return { ok: true, length: Number(raw) };
}

/**
 * Reads a body of exactly `length` bytes (its Content-Length, already admitted) into one
 * buffer allocated up front: a body dribbled in tiny chunks costs its length and no more, not
 * a Buffer object per chunk. Gives up after `timeoutMs` ('timeout'), when the client goes away
 * ('aborted'), or if more than `length` bytes arrive ('too-large'; Node's parser does not let
 * that happen, but the buffer's bound does not depend on it).
 */
export function readBody(req: IncomingMessage, length: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    let body: Buffer | undefined;
    let size = 0;
    const done = (result: BodyResult) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      if (!result.ok) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > length) return done({ ok: false, reason: 'too-large' });
      body ??= Buffer.allocUnsafe(length);
      chunk.copy(body, size);
      size += chunk.length;
    };
    const onEnd = () =>
      size === length
        ? done({ ok: true, body: body ?? Buffer.alloc(0) })
        : done({ ok: false, reason: 'aborted' });
    // 'close' before 'end' means the client went away mid-body.
    const onAbort = () => done({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => done({ ok: false, reason: 'timeout' }), timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort);
  });
}
