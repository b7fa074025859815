/**
 * The agent image without a Docker engine: the Dockerfile is parsed and checked as a linter
 * would (stages, pinned base images, every ARG used, non-root USER, apt lists cleaned, exec
 * form ENTRYPOINT/CMD, every COPY source present and let through by .dockerignore), its tool
 * versions agree with the wrapper modules' go.mod/go.sum and the versions the tests build, and
 * the image agrees with what charts/tether renders: config path, port, uid and writable paths.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import { HELM_VERSION, ensureHelm } from '../../tools/controlplane/build.ts';
import { repoRoot } from '../support/cluster.ts';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
  stages: Stage[];
  all: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && !pending)) return;
    if (!pending) start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start });
  });
  return out;
}

function parseDockerfile(text: string): Dockerfile {
  const all = instructions(text);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ image: m[1]!, name: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [name, value = ''] = ins.args.split('=', 2) as [string, string?];
      globalArgs.set(name, value);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages, all };
}

const dockerfileText = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const df = parseDockerfile(dockerfileText);
const finalStage = df.stages.at(-1)!;

function stage(name: string): Stage {
  const s = df.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name} in the Dockerfile`);
  return s;
}

function of(s: Stage, keyword: string): Instruction[] {
  return s.instructions.filter((i) => i.keyword === keyword);
}

/** ARG defaults of a stage (ARG NAME=value). */
function stageArgs(s: Stage): Map<string, string> {
  return new Map(
    of(s, 'ARG').map((i) => {
      const [name, value = ''] = i.args.split('=', 2) as [string, string?];
      return [name, value];
    }),
  );
}

/** ENV of a stage: both `ENV A=1 B=2` and the legacy `ENV A 1`. */
function stageEnv(s: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of of(s, 'ENV')) {
    if (!i.args.includes('=')) {
      const [k, ...v] = i.args.split(/\s+/);
      env.set(k!, v.join(' '));
      continue;
    }
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env.set(m[1]!, m[2]!.replace(/^"|"$/g, ''));
  }
  return env;
}

/** The image a FROM names, with ARG defaults substituted. */
function resolveImage(image: string): string {
  return image.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const v = df.globalArgs.get(name);
    if (v === undefined) throw new Error(`FROM uses ${name}, which has no global ARG`);
    return v;
  });
}

function execJson(i: Instruction): string[] {
  const v = JSON.parse(i.args) as unknown;
  expect(Array.isArray(v), `${i.keyword} on line ${i.line} is not in exec (JSON) form`).toBe(true);
  return v as string[];
}

