/** `tether revert <revision>`: rollback as a new commit that the agent then applies like any other. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { describeSource, readSnapshot, revertCommit } from '../source/index.ts';
import { isRemote } from '../source/credentials.ts';
import { shortSha } from '../util/sha.ts';
import { KNOWN_HOSTS_HELP, outputOption, SSH_KEY_HELP } from './common.ts';
import { UsageError } from './output.ts';
import { escapeName } from '../util/escape.ts';

interface RevertFlags {
  repo?: string;
  ref?: string;
  push?: boolean;
  mainline?: string;
  author?: string;
  sshKey?: string;
  knownHosts?: string;
  output: 'text' | 'json';
}

function parseAuthor(text: string): { name: string; email: string } {
  const m = /^\s*(.+?)\s*<([^>]+)>\s*$/.exec(text);
  if (!m)
    throw new UsageError(`--author ${JSON.stringify(text)}: expected "Name <email>"`, {
      hint: '--author "Jane Doe <jane@example.com>"',
    });
  return { name: m[1]!, email: m[2]! };
}

/** Single-quotes `text` for a POSIX shell when it needs it. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that puts an unpushed revert on a branch of a local repository (the commit is
 * only reachable by its sha there, and git's gc may prune it); undefined for a remote one,
 * where the commit exists only in tether's cache.
 */
function branchCommand(repo: string, sha: string): string | undefined {
  if (isRemote(repo)) return undefined;
  return `git -C ${shellQuote(repo)} branch revert-${shortSha(sha)} ${sha}`;
}

function unpushedNote(repo: string, sha: string): string {
  const command = branchCommand(repo, sha);
  if (!command) {
    return `not pushed: the revert is commit ${sha}, only in tether's cache; run again with --push to publish it\n`;
  }
  return (
    `not pushed: the revert is commit ${sha}, not on any branch yet: ${command}\n` +
    '  (or run again with --push to put it on the branch)\n'
  );
}

export function revertCommand(): Command {
  return new Command('revert')
    .description(DESCRIPTIONS.revert)
    .argument(
      '<revision>',
      'the commit to revert: a sha (full, or at least 4 leading hex digits as git log --oneline prints), HEAD~N, rev^, a tag',
    )
    .option(
      '--repo <url|path>',
      'Git repository: an https:// or ssh:// URL (or git@host:org/repo.git), or a local path',
    )
    .option('--ssh-key <file>', SSH_KEY_HELP)
    .option('--known-hosts <file>', KNOWN_HOSTS_HELP)
    .option('--ref <branch>', 'branch to put the revert on (default: the repository HEAD)')
    .option(
      '--push',
      'push the revert commit (refused if the branch moved meanwhile, or is checked out in a local repository)',
    )
    .option(
      '--mainline <n>',
      'for a merge commit: the parent number to revert against (1 = the branch merged into)',
    )
    .option(
      '--author <"Name <email>">',
      'author of the revert (default: GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, else git config user.name and user.email)',
    )
    .addOption(outputOption(['text', 'json']))
    .addHelpText(
      'after',
      `
The revert is computed file by file with a three-way merge: what the commit changed is
restored where later commits did not touch it. A conflict names the files and writes
nothing. The message names the reverted sha, so the audit log links the two.

Examples:
  tether revert 4f1c2e0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d --repo https://bot@git.example.com/org/deploy.git --push
  tether revert 4f1c2e0 --repo . --ref main --push
  tether revert 4f1c2e0 --repo git@github.com:org/deploy.git --ssh-key deploy-key --known-hosts known_hosts --push
  GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@example.com tether revert HEAD~2 --repo . --ref main --push`,
    )
    .action(async (revision: string, flags: RevertFlags) => {
      if (!flags.repo)
        throw new UsageError('--repo is required', {
          hint: 'tether revert <revision> --repo https://git.example.com/org/deploy.git --push',
        });
      const spec = {
        repo: flags.repo,
        ...(flags.ref ? { ref: flags.ref } : {}),
        ...(flags.sshKey !== undefined ? { sshKeyFile: resolve(flags.sshKey) } : {}),
        ...(flags.knownHosts !== undefined ? { knownHostsFile: resolve(flags.knownHosts) } : {}),
      };
      const mainline = flags.mainline === undefined ? undefined : Number(flags.mainline);
      const result = await revertCommit(spec, revision, {
        push: Boolean(flags.push),
        ...(mainline !== undefined ? { mainline } : {}),
        ...(flags.author ? { author: parseAuthor(flags.author) } : {}),
      });
      const reverted = (await readSnapshot(spec, { sha: result.sha, path: '.' }).catch(() => undefined))
        ?.commit;
      if (flags.output === 'json') {
        const reach = result.pushed ? {} : { branchCommand: branchCommand(flags.repo, result.sha) ?? null };
        process.stdout.write(
          JSON.stringify({ ...result, message: reverted?.message ?? null, ...reach }, null, 2) + '\n',
        );
        return;
      }
      process.stdout.write(`${result.sha} reverts ${shortSha(result.revertOf)} on ${describeSource(spec)}\n`);
      if (reverted) process.stdout.write(`  ${reverted.message.split('\n')[0]}\n`);
      for (const f of result.files) process.stdout.write(`  ${f.action.padEnd(8)} ${escapeName(f.path)}\n`);
      process.stdout.write(
        result.pushed
          ? 'pushed: the agent applies it at its next poll (or webhook)\n'
          : unpushedNote(flags.repo, result.sha),
      );
    });
}
