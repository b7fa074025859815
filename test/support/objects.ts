/**
 * Kubernetes objects for tests, one template per kind. Builders return plain objects (fresh
 * each call, so a test may add a rare field to the result); `toYaml` writes them as the text
 * of a manifest file, the way a user would commit it.
 *
 * The defaults are what the tests have in common; pass only what a test is about.
 */
import { Scalar, stringify } from 'yaml';

export type StringMap = Record<string, string>;

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
  resourceVersion?: string;
  finalizers?: string[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  [field: string]: unknown;
}

/** The metadata a test usually sets; fields left undefined are left out of the object. */
export interface MetaOptions {
  name: string;
  namespace?: string | undefined;
  labels?: StringMap | undefined;
  annotations?: StringMap | undefined;
  resourceVersion?: string | undefined;
}

function metadata(opts: MetaOptions): Metadata {
  const meta: Metadata = { name: opts.name };
  if (opts.namespace !== undefined) meta.namespace = opts.namespace;
  if (opts.labels !== undefined) meta.labels = opts.labels;
  if (opts.annotations !== undefined) meta.annotations = opts.annotations;
  if (opts.resourceVersion !== undefined) meta.resourceVersion = opts.resourceVersion;
  return meta;
}

/** Fields of `fields` whose value is undefined are dropped, so the object has only what was set. */
function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Any object: apiVersion, kind, metadata, then `body` (spec, data, ...). */
export function kubeObject(
  apiVersion: string,
  kind: string,
  meta: MetaOptions,
  body: Record<string, unknown> = {},
): KubeObject {
  return { apiVersion, kind, metadata: metadata(meta), ...defined(body) };
}

export interface Container {
  name: string;
  image: string;
  [field: string]: unknown;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: StringMap };
    template: {
      metadata: { labels: StringMap };
      spec: { containers: Container[]; [field: string]: unknown };
    };
  };
}

export interface DeploymentOptions extends MetaOptions {
  /** 'nginx:1.27' unless given. */
  image?: string | undefined;
  /** 1 unless given. */
  replicas?: number | undefined;
  /** The selector and the pod template's labels; `{app: <name>}` unless given. */
  podLabels?: StringMap | undefined;
  /** The one container: named 'main' unless given, with `image`, and any other fields given here. */
  container?: Partial<Container> | undefined;
  /** More fields of the pod spec, after `containers` (volumes, ...). */
  podSpec?: Record<string, unknown> | undefined;
}

/** An apps/v1 Deployment with one container. */
export function deployment(opts: DeploymentOptions): Deployment {
  const podLabels = opts.podLabels ?? { app: opts.name };
  const container: Container = {
    name: 'main',
    ...opts.container,
    image: opts.image ?? opts.container?.image ?? 'nginx:1.27',
  };
  // Keep `name, image` first, as manifests are usually written.
  const { name, image, ...rest } = container;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(opts),
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { ...podLabels } },
      template: {
        metadata: { labels: { ...podLabels } },
        spec: { containers: [{ name, image, ...rest }], ...opts.podSpec },
      },
    },
  };
}

export interface ConfigMapOptions extends MetaOptions {
  data?: StringMap | undefined;
  binaryData?: StringMap | undefined;
}

/** A v1 ConfigMap; without `data` it has no data field at all. */
export function configMap(opts: ConfigMapOptions): KubeObject {
  return kubeObject('v1', 'ConfigMap', opts, { data: opts.data, binaryData: opts.binaryData });
}

export interface SecretOptions extends MetaOptions {
  type?: string | undefined;
  /** Base64-encoded values. */
  data?: StringMap | undefined;
  stringData?: StringMap | undefined;
}

/** A v1 Secret. */
export function secret(opts: SecretOptions): KubeObject {
  return kubeObject('v1', 'Secret', opts, { type: opts.type, data: opts.data, stringData: opts.stringData });
}

export interface ServiceOptions extends MetaOptions {
  /** `{app: <name>}` unless given. */
  selector?: StringMap | undefined;
  /** `[{port: 80, targetPort: 8080}]` unless given. */
  ports?: { port: number; targetPort?: number | string; protocol?: string; name?: string }[] | undefined;
}

/** A v1 Service selecting the pods of the Deployment of the same name. */
export function service(opts: ServiceOptions): KubeObject {
  return kubeObject('v1', 'Service', opts, {
    spec: {
      selector: opts.selector ?? { app: opts.name },
      ports: opts.ports ?? [{ port: 80, targetPort: 8080 }],
    },
  });
}

/** A v1 Namespace (cluster-scoped: no namespace option). */
export function namespace(opts: Omit<MetaOptions, 'namespace'>): KubeObject {
  return kubeObject('v1', 'Namespace', opts);
}

/**
 * A number written in octal in the YAML text (`0644`, as file modes are written), for tests of
 * how such values are read. JSON.stringify writes it as the plain number.
 */
export function octal(value: number): Scalar<number> {
  const s = new Scalar(value);
  s.format = 'OCT';
  return s;
}

/**
 * The text of a manifest file holding `docs`, one YAML document each, separated by `---`.
 * Written with YAML 1.1 rules, as Kubernetes reads manifests: strings such as "yes", "on",
 * "0644" or the key "n" are quoted so that they stay strings.
 */
export function toYaml(...docs: object[]): string {
  return docs.map((doc) => stringify(doc, { version: '1.1' })).join('---\n');
}
