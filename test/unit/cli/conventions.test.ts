/** kubectl's conventions: one result shape for sync and drift, did-you-mean, completion, listen. */
import { Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentCommand } from '../../../src/cli/agent.ts';
import { completionCommand, completionScript } from '../../../src/cli/completion.ts';
import { diffCommand } from '../../../src/cli/diff.ts';
import { driftCommand } from '../../../src/cli/drift.ts';
import { closest, levenshtein, suggestChoices } from '../../../src/cli/output.ts';
import { resultsJson, serialize } from '../../../src/cli/result-json.ts';
import { statusCommand } from '../../../src/cli/status.ts';
import { syncCommand } from '../../../src/cli/sync.ts';
import { defaultLogFormat, formatLogLine } from '../../../src/agent/logger.ts';
import { parseListen } from '../../../src/config/listen.ts';
import type { ObjectResult } from '../../../src/sync/outcome.ts';

const owner = { manager: 'kubectl-edit', operation: 'Update' as const, time: '2026-01-01T00:00:00Z' };
const drifted: ObjectResult = {
  id: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
  source: { file: 'apps/shop/deploy.yaml', line: 3, column: 1 },
  status: 'drifted',
  fields: [{ path: '.spec.replicas', desired: 2, live: 5, owners: [owner] }],
  conflicts: [],
};
const conflict: ObjectResult = {
  id: { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'cfg' },
  source: { file: 'apps/shop/cfg.yaml', line: 1, column: 1 },
  status: 'conflict',
  fields: [],
  conflicts: [{ path: ".data['a']", desired: 'x', live: 'y', owners: [{ ...owner, time: undefined }] }],
  message: 'owned by another applier',
};

function program(): Command {
  const p = new Command('tether')
    .option('--debug', 'print stack traces on errors')
    .addCommand(syncCommand())
    .addCommand(diffCommand())
    .addCommand(driftCommand())
    .addCommand(agentCommand())
    .addCommand(statusCommand());
  p.addCommand(completionCommand(p));
  suggestChoices(p);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(p)) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return p;
}

async function parseError(args: string[]): Promise<CommanderError> {
  try {
    await program().parseAsync(['node', 'tether', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

describe('resultsJson', () => {
  it("has drift's documented keys plus app, file, line and health", () => {
    const json = resultsJson('abc123', 'shop', [drifted]);
    expect(json).toEqual({
      commit: 'abc123',
      app: 'shop',
      health: null,
      objects: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'shop',
          name: 'web',
          status: 'drifted',
          fields: [{ path: '.spec.replicas', desired: 2, live: 5, owners: [owner] }],
          file: 'apps/shop/deploy.yaml',
          line: 3,
          health: null,
        },
      ],
    });
    // A judged object carries its health, and the app its summary (worst wins).
    const judged = resultsJson('abc123', 'shop', [
      { ...drifted, health: { status: 'InProgress', reason: 'LessReady', message: '1 of 2 ready' } },
    ]);
    expect(judged.health).toEqual({ status: 'InProgress' });
    expect(judged.objects[0]?.health).toEqual({
      status: 'InProgress',
      reason: 'LessReady',
      message: '1 of 2 ready',
    });
  });

  it("lists sync's conflicting fields among the fields, owners' missing times as null", () => {
    const [o] = resultsJson('abc', 'shop', [conflict]).objects;
    expect(o?.apiVersion).toBe('v1');
    expect(o?.fields).toEqual([
      { path: ".data['a']", desired: 'x', live: 'y', owners: [{ ...owner, time: null }] },
    ]);
    expect(o?.message).toBe('owned by another applier');
  });

  it('serializes the same object as JSON and YAML', () => {
    const json = resultsJson('abc', 'shop', [drifted, conflict]);
    expect(JSON.parse(serialize(json, 'json'))).toEqual(json);
    expect(parse(serialize(json, 'yaml'))).toEqual(json);
  });
});

describe('did you mean', () => {
  it('measures edit distance', () => {
    expect(levenshtein('jsn', 'json')).toBe(1);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
  });

  it('suggests the closest choice only when it is close', () => {
    expect(closest('jsn', ['text', 'json', 'yaml'])).toBe('json');
    expect(closest('ymal', ['text', 'json', 'yaml'])).toBe('yaml');
    expect(closest('mark', ['text', 'json', 'markdown'])).toBe('markdown');
    expect(closest('verbose', ['trace', 'debug', 'info', 'warn', 'error'])).toBeUndefined();
  });

  it('adds the suggestion to commander errors of options and arguments', async () => {
    const e = await parseError(['sync', '-o', 'jsn']);
    expect(e.code).toBe('commander.invalidArgument');
    expect(e.message).toContain("argument 'jsn' is invalid");
    expect(e.message).toContain('Allowed choices are text, json, yaml. Did you mean json?');
    expect((await parseError(['completion', 'bsh'])).message).toContain('Did you mean bash?');
    expect((await parseError(['agent', '--config', 'x', '--log-level', 'verbose'])).message).toContain(
      'Allowed choices are trace, debug, info, warn, error.',
    );
  });

  it('accepts -o yaml wherever -o json is accepted', () => {
    for (const cmd of ['sync', 'drift', 'diff', 'status']) {
      const sub = program().commands.find((c) => c.name() === cmd)!;
      const output = sub.options.find((o) => o.long === '--output')!;
      expect(output.argChoices).toContain('json');
      expect(output.argChoices).toContain('yaml');
    }
  });
});

describe('completion', () => {
  const p = program();
  const names = (c: Command): string[] => [c.name(), ...c.commands.flatMap(names)];
  const longs = (c: Command): string[] => [
    ...c.options.map((o) => o.long!).filter(Boolean),
    ...c.commands.flatMap(longs),
  ];

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`${shell}: names every command and option, and the values of -o`, () => {
      const script = completionScript(p, shell);
      for (const n of names(p).slice(1)) expect(script).toContain(n);
      for (const l of longs(p)) expect(script).toContain(shell === 'fish' ? `-l ${l.replace(/^--/, '')}` : l);
      expect(script).toContain('--prune');
      expect(script).toMatch(/text json yaml markdown junit/);
      expect(script).toMatch(/trace debug info warn error/);
    });
  }
});

describe('listen', () => {
  it('reads host:port, [v6]:port, and :port as every interface (as Go)', () => {
    expect(parseListen('127.0.0.1:9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen(':9090')).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(parseListen(':0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('9090')).toBeUndefined();
    expect(parseListen(':99999')).toBeUndefined();
    expect(parseListen('a b:1')).toBeUndefined();
  });

  it('refuses a bad --listen before reading the config', async () => {
    await expect(
      program().parseAsync(['node', 'tether', 'agent', '--config', 'nope.yaml', '--listen', '9090']),
    ).rejects.toThrow(/--listen "9090" is not host:port/);
  });
});

describe('log format', () => {
  it('defaults to text on a terminal, JSON otherwise', () => {
    expect(defaultLogFormat(true)).toBe('text');
    expect(defaultLogFormat(false)).toBe('json');
  });

  it('renders a JSON line as time, level, message and key=value', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-01-01T00:00:00.000Z',
      component: 'tether-agent',
      app: 'shop',
      commit: 'abc',
      n: 2,
      why: 'two words',
      msg: 'applied',
    });
    expect(formatLogLine(line)).toBe(
      '2026-01-01T00:00:00.000Z INFO  applied app=shop commit=abc n=2 why="two words"\n',
    );
    expect(formatLogLine('not json')).toBe('not json\n');
  });
});
