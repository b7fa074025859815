/** The `tether` command line: one file per command, errors printed as one line plus a hint. */
import { Command } from 'commander';
import { printError } from './output.ts';
import { agentCommand } from './agent.ts';
import { auditCommand } from './audit.ts';
import { diffCommand } from './diff.ts';
import { driftCommand } from './drift.ts';
import { revertCommand } from './revert.ts';
import { statusCommand } from './status.ts';
import { syncCommand } from './sync.ts';

const program = new Command('tether')
  .description(
    'Keep Kubernetes clusters tethered to Git: server-side apply, drift with field owners, a commit-keyed audit log.',
  )
  .option('--debug', 'print stack traces on errors')
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(syncCommand())
  .addCommand(diffCommand())
  .addCommand(driftCommand())
  .addCommand(agentCommand())
  .addCommand(auditCommand())
  .addCommand(statusCommand())
  .addCommand(revertCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  printError(e, Boolean(program.opts<{ debug?: boolean }>().debug));
  // diff and drift reserve 1 for "differences found"; an error is always 2.
  process.exitCode = 2;
}
