/**
 * The validated config, defaults filled in and relative paths resolved against the config
 * file's directory (or the working directory for flags). Secrets are never held here: only
 * the files or environment variables that hold them.
 */
import type { UiConfig } from './ui.ts';

export type { UiAuthConfig, UiConfig } from './ui.ts';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type SyncMode = 'apply' | 'report';
export type ConflictPolicy = 'report' | 'force';
export type WebhookType = 'github' | 'gitlab' | 'generic';

export interface TetherConfig {
  /** Absolute path of the config file; undefined when built from flags. */
  file: string | undefined;
  auditLog: string;
  /** `host:port`; see parseListen. */
  listen: string;
  logLevel: LogLevel;
  leaderElection: LeaderElectionConfig;
  webhooks: WebhookConfig[];
  appResources: AppResourcesConfig;
  /** The status page at / and its data endpoints. */
  ui: UiConfig;
  apps: AppConfig[];
}

/** Whether the agent runs the cluster's App resources (apps.tether.dev), and which. */
export interface AppResourcesConfig {
  enabled: boolean;
  labelSelector?: string;
}

export interface LeaderElectionConfig {
  enabled: boolean;
  namespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
}

/** Exactly one of secretFile and secretEnv is set. */
export interface WebhookConfig {
  name: string;
  type: WebhookType;
  secretFile?: string;
  secretEnv?: string;
}

export interface AppConfig {
  name: string;
  source: SourceConfig;
  destination: DestinationConfig;
  sync: SyncConfig;
  render: RenderConfig;
  notifications: NotificationConfig[];
}

export type NotifyEvent = 'applied' | 'healthy' | 'degraded' | 'drift' | 'failed';

/** What every notifier has: a name unique in the app (default its type) and the events it reports. */
interface NotifierCommon {
  name: string;
  events: NotifyEvent[];
}

/** A commit status on GitHub (POST /repos/{owner}/{repo}/statuses/{sha}). */
export interface GithubNotification extends NotifierCommon {
  type: 'github';
  apiUrl: string;
  /** owner/repo: from the config, or the app's repository URL on github.com. */
  repository: string;
  tokenFile: string;
  targetUrl?: string;
}

/** A commit status on GitLab (POST /projects/{id}/statuses/{sha}). */
export interface GitlabNotification extends NotifierCommon {
  type: 'gitlab';
  apiUrl: string;
  /** Project id or path (group/project). */
  project: string;
  tokenFile: string;
  targetUrl?: string;
}

/** A JSON POST signed with HMAC-SHA256 of the body. */
export interface WebhookNotification extends NotifierCommon {
  type: 'webhook';
  url: string;
  secretFile: string;
}

/** A Slack-compatible incoming webhook; the URL is the secret, so it is best kept in urlFile. */
export interface SlackNotification extends NotifierCommon {
  type: 'slack';
  url?: string;
  urlFile?: string;
}

export type NotificationConfig =
  GithubNotification | GitlabNotification | WebhookNotification | SlackNotification;

/** What the app's renderers may do; everything off by default. */
export interface RenderConfig {
  /** `renderer: command` declarations run programs from the repository. */
  allowCommands: boolean;
  /** kustomize may fetch http(s) and git bases, with network access. */
  allowRemoteBases: boolean;
  /** Inline helm values, laid over the chart's values files. */
  helmValues?: Record<string, unknown>;
}

export type VerifyConfig = { mode: 'off' } | { mode: 'required'; pgpKeysFile?: string; sshKeysFile?: string };

export interface SourceConfig {
  /** http(s) or ssh URL (or scp-like user@host:path), kept as written, or an absolute path to a local repository. */
  repo: string;
  /** Unset: the remote HEAD's branch. */
  ref?: string;
  /** Directory inside the repository, `.` for the root. */
  path: string;
  intervalMs: number;
  /** Unset: the manifest loader's default. */
  include?: string[];
  exclude: string[];
  usernameFile?: string;
  passwordFile?: string;
  caFile?: string;
  /** ssh: private key file (a mounted Secret). */
  sshKeyFile?: string;
  /** ssh: known_hosts file the host key is checked against, strictly. */
  knownHostsFile?: string;
  verify: VerifyConfig;
}

export interface DestinationConfig {
  /** Unset: $KUBECONFIG, ~/.kube/config or in-cluster. */
  kubeconfig?: string;
  context?: string;
  namespace: string;
  allowedNamespaces?: string[];
}

/** Same shape as the diff module's IgnoreRule. */
export interface IgnoreRuleConfig {
  paths?: string[];
  kinds?: string[];
  names?: string[];
  managers?: string[];
}

export interface SyncConfig {
  mode: SyncMode;
  prune: boolean;
  conflicts: ConflictPolicy;
  pruneGuard: boolean;
  suspend: boolean;
  ignore: IgnoreRuleConfig[];
  /** How long each sync wave may take to become healthy (Argo CD's waves, gated on health). */
  waveTimeoutMs: number;
}