function goModRequire(dir: string, module: string): string {
  const gomod = readFileSync(join(repoRoot, dir, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(gomod);
  if (!m) throw new Error(`${dir}/go.mod does not require ${module}`);
  return m[1]!;
}

function goDirective(dir: string): string {
  const m = /^go\s+(\S+)/m.exec(readFileSync(join(repoRoot, dir, 'go.mod'), 'utf8'));
  if (!m) throw new Error(`${dir}/go.mod has no go directive`);
  return m[1]!;
}

function versionAtLeast(have: string, want: string): boolean {
  const a = have.split('.').map(Number);
  const b = want.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

describe('Dockerfile, checked without a Docker engine', () => {
  it('has the tools, deps and build stages and an unnamed runtime stage, each --from naming an earlier stage', () => {
    expect(df.stages.map((s) => s.name)).toEqual(['tools', 'deps', 'build', undefined]);
    df.stages.forEach((s, n) => {
      for (const i of s.instructions) {
        const from = /--from=(\S+)/.exec(i.args)?.[1];
        if (from === undefined) continue;
        const earlier = df.stages.slice(0, n).map((x) => x.name);
        expect(earlier, `line ${i.line}: --from=${from}`).toContain(from);
      }
    });
    expect(dockerfileText.startsWith('# syntax=docker/dockerfile:1\n')).toBe(true);
  });

  it('builds from base images pinned to a full version, never latest', () => {
    for (const s of df.stages) {
      const image = resolveImage(s.image);
      const [name, tag] = image.split(':') as [string, string?];
      expect(tag, `${image} has no tag`).toBeDefined();
      expect(tag).not.toMatch(/latest/);
      // A full version (major.minor.patch) and a named Debian release: a rebuild gets the same base.
      expect(tag, image).toMatch(/^\d+\.\d+\.\d+-(bookworm|trixie)(-slim)?$/);
      expect(['node', 'golang']).toContain(name);
    }
    // The runtime is the Node major the project runs and tests on.
    const node = resolveImage(finalStage.image).split(':')[1]!;
    expect(node.split('.')[0]).toBe(process.versions.node.split('.')[0]);
  });

  it('uses every ARG it declares, and declares every variable it uses', () => {
    const declared = new Set([
      ...df.globalArgs.keys(),
      ...df.stages.flatMap((s) => [...stageArgs(s).keys()]),
    ]);
    const envs = new Set(df.stages.flatMap((s) => [...stageEnv(s).keys()]));
    const used = new Set<string>();
    for (const s of df.stages) used.add(s.image.replace(/^\$\{?(\w+)\}?$/, '$1'));
    for (const i of df.all) {
      if (i.keyword === 'ARG') continue;
      for (const m of i.args.matchAll(/\$\{(\w+)\}|\$(\w+)/g)) used.add(m[1] ?? m[2]!);
    }
    for (const name of declared) expect(used, `ARG ${name} is never used`).toContain(name);
    // Variables used in RUN/ENV are ARGs or ENVs of the Dockerfile (shell-only ones excepted).
    for (const name of used) {
      if (!/^[A-Z_]+$/.test(name)) continue;
      expect(declared.has(name) || envs.has(name), `${name} is used but never declared`).toBe(true);
    }
  });

  it('runs as the numeric non-root user 1000:1000 with exec-form ENTRYPOINT and CMD', () => {
    const users = of(finalStage, 'USER');
    expect(users.map((u) => u.args)).toEqual(['1000:1000']);
    // USER comes after every RUN of the runtime stage: nothing after it needs root.
    const userIndex = finalStage.instructions.indexOf(users[0]!);
    expect(finalStage.instructions.slice(userIndex).filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(execJson(of(finalStage, 'ENTRYPOINT')[0]!)).toEqual(['node', 'bin/tether.js']);
    expect(execJson(of(finalStage, 'CMD')[0]!)[0]).toBe('agent');
    for (const s of df.stages)
      expect(of(s, 'ADD'), 'ADD fetches or unpacks implicitly: use COPY').toEqual([]);
  });

  it('installs apt packages without recommends and removes the apt lists in the same layer', () => {
    const runs = df.all.filter((i) => i.keyword === 'RUN' && /apt-get/.test(i.args));
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      const cmd = r.args.replace(/\s+/g, ' ');
      expect(cmd, `line ${r.line}`).toMatch(/apt-get update && apt-get install -y --no-install-recommends /);
      expect(cmd, `line ${r.line}`).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*$/);
      expect(cmd, `line ${r.line}`).not.toMatch(/apt-get upgrade|dist-upgrade/);
    }
    // git and its ssh client (kustomize's remote bases) and CA certificates in the runtime image.
    const installed = runs
      .filter((r) => finalStage.instructions.includes(r))
      .flatMap((r) => /--no-install-recommends ([^&]+)/.exec(r.args)![1]!.trim().split(/\s+/));
    expect(installed).toEqual(expect.arrayContaining(['git', 'openssh-client', 'ca-certificates']));
  });

  it('builds kustomize and helm from the Go module proxy, checksummed by the committed go.sum', () => {
    const tools = stage('tools');
    const env = stageEnv(tools);
    expect(env.get('GOFLAGS')).toBe('-mod=readonly');
    expect(env.get('CGO_ENABLED')).toBe('0');
    expect(env.get('GOSUMDB')).toBe('sum.golang.org');
    expect(env.get('GOPROXY')).toMatch(/^https:\/\/proxy\.golang\.org/);
    expect(env.get('GOPROXY')).not.toMatch(/direct|off/);
    for (const s of df.stages) {
      for (const k of ['GONOSUMDB', 'GONOSUMCHECK', 'GOPRIVATE', 'GONOPROXY', 'GOINSECURE']) {
        expect(stageEnv(s).has(k), `${k} turns off checksum verification`).toBe(false);
      }
    }
    for (const i of df.all) {
      expect(i.args, `line ${i.line}`).not.toMatch(/-insecure|GOSUMDB=off|-mod=mod|go mod tidy|go get /);
    }

    // Each tool: its wrapper module's go.mod, go.sum and tools.go are copied, then built to /out.
    const args = stageArgs(tools);
    const wrappers = [
      {
        bin: 'helm',
        dir: 'tools/helm',
        module: 'helm.sh/helm/v4',
        pkg: 'helm.sh/helm/v4/cmd/helm',
        arg: 'HELM_VERSION',
      },
      {
        bin: 'kustomize',
        dir: 'tools/image',
        module: 'sigs.k8s.io/kustomize/kustomize/v5',
        pkg: 'sigs.k8s.io/kustomize/kustomize/v5',
        arg: 'KUSTOMIZE_VERSION',
      },
    ];
    const copies = of(tools, 'COPY').map((c) => c.args);
    const runs = of(tools, 'RUN').map((r) => r.args);
    for (const w of wrappers) {
      const version = goModRequire(w.dir, w.module);
      expect(args.get(w.arg), `${w.arg} vs ${w.dir}/go.mod`).toBe(version);
      const sum = readFileSync(join(repoRoot, w.dir, 'go.sum'), 'utf8');
      expect(sum).toContain(`${w.module} ${version} h1:`);
      expect(sum).toContain(`${w.module} ${version}/go.mod h1:`);
      expect(readFileSync(join(repoRoot, w.dir, 'tools.go'), 'utf8')).toContain(`import _ "${w.pkg}"`);
      expect(copies).toContain(`${w.dir}/go.mod ${w.dir}/go.sum ${w.dir}/tools.go ./`);
      const build = runs.find((r) => r.includes(`-o /out/${w.bin} `));
      expect(build, `no RUN builds /out/${w.bin}`).toBeDefined();
      expect(build).toContain('go mod download');
      expect(build).toContain(` ${w.pkg} `);
      // The built binary reports the pinned version, or the build fails.
      expect(build).toMatch(new RegExp(`/out/${w.bin} version.*grep -qx "\\$\\{${w.arg}\\}"`));
    }
    // The helm the chart tests build is the helm the image carries.
    expect(args.get('HELM_VERSION')).toBe(HELM_VERSION);

    // The Go image is new enough for both wrapper modules.
    const goVersion = resolveImage(tools.image).split(':')[1]!.split('-')[0]!;
    for (const w of wrappers) expect(versionAtLeast(goVersion, goDirective(w.dir)), w.dir).toBe(true);
    expect(env.get('GOTOOLCHAIN')).toBe('local');
  });

  it('copies into /usr/local/bin exactly the binaries the tools stage builds', () => {
    const built = of(stage('tools'), 'RUN').flatMap((r) =>
      [...r.args.matchAll(/-o (\/out\/\S+)/g)].map((m) => m[1]!),
    );
    const copied = of(finalStage, 'COPY')
      .filter((c) => c.args.startsWith('--from=tools '))
      .flatMap((c) => {
        const parts = c.args.split(/\s+/).slice(1);
        expect(parts.at(-1)).toBe('/usr/local/bin/');
        return parts.slice(0, -1);
      });
    expect(copied.sort()).toEqual(built.sort());
    expect(copied.sort()).toEqual(['/out/helm', '/out/kustomize']);
  });

  it('copies only sources that exist and that .dockerignore lets into the build context', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    // Everything is ignored, then single files and directories are let through.
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((l) => {
      expect(l.startsWith('!'), `.dockerignore line ${l}: only ! lines after *`).toBe(true);
      return l.slice(1);
    });
    const passes = (p: string): boolean =>
      allowed.some((a) => (a.endsWith('/') ? p === a.slice(0, -1) || p.startsWith(a) : p === a));
    const sources = df.all
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(join(repoRoot, src)), `COPY ${src}: no such file`).toBe(true);
      expect(passes(src), `COPY ${src} is excluded by .dockerignore`).toBe(true);
    }
    // Nothing let through that no COPY needs (the context stays small).
    for (const a of allowed) {
      const base = a.replace(/\/$/, '');
      expect(
        sources.some((s) => s === base || s.startsWith(`${base}/`)),
        `.dockerignore lets ${a} through unused`,
      ).toBe(true);
    }
  });
});

