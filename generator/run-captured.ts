/**
 * Runs one tool process (helm, kubeconform, checkov, kube-score) to the end
 * with its output captured and a time-out: a tool that hangs is killed and
 * reported, never waited on for ever. What an exit code means stays with the
 * caller (kube-score's 1 is "findings", helm's 1 is a failure).
 */
import { spawn } from 'node:child_process';

export interface CapturedRun {
  /** The exit code, or null when the process was stopped by a signal. */
  code: number | null;
  /** The signal that stopped it (SIGKILL after the time-out), else null. */
  signal: NodeJS.Signals | null;
  /** True when the time-out killed it. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface CaptureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the process after this long; generous by default, the machine may be busy. */
  timeoutMs?: number;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 10 * 60_000;

/** Resolves when the process ends, whatever its exit code; rejects only when it cannot be started. */
export function runCaptured(binary: string, args: readonly string[], options: CaptureOptions = {}): Promise<CapturedRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${binary}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, timedOut, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** "exited 2" / "was killed after its time-out" — for error messages. */
export function describeExit(run: CapturedRun): string {
  if (run.timedOut) return 'was killed after its time-out';
  return run.signal ? `was stopped by ${run.signal}` : `exited ${run.code}`;
}
