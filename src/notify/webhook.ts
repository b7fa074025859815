/**
 * The generic webhook: POST of {app, event, commit, result, health, message, time} as JSON,
 * signed like GitHub's webhooks: `X-Tether-Signature-256: sha256=<hex HMAC-SHA256 of the body
 * with the shared secret>`. Pure.
 */
import { createHmac } from 'node:crypto';
import type { WebhookNotification } from '../config/types.ts';
import { redactUrl } from '../errors.ts';
import type { HttpRequest, Outcome } from './outcome.ts';

export const SIGNATURE_HEADER = 'x-tether-signature-256';

export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookRequest(
  o: Outcome,
  cfg: WebhookNotification,
  secret: string,
): HttpRequest | undefined {
  if (o.event === 'applying') return undefined;
  const body = JSON.stringify({
    app: o.app,
    event: o.event,
    commit: o.commit,
    result: o.result,
    health: o.health,
    message: o.message,
    time: o.time,
  });
  return {
    method: 'POST',
    url: cfg.url,
    target: `webhook ${redactUrl(cfg.url)}`,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'tether',
      'x-tether-event': o.event,
      [SIGNATURE_HEADER]: signature(body, secret),
    },
    body,
  };
}
