/**
 * Checks that span several keys, run on the raw data even when the schema fails, so that one
 * run reports every problem. Each looks only at values of the right type and leaves wrong
 * types to the schema.
 */
import { parsePathPattern } from '../fieldset/path.ts';
import { FieldPathError } from '../fieldset/errors.ts';
import { githubRepository, gitlabProject } from '../notify/repository.ts';
import { isRecord } from '../util/object.ts';
import type { PathIssue } from './issues.ts';
import type { KeyPath } from './positions.ts';

/** Line number of a path, for messages that point at a second place. */
type LineOf = (path: KeyPath) => number;

export function crossChecks(raw: unknown, lineOf: LineOf): PathIssue[] {
  if (!isRecord(raw)) return [];
  const apps = listOfRecords(raw['apps']);
  const webhooks = listOfRecords(raw['webhooks']);
  const resources = raw['appResources'];
  const watchesResources = isRecord(resources) && resources['enabled'] === true;
  return [
    ...(Array.isArray(raw['apps']) && raw['apps'].length === 0 && !watchesResources
      ? [
          {
            path: ['apps'],
            message:
              'list at least one app, or set appResources.enabled: true to run the App resources (apps.tether.dev) of the cluster',
          },
        ]
      : []),
    ...(raw['apps'] === undefined && !watchesResources
      ? [{ path: [], message: 'missing apps: list at least one app, or set appResources.enabled: true' }]
      : []),
    ...uniqueNames('apps', 'app', apps, lineOf),
    ...uniqueNames('webhooks', 'webhook', webhooks, lineOf),
    ...webhooks.flatMap(([i, w]) => webhookSecret(i, w)),
    ...apps.flatMap(([i, app]) => [
      ...verifyKeys(i, app),
      ...ignoreRules(i, app),
      ...destinationAllowed(i, app),
      ...notifications(i, app),
    ]),
  ];
}

function uniqueNames(list: string, what: string, items: [number, Record<string, unknown>][], lineOf: LineOf) {
  const issues: PathIssue[] = [];
  const first = new Map<string, number>();
  for (const [i, item] of items) {
    const name = item['name'];
    if (typeof name !== 'string') continue;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else
      issues.push({
        path: [list, i, 'name'],
        message: `duplicate ${what} name ${JSON.stringify(name)}, first defined at line ${lineOf([list, seen, 'name'])} (${list}[${seen}].name)`,
      });
  }
  return issues;
}

function webhookSecret(i: number, w: Record<string, unknown>): PathIssue[] {
  if (w['secretFile'] !== undefined && w['secretEnv'] !== undefined)
    return [{ path: ['webhooks', i, 'secretEnv'], message: 'set only one of secretFile and secretEnv' }];
  if (w['secretFile'] === undefined && w['secretEnv'] === undefined)
    return [
      {
        path: ['webhooks', i],
        message: 'missing secretFile or secretEnv (a file or environment variable holding the shared secret)',
      },
    ];
  return [];
}

function verifyKeys(i: number, app: Record<string, unknown>): PathIssue[] {
  const source = app['source'];
  const verify = isRecord(source) ? source['verify'] : undefined;
  if (!isRecord(verify) || verify['mode'] !== 'required') return [];
  if (verify['pgpKeysFile'] !== undefined || verify['sshKeysFile'] !== undefined) return [];
  return [
    {
      path: ['apps', i, 'source', 'verify'],
      message: 'mode required needs pgpKeysFile or sshKeysFile: the keys whose signatures are trusted',
    },
  ];
}

/** The destination namespace is where unnamespaced objects and the inventory go: it must be allowed too. */
function destinationAllowed(i: number, app: Record<string, unknown>): PathIssue[] {
  const d = app['destination'];
  if (!isRecord(d) || !Array.isArray(d['allowedNamespaces'])) return [];
  const namespace = d['namespace'] ?? 'default';
  if (typeof namespace !== 'string' || d['allowedNamespaces'].includes(namespace)) return [];
  return [
    {
      path: ['apps', i, 'destination', d['namespace'] === undefined ? 'allowedNamespaces' : 'namespace'],
      message: `the destination namespace ${JSON.stringify(namespace)} is not in allowedNamespaces; add it there, or choose an allowed namespace`,
    },
  ];
}

/** Where each commit status goes must be known, a Slack URL given once, and names unique. */
function notifications(i: number, app: Record<string, unknown>): PathIssue[] {
  const list = listOfRecords(app['notifications']);
  const source = app['source'];
  const repo = isRecord(source) && typeof source['repo'] === 'string' ? source['repo'] : undefined;
  const issues: PathIssue[] = [];
  const names = new Map<string, number>();
  for (const [j, n] of list) {
    const at: KeyPath = ['apps', i, 'notifications', j];
    const name = typeof n['name'] === 'string' ? n['name'] : n['type'];
    if (typeof name === 'string' && n['name'] !== undefined) {
      const seen = names.get(name);
      if (seen !== undefined)
        issues.push({
          path: [...at, 'name'],
          message: `duplicate notifier name ${JSON.stringify(name)}, first used by notifications[${seen}]`,
        });
      else names.set(name, j);
    }
    if (
      n['type'] === 'github' &&
      n['repository'] === undefined &&
      repo !== undefined &&
      !githubRepository(repo)
    )
      issues.push({
        path: at,
        message: "missing repository (owner/repo): the app's repository is not on github.com",
      });
    if (n['type'] === 'gitlab' && n['project'] === undefined && repo !== undefined && !gitlabProject(repo))
      issues.push({
        path: at,
        message: "missing project (id or group/project): the app's repository is not on gitlab.com",
      });
    if (n['type'] === 'slack' && (n['url'] === undefined) === (n['urlFile'] === undefined))
      issues.push({
        path: at,
        message:
          'set exactly one of url and urlFile (the incoming-webhook URL is a secret: urlFile keeps it out of the config)',
      });
  }
  return issues;
}

function ignoreRules(i: number, app: Record<string, unknown>): PathIssue[] {
  const sync = app['sync'];
  const rules = listOfRecords(isRecord(sync) ? sync['ignore'] : undefined);
  const issues: PathIssue[] = [];
  for (const [j, rule] of rules) {
    const at: KeyPath = ['apps', i, 'sync', 'ignore', j];
    if (!['paths', 'kinds', 'names', 'managers'].some((k) => rule[k] !== undefined)) {
      issues.push({
        path: at,
        message:
          'an ignore rule needs paths, kinds, names or managers; an empty rule would ignore everything',
      });
    }
    const paths = rule['paths'];
    if (!Array.isArray(paths)) continue;
    paths.forEach((p: unknown, k) => {
      // JSON pointers (`/spec/replicas`) need no parsing.
      if (typeof p !== 'string' || p === '' || p.startsWith('/')) return;
      try {
        parsePathPattern(p);
      } catch (err) {
        if (!(err instanceof FieldPathError)) throw err;
        issues.push({ path: [...at, 'paths', k], message: err.message });
      }
    });
  }
  return issues;
}

function listOfRecords(v: unknown): [number, Record<string, unknown>][] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item: unknown, i): [number, Record<string, unknown>][] =>
    isRecord(item) ? [[i, item]] : [],
  );
}
