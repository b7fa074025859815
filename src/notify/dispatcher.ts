/**
 * An app's notifiers. notify() returns at once: each notifier has a queue of its own, sent in
 * order (a status's pending goes before its success), so a slow or failing endpoint delays
 * only its own later notifications and never a reconcile. A queue longer than MAX_QUEUE drops
 * the newest outcome (counted). Secrets (tokens, the HMAC secret, a Slack URL) are read from
 * their files at each send, so a rotated Secret is picked up, and they never reach a log line,
 * an error, /status or a metric label.
 */
import { readFile } from 'node:fs/promises';
import type { NotificationConfig } from '../config/types.ts';
import type { Logger } from '../agent/logger.ts';
import { githubRequest } from './github.ts';
import { gitlabRequest } from './gitlab.ts';
import { configuredAs, statusState, type HttpRequest, type Outcome, type OutcomeEvent } from './outcome.ts';
import { DEFAULT_SEND, NotifyError, redactSecrets, sendWithRetries, type SendOptions } from './send.ts';
import { slackRequest } from './slack.ts';
import { webhookRequest } from './webhook.ts';

export const MAX_QUEUE = 20;

export type SendResult = 'sent' | 'failed' | 'dropped';

/** What /status shows of one notifier. */
export interface NotifierStatus {
  name: string;
  type: NotificationConfig['type'];
  /** The last outcome this notifier finished with (sent, failed) or dropped. */
  lastEvent: OutcomeEvent | null;
  lastCommit: string | null;
  lastResult: SendResult | null;
  lastAt: string | null;
  /** Why the last send failed (secrets masked); null once one succeeds. */
  lastError: string | null;
  /** Since when every send failed; null while the notifier works. */
  failingSince: string | null;
  sent: number;
  failed: number;
  dropped: number;
  /** Outcomes waiting to be sent. */
  queued: number;
}

export interface NotifyMetrics {
  recordNotification(app: string, notifier: string, result: SendResult): void;
  setNotifierFailing(app: string, notifier: string, failing: boolean): void;
}

export interface NotificationsDeps {
  app: string;
  configs: readonly NotificationConfig[];
  metrics: NotifyMetrics;
  log: Logger;
  send?: SendOptions;
}

async function readSecret(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new NotifyError(`cannot read ${what} ${file} (${code})`);
  }
  const value = text.trim();
  if (value === '') throw new NotifyError(`${what} ${file} is empty`);
  return value;
}

/** Whether the notifier has a request for the outcome: statuses need a commit and a state; the others skip `applying`. */
export function speaksFor(cfg: NotificationConfig, o: Outcome): boolean {
  if (cfg.type === 'github' || cfg.type === 'gitlab')
    return statusState(o.event) !== undefined && o.commit !== null;
  return o.event !== 'applying';
}

/** The request for an outcome the notifier speaks for, and the secret it carries (read now). */
export async function requestFor(
  cfg: NotificationConfig,
  o: Outcome,
): Promise<{ req: HttpRequest | undefined; secret: string }> {
  switch (cfg.type) {
    case 'github': {
      const token = await readSecret(cfg.tokenFile, 'tokenFile');
      return { req: githubRequest(o, cfg, token), secret: token };
    }
    case 'gitlab': {
      const token = await readSecret(cfg.tokenFile, 'tokenFile');
      return { req: gitlabRequest(o, cfg, token), secret: token };
    }
    case 'webhook': {
      const secret = await readSecret(cfg.secretFile, 'secretFile');
      return { req: webhookRequest(o, cfg, secret), secret };
    }
    case 'slack': {
      const url = cfg.urlFile ? await readSecret(cfg.urlFile, 'urlFile') : (cfg.url ?? '');
      return { req: slackRequest(o, url), secret: url };
    }
  }
}

class Channel {
  readonly st: NotifierStatus;
  readonly cfg: NotificationConfig;
  private readonly d: NotificationsDeps;
  private chain: Promise<void> = Promise.resolve();

  constructor(cfg: NotificationConfig, d: NotificationsDeps) {
    this.cfg = cfg;
    this.d = d;
    this.st = {
      name: cfg.name,
      type: cfg.type,
      lastEvent: null,
      lastCommit: null,
      lastResult: null,
      lastAt: null,
      lastError: null,
      failingSince: null,
      sent: 0,
      failed: 0,
      dropped: 0,
      queued: 0,
    };
    d.metrics.setNotifierFailing(d.app, cfg.name, false);
  }

  enqueue(o: Outcome): void {
    if (this.st.queued >= MAX_QUEUE) {
      this.finish(
        o,
        'dropped',
        `queue full (${MAX_QUEUE} waiting): ${o.event} of ${o.commit ?? 'no commit'} dropped`,
      );
      return;
    }
    this.st.queued++;
    this.chain = this.chain.then(() => this.deliver(o)).finally(() => this.st.queued--);
  }

  idle(): Promise<void> {
    return this.chain;
  }

  private async deliver(o: Outcome): Promise<void> {
    let secrets: string[] = [];
    try {
      const { req, secret } = await requestFor(this.cfg, o);
      secrets = [secret];
      if (!req) return;
      const tries = await sendWithRetries(req, secrets, this.d.send ?? DEFAULT_SEND);
      this.finish(o, 'sent', null);
      this.d.log.debug(
        { app: this.d.app, notifier: this.cfg.name, event: o.event, tries },
        `notification sent to ${req.target}`,
      );
    } catch (e) {
      const message = redactSecrets(e instanceof Error ? e.message : String(e), secrets);
      this.finish(o, 'failed', message);
      this.d.log.warn(
        { app: this.d.app, notifier: this.cfg.name, event: o.event, err: message },
        'notification failed; the reconcile goes on',
      );
    }
  }

  private finish(o: Outcome, result: SendResult, error: string | null): void {
    const now = new Date().toISOString();
    Object.assign(this.st, { lastEvent: o.event, lastCommit: o.commit, lastResult: result, lastAt: now });
    this.d.metrics.recordNotification(this.d.app, this.cfg.name, result);
    if (result === 'dropped') {
      this.st.dropped++;
      return;
    }
    if (result === 'sent') {
      this.st.sent++;
      this.st.lastError = null;
      this.st.failingSince = null;
    } else {
      this.st.failed++;
      this.st.lastError = error;
      this.st.failingSince ??= now;
    }
    this.d.metrics.setNotifierFailing(this.d.app, this.cfg.name, result === 'failed');
  }
}

export class Notifications {
  private readonly channels: Channel[];
  /** `applying` is posted once per commit, however many reconciles it takes. */
  private applyingSha: string | undefined;
  /** The last outcome notified: the same one again (a failure repeated each tick) is not. */
  private last: string | undefined;

  constructor(deps: NotificationsDeps) {
    this.channels = deps.configs.map((c) => new Channel(c, deps));
  }

  /** Queues the outcome for every notifier configured for its event; never throws, never waits. */
  notify(o: Outcome): void {
    if (o.event === 'applying') {
      if (o.commit === this.applyingSha) return;
      this.applyingSha = o.commit ?? undefined;
    } else {
      const key = JSON.stringify([o.event, o.commit, o.message]);
      if (key === this.last) return;
      this.last = key;
    }
    for (const ch of this.channels)
      if (ch.cfg.events.includes(configuredAs(o.event)) && speaksFor(ch.cfg, o)) ch.enqueue(o);
  }

  status(): NotifierStatus[] {
    return this.channels.map((c) => ({ ...c.st }));
  }

  /** Resolves once every queued notification was sent or gave up. */
  async idle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.idle()));
  }
}
