/**
 * The kubeconfig loader on files written to temporary directories: which file and context
 * win, how relative paths resolve, the errors a user sees, the in-cluster service account,
 * and the headers each kind of user turns into (exec plugins included).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeconfigError } from '../../../src/cluster/errors.ts';
import { Kubeconfig } from '../../../src/cluster/kubeconfig.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-kubeconfig-'));
  dirs.push(d);
  return d;
}

interface Doc {
  clusters?: unknown[];
  users?: unknown[];
  contexts?: unknown[];
  'current-context'?: string;
}

function write(dir: string, name: string, doc: Doc | string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    typeof doc === 'string' ? doc : stringify({ apiVersion: 'v1', kind: 'Config', ...doc }),
  );
  return file;
}

const cluster = (name: string, body: Record<string, unknown> = {}) => ({
  name,
  cluster: { server: `https://${name}.example:6443`, ...body },
});
const user = (name: string, body: Record<string, unknown> = {}) => ({ name, user: body });
const context = (name: string, clusterName: string, userName?: string, namespace?: string) => ({
  name,
  context: {
    cluster: clusterName,
    ...(userName ? { user: userName } : {}),
    ...(namespace ? { namespace } : {}),
  },
});

/** A one-context kubeconfig for the given user, loaded with --kubeconfig. */
function loadUser(body: Record<string, unknown>, dir = tmp()): Kubeconfig {
  const file = write(dir, 'config', {
    clusters: [cluster('c')],
    users: [user('u', body)],
    contexts: [context('ctx', 'c', 'u')],
    'current-context': 'ctx',
  });
  return Kubeconfig.load({ file, env: {} });
}

/** Runs `fn`, expecting a KubeconfigError, and returns it. */
function fails(fn: () => unknown): KubeconfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KubeconfigError);
    return e as KubeconfigError;
  }
  throw new Error('expected a KubeconfigError, but nothing was thrown');
}

async function failsAsync(fn: () => Promise<unknown>): Promise<KubeconfigError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KubeconfigError);
    return e as KubeconfigError;
  }
  throw new Error('expected a KubeconfigError, but nothing was thrown');
}

/** An executable shell script in `dir`. */
function script(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const execCredential = (status: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status });

describe('Kubeconfig.load with --kubeconfig', () => {
  it('reads relative certificate-authority, client-certificate and client-key next to the file, not the cwd', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA BYTES');
    writeFileSync(join(dir, 'pki', 'admin.crt'), 'CERT BYTES');
    writeFileSync(join(dir, 'admin.key'), 'KEY BYTES');
    const file = write(dir, 'config', {
      clusters: [cluster('c', { 'certificate-authority': 'pki/ca.crt' })],
      users: [user('u', { 'client-certificate': './pki/admin.crt', 'client-key': 'admin.key' })],
      contexts: [context('ctx', 'c', 'u', 'team-a')],
      'current-context': 'ctx',
    });
    expect(process.cwd()).not.toBe(dir);
    const kc = Kubeconfig.load({ file, env: {} });
    expect(kc.source).toBe(file);
    expect(kc.contextName).toBe('ctx');
    expect(kc.namespace).toBe('team-a');
    expect(kc.cluster.server).toBe('https://c.example:6443');
    const tls = kc.tls();
    expect(tls.ca?.toString()).toBe('CA BYTES');
    expect(tls.cert?.toString()).toBe('CERT BYTES');
    expect(tls.key?.toString()).toBe('KEY BYTES');
    expect(tls.rejectUnauthorized).toBeUndefined();
  });

  it('decodes the *-data fields and passes insecure-skip-tls-verify and tls-server-name on', () => {
    const dir = tmp();
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const file = write(dir, 'config', {
      clusters: [
        cluster('c', {
          'certificate-authority-data': b64('CA DATA'),
          'insecure-skip-tls-verify': true,
          'tls-server-name': 'api.internal',
        }),
      ],
      users: [user('u', { 'client-certificate-data': b64('CERT DATA'), 'client-key-data': b64('KEY DATA') })],
      contexts: [context('ctx', 'c', 'u')],
      'current-context': 'ctx',
    });
    const tls = Kubeconfig.load({ file, env: {} }).tls();
    expect(tls.ca?.toString()).toBe('CA DATA');
    expect(tls.cert?.toString()).toBe('CERT DATA');
    expect(tls.key?.toString()).toBe('KEY DATA');
    expect(tls.rejectUnauthorized).toBe(false);
    expect(tls.servername).toBe('api.internal');
  });

  it('names the field, the file and the context when a certificate file cannot be read', () => {
    const dir = tmp();
    const file = write(dir, 'config', {
      clusters: [cluster('c', { 'certificate-authority': 'missing-ca.crt' })],
      contexts: [context('ctx', 'c')],
      'current-context': 'ctx',
    });
    const kc = Kubeconfig.load({ file, env: {} });
    const err = fails(() => kc.tls());
    expect(err.message).toContain(`certificate-authority ${join(dir, 'missing-ca.crt')}`);
    expect(err.message).toContain('of context "ctx" cannot be read');
    expect(err.hint).toBe(`fix the path in ${file}`);
  });

  it('takes --kubeconfig alone even when KUBECONFIG is set', () => {
    const dir = tmp();
    const other = write(dir, 'other', {
      clusters: [cluster('other')],
      contexts: [context('other', 'other')],
      'current-context': 'other',
    });
    const file = write(dir, 'config', {
      clusters: [cluster('mine')],
      contexts: [context('mine', 'mine')],
      'current-context': 'mine',
    });
    const kc = Kubeconfig.load({ file, env: { KUBECONFIG: other } });
    expect(kc.contextName).toBe('mine');
    expect(kc.cluster.name).toBe('mine');
  });

  it('fails on a --kubeconfig file that does not exist, naming it', () => {
    const file = join(tmp(), 'nope');
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toContain(`cannot read kubeconfig ${file}`);
  });
});

