/**
 * Raw access to the Kubernetes API. The kubeconfig and authentication come from
 * kubeconfig.ts (on @kubernetes/client-node's parsing and authenticators); requests go out as
 * raw HTTPS so that no object passes through the library's generated models, which drop
 * fields they do not know (DESIGN.md, library notes).
 */
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { ApiStatusError, ApiUnreachableError } from './errors.ts';
import { Kubeconfig, type TlsOptions } from './kubeconfig.ts';

export interface ClientOptions {
  kubeconfig?: string;
  context?: string;
  /** Parallel connections to the API server. */
  maxSockets?: number;
  timeoutMs?: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Counted under this verb instead of the method's (a collection GET is a `list`). */
  verb?: string;
}

export interface StreamSpec {
  path: string;
  query?: Record<string, string | undefined>;
  /** Aborting destroys the connection. */
  signal?: AbortSignal;
  /** Drops a connection silent this long: the safety net against a peer that vanished. */
  idleTimeoutMs?: number;
}

export interface RequestCount {
  verb: string;
  dryRun: boolean;
  count: number;
}

const AUTH_REFRESH_MS = 60_000;

/** Ids of requests in flight, unique across a client and its impersonating copies (they share the map). */
let nextRequestId = 0;

export class KubeClient {
  readonly server: string;
  readonly contextName: string;
  /** The kubeconfig context's namespace (in-cluster: the pod's), if it names one. */
  readonly contextNamespace: string | undefined;
  private readonly kc: Kubeconfig;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private auth: { headers: Record<string, string>; at: number } | undefined;
  private counts = new Map<string, RequestCount>();
  /** Requests waiting for an answer, by when they were sent (performance.now()). */
  private inFlight = new Map<number, { what: string; since: number }>();

  private readonly options: ClientOptions;
  private readonly tls: TlsOptions;
  /** Impersonate-User / Impersonate-Group headers (impersonating()). */
  private impersonation: Record<string, string | string[]> = {};
  /** Who this client acts as, when it impersonates (for messages). */
  actingAs: string | undefined;

  private constructor(kc: Kubeconfig, options: ClientOptions, tls: TlsOptions) {
    this.kc = kc;
    this.options = options;
    this.tls = tls;
    this.server = kc.cluster.server.replace(/\/$/, '');
    this.contextName = kc.contextName;
    this.contextNamespace = kc.namespace || undefined;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16, ...tls });
  }

  /** Loads --kubeconfig (or $KUBECONFIG, ~/.kube/config, in-cluster) and --context. */
  static async create(options: ClientOptions = {}): Promise<KubeClient> {
    const kc = Kubeconfig.load({
      ...(options.kubeconfig ? { file: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
    });
    const tls = kc.tls();
    // An exec plugin may hand out a client certificate: ask it before the agent is made.
    const headers = await kc.auth(tls);
    const client = new KubeClient(kc, options, tls);
    client.auth = { headers, at: Date.now() };
    return client;
  }

  /**
   * The same connection settings, acting as `user` (with `groups`) through the API server's
   * impersonation: RBAC then judges each request as that user's, as Flux's
   * kustomize-controller does for a Kustomization's serviceAccountName. Request counts are
   * shared with this client, so metrics stay totals.
   */
  impersonating(user: string, groups: string[]): KubeClient {
    const c = new KubeClient(this.kc, this.options, this.tls);
    c.auth = this.auth;
    c.counts = this.counts;
    c.inFlight = this.inFlight;
    c.impersonation = { 'Impersonate-User': user, ...(groups.length > 0 && { 'Impersonate-Group': groups }) };
    c.actingAs = user;
    return c;
  }

  /** The request that has waited longest for its answer, if any (a hung API server or etcd shows here). */
  oldestPending(): { what: string; waitingMs: number } | undefined {
    const first = this.inFlight.values().next().value;
    return first ? { what: first.what, waitingMs: performance.now() - first.since } : undefined;
  }

  /** Requests made so far, by verb and dry-run (the agent exports these as metrics). */
  requestCounts(): RequestCount[] {
    return [...this.counts.values()];
  }

  private count(verb: string, dryRun: boolean): void {
    const k = `${verb}/${dryRun}`;
    const c = this.counts.get(k) ?? { verb, dryRun, count: 0 };
    c.count++;
    this.counts.set(k, c);
  }

  private async authHeaders(): Promise<Record<string, string>> {
    // Tokens from exec plugins and token files expire; re-read them now and then.
    if (this.auth && Date.now() - this.auth.at < AUTH_REFRESH_MS) return this.auth.headers;
    const headers = await this.kc.auth();
    this.auth = { headers, at: Date.now() };
    return headers;
  }

  /** Sends one request; resolves with the decoded JSON body, throws ApiStatusError on >= 400. */
  async request<T = unknown>(spec: RequestSpec): Promise<T> {
    const url = new URL(this.server + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const dryRun = url.searchParams.get('dryRun') === 'All';
    this.count(spec.verb ?? spec.method.toLowerCase(), dryRun);
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const headers: Record<string, string | string[]> = {
      ...(await this.authHeaders()),
      ...this.impersonation,
      Accept: spec.accept ?? 'application/json',
    };
    if (payload) {
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const id = nextRequestId++;
    this.inFlight.set(id, { what: `${spec.method} ${url.pathname}`, since: performance.now() });
    const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = request(
        url,
        { method: spec.method, headers, agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000}s`)));
      req.on('error', (e) =>
        reject(
          new ApiUnreachableError(`cannot reach the Kubernetes API server at ${this.server}: ${e.message}`, {
            hint: `check that the cluster of context "${this.contextName}" is running and reachable (kubectl cluster-info)`,
            cause: e,
          }),
        ),
      );
      req.end(payload);
    }).finally(() => this.inFlight.delete(id));
    const text = body.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (status >= 400) throw ApiStatusError.from(status, json, text, `${spec.method} ${url.pathname}`);
    return json as T;
  }

  /**
   * Opens a long-running GET (a watch) and resolves with the response once its headers
   * arrive; the caller reads it or aborts it. Each stream has its own connection so that
   * watches, which stay open for minutes, never hold the pooled sockets ordinary requests
   * queue for. Counted as verb `watch`.
   */
  async stream(spec: StreamSpec): Promise<IncomingMessage> {
    const url = new URL(this.server + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    this.count('watch', false);
    const headers = { ...(await this.authHeaders()), ...this.impersonation, Accept: 'application/json' };
    const { ca, cert, key, rejectUnauthorized, servername } = this.agent.options;
    const timeoutMs = spec.idleTimeoutMs ?? this.timeoutMs;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          headers,
          agent: false,
          ca,
          cert,
          key,
          rejectUnauthorized,
          servername,
          signal: spec.signal,
        },
        resolve,
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`silent for ${timeoutMs / 1000}s`)));
      req.on('error', (e) =>
        reject(
          spec.signal?.aborted
            ? e
            : new ApiUnreachableError(
                `cannot reach the Kubernetes API server at ${this.server}: ${e.message}`,
                {
                  hint: `check that the cluster of context "${this.contextName}" is running and reachable (kubectl cluster-info)`,
                  cause: e,
                },
              ),
        ),
      );
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status < 400) return res;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    throw ApiStatusError.from(status, json, text, `GET ${url.pathname} (watch)`);
  }

  close(): void {
    this.agent.destroy();
  }
}
