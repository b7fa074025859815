/**
 * `tether version` (and `tether --version`): the client's version from package.json and, when
 * a kubeconfig is found and the API server answers GET /version within a few seconds, the
 * server's. An unreachable cluster is not an error: the client version is still printed.
 */
import { Command } from 'commander';
import { clientVersion } from './client-version.ts';
import { DESCRIPTIONS } from './commands.ts';
import { stringify } from 'yaml';
import { outputOption } from './common.ts';

/** The version in package.json (src/cli/ and dist/cli/ are both two levels below it). */
export { clientVersion };

export interface VersionInfo {
  clientVersion: { gitVersion: string };
  serverVersion?: { gitVersion: string; major?: string; minor?: string; platform?: string };
}

const SERVER_TIMEOUT_MS = 3_000;

/** The server's /version, or undefined when there is no kubeconfig or no answer in time. */
export async function serverVersion(options: {
  kubeconfig?: string;
  context?: string;
}): Promise<VersionInfo['serverVersion'] | { error: string }> {
  try {
    // Loaded only here: `tether version --client` stays as quick as `--help`.
    const { KubeClient } = await import('../cluster/client.ts');
    const client = await KubeClient.create({ ...options, timeoutMs: SERVER_TIMEOUT_MS });
    try {
      const v = await client.request<{
        gitVersion: string;
        major?: string;
        minor?: string;
        platform?: string;
      }>({
        method: 'GET',
        path: '/version',
      });
      return { gitVersion: v.gitVersion, major: v.major, minor: v.minor, platform: v.platform };
    } finally {
      client.close();
    }
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export function formatVersion(info: VersionInfo, output: string): string {
  if (output === 'json') return JSON.stringify(info, null, 2) + '\n';
  if (output === 'yaml') return stringify(info);
  let text = `Client Version: ${info.clientVersion.gitVersion}\n`;
  if (info.serverVersion) text += `Server Version: ${info.serverVersion.gitVersion}\n`;
  return text;
}

export function versionCommand(): Command {
  return new Command('version')
    .description(DESCRIPTIONS.version)
    .option('--client', 'print the client version only (no cluster connection)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .addOption(outputOption(['text', 'json', 'yaml']))
    .addHelpText(
      'after',
      `
The server version needs a kubeconfig and an answer to GET /version within ${SERVER_TIMEOUT_MS / 1000} s;
otherwise only the client version is printed (the reason goes to stderr) and the exit code is 0.

Examples:
  tether version
  tether version --client -o json
  tether --version`,
    )
    .action(async (flags: { client?: boolean; kubeconfig?: string; context?: string; output: string }) => {
      const info: VersionInfo = { clientVersion: { gitVersion: clientVersion() } };
      if (!flags.client) {
        const server = await serverVersion({
          ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
          ...(flags.context !== undefined && { context: flags.context }),
        });
        if (server && 'error' in server)
          process.stderr.write(`Server Version: unavailable (${server.error})\n`);
        else if (server) info.serverVersion = server;
      }
      process.stdout.write(formatVersion(info, flags.output));
    });
}
