/**
 * One installer at a time across processes (test workers, parallel vitest
 * runs, `npm run tools`): the lock is a directory holding the owner's PID, so
 * a lock left by a process that died is taken over at once instead of after a
 * time-out. The others wait, then find the tool installed.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WAIT_STEP_MS = 250;
/** A lock older than this is stale even if its PID was reused by another process. */
const STALE_AFTER_MS = 60 * 60_000;

function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, PID not yet written: young locks count as held.
    const held = statSync(lock, { throwIfNoEntry: false });
    return held !== undefined && Date.now() - held.mtimeMs < 10_000;
  }
  const held = statSync(lock, { throwIfNoEntry: false });
  if (!held || Date.now() - held.mtimeMs > STALE_AFTER_MS) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `install` under the lock directory `lock` unless `installed()` is
 * already true, waiting while another process holds the lock.
 */
export function withInstallLock(lock: string, installed: () => boolean, install: () => void): void {
  if (installed()) return;
  for (;;) {
    try {
      mkdirSync(lock, { recursive: false });
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (installed()) return;
      if (!ownerAlive(lock)) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAIT_STEP_MS);
    }
  }
  try {
    if (!installed()) install();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
