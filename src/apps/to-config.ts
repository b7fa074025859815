/**
 * An App resource as a config file's app, pure: the spec is mapped onto the config's keys and
 * checked with the config's own rules, so both ways of declaring an app mean the same. What
 * differs is deliberate: the name is metadata.name; `spec.prune` and `spec.suspend` sit at the
 * top as in Flux; credentials come from Secrets in the App's namespace (secretRef), never from
 * the agent's files; the destination is the cluster the App lives in; and a resource may not
 * enable command renderers, which would run a tenant's programs inside the agent.
 */
import { checkApp, formatPath, isRemoteRepo, type AppConfig, type PathIssue } from '../config/index.ts';
import type { KeyPath } from '../config/positions.ts';
import { isRecord } from '../util/object.ts';
import type { AppResource } from './resource.ts';

/** Keys of a source Secret, as Flux's GitRepository reads them, and the config key each fills. */
export const SOURCE_SECRET_KEYS = {
  username: 'usernameFile',
  password: 'passwordFile',
  identity: 'sshKeyFile',
  known_hosts: 'knownHostsFile',
  'ca.crt': 'caFile',
} as const;

/** Keys of a signature-verification Secret. */
export const VERIFY_SECRET_KEYS = { 'pgp.asc': 'pgpKeysFile', 'ssh-keys': 'sshKeysFile' } as const;

/** The config key a notifier's secretRef fills, and the Secret key read by default. */
const NOTIFIER_SECRET: Record<string, { file: string; key: string }> = {
  github: { file: 'tokenFile', key: 'token' },
  gitlab: { file: 'tokenFile', key: 'token' },
  webhook: { file: 'secretFile', key: 'secret' },
  slack: { file: 'urlFile', key: 'url' },
};

/** A Secret key the App reads, and whether the App works without it. */
export interface SecretNeed {
  secret: string;
  key: string;
  required: boolean;
}

/** Where a materialized Secret key lies (secrets.ts), or undefined when the Secret lacks it. */
export type SecretFileOf = (secret: string, key: string) => string | undefined;

/** The Secret keys an App's spec refers to. */
export function secretsOf(r: AppResource): SecretNeed[] {
  const spec = r.spec ?? {};
  const needs: SecretNeed[] = [];
  const source = spec.source;
  const ref = (v: unknown): string | undefined =>
    isRecord(v) && typeof v['name'] === 'string' ? v['name'] : undefined;
  const sourceSecret = ref(source?.secretRef);
  if (sourceSecret)
    for (const key of Object.keys(SOURCE_SECRET_KEYS))
      needs.push({ secret: sourceSecret, key, required: false });
  const verifySecret = ref(isRecord(source?.verify) ? source.verify['secretRef'] : undefined);
  if (verifySecret)
    for (const key of Object.keys(VERIFY_SECRET_KEYS))
      needs.push({ secret: verifySecret, key, required: false });
  for (const n of spec.notifications ?? []) {
    const secret = ref(n.secretRef);
    const kind = NOTIFIER_SECRET[String(n['type'])];
    if (!secret || !kind) continue;
    needs.push({ secret, key: n.secretRef?.key ?? kind.key, required: true });
  }
  return needs;
}

