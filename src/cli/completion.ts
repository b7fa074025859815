/**
 * `tether completion bash|zsh|fish`: a shell completion script generated from the commander
 * program itself (commands, subcommands, options, and the values of options with fixed choices),
 * so it cannot fall behind the flags.
 */
import { Argument, Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';

interface OptionSpec {
  long?: string;
  short?: string;
  takesValue: boolean;
  choices?: string[];
  description: string;
}

interface CommandSpec {
  /** Command names from the program down, e.g. ['tether', 'audit', 'verify']. */
  path: string[];
  description: string;
  subcommands: string[];
  options: OptionSpec[];
  /** Fixed values of the first positional argument, if any (e.g. completion's shell). */
  argChoices?: string[];
}

function optionsOf(cmd: Command): OptionSpec[] {
  const opts: OptionSpec[] = cmd.options.map((o) => ({
    ...(o.long ? { long: o.long } : {}),
    ...(o.short ? { short: o.short } : {}),
    takesValue: o.required || o.optional,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
    description: o.description,
  }));
  if (!opts.some((o) => o.long === '--help'))
    opts.push({ long: '--help', short: '-h', takesValue: false, description: 'display help for command' });
  return opts;
}

/** Every command of the program, depth first, the program itself first. */
export function commandSpecs(program: Command, parent: string[] = []): CommandSpec[] {
  const path = [...parent, program.name()];
  const first = program.registeredArguments[0];
  const spec: CommandSpec = {
    path,
    description: program.description(),
    subcommands: program.commands.map((c) => c.name()),
    options: optionsOf(program),
    ...(first?.argChoices ? { argChoices: first.argChoices } : {}),
  };
  return [spec, ...program.commands.flatMap((c) => commandSpecs(c, path))];
}

const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const fnName = (path: string[]): string => `_${path.join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;

export function bashScript(program: Command): string {
  const specs = commandSpecs(program);
  const name = program.name();
  const cases = specs.map((s) => {
    const flags = s.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
    const valued = s.options.filter((o) => o.takesValue);
    const valueCases = valued.map((o) => {
      const pattern = [o.long, o.short].filter(Boolean).join('|');
      const action = o.choices
        ? `COMPREPLY=($(compgen -W ${shellWord(o.choices.join(' '))} -- "$cur"))`
        : `COMPREPLY=($(compgen -f -- "$cur"))`;
      return `        ${pattern}) ${action}; return ;;`;
    });
    const words = [...s.subcommands, ...(s.argChoices ?? [])];
    return [
      `    ${shellWord(s.path.join(' '))})`,
      `      case "$prev" in`,
      ...valueCases,
      `      esac`,
      `      if [[ "$cur" == -* ]]; then`,
      `        COMPREPLY=($(compgen -W ${shellWord(flags.join(' '))} -- "$cur"))`,
      `      else`,
      `        COMPREPLY=($(compgen -W ${shellWord(words.join(' '))} -- "$cur"))`,
      `      fi`,
      `      ;;`,
    ].join('\n');
  });
  const children = specs
    .filter((s) => s.subcommands.length)
    .map((s) => `    ${shellWord(s.path.join(' '))}) subs=${shellWord(s.subcommands.join(' '))} ;;`);
  return `# ${name} completion for bash. Load it with:
#   source <(${name} completion bash)
${fnName([name])}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path=${shellWord(name)} subs i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    subs=''
    case "$path" in
${children.join('\n')}
    esac
    if [[ " $subs " == *" $w "* ]]; then path="$path $w"; fi
  done
  COMPREPLY=()
  case "$path" in
${cases.join('\n')}
  esac
}
complete -o default -F ${fnName([name])} ${name}
`;
}

export function zshScript(program: Command): string {
  const name = program.name();
  return `#compdef ${name}
# ${name} completion for zsh (the bash completion through bashcompinit). Load it with:
#   source <(${name} completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n')}`;
}

export function fishScript(program: Command): string {
  const name = program.name();
  const specs = commandSpecs(program);
  const lines = [
    `# ${name} completion for fish. Load it with:`,
    `#   ${name} completion fish | source`,
    `complete -c ${name} -f`,
  ];
  for (const s of specs) {
    const depth = s.path.length - 1;
    // The command's own words seen, and none of its subcommands yet.
    const seen = s.path.slice(1).map((w) => `__fish_seen_subcommand_from ${w}`);
    const cond =
      depth === 0
        ? '__fish_use_subcommand'
        : [
            ...seen,
            ...(s.subcommands.length ? [`not __fish_seen_subcommand_from ${s.subcommands.join(' ')}`] : []),
          ].join('; and ');
    for (const sub of specs.filter(
      (c) => c.path.length === s.path.length + 1 && c.path.slice(0, -1).join(' ') === s.path.join(' '),
    ))
      lines.push(
        `complete -c ${name} -n ${shellWord(cond)} -a ${shellWord(sub.path.at(-1)!)} -d ${shellWord(sub.description)}`,
      );
    if (s.argChoices)
      lines.push(`complete -c ${name} -n ${shellWord(cond)} -a ${shellWord(s.argChoices.join(' '))}`);
    for (const o of s.options) {
      const parts = [`complete -c ${name} -n ${shellWord(cond)}`];
      if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
      if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
      if (o.takesValue) parts.push(o.choices ? `-x -a ${shellWord(o.choices.join(' '))}` : '-r -F');
      parts.push(`-d ${shellWord(o.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return lines.join('\n') + '\n';
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export function completionScript(program: Command, shell: (typeof SHELLS)[number]): string {
  return shell === 'bash' ? bashScript(program) : shell === 'zsh' ? zshScript(program) : fishScript(program);
}

/** The `completion` command; `program` is read when it runs, so every command is in the script. */
export function completionCommand(program: Command): Command {
  return new Command('completion')
    .description(DESCRIPTIONS.completion)
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices([...SHELLS]))
    .addHelpText(
      'after',
      `
Examples:
  source <(tether completion bash)                  # in ~/.bashrc
  source <(tether completion zsh)                   # in ~/.zshrc
  tether completion fish > ~/.config/fish/completions/tether.fish`,
    )
    .action((shell: (typeof SHELLS)[number]) => {
      process.stdout.write(completionScript(program, shell));
    });
}
