import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  maxStdoutBytes: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The end of stderr (the start rarely says what finally failed). */
  stderrTail: string;
  timedOut: boolean;
  stdoutOverflow: boolean;
}

const STDERR_TAIL_BYTES = 16 * 1024;

/**
 * Runs argv directly (never through a shell) in its own process group, so that a timeout or
 * an oversized output kills the process and everything it started. Rejects only when the
 * program cannot be started at all.
 */
export function runProcess(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true, // a new process group, killed as a whole
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let stdoutOverflow = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(stdout),
        stderrTail: stderr.toString('utf8'),
        timedOut,
        stdoutOverflow,
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      // A descendant that left the group may hold the pipes open; do not wait for it.
      setTimeout(finish, 1_000).unref();
    }, opts.timeoutMs);
    let drainTimer: NodeJS.Timeout | undefined;

    child.stdout.on('data', (chunk: Buffer) => {
      if (stdoutOverflow) return;
      stdoutBytes += chunk.byteLength;
      if (stdoutBytes > opts.maxStdoutBytes) {
        stdoutOverflow = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.byteLength > STDERR_TAIL_BYTES)
        stderr = stderr.subarray(stderr.byteLength - STDERR_TAIL_BYTES);
    });
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Leftover background children of the renderer go with it.
      killGroup();
      drainTimer = setTimeout(finish, 1_000);
      drainTimer.unref();
    });
    child.on('close', finish);
  });
}
