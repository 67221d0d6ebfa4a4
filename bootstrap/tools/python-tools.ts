/**
 * Finds the Python tools (cfn-lint, checkov, shellcheck, moto_server): first
 * in the project's .tools/venv (made by `npm run tools:install`), then on
 * PATH. A missing tool is an error naming the command that installs it,
 * never a silent skip.
 */
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VENV_BIN = join(REPO_ROOT, '.tools', 'venv', 'bin');

export class ToolMissing extends Error {}

export function findTool(name: string): string {
  const candidates = [join(VENV_BIN, name), ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name))];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new ToolMissing(`${name} is not installed: run \`npm run tools:install\` (needs python3 with venv; installs bootstrap/tools/requirements.txt into .tools/venv)`);
  }
  return found;
}
