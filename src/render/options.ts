import type { SourceFile } from '../manifests/types.ts';
import type { RenderDeclaration } from './declaration.ts';
import type { Origin } from './origin.ts';

export interface RenderOptions {
  commit: string;
  /** What to render; found in `dir` (tether-render.yaml, a kustomization, a Chart.yaml) when absent. */
  declaration?: RenderDeclaration;
  /** Default 60 s; a declaration's timeoutSeconds overrides it. */
  timeoutMs?: number;
  /** Default 64 MiB. */
  maxOutputBytes?: number;
  /**
   * Command renderers run programs from the repository: anyone who can push can run code
   * on the agent. Off unless the operator turns it on (render.allowCommands).
   */
  allowCommands?: boolean;
  /** kustomize may fetch http(s) and git bases (render.allowRemoteBases); off by default. */
  allowRemoteBases?: boolean;
  /** PATH for the renderer; defaults to the agent's PATH. */
  path?: string;
  /** helm's --namespace: the app's namespace. */
  namespace?: string;
  /** helm's release name when the declaration names none: the app's name. */
  releaseName?: string;
  /** The cluster's version for helm's .Capabilities (asked only when a chart renders). */
  kubeVersion?: () => Promise<string | undefined>;
  /** The app config's inline helm values, laid over everything else. */
  helmValues?: Record<string, unknown>;
}

/** A renderer's output as one synthetic file, and where each of its documents came from. */
export interface Rendered {
  file: SourceFile;
  origins: Origin[];
}
