/**
 * The Python tools the bootstrap checks run (cfn-lint, checkov, moto_server),
 * pinned in bootstrap/tools/requirements.txt and installed on first use into
 * the git-ignored .tools/venv by bootstrap/tools/install.sh (the same as
 * `npm run tools:install`). Only the pinned copies are used. A machine without
 * python3 and venv gets an error saying what to install, never a silent skip.
 * shellcheck comes from scripts/tools/project-tools.ts, one pin for the repo.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const REQUIREMENTS = join(REPO_ROOT, 'bootstrap', 'tools', 'requirements.txt');
const INSTALLER = join(REPO_ROOT, 'bootstrap', 'tools', 'install.sh');
const VENV = join(REPO_ROOT, '.tools', 'venv');

export class ToolMissing extends Error {}

function installed(): boolean {
  const stamp = join(VENV, '.requirements.sha256');
  if (!existsSync(stamp)) return false;
  const want = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  return readFileSync(stamp, 'utf8').trim() === want;
}

/** Installs the pinned tools unless .tools/venv already matches requirements.txt (install.sh holds a lock). */
export function ensurePythonTools(): void {
  if (installed()) return;
  const result = spawnSync('bash', [INSTALLER], { encoding: 'utf8', timeout: 600_000 });
  if (result.error || result.status !== 0) {
    throw new ToolMissing(
      `the pinned Python tools (bootstrap/tools/requirements.txt) could not be installed into .tools/venv:\n${result.error?.message ?? ''}${result.stdout ?? ''}${result.stderr ?? ''}\nInstall python3 with venv (Debian: apt-get install python3 python3-venv), then run \`npm run tools:install\`.`,
    );
  }
}

export function findTool(name: string): string {
  ensurePythonTools();
  const path = join(VENV, 'bin', name);
  if (!existsSync(path)) throw new ToolMissing(`${name} is missing from .tools/venv: run \`npm run tools:install\` (bootstrap/tools/requirements.txt pins it)`);
  return path;
}

/** Up to ten minutes: the first install downloads checkov and its dependencies. */
export const TOOL_INSTALL_TIMEOUT_MS = 600_000;
