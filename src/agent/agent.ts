/**
 * `tether agent`: runs every configured app continuously. One API connection and one watch
 * cache per destination cluster; one runner per app; one HTTP server for metrics, health,
 * status and webhooks; optional leader election so only one replica reconciles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../audit/index.ts';
import type { KubeClient } from '../cluster/client.ts';
import { parseListen, type TetherConfig } from '../config/index.ts';
import { redactUrl } from '../errors.ts';
import { AppSecrets } from '../apps/secrets.ts';
import { AppResources } from './app-resources.ts';
import { AppSet } from './app-set.ts';
import { ConfigReloader } from './config-reload.ts';
import { AuditSink } from './audit-sink.ts';
import { Destinations } from './destinations.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { startServer } from './server.ts';
import { createUiRoutes } from '../ui/server/routes.ts';
import { createWebhookHandler, loadWebhookEndpoints } from './webhook.ts';

/** The webhook endpoint: verified pushes trigger the apps whose repository and ref they name. */
async function webhookFor(config: TetherConfig, apps: AppSet, log: Logger) {
  return createWebhookHandler({
    webhooks: await loadWebhookEndpoints(config.webhooks),
    apps: () =>
      apps.runners().map((r) => ({
        name: r.name,
        repo: r.app.source.repo,
        ...(r.app.source.ref ? { ref: r.app.source.ref } : {}),
      })),
    trigger: (names) => names.forEach((n) => apps.get(n)?.trigger('webhook')),
    log: (level, msg, fields) => log[level]({ ...fields, component: 'webhook' }, msg),
  });
}

/** Leader election on a Lease; the renew deadline and retry period follow the lease duration. */
function electorFor(
  config: TetherConfig,
  client: KubeClient,
  identity: string,
  log: Logger,
  onStartedLeading: () => void,
): LeaderElector {
  const { namespace, leaseName, leaseDurationSeconds } = config.leaderElection;
  return new LeaderElector(client, {
    namespace,
    name: leaseName,
    identity,
    leaseDurationSeconds,
    renewDeadlineSeconds: Math.max(2, Math.floor(leaseDurationSeconds * (2 / 3))),
    retryPeriodSeconds: Math.max(1, Math.floor(leaseDurationSeconds / 5)),
    onStartedLeading: () => {
      log.info({ identity }, 'became leader');
      onStartedLeading();
    },
    onStoppedLeading: () => log.warn({ identity }, 'stopped leading'),
    log: (level, msg, fields) => log[level]({ ...fields, component: 'leader' }, msg),
  });
}

/** How long a stop waits for queued notifications. */
const NOTIFY_GRACE_MS = 3_000;

export interface AgentOptions {
  config: TetherConfig;
  log: Logger;
  /** Leader-election identity; default POD_NAME or host-pid. */
  identity?: string;
}

export class Agent {
  readonly port: number;
  private readonly apps: AppSet;
  private readonly resources: AppResources | undefined;
  private readonly reloader: ConfigReloader | undefined;
  private readonly destinations: Destinations;
  private readonly elector: LeaderElector | undefined;
  private readonly audit: AuditLog;
  private readonly closeServer: () => Promise<void>;
  private readonly log: Logger;
  private readonly secretsDir: string | undefined;

