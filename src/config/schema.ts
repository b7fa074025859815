/**
 * The config file's structure as zod strict objects: every unknown key is an error. Values
 * stay as written here (durations as text, paths unresolved); build.ts turns the result into
 * a TetherConfig. Checks that span several keys live in checks.ts, which runs even when this
 * schema fails so that all problems are reported together.
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { InvalidDurationError } from './errors.ts';
import { parseListen } from './listen.ts';
import { DNS_LABEL_RULE, isDnsLabel } from './names.ts';
import { uiSchema } from './ui.ts';

const MAX_INTERVAL_MS = 24 * 3_600_000;

const quote = (v: unknown) => JSON.stringify(v);

const nonEmpty = () => z.string().min(1, { error: 'must not be empty' });

const dnsLabel = () =>
  z
    .string()
    .refine(isDnsLabel, { error: (iss) => `${quote(iss.input)} is not a valid name: ${DNS_LABEL_RULE}` });

const stringList = () => z.array(nonEmpty());

const interval = z.string().superRefine((text, ctx) => {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    if (!(err instanceof InvalidDurationError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return;
  }
  if (ms <= 0)
    ctx.addIssue({
      code: 'custom',
      message: `${quote(text)} is too short: the interval must be more than 0`,
    });
  else if (ms > MAX_INTERVAL_MS)
    ctx.addIssue({
      code: 'custom',
      message: `${quote(text)} is too long: the interval must be at most 24h`,
    });
});

/** A path inside the repository: relative, and never climbing out of it. */
const repoPath = z.string().refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
  error: (iss) => `${quote(iss.input)} must be a relative path inside the repository, without ".."`,
});

const listen = z.string().refine((s) => parseListen(s) !== undefined, {
  error: (iss) =>
    `${quote(iss.input)} is not host:port (e.g. 127.0.0.1:9090, or 0.0.0.0:9090 for all interfaces)`,
});

const verify = z.strictObject({
  mode: z.enum(['off', 'required']),
  pgpKeysFile: nonEmpty().optional(),
  sshKeysFile: nonEmpty().optional(),
});

const source = z.strictObject({
  repo: nonEmpty(),
  ref: nonEmpty().optional(),
  path: repoPath.default('.'),
  interval: interval.default('1m'),
  include: stringList().optional(),
  exclude: stringList().default([]),
  usernameFile: nonEmpty().optional(),
  passwordFile: nonEmpty().optional(),
  caFile: nonEmpty().optional(),
  sshKeyFile: nonEmpty().optional(),
  knownHostsFile: nonEmpty().optional(),
  verify: verify.prefault({ mode: 'off' }),
});

const destination = z.strictObject({
  kubeconfig: nonEmpty().optional(),
  context: nonEmpty().optional(),
  namespace: dnsLabel().default('default'),
  allowedNamespaces: z.array(dnsLabel()).optional(),
});

const ignoreRule = z.strictObject({
  paths: stringList().optional(),
  kinds: stringList().optional(),
  names: stringList().optional(),
  managers: stringList().optional(),
});

const sync = z.strictObject({
  mode: z.enum(['apply', 'report']).default('apply'),
  prune: z.boolean().default(false),
  conflicts: z.enum(['report', 'force']).default('report'),
  pruneGuard: z.boolean().default(true),
  suspend: z.boolean().default(false),
  ignore: z.array(ignoreRule).default([]),
  /** How long each sync wave may take to become healthy before later waves are given up. */
  waveTimeout: interval.default('5m'),
});

const render = z.strictObject({
  allowCommands: z.boolean().default(false),
  allowRemoteBases: z.boolean().default(false),
  helmValues: z.record(z.string(), z.unknown()).optional(),
});

export const NOTIFY_EVENTS = ['applied', 'healthy', 'degraded', 'drift', 'failed'] as const;

const httpUrl = () =>
  z.string().refine((u) => /^https?:\/\/[^\s/]+/i.test(u), {
    error: (iss) => `${quote(iss.input)} is not an http(s) URL`,
  });

/** Shared by every notifier: an optional name (default: its type) and the events it reports. */
const notifierBase = {
  name: dnsLabel().optional(),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1, { error: 'list at least one event' }).optional(),
};

const notification = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('github'),
      ...notifierBase,
      apiUrl: httpUrl().default('https://api.github.com'),
      repository: z
        .string()
        .regex(/^[\w.-]+\/[\w.-]+$/, { error: 'must be owner/repo' })
        .optional(),
      tokenFile: nonEmpty(),
      targetUrl: httpUrl().optional(),
    }),
    z.strictObject({
      type: z.literal('gitlab'),
      ...notifierBase,
      apiUrl: httpUrl().default('https://gitlab.com/api/v4'),
      project: nonEmpty().optional(),
      tokenFile: nonEmpty(),
      targetUrl: httpUrl().optional(),
    }),
    z.strictObject({
      type: z.literal('webhook'),
      ...notifierBase,
      url: httpUrl(),
      secretFile: nonEmpty(),
    }),
    z.strictObject({
      type: z.literal('slack'),
      ...notifierBase,
      url: httpUrl().optional(),
      urlFile: nonEmpty().optional(),
    }),
  ],
  { error: () => 'type must be one of github, gitlab, webhook, slack' },
);

export const appSchema = z.strictObject({
  name: dnsLabel(),
  source,
  destination: destination.prefault({}),
  sync: sync.prefault({}),
  render: render.prefault({}),
  notifications: z.array(notification).default([]),
});

const webhook = z.strictObject({
  name: dnsLabel(),
  type: z.enum(['github', 'gitlab', 'generic']),
  secretFile: nonEmpty().optional(),
  secretEnv: nonEmpty().optional(),
});

const leaderElection = z.strictObject({
  enabled: z.boolean().default(false),
  namespace: dnsLabel().default('tether-system'),
  leaseName: nonEmpty().default('tether'),
  leaseDurationSeconds: z.int().min(5, { error: 'must be at least 5 (seconds)' }).default(15),
});

/** App resources (apps.tether.dev) the agent runs beside the config file's apps. */
const appResources = z.strictObject({
  enabled: z.boolean().default(false),
  /** Only Apps with these labels (sharding apps over several agents), e.g. `shard=a`. */
  labelSelector: nonEmpty().optional(),
});

export const configSchema = z.strictObject({
  auditLog: nonEmpty().default('.tether/audit.jsonl'),
  listen: listen.default('127.0.0.1:9090'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  leaderElection: leaderElection.prefault({}),
  webhooks: z.array(webhook).default([]),
  ui: uiSchema.prefault({}),
  appResources: appResources.prefault({}),
  // At least one app, unless App resources are watched (checks.ts).
  apps: z.array(appSchema).default([]),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawApp = z.output<typeof appSchema>;
export type RawNotification = z.output<typeof notification>;