/** The spec as a config file's app (not yet checked). */
export function rawAppOf(r: AppResource, fileOf: SecretFileOf): Record<string, unknown> {
  const spec = r.spec ?? {};
  const { secretRef: sourceRef, verify, ...source } = spec.source ?? {};
  const raw: Record<string, unknown> = { name: r.metadata.name };
  if (spec.source !== undefined) {
    const out: Record<string, unknown> = { ...source };
    if (isRecord(sourceRef) && typeof sourceRef['name'] === 'string')
      for (const [key, configKey] of Object.entries(SOURCE_SECRET_KEYS)) {
        const file = fileOf(sourceRef['name'], key);
        if (file) out[configKey] = file;
      }
    if (isRecord(verify)) {
      const { secretRef, ...rest } = verify;
      const v: Record<string, unknown> = { ...rest };
      if (isRecord(secretRef) && typeof secretRef['name'] === 'string')
        for (const [key, configKey] of Object.entries(VERIFY_SECRET_KEYS)) {
          const file = fileOf(secretRef['name'], key);
          if (file) v[configKey] = file;
        }
      out['verify'] = v;
    }
    raw['source'] = out;
  }
  raw['destination'] = { namespace: r.metadata.namespace, ...(spec.destination ?? {}) };
  raw['sync'] = {
    ...(spec.sync ?? {}),
    ...(spec.prune !== undefined && { prune: spec.prune }),
    ...(spec.suspend !== undefined && { suspend: spec.suspend }),
  };
  if (spec.render !== undefined) raw['render'] = spec.render;
  if (spec.notifications !== undefined)
    raw['notifications'] = spec.notifications.map((n) => {
      const { secretRef, ...rest } = n;
      const kind = NOTIFIER_SECRET[String(n['type'])];
      if (!secretRef || !kind) return rest;
      const file = fileOf(secretRef.name, secretRef.key ?? kind.key);
      return file ? { ...rest, [kind.file]: file } : rest;
    });
  return raw;
}

/** Where a problem of the config's app lies in the App resource. */
export function specPath(path: KeyPath): string {
  const [first, second, third] = path;
  if (first === 'name') return 'metadata.name';
  if (first === 'sync' && (second === 'prune' || second === 'suspend')) return `spec.${second}`;
  if (
    first === 'source' &&
    typeof second === 'string' &&
    Object.values<string>(SOURCE_SECRET_KEYS).includes(second)
  )
    return 'spec.source.secretRef';
  if (first === 'source' && second === 'verify' && typeof third === 'string' && third.endsWith('KeysFile'))
    return 'spec.source.verify.secretRef';
  if (first === 'notifications' && typeof third === 'string' && third.endsWith('File'))
    return `spec.${formatPath(path.slice(0, 2))}.secretRef`;
  return path.length === 0 ? 'spec' : `spec.${formatPath(path)}`;
}

/** The config's words for file keys, in an App's terms. */
function inResourceTerms(message: string): string {
  return message
    .replace(/\bpgpKeysFile or sshKeysFile\b/g, 'a secretRef (keys pgp.asc, ssh-keys)')
    .replace(/\burl and urlFile\b/g, 'url and secretRef')
    .replace(/\burlFile keeps it out of the config\b/g, 'a secretRef keeps it in a Secret');
}

export type AppCheckResult =
  { app: AppConfig; problems?: undefined } | { app?: undefined; problems: string[] };

/** The App as a config file's app, or every problem, each naming the App's field (`spec.source.repo: …`). */
export function appConfigOf(r: AppResource, fileOf: SecretFileOf): AppCheckResult {
  const problems: string[] = [];
  for (const need of secretsOf(r))
    if (need.required && fileOf(need.secret, need.key) === undefined)
      problems.push(`Secret ${r.metadata.namespace}/${need.secret} has no key ${JSON.stringify(need.key)}`);
  const source = r.spec?.source;
  const repo = source?.['repo'];
  if (typeof repo === 'string' && (!isRemoteRepo(repo) || /^file:/i.test(repo)))
    problems.push(
      `spec.source.repo: ${JSON.stringify(repo)} is not a remote repository: an App names an http(s), ssh:// or git@host:path URL (the agent's own files are not for Apps to read)`,
    );
  if (isRecord(r.spec?.render) && r.spec.render['allowCommands'] === true)
    problems.push(
      "spec.render.allowCommands: App resources may not enable command renderers (they would run the repository's programs inside the agent); declare the app in the agent's config file instead",
    );
  const checked = checkApp(rawAppOf(r, fileOf), '/');
  if (checked.problems)
    problems.push(
      ...checked.problems.map((p: PathIssue) => `${specPath(p.path)}: ${inResourceTerms(p.message)}`),
    );
  if (problems.length > 0) return { problems: [...new Set(problems)] };
  return { app: checked.app! };
}
