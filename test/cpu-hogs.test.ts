/**
 * scripts/with-cpu-hogs: runs a command beside N busy processes, passes the
 * command's exit status through, and stops every hog by PID when it ends.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/temp-repo.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'with-cpu-hogs');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('scripts/with-cpu-hogs', () => {
  it('runs the command beside N hogs, passes its exit status through and stops the hogs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dubai-hub-hogs-'));
    try {
      const pidFile = join(dir, 'pids');
      // The command sees the hogs running, then fails with 3.
      const check = `for pid in $(cat ${pidFile}); do kill -0 "$pid" || exit 9; done; exit 3`;
      const result = spawnSync(SCRIPT, ['2', '--max', '60', '--', 'bash', '-c', check], { encoding: 'utf8', env: { ...process.env, HOGS_PID_FILE: pidFile }, timeout: 60_000 });
      expect(result.status, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/with-cpu-hogs: 2 hogs \(PIDs \d+ \d+ \) for at most 60s/);
      expect(result.stderr).toMatch(/with-cpu-hogs: exit 3 after [\d.]+s wall with 2 hogs beside it/);
      const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
      expect(pids).toHaveLength(2);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a call without a count or without a command', () => {
    for (const args of [['--', 'true'], ['4'], ['4', '--max', 'soon', '--', 'true']]) {
      const result = spawnSync(SCRIPT, args, { encoding: 'utf8', timeout: 30_000 });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: scripts/with-cpu-hogs N [--max SECONDS] -- command');
    }
  }, 60_000);
});