  private constructor(parts: {
    port: number;
    apps: AppSet;
    resources: AppResources | undefined;
    reloader: ConfigReloader | undefined;
    destinations: Destinations;
    elector: LeaderElector | undefined;
    audit: AuditLog;
    closeServer: () => Promise<void>;
    log: Logger;
    secretsDir: string | undefined;
  }) {
    this.port = parts.port;
    this.apps = parts.apps;
    this.resources = parts.resources;
    this.reloader = parts.reloader;
    this.destinations = parts.destinations;
    this.elector = parts.elector;
    this.audit = parts.audit;
    this.closeServer = parts.closeServer;
    this.log = parts.log;
    this.secretsDir = parts.secretsDir;
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const { config, log } = opts;
    const metrics = new Metrics();
    // A full chain check at start-up: a damaged log is found before the agent builds on it.
    const auditLog = await AuditLog.open(config.auditLog, { verifyChain: true });
    const audit = new AuditSink(auditLog, metrics, log);
    // Events reach the app set only after it exists (watches start with the first app).
    const destinations = new Destinations(log, (app) => appSet.get(app)?.trigger('watch'));
    const identity = opts.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
    let elector: LeaderElector | undefined;
    const mayWrite = () => !elector || elector.isLeader;
    const verifyLease = config.leaderElection.enabled ? () => elector!.verify() : undefined;
    const appSet = new AppSet({
      destinations,
      audit,
      metrics,
      log,
      mayWrite,
      ...(verifyLease ? { verifyLease } : {}),
    });
    await appSet.update(
      'config',
      config.apps.map((c) => ({ config: c })),
    );

    let resources: AppResources | undefined;
    let secretsDir: string | undefined;
    if (config.appResources.enabled) {
      const cluster = await destinations.cluster();
      secretsDir = await mkdtemp(join(tmpdir(), 'tether-app-secrets-'));
      resources = new AppResources({
        client: cluster.conn.client,
        discovery: cluster.conn.discovery,
        apps: appSet,
        audit,
        secrets: new AppSecrets(secretsDir),
        log,
        mayWrite,
        ...(verifyLease ? { verifyLease } : {}),
        ...(config.appResources.labelSelector ? { labelSelector: config.appResources.labelSelector } : {}),
      });
    }
    const reloader = config.file
      ? new ConfigReloader({
          file: config.file,
          initial: config,
          log,
          apply: async (next) => {
            await appSet.update(
              'config',
              next.apps.map((c) => ({ config: c })),
            );
            resources?.resync();
          },
        })
      : undefined;

    const listen = parseListen(config.listen)!;
    const { server, port } = await startServer(listen.host, listen.port, {
      metrics,
      ready: () =>
        (elector !== undefined && !elector.isLeader) ||
        ((resources?.ready ?? true) &&
          appSet.runners().every((r) => r.status().reconciles > 0 || r.status().state === 'suspended')),
      status: () => ({
        identity,
        leader: elector ? elector.isLeader : true,
        audit: audit.status(),
        ...(reloader ? { config: reloader.status() } : {}),
        apps: appSet.statuses(),
      }),
      auditLog: auditLog.path,
      webhook: await webhookFor(config, appSet, log),
      ui: createUiRoutes({
        config: config.ui,
        listenHost: listen.host,
        runners: () => appSet.runners(),
        agent: () => ({ identity, leader: elector ? elector.isLeader : true, audit: audit.status() }),
        auditLog: auditLog.path,
        warn: (msg) => log.warn({ component: 'ui' }, msg),
      }),
    });
    log.info(
      { port, apps: appSet.runners().length, auditLog: config.auditLog },
      `tether agent listening on ${listen.host}:${port}`,
    );

    if (config.leaderElection.enabled) {
      // The lease lives in the cluster of the first app (or the default kubeconfig's).
      const cluster = destinations.all()[0] ?? (await destinations.cluster());
      elector = electorFor(config, cluster.conn.client, identity, log, () => {
        for (const r of appSet.runners()) r.trigger('poll');
        resources?.resync();
      });
      elector.start();
    }
    // A standby's runners only wait for their next interval: reconcile() writes nothing without the lease.
    appSet.start();
    await resources?.start();
    await reloader?.start();

    return new Agent({
      port,
      apps: appSet,
      resources,
      reloader,
      destinations,
      elector,
      audit: auditLog,
      log,
      secretsDir,
      closeServer: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    });
  }

  /** Graceful stop (SIGTERM): no new reconciles, finish (bounded) or abandon the one under way, hand the lease over. */
  async stop(graceMs = 20_000): Promise<void> {
    this.reloader?.stop();
    this.resources?.stop();
    const runners = this.apps.runners();
    this.apps.stop();
    const idle = Promise.all(runners.map((r) => r.idle()));
    const timedOut = await Promise.race([
      idle.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
    ]);
    if (timedOut)
      this.log.warn(
        'a reconcile was still running at shutdown; it is abandoned and the next start converges',
      );
    // The last outcomes (a final status) get a few seconds to go out; a dead endpoint does not hold the stop.
    await Promise.race([
      Promise.all(runners.map((r) => r.notificationsIdle())),
      new Promise((r) => setTimeout(r, NOTIFY_GRACE_MS).unref()),
    ]);
    if (this.elector)
      await this.elector
        .release()
        .catch((e: unknown) => this.log.warn({ err: redactUrl(String(e)) }, 'could not release the lease'));
    this.elector?.stop();
    this.destinations.stop();
    await this.closeServer();
    await this.audit.close();
    if (this.secretsDir) await rm(this.secretsDir, { recursive: true, force: true });
  }
}