describe('Kubeconfig.load with a KUBECONFIG list', () => {
  it('merges the files: the first to define a name wins, current-context from the first file setting one', () => {
    const dir = tmp();
    const a = write(dir, 'a', {
      clusters: [cluster('shared', { server: 'https://from-a:6443' })],
      users: [user('shared', { token: 'token-a' })],
      contexts: [context('shared', 'shared', 'shared', 'ns-a')],
    });
    const b = write(dir, 'b', {
      clusters: [cluster('shared', { server: 'https://from-b:6443' }), cluster('only-b')],
      users: [user('shared', { token: 'token-b' })],
      contexts: [context('shared', 'only-b', 'shared', 'ns-b'), context('b-ctx', 'only-b')],
      'current-context': 'shared',
    });
    const c = write(dir, 'c', {
      clusters: [cluster('c')],
      contexts: [context('c', 'c')],
      'current-context': 'c',
    });
    const list = [a, b, c].join(delimiter);
    const kc = Kubeconfig.load({ env: { KUBECONFIG: list } });
    expect(kc.source).toBe(`$KUBECONFIG (${list})`);
    // current-context comes from b (a sets none, c comes later)...
    expect(kc.contextName).toBe('shared');
    // ...but the context, cluster and user named "shared" are a's.
    expect(kc.namespace).toBe('ns-a');
    expect(kc.cluster.server).toBe('https://from-a:6443');
    expect(kc.user.token).toBe('token-a');
    // Names only later files define are still there.
    const other = Kubeconfig.load({ env: { KUBECONFIG: list }, context: 'b-ctx' });
    expect(other.cluster.server).toBe('https://only-b.example:6443');
  });

  it('resolves relative paths of each listed file against that file', () => {
    const one = tmp();
    const two = tmp();
    writeFileSync(join(one, 'ca.crt'), 'CA OF ONE');
    writeFileSync(join(two, 'ca.crt'), 'CA OF TWO');
    const a = write(one, 'config', {
      contexts: [context('ctx', 'from-two')],
      'current-context': 'ctx',
    });
    const b = write(two, 'config', {
      clusters: [cluster('from-two', { 'certificate-authority': 'ca.crt' })],
    });
    const kc = Kubeconfig.load({ env: { KUBECONFIG: [a, b].join(delimiter) } });
    expect(kc.tls().ca?.toString()).toBe('CA OF TWO');
  });

  it('skips a listed file that does not exist', () => {
    const dir = tmp();
    const missing = join(dir, 'missing');
    const real = write(dir, 'real', {
      clusters: [cluster('real')],
      contexts: [context('real', 'real')],
      'current-context': 'real',
    });
    const kc = Kubeconfig.load({ env: { KUBECONFIG: `${missing}${delimiter}${real}` } });
    expect(kc.contextName).toBe('real');
    expect(kc.cluster.server).toBe('https://real.example:6443');
  });

  it('fails with "none of the files" when every listed file is missing', () => {
    const dir = tmp();
    const list = [join(dir, 'x'), join(dir, 'y')].join(delimiter);
    const err = fails(() => Kubeconfig.load({ env: { KUBECONFIG: list } }));
    expect(err.message).toBe(`none of the files in $KUBECONFIG (${list}) exists`);
    expect(err.hint).toContain('fix KUBECONFIG');
  });
});

