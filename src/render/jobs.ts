/**
 * What each renderer runs: argv, working directory, environment, and how its output says
 * where each document came from. Writes the render's own files (helm's inline values, the
 * kustomize wrapper) into the scratch directory; starts nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { stringify } from 'yaml';
import { commandArgv } from './command.ts';
import type { RenderDeclaration } from './declaration.ts';
import { helmArgv, helmEnv, helmSources } from './helm.ts';
import { kustomizationIn, type RepoTree } from './kustomize-refs.ts';
import { kustomizeArgv } from './kustomize.ts';
import type { RenderOptions } from './options.ts';
import { stripOrigins, type Origin } from './origin.ts';
import { findTool } from './tools.ts';

export function programPath(decl: RenderDeclaration): string | undefined {
  if (decl.renderer !== 'command') return undefined;
  const program = decl.command[0] ?? '';
  return program.includes('/') ? posix.join(decl.dir, program) : undefined;
}

export interface Job {
  argv: string[];
  name: string;
  cwd: string;
  env: Record<string, string>;
  origins: (out: string) => { text: string; origins: Origin[] };
}

export interface JobContext {
  tree: RepoTree;
  ws: string;
  scratch: string;
  workdir: string;
  searchPath: string;
  opts: RenderOptions;
  fail: (detail: string, hint: string) => never;
}

const noOrigins = (text: string) => ({ text, origins: [] });

export async function jobFor(decl: RenderDeclaration, c: JobContext): Promise<Job> {
  switch (decl.renderer) {
    case 'kustomize':
      return kustomizeJob(decl.dir, c);
    case 'helm': {
      const helm = findTool('helm', c.searchPath);
      if (!helm)
        return c.fail(
          'helm is not installed on the agent',
          'put helm on PATH or set TETHER_HELM to its path',
        );
      const valuesFiles = decl.valuesFiles.map((f) => join(c.ws, ...f.split('/')));
      const inline = [decl.values, c.opts.helmValues].filter(
        (v): v is Record<string, unknown> => v !== undefined,
      );
      for (const [i, values] of inline.entries()) {
        const file = join(c.scratch, `values-${i}.yaml`);
        await writeFile(file, stringify(values), { mode: 0o600 });
        valuesFiles.push(file);
      }
      const argv = helmArgv({
        helm: helm.path,
        release: decl.releaseName ?? c.opts.releaseName ?? 'release',
        chartDir: join(c.ws, ...decl.chart.split('/').filter(Boolean)),
        namespace: c.opts.namespace ?? 'default',
        kubeVersion: await c.opts.kubeVersion?.().catch(() => undefined),
        valuesFiles,
        includeCrds: decl.includeCrds,
      });
      return {
        argv,
        name: 'helm template',
        cwd: c.workdir,
        env: helmEnv(join(c.scratch, 'home')),
        origins: (text) => ({ text, origins: helmSources(text, decl.chart) }),
      };
    }
    case 'command':
      return {
        argv: commandArgv(decl.command, c.workdir),
        name: decl.command.join(' '),
        cwd: c.workdir,
        env: {},
        origins: noOrigins,
      };
  }
}

/**
 * kustomize build of `dir` through a wrapper kustomization in the scratch directory that
 * asks for origin annotations (unless the kustomization is a Component, which cannot be a
 * resource, or asks for them itself, in which case they stay).
 */
async function kustomizeJob(dir: string, c: JobContext): Promise<Job> {
  const found = kustomizeArgv('.', c.searchPath);
  if (!found)
    return c.fail(
      'neither kustomize nor kubectl is installed on the agent',
      'install kustomize or kubectl (it includes kustomize)',
    );
  const own = kustomizationIn(c.tree, dir);
  const text = own ? new TextDecoder().decode(own.content) : '';
  if (/^kind:\s*Component\s*$/m.test(text) || text.includes('originAnnotations'))
    return { argv: found.argv, name: found.name, cwd: c.workdir, env: {}, origins: noOrigins };
  const wrapper = join(c.scratch, 'wrapper');
  const target = relative(wrapper, c.workdir);
  await writeFileDeep(
    join(wrapper, 'kustomization.yaml'),
    stringify({ resources: [target], buildMetadata: ['originAnnotations'] }),
  );
  const prefix = `${relative(wrapper, c.ws)}/`;
  return {
    argv: found.argv,
    name: found.name,
    cwd: wrapper,
    env: {},
    origins: (text) => stripOrigins(text, prefix),
  };
}

async function writeFileDeep(file: string, content: string): Promise<void> {
  await mkdir(posix.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, content, { mode: 0o600 });
}
