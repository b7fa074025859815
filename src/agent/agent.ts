/**
 * `tether agent`: runs every configured app continuously. One API connection and one watch
 * cache per destination cluster; one runner per app; one HTTP server for metrics, health,
 * status and webhooks; optional leader election so only one replica reconciles.
 */
import { hostname } from 'node:os';
import { AuditLog } from '../audit/index.ts';
import { APP_LABEL, labelOf, MANAGED_SELECTOR } from '../contract.ts';
import { watchedReader, type LiveTracker } from '../cluster/live.ts';
import { WatchCache } from '../cluster/watch-cache.ts';
import { parseListen, type TetherConfig } from '../config/index.ts';
import { redactUrl } from '../errors.ts';
import { appFromConfig, type App } from '../sync/app.ts';
import { connect, type Connection } from '../sync/pipeline.ts';
import { AppRunner } from './app-runner.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { startServer } from './server.ts';
import { createWebhookHandler, loadWebhookEndpoints } from './webhook.ts';

interface Destination {
  conn: Connection;
  cache: WatchCache;
  tracker: LiveTracker;
}

export interface AgentOptions {
  config: TetherConfig;
  log: Logger;
  /** Leader-election identity; default POD_NAME or host-pid. */
  identity?: string;
}

export class Agent {
  readonly port: number;
  private readonly runners: AppRunner[];
  private readonly destinations: Destination[];
  private readonly elector: LeaderElector | undefined;
  private readonly audit: AuditLog;
  private readonly closeServer: () => Promise<void>;
  private readonly log: Logger;

  private constructor(parts: {
    port: number;
    runners: AppRunner[];
    destinations: Destination[];
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
    const audit = await AuditLog.open(config.auditLog, { verifyChain: true });
    const byApp = new Map<string, AppRunner>();
    const destinations = new Map<string, Destination>();

    const destinationFor = async (app: App): Promise<Destination> => {
      const key = `${app.destination.kubeconfig ?? ''}|${app.destination.context ?? ''}`;
      const existing = destinations.get(key);
      if (existing) return existing;
      const base = await connect({
        kubeconfig: app.destination.kubeconfig,
        context: app.destination.context,
      });
      const cache = new WatchCache(base.client, {
        labelSelector: MANAGED_SELECTOR,
        onChange: (ev) => {
          const owner = labelOf(ev.object, APP_LABEL);
          if (owner) byApp.get(owner)?.trigger('watch');
        },
        log: (level, msg, fields) => log[level]({ ...fields, component: 'watch' }, msg),
      });
      const { live, tracker } = watchedReader(cache, base.client);
      const d = { conn: { ...base, live }, cache, tracker };
      destinations.set(key, d);
      return d;
    };

    const identity = opts.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
    let elector: LeaderElector | undefined;
    const mayWrite = () => !elector || elector.isLeader;

    for (const appConfig of config.apps) {
      const app = await appFromConfig(appConfig);
      const d = await destinationFor(app);
      const runner = new AppRunner({
        app,
        conn: d.conn,
        tracker: d.tracker,
        audit,
        metrics,
        log,
        mayWrite,
      });
      byApp.set(app.name, runner);
    }
    const runners = [...byApp.values()];

    const webhooks = await loadWebhookEndpoints(config.webhooks);
    const webhook = createWebhookHandler({
      webhooks,
      apps: () =>
        config.apps.map((a) => ({
          name: a.name,
          repo: a.source.repo,
          ...(a.source.ref ? { ref: a.source.ref } : {}),
        })),
      trigger: (names) => {
        for (const n of names) byApp.get(n)?.trigger('webhook');
      },
      log: (level, msg, fields) => log[level]({ ...fields, component: 'webhook' }, msg),
    });
    const listen = parseListen(config.listen)!;
    const { server, port } = await startServer(listen.host, listen.port, {
      metrics,
      ready: () =>
        (elector !== undefined && !elector.isLeader) ||
        runners.every((r) => r.status().reconciles > 0 || r.status().state === 'suspended'),
      status: () => ({
        identity,
        leader: elector ? elector.isLeader : true,
        apps: runners.map((r) => r.status()),
      }),
      webhook,
    });
    log.info(
      { port, apps: runners.length, auditLog: config.auditLog },
      `tether agent listening on ${listen.host}:${port}`,
    );

    if (config.leaderElection.enabled) {
      const first = [...destinations.values()][0]!;
      elector = new LeaderElector(first.conn.client, {
        namespace: config.leaderElection.namespace,
        name: config.leaderElection.leaseName,
        identity,
        leaseDurationSeconds: config.leaderElection.leaseDurationSeconds,
        renewDeadlineSeconds: Math.max(2, Math.floor(config.leaderElection.leaseDurationSeconds * (2 / 3))),
        retryPeriodSeconds: Math.max(1, Math.floor(config.leaderElection.leaseDurationSeconds / 5)),
        onStartedLeading: () => {
          log.info({ identity }, 'became leader');
          for (const r of runners) r.trigger('poll');
        },
        onStoppedLeading: () => log.warn({ identity }, 'stopped leading'),
        log: (level, msg, fields) => log[level]({ ...fields, component: 'leader' }, msg),
      });
      elector.start();
    } else {
      for (const r of runners) r.start();
    }

    return new Agent({
      port,
      runners,
      destinations: [...destinations.values()],
      elector,
      audit,
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
    if (this.elector)
      await this.elector
        .release()
        .catch((e: unknown) => this.log.warn({ err: redactUrl(String(e)) }, 'could not release the lease'));
    this.elector?.stop();
    for (const d of this.destinations) {
      d.cache.stop();
      d.conn.client.close();
    }
    await this.closeServer();
    await this.audit.close();
  }
}