describe('contexts and clusters', () => {
  const twoContexts = () =>
    write(tmp(), 'config', {
      clusters: [cluster('prod'), cluster('staging')],
      users: [user('u', { token: 't' })],
      contexts: [context('prod', 'prod', 'u', 'p'), context('staging', 'staging', 'u', 's')],
      'current-context': 'prod',
    });

  it('picks another context with the context option', () => {
    const file = twoContexts();
    expect(Kubeconfig.load({ file, env: {} }).contextName).toBe('prod');
    const kc = Kubeconfig.load({ file, env: {}, context: 'staging' });
    expect(kc.contextName).toBe('staging');
    expect(kc.cluster.server).toBe('https://staging.example:6443');
    expect(kc.namespace).toBe('s');
  });

  it('names an unknown context and hints at kubectl config get-contexts', () => {
    const file = twoContexts();
    const err = fails(() => Kubeconfig.load({ file, env: {}, context: 'dev' }));
    expect(err.message).toBe(`context "dev" not found in kubeconfig ${file}`);
    expect(err.hint).toContain('kubectl config get-contexts');
    expect(err.hint).toContain(`--kubeconfig ${file}`);
  });

  it('fails when no current-context is set and none is asked for, listing the contexts', () => {
    const file = write(tmp(), 'config', {
      clusters: [cluster('c')],
      contexts: [context('one', 'c'), context('two', 'c')],
    });
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toBe(`kubeconfig ${file} sets no current-context`);
    expect(err.hint).toContain('one, two');
  });

  it('fails when the context names a cluster that is not defined', () => {
    const file = write(tmp(), 'config', {
      clusters: [cluster('other')],
      contexts: [context('ctx', 'gone')],
      'current-context': 'ctx',
    });
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toBe(`kubeconfig ${file} names no cluster for context "ctx"`);
    expect(err.hint).toContain('add cluster "gone"');
  });

  it('refuses an http:// server, saying HTTPS only', () => {
    const file = write(tmp(), 'config', {
      clusters: [cluster('c', { server: 'http://127.0.0.1:8080' })],
      contexts: [context('ctx', 'c')],
      'current-context': 'ctx',
    });
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toContain('has server http://127.0.0.1:8080');
    expect(err.message).toContain('over HTTPS only');
  });

  it('refuses a cluster with a proxy-url', () => {
    const file = write(tmp(), 'config', {
      clusters: [cluster('c', { 'proxy-url': 'socks5://proxy:1080' })],
      contexts: [context('ctx', 'c')],
      'current-context': 'ctx',
    });
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toContain('sets proxy-url socks5://proxy:1080');
    expect(err.message).toContain('does not support');
  });
});

