/**
 * Which apps a push concerns. Webhooks name a repository in several forms (https clone URL,
 * web URL, ssh URL) and configs in yet others, so URLs are compared in a normalized form:
 * no scheme, no credentials, lowercase host, no default port, no trailing `/` or `.git`.
 * The path keeps its case: only the host is case-insensitive everywhere.
 */

export interface WebhookApp {
  name: string;
  repo: string;
  ref?: string;
}

export interface PushEvent {
  repos: string[];
  /** `refs/heads/main`, `refs/tags/v1`; absent when the sender did not say. */
  ref?: string;
}

const DEFAULT_PORTS: Record<string, string> = {
  'http:': '80',
  'https:': '443',
  'ssh:': '22',
  'git:': '9418',
};
/** `git@host:org/repo.git`, ssh's scp-like syntax. */
const SCP_LIKE = /^(?:[^@/\s]+@)?([^/:\s]+):(?!\/)(.*)$/;

export function normalizeRepoUrl(raw: string): string {
  const text = raw.trim();
  let hostAndPath: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return stripSuffixes(text);
    }
    const port = url.port && url.port !== DEFAULT_PORTS[url.protocol] ? `:${url.port}` : '';
    hostAndPath = `${url.hostname.toLowerCase()}${port}${url.pathname}`;
  } else {
    const scp = SCP_LIKE.exec(text);
    // Anything else is a local path, compared as written.
    hostAndPath = scp ? `${(scp[1] ?? '').toLowerCase()}/${scp[2] ?? ''}` : text;
  }
  return stripSuffixes(hostAndPath);
}

function stripSuffixes(s: string): string {
  return s
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}

/**
 * An app without a ref follows the remote HEAD, whose branch the event may not name: it
 * matches any push to its repository (the reconcile that follows costs one ref request).
 */
export function refMatches(appRef: string | undefined, eventRef: string | undefined): boolean {
  if (appRef === undefined || eventRef === undefined) return true;
  return eventRef === appRef || eventRef === `refs/heads/${appRef}` || eventRef === `refs/tags/${appRef}`;
}

/** Names of the apps that track one of the event's repositories at the pushed ref. */
export function matchApps(apps: WebhookApp[], event: PushEvent): string[] {
  const repos = new Set(event.repos.map(normalizeRepoUrl));
  const names = apps
    .filter((app) => repos.has(normalizeRepoUrl(app.repo)) && refMatches(app.ref, event.ref))
    .map((app) => app.name);
  return [...new Set(names)];
}
