/** The `tether` command line: one file per command, errors printed as one line plus a hint. */
import { Command, CommanderError } from 'commander';
import { clientVersion } from './client-version.ts';
import { DESCRIPTIONS, LOADERS, isCommandName } from './commands.ts';
import { printError, suggestChoices } from './output.ts';

const program = new Command('tether')
  .description(
    'Keep Kubernetes clusters tethered to Git: server-side apply, drift with field owners, a commit-keyed audit log.',
  )
  .version(clientVersion(), '-V, --version', 'print the client version (tether version adds the server)')
  .option('--debug', 'print stack traces on errors')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  tether sync --repo https://git.example.com/org/deploy.git --path apps/shop -n shop
  tether diff --repo . --ref my-branch --base main --path apps/shop -n shop -o markdown
  tether drift --repo . --path apps/shop -n shop -o junit > drift.xml
  tether agent --config tether.yaml
  tether revert <sha> --repo https://git.example.com/org/deploy.git --push

Run tether <command> --help for the flags and examples of each command.`,
  );

// Only the command that runs is loaded (its module pulls in the cluster client, Git, the audit
// log...); the others are listed by name and description, which is all the top-level help and
// a typo's "did you mean" need. Completion describes every command, so it loads them all.
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// `tether help sync` shows sync's own help: load sync.
const invoked = words[0] === 'help' ? words[1] : words[0];
for (const name of Object.keys(DESCRIPTIONS) as (keyof typeof DESCRIPTIONS)[]) {
  if (name === 'completion') continue;
  const load = invoked === name || invoked === 'completion';
  program.addCommand(load ? await LOADERS[name]() : new Command(name).description(DESCRIPTIONS[name]));
}
if (invoked === 'completion' || !isCommandName(invoked)) {
  const { completionCommand } = await import('./completion.ts');
  program.addCommand(completionCommand(program));
} else program.addCommand(new Command('completion').description(DESCRIPTIONS.completion));
// Did-you-mean for every option and argument with fixed choices (after every command is added).
suggestChoices(program);

// Usage errors must not exit 1: for diff and drift, 1 means "differences found".
const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
for (const c of all(program)) c.exitOverride();

try {
  // `tether` alone is a request for help, not a usage error (commander would exit 1).
  if (process.argv.length <= 2) program.help();
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  printError(e, Boolean(program.opts<{ debug?: boolean }>().debug));
  // diff and drift reserve 1 for "differences found"; an error is always 2.
  process.exitCode = 2;
}
