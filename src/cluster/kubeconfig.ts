/**
 * Finds and loads the kubeconfig as kubectl does (--kubeconfig, else every file of
 * $KUBECONFIG merged with the first definition winning, else ~/.kube/config, else the
 * in-cluster service account), and turns its current context into TLS options and
 * authentication headers.
 *
 * Parsing and the exec and token-file authenticators are @kubernetes/client-node's own
 * modules. Its KubeConfig class is not loaded up front: its module imports the library's
 * whole generated API, about 85 MB of resident memory and half a second of start-up that
 * Tether never uses. It is loaded only for a user with a legacy `auth-provider` (oidc, azure,
 * gcp), which only that class implements.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import {
  newClusters,
  newContexts,
  newUsers,
  type Cluster,
  type Context,
  type User,
} from '@kubernetes/client-node/dist/config_types.js';
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import { FileAuth } from '@kubernetes/client-node/dist/file_auth.js';
import { parse } from 'yaml';
import { KubeconfigError } from './errors.ts';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigOptions {
  /** --kubeconfig: this file alone. */
  file?: string;
  /** --context: instead of the file's current-context. */
  context?: string;
  /** Where to look when no file is given (tests point these elsewhere). */
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

export interface TlsOptions {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

interface Merged {
  clusters: Map<string, unknown>;
  users: Map<string, unknown>;
  contexts: Map<string, unknown>;
  currentContext: string | undefined;
}

type Authenticator = {
  isAuthProvider(user: User): boolean;
  applyAuthentication(user: User, opts: RequestOptions): Promise<void>;
};

export class Kubeconfig {
  /** Where it came from, for messages: a path, a list of paths, or "in-cluster". */
  readonly source: string;
  readonly contextName: string;
  readonly cluster: Cluster;
  readonly user: User;
  readonly namespace: string | undefined;
  private readonly authenticators: Authenticator[] = [new ExecAuth(), new FileAuth()];
  private legacy: Promise<{ applyToHTTPSOptions(o: object): Promise<void> }> | undefined;

  /** Use Kubeconfig.load; this only holds what resolveContext found. */
  constructor(source: string, contextName: string, cluster: Cluster, user: User, namespace?: string) {
    this.source = source;
    this.contextName = contextName;
    this.cluster = cluster;
    this.user = user;
    this.namespace = namespace;
  }

  static load(options: KubeconfigOptions = {}): Kubeconfig {
    const env = options.env ?? process.env;
    if (options.file) return fromFiles([options.file], options.file, options.context, true);
    const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
    if (list.length > 0)
      return fromFiles(list, `$KUBECONFIG (${list.join(delimiter)})`, options.context, false);
    const home = options.home ?? env.HOME ?? homedir();
    const file = join(home, '.kube', 'config');
    if (existsSync(file)) return fromFiles([file], file, options.context, true);
    const sa = options.serviceAccountDir ?? SA_DIR;
    if (env.KUBERNETES_SERVICE_HOST && existsSync(join(sa, 'token')))
      return inCluster(env, sa, options.context);
    throw new KubeconfigError(
      `no kubeconfig found: $KUBECONFIG is unset, ${file} does not exist, and this is not a pod`,
      {
        hint: 'pass --kubeconfig FILE (and --context NAME), or set KUBECONFIG; for the local control plane: npm run cluster -- up',
      },
    );
  }

  /** CA, client certificate and key, and server-name checks for the connection. */
  tls(): TlsOptions {
    const out: TlsOptions = {};
    const c = this.cluster;
    if (c.skipTLSVerify) out.rejectUnauthorized = false;
    if (c.tlsServerName) out.servername = c.tlsServerName;
    const ca = this.read(c.caFile, c.caData, 'certificate-authority');
    if (ca) out.ca = ca;
    const cert = this.read(this.user.certFile, this.user.certData, 'client-certificate');
    if (cert) out.cert = cert;
    const key = this.read(this.user.keyFile, this.user.keyData, 'client-key');
    if (key) out.key = key;
    return out;
  }

