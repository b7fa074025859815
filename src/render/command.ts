import { isAbsolute, join, normalize } from 'node:path';

/**
 * argv of a user-declared renderer command. The command is given as a list and runs
 * without a shell; a relative program path ('./gen.sh') is taken relative to the rendered
 * directory. Nothing from the repository is ever interpolated into a string.
 */
export function commandArgv(command: readonly string[], cwd: string): string[] {
  const [program = '', ...args] = command;
  const resolved = program.includes('/') && !isAbsolute(program) ? normalize(join(cwd, program)) : program;
  return [resolved, ...args];
}
