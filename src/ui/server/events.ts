/**
 * Live updates for the status page: server-sent events. While a page is connected, the
 * agent's state (every app's status and the audit head) is compared every CHECK_MS with what
 * was last sent, and a `change` event goes out when it differs; the page then reads what it
 * shows again. So a change reaches the page within CHECK_MS plus one request, without the
 * runners knowing about the page. Nothing runs while no page is connected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const CHECK_MS = 250;
/** A comment line this often keeps proxies and the server's idle timeout from closing the stream. */
const KEEPALIVE_MS = 15_000;
/** Pages connected at once; more are refused (503), each holds a connection. */
export const MAX_STREAMS = 64;

export class ChangeFeed {
  private readonly streams = new Set<ServerResponse>();
  private readonly fingerprint: () => string;
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private seq = 0;
  private quietSince = Date.now();

  constructor(fingerprint: () => string) {
    this.fingerprint = fingerprint;
  }

  get size(): number {
    return this.streams.size;
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) {
      res.writeHead(503, {
        'Content-Type': 'application/json',
        'Retry-After': '5',
        'Cache-Control': 'no-store',
      });
      res.end(JSON.stringify({ error: `too many live pages (${MAX_STREAMS}); try again later` }));
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    // The page reconnects after a second when the stream breaks; it reads everything on (re)connect.
    res.write(`retry: 1000\nevent: change\ndata: ${this.seq}\n\n`);
    this.streams.add(res);
    const close = () => this.streams.delete(res);
    req.on('close', close);
    res.on('close', close);
    res.on('error', close);
    if (!this.timer) {
      this.last = this.fingerprint();
      this.quietSince = Date.now();
      this.timer = setInterval(() => this.check(), CHECK_MS);
      this.timer.unref();
    }
  }

  private check(): void {
    if (this.streams.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = this.fingerprint();
    if (now !== this.last) {
      this.last = now;
      this.seq++;
      this.send(`event: change\ndata: ${this.seq}\n\n`);
    } else if (Date.now() - this.quietSince >= KEEPALIVE_MS) {
      this.send(': keep-alive\n\n');
    }
  }

  private send(text: string): void {
    this.quietSince = Date.now();
    for (const res of this.streams) res.write(text);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