  /**
   * Authorization (and impersonation) headers, fresh from the exec plugin or token file when
   * they rotate; an exec plugin that returns a client certificate sets it on `tls`.
   */
  async auth(tls?: TlsOptions): Promise<Record<string, string>> {
    const user = this.user;
    const headers: Record<string, string> = {};
    if (user.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
    if (user.username) {
      headers.Authorization =
        'Basic ' + Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64');
    }
    if (user.token) headers.Authorization = `Bearer ${user.token}`;
    const opts: RequestOptions & { headers: OutgoingHttpHeaders } = { headers: {} };
    const authenticator = this.authenticators.find((a) => a.isAuthProvider(user));
    try {
      if (authenticator) await authenticator.applyAuthentication(user, opts);
      else if (user.authProvider) await (await this.legacyConfig()).applyToHTTPSOptions(opts);
    } catch (e) {
      const exec = user.exec as { command?: string } | undefined;
      const how = exec ? `exec plugin "${exec.command}"` : `auth-provider of user "${user.name}"`;
      const why = (e as Error).message.trim() || 'it exited with an error and printed nothing on stderr';
      throw new KubeconfigError(`the ${how} in ${this.source} failed: ${why}`, {
        hint: `run the plugin by hand to see why (for example: kubectl --context ${this.contextName} auth whoami)`,
        cause: e,
      });
    }
    // Token files often end in a newline (echo "$TOKEN" > file); kubectl trims it, so do we.
    for (const [k, v] of Object.entries(opts.headers)) if (typeof v === 'string') headers[k] = v.trim();
    if (tls && typeof opts.cert === 'string') tls.cert = opts.cert;
    if (tls && typeof opts.key === 'string') tls.key = opts.key;
    return headers;
  }

  private read(file: string | undefined, data: string | undefined, field: string): Buffer | undefined {
    if (file) {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new KubeconfigError(
          `${field} ${file} of context "${this.contextName}" cannot be read: ${(e as Error).message}`,
          {
            hint: `fix the path in ${this.source}`,
            cause: e,
          },
        );
      }
    }
    return data ? Buffer.from(data, 'base64') : undefined;
  }

  /** The library's full KubeConfig, for legacy auth providers only (see the file comment). */
  private legacyConfig(): Promise<{ applyToHTTPSOptions(o: object): Promise<void> }> {
    this.legacy ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [this.cluster],
        users: [this.user],
        contexts: [{ name: this.contextName, cluster: this.cluster.name, user: this.user.name }],
        currentContext: this.contextName,
      });
      return kc;
    });
    return this.legacy;
  }
}

function fromFiles(
  files: string[],
  source: string,
  context: string | undefined,
  required: boolean,
): Kubeconfig {
  const merged: Merged = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: undefined,
  };
  let found = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      // kubectl skips $KUBECONFIG entries that do not exist.
      if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new KubeconfigError(`cannot read kubeconfig ${file}: ${(e as Error).message}`, {
        hint: 'pass --kubeconfig FILE (and --context NAME), or set KUBECONFIG',
        cause: e,
      });
    }
    found++;
    mergeFile(merged, file, text);
  }
  if (found === 0) {
    throw new KubeconfigError(`none of the files in ${source} exists`, {
      hint: 'fix KUBECONFIG, or pass --kubeconfig FILE',
    });
  }
  return resolveContext(merged, source, context);
}