describe('finding no kubeconfig, or a broken one', () => {
  it('fails with "no kubeconfig found" without KUBECONFIG, ~/.kube/config or a service account', () => {
    const home = tmp();
    const sa = tmp(); // exists, but holds no token
    const err = fails(() => Kubeconfig.load({ env: {}, home, serviceAccountDir: sa }));
    expect(err.message).toContain('no kubeconfig found');
    expect(err.message).toContain(join(home, '.kube', 'config'));
    expect(err.hint).toContain('--kubeconfig FILE');
  });

  it('reads ~/.kube/config from the home directory', () => {
    const home = tmp();
    mkdirSync(join(home, '.kube'));
    const file = write(join(home, '.kube'), 'config', {
      clusters: [cluster('home')],
      contexts: [context('home', 'home')],
      'current-context': 'home',
    });
    const kc = Kubeconfig.load({ env: {}, home });
    expect(kc.source).toBe(file);
    expect(kc.contextName).toBe('home');
  });

  it('names the file that is not valid YAML', () => {
    const file = write(tmp(), 'config', 'clusters: [\n  - name: x\n  cluster: {server: :\n');
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toContain(`kubeconfig ${file} is not valid YAML`);
    expect(err.hint).toContain(file);
  });

  it('rejects a document that is not a mapping', () => {
    const dir = tmp();
    const list = write(dir, 'list', '- a\n- b\n');
    expect(fails(() => Kubeconfig.load({ file: list, env: {} })).message).toBe(
      `kubeconfig ${list} is not a mapping (apiVersion: v1, kind: Config)`,
    );
    const scalar = write(dir, 'scalar', 'just a string\n');
    expect(fails(() => Kubeconfig.load({ file: scalar, env: {} })).message).toContain(
      `kubeconfig ${scalar} is not a mapping`,
    );
  });

  it('rejects a clusters section that is not a list', () => {
    const file = write(tmp(), 'config', 'clusters: {name: c}\ncurrent-context: c\n');
    const err = fails(() => Kubeconfig.load({ file, env: {} }));
    expect(err.message).toBe(`kubeconfig ${file}: clusters must be a list`);
  });
});

describe('in-cluster service account', () => {
  function serviceAccount(withNamespace = true): string {
    const sa = tmp();
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'SA CA');
    if (withNamespace) writeFileSync(join(sa, 'namespace'), 'tether-system\n');
    return sa;
  }

  it('uses the service host and port, the namespace file, the CA and the token', async () => {
    const sa = serviceAccount();
    const kc = Kubeconfig.load({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      home: tmp(),
      serviceAccountDir: sa,
    });
    expect(kc.source).toBe('in-cluster (service account)');
    expect(kc.contextName).toBe('in-cluster');
    expect(kc.cluster.server).toBe('https://10.0.0.1:443');
    expect(kc.namespace).toBe('tether-system');
    expect(kc.tls().ca?.toString()).toBe('SA CA');
    expect(await kc.auth()).toEqual({ Authorization: 'Bearer sa-token' });
  });

  it('puts an IPv6 service host in brackets and leaves the namespace unset without its file', () => {
    const kc = Kubeconfig.load({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
      home: tmp(),
      serviceAccountDir: serviceAccount(false),
    });
    expect(kc.cluster.server).toBe('https://[fd00::1]:6443');
    expect(kc.namespace).toBeUndefined();
  });

  it('prefers ~/.kube/config over the service account', () => {
    const home = tmp();
    mkdirSync(join(home, '.kube'));
    write(join(home, '.kube'), 'config', {
      clusters: [cluster('home')],
      contexts: [context('home', 'home')],
      'current-context': 'home',
    });
    const kc = Kubeconfig.load({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      home,
      serviceAccountDir: serviceAccount(),
    });
    expect(kc.contextName).toBe('home');
  });
});

