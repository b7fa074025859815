import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SourceFile } from '../manifests/types.ts';

/** Why a repository path cannot be written under the temp directory, if it cannot. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\0') || path.includes('\\')) return 'contains a NUL or a backslash';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return "has an empty, '.' or '..' segment";
  return undefined;
}

export interface Workspace {
  /** Root of the materialized repository files. */
  src: string;
  /** A fresh private directory for one render (its HOME, values files, wrapper). */
  scratch: () => Promise<string>;
  remove: () => Promise<void>;
}

/**
 * Writes the files into a fresh private temp directory (0700, files 0600, or 0700 when
 * executable). Paths were checked with unsafePathReason beforehand. 'wx' never follows or
 * overwrites anything that is already there.
 */
export async function materialize(
  files: readonly SourceFile[],
  executable: (f: SourceFile) => boolean,
): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'tether-render-'));
  const remove = () => rm(root, { recursive: true, force: true });
  try {
    await chmod(root, 0o700);
    const src = join(root, 'src');
    await mkdir(src, { mode: 0o700 });
    for (const file of files) {
      const target = join(src, ...file.path.split('/'));
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, file.content, { mode: executable(file) ? 0o700 : 0o600, flag: 'wx' });
    }
    let n = 0;
    const scratch = async () => {
      const dir = join(root, `run-${++n}`);
      await mkdir(join(dir, 'home'), { recursive: true, mode: 0o700 });
      return dir;
    };
    return { src, scratch, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
