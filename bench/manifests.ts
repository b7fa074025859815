/**
 * Generates a realistic set of N objects spread over namespaces of 100 objects each: per ten
 * objects, 2 Deployments, 2 Services, 4 ConfigMaps and 2 Secrets, shaped like a microservice
 * (labels, resources, probes, env from the ConfigMap and Secret). Services are headless
 * (clusterIP: None): the local control plane's service range is a /24, so 2,000+ ClusterIPs
 * would not fit. Every object carries its namespace explicitly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface GeneratedObject {
  kind: 'Deployment' | 'Service' | 'ConfigMap' | 'Secret';
  namespace: string;
  name: string;
  /** API path of the object (for PATCH/GET). */
  path: string;
  /** Repository-relative file, under `apps/`. */
  file: string;
  yaml: string;
}

export interface ManifestSet {
  namespaces: string[];
  objects: GeneratedObject[];
  /** Deployments' desired replicas. */
  replicas: number;
}

const PER_NAMESPACE = 100;
const pattern = [
  'Deployment',
  'Service',
  'ConfigMap',
  'ConfigMap',
  'Secret',
  'Deployment',
  'Service',
  'ConfigMap',
  'ConfigMap',
  'Secret',
] as const;

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function generate(n: number, nsPrefix: string): ManifestSet {
  const nsCount = Math.max(1, Math.ceil(n / PER_NAMESPACE));
  const namespaces = Array.from({ length: nsCount }, (_, i) => `${nsPrefix}-${i}`);
  const objects: GeneratedObject[] = [];
  const replicas = 2;
  for (let i = 0; i < n; i++) {
    const namespace = namespaces[Math.floor(i / PER_NAMESPACE)]!;
    const kind = pattern[i % pattern.length]!;
    const svc = `svc-${Math.floor(i / 5)}`; // one "service" per five objects
    const labels = `app.kubernetes.io/name: ${svc}\n    app.kubernetes.io/part-of: bench\n    tier: "${['web', 'api', 'worker'][i % 3]}"`;
    let name: string;
    let yaml: string;
    let path: string;
    switch (kind) {
      case 'Deployment':
        name = `${svc}-${i}`;
        path = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
        yaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    ${labels}
  annotations:
    bench.tether.dev/owner: team-${i % 7}
spec:
  replicas: ${replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
        app.kubernetes.io/part-of: bench
    spec:
      containers:
        - name: app
          image: registry.example.com/bench/${svc}:1.${i % 20}.${i % 7}
          args: ["--port=8080", "--log-level=info"]
          ports:
            - {name: http, containerPort: 8080, protocol: TCP}
          env:
            - {name: SERVICE_NAME, value: ${svc}}
            - {name: REGION, value: eu-west-1}
          envFrom:
            - configMapRef: {name: ${svc}-config-${i + 2}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: /livez, port: http}
            initialDelaySeconds: 15
`;
        break;
      case 'Service':
        name = `${svc}-${i}`;
        path = `/api/v1/namespaces/${namespace}/services/${name}`;
        yaml = `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    ${labels}
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: ${svc}-${i - 1}
  ports:
    - {name: http, port: 80, targetPort: http, protocol: TCP}
    - {name: metrics, port: 9090, targetPort: 9090, protocol: TCP}
`;
        break;
      case 'ConfigMap':
        name = `${svc}-config-${i}`;
        path = `/api/v1/namespaces/${namespace}/configmaps/${name}`;
        yaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    ${labels}
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "search,checkout,recommendations-${i % 4}"
  UPSTREAM_URL: http://${svc}.${namespace}.svc.cluster.local:80
  app.properties: |
    server.port=8080
    cache.size=${(i % 16) * 64}
    pool.max=${10 + (i % 30)}
    description=${'generated configuration line '.repeat(4 + (i % 8)).trim()}
`;
        break;
      case 'Secret':
        name = `${svc}-secret-${i}`;
        path = `/api/v1/namespaces/${namespace}/secrets/${name}`;
        yaml = `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    ${labels}
type: Opaque
data:
  username: ${b64(`user-${i}`)}
  password: ${b64(`p4ss-${i}-${'s'.repeat(24)}`)}
  token: ${b64(`tok-${i}-${'t'.repeat(40 + (i % 20))}`)}
`;
        break;
    }
    objects.push({
      kind,
      namespace,
      name,
      path,
      file: `apps/${namespace}/${kind.toLowerCase()}-${name}.yaml`,
      yaml,
    });
  }
  return { namespaces, objects, replicas };
}

/** Writes the set as one file per object under `dir/apps/<namespace>/`. */
export function writeSet(set: ManifestSet, dir: string): string {
  for (const o of set.objects) {
    const full = join(dir, o.file);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, o.yaml);
  }
  return join(dir, 'apps');
}

/** The set as a git-server commit (path -> content). */
export function asFiles(set: ManifestSet): Record<string, string> {
  return Object.fromEntries(set.objects.map((o) => [o.file, o.yaml]));
}
