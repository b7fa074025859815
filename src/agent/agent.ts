/**
 * `tether agent`: runs every configured app continuously. One API connection and one watch
 * cache per destination cluster; one runner per app; one HTTP server for metrics, health,
 * status and webhooks; optional leader election so only one replica reconciles.
 */
import { hostname } from 'node:os';
import { AuditLog } from '../audit/index.ts';
import type { KubeClient } from '../cluster/client.ts';
import { parseListen, type TetherConfig } from '../config/index.ts';
import { redactUrl } from '../errors.ts';
import { appFromConfig } from '../sync/app.ts';
import { AppRunner } from './app-runner.ts';
import { AuditSink } from './audit-sink.ts';
import { Destinations } from './destinations.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { Notifications } from '../notify/dispatcher.ts';
import { startServer } from './server.ts';
import { createUiRoutes } from '../ui/server/routes.ts';
import { createWebhookHandler, loadWebhookEndpoints } from './webhook.ts';

/** The webhook endpoint: verified pushes trigger the apps whose repository and ref they name. */
async function webhookFor(config: TetherConfig, trigger: (apps: string[]) => void, log: Logger) {
  return createWebhookHandler({
    webhooks: await loadWebhookEndpoints(config.webhooks),
    apps: () =>
      config.apps.map((a) => ({
        name: a.name,
        repo: a.source.repo,
        ...(a.source.ref ? { ref: a.source.ref } : {}),
      })),
    trigger,
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
  private readonly runners: AppRunner[];
  private readonly destinations: Destinations;
  private readonly elector: LeaderElector | undefined;
  private readonly audit: AuditLog;
  private readonly closeServer: () => Promise<void>;
  private readonly log: Logger;

  private constructor(parts: {
    port: number;
    runners: AppRunner[];
    destinations: Destinations;
    elector: LeaderElector | undefined;
    audit: AuditLog;
    closeServer: () => Promise<void>;
    log: Logger;
  }) {
    this.port = parts.port;
    this.runners = parts.runners;
    this.destinations = parts.destinations;
    this.elector = parts.elector;
    this.audit = parts.audit;
    this.closeServer = parts.closeServer;
    this.log = parts.log;
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const { config, log } = opts;
    const metrics = new Metrics();
    // A full chain check at start-up: a damaged log is found before the agent builds on it.
    const auditLog = await AuditLog.open(config.auditLog, { verifyChain: true });
    const audit = new AuditSink(auditLog, metrics, log);
    const byApp = new Map<string, AppRunner>();
    const destinations = new Destinations(log, (app) => byApp.get(app)?.trigger('watch'));
    const identity = opts.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
    let elector: LeaderElector | undefined;
    const mayWrite = () => !elector || elector.isLeader;
    const verifyLease = config.leaderElection.enabled ? () => elector!.verify() : undefined;

    for (const appConfig of config.apps) {
      const app = await appFromConfig(appConfig);
      const { conn, tracker } = await destinations.for(app);
      if (app.mode === 'apply') audit.anchorIn(app.name, { conn, namespace: app.destination.namespace });
      byApp.set(
        app.name,
        new AppRunner({
          app,
          conn,
          tracker,
          audit,
          metrics,
          log,
          mayWrite,
          ...(verifyLease ? { verifyLease } : {}),
          ...(appConfig.notifications.length > 0 && {
            notifications: new Notifications({
              app: app.name,
              configs: appConfig.notifications,
              metrics,
              log,
            }),
          }),
        }),
      );
    }
    const runners = [...byApp.values()];

    const listen = parseListen(config.listen)!;
    const { server, port } = await startServer(listen.host, listen.port, {
      metrics,
      ready: () =>
        (elector !== undefined && !elector.isLeader) ||
        runners.every((r) => r.status().reconciles > 0 || r.status().state === 'suspended'),
      status: () => ({
        identity,
        leader: elector ? elector.isLeader : true,
        audit: audit.status(),
        apps: runners.map((r) => r.status()),
      }),
      auditLog: auditLog.path,
      webhook: await webhookFor(
        config,
        (names) => names.forEach((n) => byApp.get(n)?.trigger('webhook')),
        log,
      ),
      ui: createUiRoutes({
        config: config.ui,
        listenHost: listen.host,
        runners,
        agent: () => ({ identity, leader: elector ? elector.isLeader : true, audit: audit.status() }),
        auditLog: auditLog.path,
        warn: (msg) => log.warn({ component: 'ui' }, msg),
      }),
    });
    log.info(
      { port, apps: runners.length, auditLog: config.auditLog },
      `tether agent listening on ${listen.host}:${port}`,
    );

    if (config.leaderElection.enabled) {
      elector = electorFor(config, destinations.all()[0]!.conn.client, identity, log, () => {
        for (const r of runners) r.trigger('poll');
      });
      elector.start();
    } else {
      for (const r of runners) r.start();
    }

    return new Agent({
      port,
      runners,
      destinations,
      elector,
      audit: auditLog,
      log,
      closeServer: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    });
  }

  /** Graceful stop (SIGTERM): no new reconciles, finish (bounded) or abandon the one under way, hand the lease over. */
  async stop(graceMs = 20_000): Promise<void> {
    for (const r of this.runners) r.stop();
    const idle = Promise.all(this.runners.map((r) => r.idle()));
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
      Promise.all(this.runners.map((r) => r.notificationsIdle())),
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
  }
}
