/** A child process's exit code and output, collected whole (no vitest import: bench may use it). */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Resolves when the child closes; never rejects on a non-zero exit (the caller asserts it). */
export function collect(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
): Promise<ProcessResult> {
  return new Promise((res, rej) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}
