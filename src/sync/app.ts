/**
 * The App: what one Tether app is, as every driver runs it. The agent builds it from its
 * config file, the CLI from the same config (`--config --app`) or from flags alone; both
 * go through appFromConfig, so an app behaves the same whichever driver runs it.
 */
import { readFile } from 'node:fs/promises';
import type { AppConfig, RenderConfig, SyncMode } from '../config/index.ts';
import type { SourceSpec, VerifyPolicy } from '../source/index.ts';
import { normalizeDir, sourceIdentity } from '../source/identity.ts';
import type { SyncSettings } from './execute.ts';

export interface App {
  name: string;
  /** What identifies the source: repository and path (source/identity.ts), recorded on every object. */
  sourceId: string;
  source: SourceSpec;
  /** Directory of the manifests inside the repository ('' = root). */
  path: string;
  include?: string[];
  exclude?: string[];
  /** Poll interval of the agent. */
  intervalMs: number;
  destination: {
    kubeconfig?: string;
    context?: string;
    /** Namespace of objects that name none, and of the app's inventory. */
    namespace: string;
    allowedNamespaces?: string[];
  };
  mode: SyncMode;
  settings: SyncSettings;
  suspend: boolean;
  /** What the app's renderers may do (commands, remote bases) and its inline helm values. */
  render: RenderConfig;
}

async function readKeys(file: string | undefined): Promise<string[] | undefined> {
  if (!file) return undefined;
  const text = await readFile(file, 'utf8');
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    return text.split(/(?=-----BEGIN PGP PUBLIC KEY BLOCK-----)/).filter((k) => k.trim());
  }
  return text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
}

/** A validated app of the config (or of flags) as the pipeline runs it; reads its key files. */
export async function appFromConfig(app: AppConfig): Promise<App> {
  const s = app.source;
  let verify: VerifyPolicy = { mode: 'off' };
  if (s.verify.mode === 'required') {
    const pgpKeys = await readKeys(s.verify.pgpKeysFile);
    const sshKeys = await readKeys(s.verify.sshKeysFile);
    verify = { mode: 'required', ...(pgpKeys ? { pgpKeys } : {}), ...(sshKeys ? { sshKeys } : {}) };
  }
  const d = app.destination;
  return {
    name: app.name,
    sourceId: sourceIdentity(s.repo, s.path),
    source: {
      repo: s.repo,
      ...(s.ref ? { ref: s.ref } : {}),
      ...(s.usernameFile ? { usernameFile: s.usernameFile } : {}),
      ...(s.passwordFile ? { passwordFile: s.passwordFile } : {}),
      ...(s.caFile ? { caFile: s.caFile } : {}),
      ...(s.sshKeyFile ? { sshKeyFile: s.sshKeyFile } : {}),
      ...(s.knownHostsFile ? { knownHostsFile: s.knownHostsFile } : {}),
      verify,
    },
    path: normalizeDir(s.path),
    ...(s.include ? { include: s.include } : {}),
    ...(s.exclude.length ? { exclude: s.exclude } : {}),
    intervalMs: s.intervalMs,
    destination: {
      ...(d.kubeconfig ? { kubeconfig: d.kubeconfig } : {}),
      ...(d.context ? { context: d.context } : {}),
      namespace: d.namespace,
      ...(d.allowedNamespaces ? { allowedNamespaces: d.allowedNamespaces } : {}),
    },
    mode: app.sync.mode,
    settings: {
      prune: app.sync.prune,
      conflicts: app.sync.conflicts,
      ignore: app.sync.ignore,
      allowMassPrune: !app.sync.pruneGuard,
      recreate: false,
      adopt: false,
      waveTimeoutMs: app.sync.waveTimeoutMs,
    },
    suspend: app.sync.suspend,
    render: app.render,
  };
}
