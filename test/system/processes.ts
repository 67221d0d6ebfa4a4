/**
 * Processes the system test starts: each logs to its own file, binds
 * 127.0.0.1, is waited for with a bounded time-out and stopped by its PID
 * (its process group, so uvicorn or prisma children go with it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface Started {
  name: string;
  pid: number;
  log: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(): Promise<void>;
  tail(chars?: number): string;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  log: string;
  uid?: number;
  gid?: number;
}

const running = new Set<Started>();

export function start(spec: SpawnSpec): Started {
  const out = createWriteStream(spec.log, { flags: 'a' });
  out.write(`$ ${spec.command} ${spec.args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], uid: spec.uid, gid: spec.gid });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('error', (error) => {
      out.write(`spawn error: ${error.message}\n`);
      resolveExit(-1);
    });
    child.once('exit', (code, signal) => {
      out.write(`exited with ${code ?? signal}\n`);
      resolveExit(code);
    });
  });
  const started: Started = {
    name: spec.name,
    pid: child.pid ?? -1,
    log: spec.log,
    child,
    exited,
    tail: (chars = 3000) => {
      try {
        return readFileSync(spec.log, 'utf8').slice(-chars);
      } catch {
        return '';
      }
    },
    stop: async () => {
      running.delete(started);
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      };
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(started);
  return started;
}

/** Runs to completion with a time-out; resolves with the exit code (null when killed). */
export async function runToExit(spec: SpawnSpec, timeoutMs: number): Promise<{ code: number | null; timedOut: boolean; process: Started }> {
  const proc = start(spec);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop();
  }, timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  running.delete(proc);
  return { code, timedOut, process: proc };
}

/** Stops everything still running, newest first. */
export async function stopAll(): Promise<void> {
  for (const proc of [...running].reverse()) await proc.stop();
}

export const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Polls an HTTP URL until `ok(status)` or the time-out; fails early when the process exits. */
export async function waitForHttp(url: string, timeoutMs: number, proc?: Started, ok = (status: number) => status >= 200 && status < 300): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before ${url} answered; log ${proc.log}:\n${proc.tail()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (ok(response.status)) return response.status;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(1_000);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${last})${proc ? `; log ${proc.log}:\n${proc.tail()}` : ''}`);
}
