/** `tether agent`: run the configured apps continuously. */
import { Command, Option } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { Agent } from '../agent/agent.ts';
import { createLogger, defaultLogFormat, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../agent/logger.ts';
import { loadConfig, parseListen } from '../config/index.ts';
import { UsageError } from './output.ts';

interface AgentFlags {
  config?: string;
  logLevel?: string;
  logFormat?: LogFormat;
  listen?: string;
  auditLog?: string;
}

/** The --listen flag checked before the config is read: a bad address is a usage error. */
export function checkListenFlag(listen: string): void {
  if (parseListen(listen) === undefined)
    throw new UsageError(`--listen ${JSON.stringify(listen)} is not host:port`, {
      hint: 'e.g. --listen 127.0.0.1:9090, --listen :9090 (every interface) or --listen [::1]:9090',
    });
}

export function agentCommand(): Command {
  return new Command('agent')
    .description(DESCRIPTIONS.agent)
    .requiredOption(
      '--config <file>',
      'config file (apps, sources, destinations, sync settings; re-read when it changes)',
    )
    .addOption(
      new Option('--log-level <level>', 'log level (default: the config file, else info)').choices([
        ...LOG_LEVELS,
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines as JSON, or as text for people (default: text on a terminal, else json)',
      ).choices([...LOG_FORMATS]),
    )
    .option(
      '--listen <host:port>',
      'address of /metrics, /healthz, /readyz, /status and /webhook/<name>; :port means every interface (0.0.0.0), as in Go (default: the config file, else 127.0.0.1:9090)',
    )
    .option('--audit-log <file>', 'audit log file (default: the config file, else .tether/audit.jsonl)')
    .addHelpText(
      'after',
      `
Each app is reconciled on its interval (with jitter), on a signed webhook push, and within a
second of an out-of-band change to one of its objects. Logs go to stderr: JSON lines, or
text lines when stderr is a terminal (--log-format chooses).
SIGTERM finishes (or abandons) the reconcile under way and releases the leader lease.

The config file is re-read every 2 s: changed apps take effect without a restart; an invalid
file is refused (file:line on the log and /status) and the last good one keeps running.
With appResources: {enabled: true} in it, the agent also runs the cluster's App resources
(apps.tether.dev; tether install-crds), writes their status, and honours
tether reconcile|suspend|resume app at once.

At start the agent replaces itself (same pid) with a Node tuned for a small footprint:
--optimize-for-size --expose-gc, MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=65536.
TETHER_AGENT_NODE_FLAGS replaces the Node flags; TETHER_AGENT_TUNING=off keeps the defaults.

Examples:
  tether agent --config tether.yaml
  tether agent --config tether.yaml --listen :9090 --log-level debug --log-format json
  curl -s localhost:9090/status; tether status`,
    )
    .action(async (flags: AgentFlags) => {
      if (flags.listen !== undefined) checkListenFlag(flags.listen);
      const config = await loadConfig(flags.config!);
      if (flags.listen) config.listen = flags.listen;
      if (flags.auditLog) config.auditLog = flags.auditLog;
      const log = createLogger(flags.logLevel ?? config.logLevel, flags.logFormat ?? defaultLogFormat());
      const agent = await Agent.start({ config, log });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'shutting down');
          agent.stop().then(resolve, (e: unknown) => {
            log.error({ err: String(e) }, 'shutdown failed');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