describe('authentication headers', () => {
  it('sends a token as a Bearer header', async () => {
    expect(await loadUser({ token: 'abc.def' }).auth()).toEqual({ Authorization: 'Bearer abc.def' });
  });

  it('reads token-file relative to the kubeconfig directory', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'tok'), 'from-file');
    const kc = loadUser({ 'token-file': 'secrets/tok' }, dir);
    expect(await kc.auth()).toEqual({ Authorization: 'Bearer from-file' });
  });

  it('trims the newline a token-file usually ends with (as kubectl does)', async () => {
    // `kubectl create token sa > tok` and `echo $TOKEN > tok` both leave a trailing newline;
    // client-go trims the file's content. A newline in the header makes every request fail.
    const dir = tmp();
    writeFileSync(join(dir, 'tok'), 'from-file\n');
    const kc = loadUser({ 'token-file': 'tok' }, dir);
    expect(await kc.auth()).toEqual({ Authorization: 'Bearer from-file' });
  });

  it('sends username and password as Basic', async () => {
    const headers = await loadUser({ username: 'admin', password: 's3cr:t' }).auth();
    expect(headers).toEqual({
      Authorization: 'Basic ' + Buffer.from('admin:s3cr:t').toString('base64'),
    });
    expect(headers.Authorization).toBe('Basic YWRtaW46czNjcjp0');
  });

  it('impersonates the `as` user on top of the credentials', async () => {
    expect(await loadUser({ token: 't0k', as: 'jane@example.com' }).auth()).toEqual({
      Authorization: 'Bearer t0k',
      'Impersonate-User': 'jane@example.com',
    });
  });

  it('refuses impersonation it cannot send (as-groups), rather than dropping the groups', () => {
    const err = fails(() => loadUser({ token: 't', as: 'jane', 'as-groups': ['admins'] }));
    expect(err.message).toContain('user as-groups (impersonation) is not supported');
  });

  it('sends no Authorization for a client-certificate user or a context without a user', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'c.crt'), 'C');
    writeFileSync(join(dir, 'c.key'), 'K');
    expect(await loadUser({ 'client-certificate': 'c.crt', 'client-key': 'c.key' }, dir).auth()).toEqual({});
    const file = write(tmp(), 'config', {
      clusters: [cluster('c')],
      contexts: [context('ctx', 'c')],
      'current-context': 'ctx',
    });
    expect(await Kubeconfig.load({ file, env: {} }).auth()).toEqual({});
  });
});

describe('exec plugins', () => {
  const execUser = (command: string, extra: Record<string, unknown> = {}) => ({
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'Never', ...extra },
  });

  it('sends the token the plugin prints (command relative to the kubeconfig)', async () => {
    const dir = tmp();
    script(dir, 'plugin.sh', `echo '${execCredential({ token: 'T' })}'`);
    const kc = loadUser(execUser('./plugin.sh'), dir);
    expect((kc.user.exec as { command: string }).command).toBe(join(dir, 'plugin.sh'));
    expect(await kc.auth()).toEqual({ Authorization: 'Bearer T' });
  });

  it('passes the args and env of the exec section to the plugin', async () => {
    const dir = tmp();
    script(dir, 'plugin.sh', `printf '{"status":{"token":"%s-%s"}}' "$1" "$PLUGIN_VAR"`);
    const kc = loadUser(
      execUser(join(dir, 'plugin.sh'), { args: ['arg1'], env: [{ name: 'PLUGIN_VAR', value: 'env1' }] }),
      dir,
    );
    expect(await kc.auth()).toEqual({ Authorization: 'Bearer arg1-env1' });
  });

  it('sets a client certificate the plugin returns on the TLS options', async () => {
    const dir = tmp();
    script(
      dir,
      'plugin.sh',
      `echo '${execCredential({ clientCertificateData: 'PEM CERT', clientKeyData: 'PEM KEY' })}'`,
    );
    const tls = {};
    const headers = await loadUser(execUser('./plugin.sh'), dir).auth(tls);
    expect(headers).toEqual({});
    expect(tls).toEqual({ cert: 'PEM CERT', key: 'PEM KEY' });
  });

  it('reports a failing plugin with its stderr and its command', async () => {
    const dir = tmp();
    const plugin = script(dir, 'plugin.sh', 'echo "error: token expired, run sso login" >&2\nexit 1');
    const kc = loadUser(execUser('./plugin.sh'), dir);
    const err = await failsAsync(() => kc.auth());
    expect(err.message).toContain('error: token expired, run sso login');
    expect(err.message).toContain(`exec plugin "${plugin}"`);
    expect(err.message).toContain(`in ${kc.source} failed`);
    expect(err.hint).toContain('kubectl --context ctx auth whoami');
  });

  it('says a failing plugin printed nothing, rather than ending the message with a colon', async () => {
    const dir = tmp();
    script(dir, 'plugin.sh', 'exit 3');
    const err = await failsAsync(() => loadUser(execUser('./plugin.sh'), dir).auth());
    expect(err.message).toMatch(/failed: it exited with an error and printed nothing on stderr$/);
  });

  it('reports a plugin command that does not exist', async () => {
    const dir = tmp();
    const kc = loadUser(execUser('./no-such-plugin'), dir);
    const err = await failsAsync(() => kc.auth());
    expect(err.message).toContain(`exec plugin "${join(dir, 'no-such-plugin')}"`);
    expect(err.message).toContain('ENOENT');
  });
});