describe('the image and charts/tether agree', () => {
  interface Rendered {
    kind: string;
    metadata: { name: string };
    data?: Record<string, string>;
    spec?: Record<string, unknown>;
  }
  interface Container {
    args: string[];
    env: { name: string; value?: string }[];
    ports: { name: string; containerPort: number }[];
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }
  interface Pod {
    securityContext: Record<string, unknown>;
    containers: Container[];
    volumes: {
      name: string;
      emptyDir?: unknown;
      persistentVolumeClaim?: unknown;
      projected?: { sources: { configMap?: { items: { key: string; path: string }[] } }[] };
    }[];
  }

  let objects: Rendered[] = [];
  const values = (): Record<string, unknown> =>
    parse(readFileSync(join(repoRoot, 'charts', 'tether', 'values.yaml'), 'utf8')) as Record<string, unknown>;

  beforeAll(async () => {
    const helm = await ensureHelm();
    const app = JSON.stringify({
      apps: [
        {
          name: 'shop',
          source: { repo: 'https://git.example.com/org/deploy.git' },
          destination: { namespace: 'shop' },
        },
      ],
    });
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        helm,
        ['template', 'tether', join(repoRoot, 'charts', 'tether'), '-n', 'tether-system', '-f', '-'],
        { maxBuffer: 64 << 20 },
        (err, out, stderr) =>
          err ? reject(new Error(`helm template: ${stderr}`, { cause: err })) : resolve(out),
      );
      child.stdin?.end(app);
    });
    objects = parseAllDocuments(stdout)
      .map((d) => d.toJS() as Rendered | null)
      .filter((o): o is Rendered => o !== null);
  }, 1_800_000);

  const pod = (): Pod => {
    const d = objects.find((o) => o.kind === 'Deployment');
    if (!d) throw new Error('no Deployment rendered');
    return (d.spec as { template: { spec: Pod } }).template.spec;
  };
  const container = (): Container => pod().containers[0]!;
  const mountOf = (path: string): { name: string; mountPath: string; readOnly?: boolean } | undefined =>
    container()
      .volumeMounts.filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const renderedConfig = () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.data?.['tether.yaml']);
    if (!cm) throw new Error('no ConfigMap with tether.yaml rendered');
    return cm.data!['tether.yaml']!;
  };

  it("mounts the config file where the image's CMD reads it", () => {
    const cmd = execJson(of(finalStage, 'CMD')[0]!);
    expect(container().args).toEqual(cmd);
    const configPath = cmd[cmd.indexOf('--config') + 1]!;
    expect(configPath).toBe('/etc/tether/tether.yaml');
    const mount = mountOf(configPath);
    expect(mount).toMatchObject({ name: 'config', mountPath: dirname(configPath), readOnly: true });
    const projected = pod().volumes.find((v) => v.name === 'config')?.projected;
    const items = projected?.sources.flatMap((s) => s.configMap?.items ?? []) ?? [];
    expect(items).toContainEqual({ key: 'tether.yaml', path: posix.relative(mount!.mountPath, configPath) });
  });

  it('writes the audit log on the audit volume, and the config is one the agent accepts', () => {
    const config = parseConfig(renderedConfig(), '/etc/tether/tether.yaml');
    const auditLog = (parse(renderedConfig()) as { auditLog: string }).auditLog;
    expect(posix.isAbsolute(auditLog)).toBe(true);
    const mount = mountOf(auditLog);
    expect(mount).toMatchObject({ name: 'audit', mountPath: '/var/lib/tether' });
    expect(mount?.readOnly).not.toBe(true);
    const audit = pod().volumes.find((v) => v.name === 'audit');
    expect(audit?.persistentVolumeClaim ?? audit?.emptyDir).toBeDefined();
    expect(config).toBeDefined();
  });

  it('gives every path the image writes (TETHER_CACHE_DIR, HOME) a writable emptyDir on a read-only root', () => {
    expect(container().securityContext.readOnlyRootFilesystem).toBe(true);
    const imageEnv = stageEnv(finalStage);
    const podEnv = new Map(container().env.map((e) => [e.name, e.value]));
    for (const name of ['TETHER_CACHE_DIR', 'HOME']) {
      const path = imageEnv.get(name);
      expect(path, `the image sets no ${name}`).toBeDefined();
      expect(podEnv.get(name), `the chart's ${name}`).toBe(path);
      const mount = mountOf(path!);
      expect(mount?.mountPath, `${name}=${path} is not on a mounted volume`).toBe(path);
      expect(mount?.readOnly).not.toBe(true);
      expect(pod().volumes.find((v) => v.name === mount!.name)?.emptyDir).toBeDefined();
    }
  });

  it("listens on the image's EXPOSEd port, the chart's container port and the Service's target", () => {
    const exposed = of(finalStage, 'EXPOSE').map((e) => Number(e.args.split('/')[0]));
    expect(exposed).toEqual([values().port]);
    const port = container().ports.find((p) => p.name === 'http');
    expect(port?.containerPort).toBe(exposed[0]);
    const svc = objects.find((o) => o.kind === 'Service');
    const svcPorts = (svc?.spec as { ports: { targetPort: string | number }[] }).ports;
    expect(svcPorts.map((p) => p.targetPort)).toEqual(['http']);
    const listen = (parse(renderedConfig()) as { listen: string }).listen;
    expect(listen).toBe(`0.0.0.0:${exposed[0]}`);
  });

  it("runs as the uid and gid the chart's securityContext expects", () => {
    const [uid, gid] = of(finalStage, 'USER')[0]!.args.split(':').map(Number) as [number, number];
    expect(uid).toBeGreaterThan(0);
    expect(pod().securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid,
      fsGroup: gid,
    });
    expect(container().securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
    });
  });
});

describe('Dockerfile lint', () => {
  it('passes dockerfile-utils validation with no problem of any severity', async () => {
    const { validate } = await import('dockerfile-utils');
    const text = readFileSync(join(import.meta.dirname, '..', '..', 'Dockerfile'), 'utf8');
    const problems = validate(text).map(
      (d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
    // The linter does find problems: a Dockerfile with a bad instruction is refused.
    expect(validate('FROM node:24\nRUNN echo\n').length).toBeGreaterThan(0);
  });
});
