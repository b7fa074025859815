/** What a verified webhook request asks for: a push to reconcile, a ping, or nothing. */
import type { IncomingHttpHeaders } from 'node:http';
import type { WebhookType } from '../../config/types.ts';
import { isRecord } from '../../util/object.ts';
import { WebhookPayloadError } from './errors.ts';
import type { PushEvent } from './match.ts';

export type WebhookEvent =
  { kind: 'push'; push: PushEvent } | { kind: 'ping' } | { kind: 'ignored'; event: string };

export function parseEvent(type: WebhookType, headers: IncomingHttpHeaders, body: Buffer): WebhookEvent {
  switch (type) {
    case 'github': {
      const event = headerValue(headers, 'x-github-event');
      if (event === 'ping') return { kind: 'ping' };
      if (event !== 'push') return { kind: 'ignored', event: event || '(no X-GitHub-Event)' };
      const p = jsonObject(githubJson(headers, body));
      const repo = record(p['repository']);
      return push(
        [repo['clone_url'], repo['html_url'], repo['ssh_url'], repo['git_url'], repo['url']],
        p['ref'],
      );
    }
    case 'gitlab': {
      const event = headerValue(headers, 'x-gitlab-event');
      if (event !== 'Push Hook' && event !== 'Tag Push Hook')
        return { kind: 'ignored', event: event || '(no X-Gitlab-Event)' };
      const p = jsonObject(body.toString('utf8'));
      const project = record(p['project']);
      const repo = record(p['repository']);
      return push(
        [
          project['git_http_url'],
          project['web_url'],
          project['git_ssh_url'],
          repo['git_http_url'],
          repo['homepage'],
        ],
        p['ref'],
      );
    }
    case 'generic': {
      const p = jsonObject(body.toString('utf8'));
      if (typeof p['repo'] !== 'string' || p['repo'] === '')
        throw new WebhookPayloadError('the body must be JSON {"repo": "<url>", "ref": "<ref>"} with a repo');
      if (p['ref'] !== undefined && typeof p['ref'] !== 'string')
        throw new WebhookPayloadError('"ref" must be a string');
      return push([p['repo']], p['ref']);
    }
  }
}

function push(urls: unknown[], ref: unknown): WebhookEvent {
  const repos = urls.filter((u): u is string => typeof u === 'string' && u !== '');
  if (repos.length === 0) throw new WebhookPayloadError('the push payload names no repository URL');
  return { kind: 'push', push: typeof ref === 'string' && ref !== '' ? { repos, ref } : { repos } };
}

/** GitHub can also post `application/x-www-form-urlencoded` with the JSON in `payload`. */
function githubJson(headers: IncomingHttpHeaders, body: Buffer): string {
  const text = body.toString('utf8');
  if (!headerValue(headers, 'content-type').startsWith('application/x-www-form-urlencoded')) return text;
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) throw new WebhookPayloadError('form-encoded body without a payload field');
  return payload;
}

function jsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's message quotes the body; say only that it is not JSON.
    throw new WebhookPayloadError('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new WebhookPayloadError('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function record(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return typeof v === 'string' ? v : '';
}
