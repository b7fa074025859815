/** `tether agent`: run the configured apps continuously. */
import { Command } from 'commander';
import { Agent } from '../agent/agent.ts';
import { createLogger } from '../agent/logger.ts';
import { loadConfig } from '../config/index.ts';

interface AgentFlags {
  config?: string;
  logLevel?: string;
  listen?: string;
  auditLog?: string;
}

export function agentCommand(): Command {
  return new Command('agent')
    .description(
      'run Tether continuously for the apps of a config file (poll, webhooks, watch, apply or report)',
    )
    .requiredOption('--config <file>', 'config file (apps, sources, destinations, sync settings)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (default: the config file, else info)')
    .option('--listen <host:port>', 'address of /metrics, /healthz, /readyz, /status and /webhook/<name>')
    .option('--audit-log <file>', 'audit log file (default: the config file, else .tether/audit.jsonl)')
    .addHelpText(
      'after',
      `
Each app is reconciled on its interval (with jitter), on a signed webhook push, and within a
second of an out-of-band change to one of its objects. Logs are JSON lines on stderr.
SIGTERM finishes (or abandons) the reconcile under way and releases the leader lease.

At start the agent replaces itself (same pid) with a Node tuned for a small footprint:
--optimize-for-size --expose-gc, MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=65536.
TETHER_AGENT_NODE_FLAGS replaces the Node flags; TETHER_AGENT_TUNING=off keeps the defaults.

Examples:
  tether agent --config tether.yaml
  tether agent --config tether.yaml --listen 0.0.0.0:9090 --log-level debug
  curl -s localhost:9090/status; tether status`,
    )
    .action(async (flags: AgentFlags) => {
      const config = await loadConfig(flags.config!);
      if (flags.listen) config.listen = flags.listen;
      if (flags.auditLog) config.auditLog = flags.auditLog;
      const log = createLogger(flags.logLevel ?? config.logLevel);
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
