/**
 * Runs one renderer job: in the sandbox where there is one, with a clean environment, a
 * timeout and an output cap; turns every way it can fail into a RenderError (via `fail`)
 * whose stderr part names repository paths, not the temp directory.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Job } from './jobs.ts';
import { runProcess } from './run-process.ts';
import { sandboxed, sandboxProgram } from './sandbox.ts';

const STDERR_LINES = 10;

export interface JobRun {
  /** The materialized repository. */
  src: string;
  /** The render's scratch directory (its HOME is `home` inside). */
  scratch: string;
  /** Whether the job may write into `src` (a command renderer's own copy). */
  ownCopy: boolean;
  network: boolean;
  searchPath: string;
  timeoutMs: number;
  maxOutput: number;
  /** For messages: the rendered directory. */
  dirName: string;
  fail: (detail: string, hint: string) => never;
}

let runs = 0;
/** How many renderer processes this process started (benchmarks: a no-change tick starts none). */
export function rendererRuns(): number {
  return runs;
}

/** Runs the job and returns its stdout; throws through `r.fail` on any failure. */
export async function runJob(job: Job, r: JobRun): Promise<string> {
  const { src, scratch, dirName, fail } = r;
  const bwrap = sandboxProgram();
  const program = job.argv[0] ?? '';
  const outsideProgram = program.startsWith('/') && !program.startsWith(`${src}/`) && existsSync(program);
  const argv = sandboxed(
    job.argv,
    {
      readOnly: [...(r.ownCopy ? [] : [src]), ...(outsideProgram ? [program] : [])],
      writable: r.ownCopy ? [src, scratch] : [scratch],
      network: r.network,
      cwd: job.cwd,
    },
    bwrap,
  );
  runs++;
  const result = await runProcess(argv, {
    cwd: job.cwd,
    env: { PATH: r.searchPath, HOME: join(scratch, 'home'), ...job.env },
    timeoutMs: r.timeoutMs,
    maxStdoutBytes: r.maxOutput,
  }).catch((e: unknown) =>
    fail(
      `could not start ${job.name} for ${dirName}: ${e instanceof Error ? e.message.replaceAll(src + '/', '') : String(e)}`,
      'check the renderer command and that it is executable',
    ),
  );
  const clean = (t: string) =>
    t
      .replaceAll(src + '/', '')
      .replaceAll(src, '.')
      .replaceAll(scratch + '/', '')
      .replaceAll(relative(scratch, src) + '/', '');
  const stderr = lastLines(clean(result.stderrTail), STDERR_LINES);
  const stderrPart = stderr ? `; stderr: ${stderr}` : '';
  // In the sandbox a program that cannot be started is bwrap's exec failing.
  const execFailed = bwrap && result.exitCode === 1 ? /^bwrap: execvp [^\n]*?: (.*)$/m.exec(stderr) : null;
  if (execFailed)
    fail(
      `could not start ${job.name} for ${dirName}: ${execFailed[1]}`,
      'check the renderer command and that it is executable',
    );
  if (result.timedOut)
    fail(
      `${job.name} for ${dirName} did not finish within ${r.timeoutMs / 1000} s and was killed${stderrPart}`,
      'make the renderer faster, or raise timeoutSeconds in tether-render.yaml',
    );
  if (result.stdoutOverflow)
    fail(`${job.name} for ${dirName} printed more than ${r.maxOutput} bytes and was killed`, 'split the app');
  if (result.exitCode !== 0) {
    const how =
      result.exitCode === null
        ? `was killed by ${result.signal ?? 'a signal'}`
        : `exited with code ${result.exitCode}`;
    fail(
      `${job.name} for ${dirName} ${how}${stderrPart}`,
      `run the renderer locally in ${dirName} to see the problem`,
    );
  }
  return result.stdout.toString('utf8');
}

function lastLines(text: string, n: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return lines.slice(-n).join(' | ');
}
