/** Turns command-line flags into the app the pipeline works on. */
import type { Command } from 'commander';
import type { IgnoreRule } from '../diff/index.ts';
import { labelValue } from '../sync/plan.ts';
import { normalizePath, type AppTarget } from '../sync/pipeline.ts';
import type { ClusterFlags, SourceFlags } from './common.ts';
import { UsageError } from './output.ts';

export interface TargetFlags extends SourceFlags, ClusterFlags {
  app?: string;
  ignoreField?: string[];
  ignoreManager?: string[];
}

/** --ignore-field and --ignore-manager as ignore rules (each flag is a rule of its own). */
export function ignoreRulesFromFlags(flags: TargetFlags): IgnoreRule[] {
  return [
    ...(flags.ignoreField?.length ? [{ paths: flags.ignoreField }] : []),
    ...(flags.ignoreManager?.length ? [{ managers: flags.ignoreManager }] : []),
  ];
}

export function addIgnoreFlags(cmd: Command): Command {
  return cmd
    .option(
      '--ignore-field <path...>',
      'never report or apply this field (e.g. .spec.replicas or /spec/replicas)',
    )
    .option(
      '--ignore-manager <name...>',
      'never report or apply fields this field manager owns (e.g. an autoscaler)',
    );
}

/** Default app name: the manifests directory's last segment, else the repository's name. */
function defaultApp(repo: string, path: string): string {
  const last = (s: string) => s.replace(/\/+$/, '').split('/').pop() ?? '';
  return labelValue(path ? last(path) : last(repo).replace(/\.git$/, ''));
}

export function targetFromFlags(flags: TargetFlags, command: string): AppTarget {
  if (!flags.repo) {
    throw new UsageError('--repo is required', {
      hint: `tether ${command} --repo https://git.example.com/org/deploy.git --path apps/shop -n shop`,
    });
  }
  const path = normalizePath(flags.path);
  return {
    name: flags.app ? labelValue(flags.app) : defaultApp(flags.repo, path),
    source: { repo: flags.repo, ...(flags.ref ? { ref: flags.ref } : {}) },
    path,
    namespace: flags.namespace ?? 'default',
  };
}
