/**
 * The processes the cluster test starts: each logs to a file, is stopped by its
 * own PID (SIGTERM, then SIGKILL after a grace period), and a free 127.0.0.1
 * port is found by binding port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Started {
  name: string;
  pid: number;
  log: string;
  child: ChildProcess;
  /** Set once the process has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Every started process still running, so a signal to the test can stop them (./processes.ts stopOnSignals). */
const running = new Set<Started>();

/**
 * On SIGINT or SIGTERM, kills every process the test started (by PID) before
 * exiting, so an interrupted run leaves nothing behind.
 */
export function stopOnSignals(): void {
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      for (const started of running) signal(started.pid, 'SIGKILL');
      process.exit(name === 'SIGINT' ? 130 : 143);
    });
  }
}

export function startProcess(name: string, command: string, args: string[], log: string): Started {
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const started: Started = { name, pid: child.pid, log, child };
  child.on('error', () => {}); // a failed start shows as the exit below
  running.add(started);
  child.on('exit', (code, signal) => {
    started.exit = { code, signal };
    running.delete(started);
  });
  return started;
}

function exited(process: Started, ms: number): Promise<boolean> {
  if (process.exit) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    process.child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Sends `signal` to the PID; a process that has just exited (ESRCH) is fine. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Stops a started process by its PID: SIGTERM, SIGKILL after `graceMs`. */
export async function stopProcess(started: Started, graceMs = 15_000): Promise<void> {
  if (started.exit) return;
  signal(started.pid, 'SIGTERM');
  if (await exited(started, graceMs)) return;
  signal(started.pid, 'SIGKILL');
  await exited(started, 5_000);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every `stepMs` until it returns a value, failing with `what`
 * and the last reason after `timeoutMs`, or at once when `alive` says the
 * process it waits for has died.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, options: { stepMs?: number; dead?: () => string | undefined } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = options.dead?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still not done after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(options.stepMs ?? 500);
  }
}
