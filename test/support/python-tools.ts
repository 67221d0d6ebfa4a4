/**
 * Finds the Python tools the bootstrap tests run (cfn-lint, checkov,
 * shellcheck, moto_server): first in the project's .tools/venv (made by
 * `npm run tools:install`), then on PATH. A missing tool is an error with the
 * command that installs it, never a silent skip.
 */
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const VENV_BIN = join(REPO_ROOT, '.tools', 'venv', 'bin');

export function findTool(name: string): string {
  const candidates = [join(VENV_BIN, name), ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `${name} is not installed: run \`npm run tools:install\` (needs python3 ≥ 3.9 with venv; installs bootstrap/tools/requirements.txt into .tools/venv)`,
    );
  }
  return found;
}
