/**
 * action.yml is a well-formed composite action: every input and output documented, every
 * `run` step with a shell, the scripts it runs present, and no `${{ }}` expression inside a
 * `run` script (inputs reach the scripts as environment variables only, so a branch name or a
 * path can never inject shell code).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '../../..');

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string; value?: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(resolve(root, 'action.yml'), 'utf8')) as Action;
const steps = action.runs.steps;
const expressions = (s: string) => [...s.matchAll(/\$\{\{\s*(.*?)\s*\}\}/g)].map((m) => m[1]!);

describe('action.yml', () => {
  it('is a composite action with a name and a description', () => {
    expect(action.runs.using).toBe('composite');
    expect(action.name).toBe('Tether');
    expect(action.description.length).toBeGreaterThan(20);
  });

  it('documents every input and output', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description, name).toMatch(/\w{3}/);
      if (!input.required) expect(input.default, `${name} needs a default`).toBeTypeOf('string');
    }
    for (const [name, output] of Object.entries(action.outputs)) {
      expect(output.description, name).toMatch(/\w{3}/);
      expect(output.value, name).toMatch(/^\$\{\{ steps\.run\.outputs\.[\w-]+ \}\}$/);
    }
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining([
        'command',
        'repo',
        'ref',
        'base',
        'path',
        'app',
        'config',
        'namespace',
        'kubeconfig',
        'version',
        'github-token',
        'comment',
      ]),
    );
    expect(action.inputs['github-token']!.default).toBe('${{ github.token }}');
    expect(action.inputs.comment!.default).toBe('true');
  });

  it('gives every run step a shell, and runs only scripts that exist', () => {
    for (const step of steps) {
      if (step.uses) {
        expect(step.uses).toMatch(/^actions\/setup-node@v\d+$/);
        expect(step.with?.['node-version']).toBe(24);
        continue;
      }
      expect(step.shell, step.name).toBe('bash');
      expect(step.run, step.name).toBeTypeOf('string');
      for (const m of step.run!.matchAll(/"\$ACTION_PATH\/([\w./-]+)"/g))
        expect(existsSync(resolve(root, m[1]!)), m[1]).toBe(true);
    }
    expect(steps.map((s) => s.id).filter(Boolean)).toEqual(['install', 'run']);
  });

  it('never puts an expression into a run script, and refers only to inputs that exist', () => {
    const ids = new Set(steps.map((s) => s.id));
    for (const step of steps) {
      expect(expressions(step.run ?? ''), step.name).toEqual([]);
      const used = [
        ...Object.values(step.env ?? {}).flatMap(expressions),
        ...expressions(step.name ?? ''),
        ...(step.if ? [step.if] : []),
      ];
      for (const e of used) {
        for (const m of e.matchAll(/inputs\.([\w-]+)/g)) expect(action.inputs, e).toHaveProperty([m[1]!]);
        for (const m of e.matchAll(/steps\.([\w-]+)\./g)) expect(ids.has(m[1]), e).toBe(true);
      }
    }
  });

  it('passes the token to the comment step only, never in a command line', () => {
    const withToken = steps.filter((s) => Object.values(s.env ?? {}).some((v) => v.includes('github-token')));
    expect(withToken.map((s) => s.id)).toEqual(['run']);
    const script = readFileSync(resolve(root, 'action/run.sh'), 'utf8');
    expect(script).not.toMatch(/\$\{?GITHUB_TOKEN/);
  });
});