function mergeFile(merged: Merged, file: string, text: string): void {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(e as Error).message}`, {
      hint: 'check the file with: kubectl config view --kubeconfig ' + file,
      cause: e,
    });
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new KubeconfigError(`kubeconfig ${file} is not a mapping (apiVersion: v1, kind: Config)`, {
      hint: 'check the file with: kubectl config view --kubeconfig ' + file,
    });
  }
  const cfg = doc as Record<string, unknown>;
  const dir = dirname(file);
  const add = (
    into: Map<string, unknown>,
    list: unknown,
    section: string,
    fix?: (v: Record<string, unknown>) => void,
  ) => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list))
      throw new KubeconfigError(`kubeconfig ${file}: ${section} must be a list`, { hint: `fix ${file}` });
    for (const entry of list as Record<string, unknown>[]) {
      const name = entry?.name;
      // The first file to define a name wins, as in kubectl.
      if (typeof name !== 'string' || into.has(name)) {
        if (typeof name !== 'string') into.set(`\0${into.size}`, entry);
        continue;
      }
      const body = entry[section.slice(0, -1)];
      if (fix && body && typeof body === 'object') fix(body as Record<string, unknown>);
      into.set(name, entry);
    }
  };
  // Relative paths in a kubeconfig are relative to the file, as kubectl resolves them.
  const abs = (o: Record<string, unknown>, key: string) => {
    const v = o[key];
    if (typeof v === 'string' && v && !isAbsolute(v)) o[key] = join(dir, v);
  };
  add(merged.clusters, cfg.clusters, 'clusters', (c) => abs(c, 'certificate-authority'));
  add(merged.users, cfg.users, 'users', (u) => {
    abs(u, 'client-certificate');
    abs(u, 'client-key');
    abs(u, 'token-file');
    for (const key of ['as-groups', 'as-uid', 'as-user-extra']) {
      if (u[key] !== undefined)
        throw new KubeconfigError(`kubeconfig ${file}: user ${key} (impersonation) is not supported`, {
          hint: `remove ${key} from the user, or impersonate with "as" alone`,
        });
    }
    const exec = u.exec as Record<string, unknown> | undefined;
    if (exec && typeof exec.command === 'string' && exec.command.includes('/')) abs(exec, 'command');
  });
  add(merged.contexts, cfg.contexts, 'contexts');
  if (
    merged.currentContext === undefined &&
    typeof cfg['current-context'] === 'string' &&
    cfg['current-context']
  )
    merged.currentContext = cfg['current-context'];
}

function resolveContext(merged: Merged, source: string, wanted: string | undefined): Kubeconfig {
  let clusters: Cluster[];
  let users: User[];
  let contexts: Context[];
  try {
    clusters = newClusters([...merged.clusters.values()]);
    users = newUsers([...merged.users.values()].map(tokenFileAsProvider));
    contexts = newContexts([...merged.contexts.values()]);
  } catch (e) {
    throw new KubeconfigError(`cannot load kubeconfig ${source}: ${(e as Error).message}`, {
      hint: 'check it with: kubectl config view',
      cause: e,
    });
  }
  const name = wanted ?? merged.currentContext;
  if (!name) {
    throw new KubeconfigError(`kubeconfig ${source} sets no current-context`, {
      hint: `pass --context NAME (one of: ${contexts.map((c) => c.name).join(', ') || 'none defined'})`,
    });
  }
  const ctx = contexts.find((c) => c.name === name);
  if (!ctx) {
    throw new KubeconfigError(`context "${name}" not found in kubeconfig ${source}`, {
      hint: `list contexts with: kubectl config get-contexts${source.startsWith('$') ? '' : ` --kubeconfig ${source}`}`,
    });
  }
  const cluster = clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) {
    throw new KubeconfigError(`kubeconfig ${source} names no cluster for context "${name}"`, {
      hint: `add cluster "${ctx.cluster}" to it, or pass --kubeconfig FILE; for the local control plane: npm run cluster -- up`,
    });
  }
  if (!/^https:\/\//i.test(cluster.server)) {
    throw new KubeconfigError(
      `cluster "${cluster.name}" of context "${name}" has server ${cluster.server}: Tether talks to the API server over HTTPS only`,
      {
        hint: `use the cluster's https:// address in ${source}`,
      },
    );
  }
  if (cluster.proxyUrl) {
    throw new KubeconfigError(
      `cluster "${cluster.name}" of context "${name}" sets proxy-url ${cluster.proxyUrl}, which Tether does not support`,
      {
        hint: 'reach the API server directly (run Tether inside the network or the cluster)',
      },
    );
  }
  const user = users.find((u) => u.name === ctx.user) ?? { name: ctx.user ?? '' };
  return new Kubeconfig(source, name, cluster, user, ctx.namespace);
}

/** A `token-file` user re-reads its file (as FileAuth does) instead of reading it once. */
function tokenFileAsProvider(entry: unknown): unknown {
  const e = entry as { user?: Record<string, unknown> };
  const u = e?.user;
  if (!u || u.token || typeof u['token-file'] !== 'string') return entry;
  const { 'token-file': tokenFile, ...rest } = u;
  return { ...e, user: { ...rest, 'auth-provider': { name: 'tokenFile', config: { tokenFile } } } };
}

function inCluster(env: NodeJS.ProcessEnv, dir: string, context: string | undefined): Kubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(dir, 'namespace');
  const merged: Merged = {
    clusters: new Map([
      [
        'in-cluster',
        { name: 'in-cluster', cluster: { server, 'certificate-authority': join(dir, 'ca.crt') } },
      ],
    ]),
    users: new Map([['in-cluster', { name: 'in-cluster', user: { 'token-file': join(dir, 'token') } }]]),
    contexts: new Map([
      [
        'in-cluster',
        {
          name: 'in-cluster',
          context: {
            cluster: 'in-cluster',
            user: 'in-cluster',
            ...(existsSync(namespaceFile) ? { namespace: readFileSync(namespaceFile, 'utf8').trim() } : {}),
          },
        },
      ],
    ]),
    currentContext: 'in-cluster',
  };
  return resolveContext(merged, 'in-cluster (service account)', context);
}
