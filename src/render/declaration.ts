import { posix } from 'node:path';
import { z } from 'zod';
import { decodeUtf8 } from '../manifests/decode.ts';
import { RenderDeclarationError } from '../manifests/errors.ts';
import { DEFAULT_LIMITS } from '../manifests/limits.ts';
import { locateOffset } from '../manifests/locate.ts';
import { parseFile } from '../manifests/parse.ts';
import type { SourceFile } from '../manifests/types.ts';

export const DECLARATION_FILE = 'tether-render.yaml';
/** The names kustomize itself looks for. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** A chart's own file: a directory holding one is rendered with helm. */
export const CHART_FILE = 'Chart.yaml';

export interface HelmDeclaration {
  renderer: 'helm';
  dir: string;
  declaredIn: string;
  /** Repository path of the chart directory (the declaring directory unless `chart` names another). */
  chart: string;
  releaseName?: string | undefined;
  /** Repository paths, in order. */
  valuesFiles: string[];
  /** Inline values, laid over the values files. */
  values?: Record<string, unknown> | undefined;
  includeCrds: boolean;
  timeoutSeconds?: number | undefined;
}

export type RenderDeclaration =
  | { renderer: 'kustomize'; dir: string; declaredIn: string; timeoutSeconds?: number | undefined }
  | HelmDeclaration
  | {
      renderer: 'command';
      dir: string;
      declaredIn: string;
      command: string[];
      timeoutSeconds?: number | undefined;
    };

const timeoutSeconds = z.number().positive().max(3600).optional();
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\0'), { error: 'must be a relative path' });
const schema = z.discriminatedUnion('renderer', [
  z.strictObject({ renderer: z.literal('kustomize'), timeoutSeconds }),
  z.strictObject({
    renderer: z.literal('helm'),
    chart: relativePath.optional(),
    releaseName: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/, {
        error: 'must be a DNS label of at most 53 characters',
      })
      .optional(),
    valuesFiles: z.array(relativePath).optional(),
    values: z.record(z.string(), z.unknown()).optional(),
    includeCrds: z.boolean().optional(),
    timeoutSeconds,
  }),
  z.strictObject({
    renderer: z.literal('command'),
    command: z.array(z.string().min(1)).min(1),
    timeoutSeconds,
  }),
]);

export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

// Which file declares a directory's renderer when several are there: an explicit
// tether-render.yaml, then a kustomization, then a chart.
function rank(name: string): number {
  if (name === DECLARATION_FILE) return 3;
  if (KUSTOMIZATION_FILES.includes(name)) return 2;
  if (name === CHART_FILE) return 1;
  return 0;
}

/** Directories that declare a renderer, each with the file that declares it. */
export function findRenderDirs(files: readonly SourceFile[]): Map<string, SourceFile> {
  const found = new Map<string, SourceFile>();
  for (const file of files) {
    const r = rank(baseName(file.path));
    if (r === 0) continue;
    const dir = dirOf(file.path);
    const current = found.get(dir);
    if (!current || rank(baseName(current.path)) < r) found.set(dir, file);
  }
  return found;
}

/** Reads a tether-render.yaml, or treats a kustomization file as `{renderer: kustomize}`. */
export function readDeclaration(file: SourceFile, commit: string): RenderDeclaration {
  const dir = dirOf(file.path);
  if (baseName(file.path) === CHART_FILE)
    return { renderer: 'helm', dir, declaredIn: file.path, chart: dir, valuesFiles: [], includeCrds: true };
  if (baseName(file.path) !== DECLARATION_FILE) return { renderer: 'kustomize', dir, declaredIn: file.path };
  const fail = (line: number, column: number, detail: string): never => {
    throw new RenderDeclarationError({ file: file.path, line, column }, commit, detail, {
      hint: 'write e.g. {renderer: kustomize}, {renderer: helm, valuesFiles: [values-prod.yaml]} or {renderer: command, command: ["./gen.sh"], timeoutSeconds: 30}',
    });
  };
  const decoded = decodeUtf8(file.content);
  if ('badOffset' in decoded) return fail(1, 1, 'the render declaration is not valid UTF-8');
  const parsed = parseFile(file.path, decoded.text, { commit, limits: DEFAULT_LIMITS, json: false });
  const firstError = parsed.errors[0];
  if (firstError) throw firstError;
  const doc = parsed.documents[0];
  if (!doc || parsed.documents.length > 1)
    return fail(1, 1, 'the render declaration must be exactly one YAML document');
  const result = schema.safeParse(doc.value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
    if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
    const at = parsed.locate(
      locateOffset(doc.root, doc.aliases, path, { key: issue?.code === 'unrecognized_keys' }),
    );
    const what =
      issue?.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.join(', ')}`
        : `${path.length > 0 ? `${path.join('.')}: ` : ''}${issue?.message ?? 'invalid'}`;
    return fail(at.line, at.column, `invalid render declaration: ${what}`);
  }
  const d = result.data;
  const inRepo = (p: string) => posix.normalize(posix.join(dir, p)).replace(/\/$/, '').replace(/^\.$/, '');
  switch (d.renderer) {
    case 'kustomize':
      return { renderer: 'kustomize', dir, declaredIn: file.path, timeoutSeconds: d.timeoutSeconds };
    case 'helm':
      return {
        renderer: 'helm',
        dir,
        declaredIn: file.path,
        chart: inRepo(d.chart ?? '.'),
        releaseName: d.releaseName,
        valuesFiles: (d.valuesFiles ?? []).map(inRepo),
        values: d.values,
        includeCrds: d.includeCrds ?? true,
        timeoutSeconds: d.timeoutSeconds,
      };
    case 'command':
      return {
        renderer: 'command',
        dir,
        declaredIn: file.path,
        command: d.command,
        timeoutSeconds: d.timeoutSeconds,
      };
  }
}
