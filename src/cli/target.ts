/** Turns command-line flags into the app the pipeline works on. */
import { labelValue } from '../sync/plan.ts';
import { normalizePath, type AppTarget } from '../sync/pipeline.ts';
import type { ClusterFlags, SourceFlags } from './common.ts';
import { UsageError } from './output.ts';

export interface TargetFlags extends SourceFlags, ClusterFlags {
  app?: string;
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
