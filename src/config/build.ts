/** From schema output to TetherConfig: durations in milliseconds, paths made absolute. */
import { resolve } from 'node:path';
import { parseDuration } from './duration.ts';
import { isSshUrl } from '../source/ssh-url.ts';
import { githubRepository, gitlabProject } from '../notify/repository.ts';
import { NOTIFY_EVENTS, type RawApp, type RawConfig, type RawNotification } from './schema.ts';
import { buildUi } from './ui.ts';
import type { AppConfig, NotificationConfig, TetherConfig, VerifyConfig, WebhookConfig } from './types.ts';

/** `https://…`, `ssh://…`, `file://…`, or scp-like `git@host:org/repo`; anything else is a local path. */
export function isRemoteRepo(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || isSshUrl(repo);
}

/** Paths in a config file are relative to the file's directory, so the file works from any cwd. */
export function buildConfig(raw: RawConfig, file: string | undefined, baseDir: string): TetherConfig {
  const at = (p: string) => resolve(baseDir, p);
  return {
    file,
    auditLog: at(raw.auditLog),
    listen: raw.listen,
    logLevel: raw.logLevel,
    leaderElection: { ...raw.leaderElection },
    webhooks: raw.webhooks.map((w): WebhookConfig => ({
      name: w.name,
      type: w.type,
      ...(w.secretFile !== undefined && { secretFile: at(w.secretFile) }),
      ...(w.secretEnv !== undefined && { secretEnv: w.secretEnv }),
    })),
    appResources: {
      enabled: raw.appResources.enabled,
      ...(raw.appResources.labelSelector !== undefined && { labelSelector: raw.appResources.labelSelector }),
    },
    ui: buildUi(raw.ui, baseDir),
    apps: raw.apps.map((app) => buildApp(app, baseDir)),
  };
}

export function buildApp(app: RawApp, baseDir: string): AppConfig {
  const at = (p: string) => resolve(baseDir, p);
  const opt = <K extends string>(key: K, p: string | undefined) =>
    (p === undefined ? {} : { [key]: at(p) }) as Partial<Record<K, string>>;
  const { source: s, destination: d, sync } = app;
  const verify: VerifyConfig =
    s.verify.mode === 'off'
      ? { mode: 'off' }
      : {
          mode: 'required',
          ...opt('pgpKeysFile', s.verify.pgpKeysFile),
          ...opt('sshKeysFile', s.verify.sshKeysFile),
        };
  return {
    name: app.name,
    source: {
      repo: isRemoteRepo(s.repo) ? s.repo : at(s.repo),
      ...(s.ref !== undefined && { ref: s.ref }),
      path: s.path,
      intervalMs: parseDuration(s.interval),
      ...(s.include !== undefined && { include: [...s.include] }),
      exclude: [...s.exclude],
      ...opt('usernameFile', s.usernameFile),
      ...opt('passwordFile', s.passwordFile),
      ...opt('caFile', s.caFile),
      ...opt('sshKeyFile', s.sshKeyFile),
      ...opt('knownHostsFile', s.knownHostsFile),
      verify,
    },
    destination: {
      ...opt('kubeconfig', d.kubeconfig),
      ...(d.context !== undefined && { context: d.context }),
      namespace: d.namespace,
      ...(d.allowedNamespaces !== undefined && { allowedNamespaces: [...d.allowedNamespaces] }),
    },
    sync: {
      mode: sync.mode,
      prune: sync.prune,
      conflicts: sync.conflicts,
      pruneGuard: sync.pruneGuard,
      suspend: sync.suspend,
      ignore: sync.ignore.map((r) => ({ ...r })),
      waveTimeoutMs: parseDuration(sync.waveTimeout),
    },
    render: {
      allowCommands: app.render.allowCommands,
      allowRemoteBases: app.render.allowRemoteBases,
      ...(app.render.helmValues !== undefined && { helmValues: structuredClone(app.render.helmValues) }),
    },
    notifications: app.notifications.map((n, i) => buildNotification(n, app, i, at)),
  };
}

/** A notifier's name defaults to its type, numbered when the app has several of that type. */
function buildNotification(
  n: RawNotification,
  app: RawApp,
  index: number,
  at: (p: string) => string,
): NotificationConfig {
  const sameType = app.notifications.filter((o) => o.type === n.type);
  const name = n.name ?? (sameType.length > 1 ? `${n.type}-${sameType.indexOf(n) + 1}` : n.type);
  const common = { name, events: [...(n.events ?? NOTIFY_EVENTS)] };
  switch (n.type) {
    case 'github':
      return {
        type: 'github',
        ...common,
        apiUrl: n.apiUrl.replace(/\/+$/, ''),
        // checks.ts reports an app whose repository cannot be derived.
        repository:
          n.repository ?? githubRepository(app.source.repo) ?? `(notifications[${index}].repository)`,
        tokenFile: at(n.tokenFile),
        ...(n.targetUrl !== undefined && { targetUrl: n.targetUrl }),
      };
    case 'gitlab':
      return {
        type: 'gitlab',
        ...common,
        apiUrl: n.apiUrl.replace(/\/+$/, ''),
        project: n.project ?? gitlabProject(app.source.repo) ?? `(notifications[${index}].project)`,
        tokenFile: at(n.tokenFile),
        ...(n.targetUrl !== undefined && { targetUrl: n.targetUrl }),
      };
    case 'webhook':
      return { type: 'webhook', ...common, url: n.url, secretFile: at(n.secretFile) };
    case 'slack':
      return {
        type: 'slack',
        ...common,
        ...(n.url !== undefined && { url: n.url }),
        ...(n.urlFile !== undefined && { urlFile: at(n.urlFile) }),
      };
  }
}
