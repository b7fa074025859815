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

export type RenderDeclaration =
  | { renderer: 'kustomize'; dir: string; declaredIn: string; timeoutSeconds?: number | undefined }
  | {
      renderer: 'command';
      dir: string;
      declaredIn: string;
      command: string[];
      timeoutSeconds?: number | undefined;
    };

const timeoutSeconds = z.number().positive().max(3600).optional();
const schema = z.discriminatedUnion('renderer', [
  z.strictObject({ renderer: z.literal('kustomize'), timeoutSeconds }),
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

/** Directories that declare a renderer, each with the file that declares it. */
export function findRenderDirs(files: readonly SourceFile[]): Map<string, SourceFile> {
  const found = new Map<string, SourceFile>();
  for (const file of files) {
    const name = baseName(file.path);
    const dir = dirOf(file.path);
    // An explicit tether-render.yaml wins over a kustomization next to it.
    if (name === DECLARATION_FILE) found.set(dir, file);
    else if (KUSTOMIZATION_FILES.includes(name) && baseName(found.get(dir)?.path ?? '') !== DECLARATION_FILE)
      found.set(dir, file);
  }
  return found;
}

/** Reads a tether-render.yaml, or treats a kustomization file as `{renderer: kustomize}`. */
export function readDeclaration(file: SourceFile, commit: string): RenderDeclaration {
  const dir = dirOf(file.path);
  if (baseName(file.path) !== DECLARATION_FILE) return { renderer: 'kustomize', dir, declaredIn: file.path };
  const fail = (line: number, column: number, detail: string): never => {
    throw new RenderDeclarationError({ file: file.path, line, column }, commit, detail, {
      hint: 'write e.g. {renderer: kustomize} or {renderer: command, command: ["./gen.sh"], timeoutSeconds: 30}',
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
  return d.renderer === 'kustomize'
    ? { renderer: 'kustomize', dir, declaredIn: file.path, timeoutSeconds: d.timeoutSeconds }
    : {
        renderer: 'command',
        dir,
        declaredIn: file.path,
        command: d.command,
        timeoutSeconds: d.timeoutSeconds,
      };
}
