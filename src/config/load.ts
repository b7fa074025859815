import { readFile } from 'node:fs/promises';
import { ConfigReadError } from './errors.ts';
import { parseConfig } from './parse.ts';
import type { TetherConfig } from './types.ts';

/** Reads and validates a config file; see parseConfig. */
export async function loadConfig(file: string): Promise<TetherConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ConfigReadError(`cannot read config file ${file}: ${why}`, {
      hint: 'pass the path of a Tether config file with --config',
      cause: err,
    });
  }
  return parseConfig(text, file);
}
