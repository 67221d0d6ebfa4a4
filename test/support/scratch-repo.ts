/** A scratch copy of the repository inputs of one environment, so scripts can write outputs files there. */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../bootstrap/tools/python-tools.js';

export function scratchRepository(env: string, { keepOutputs = false } = {}): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), `bootstrap-${env}-`));
  cpSync(join(REPO_ROOT, 'environments'), join(root, 'environments'), { recursive: true });
  if (!keepOutputs) rmSync(join(root, 'environments', `${env}.outputs.yaml`));
  cpSync(join(REPO_ROOT, 'rendered', env, 'bootstrap'), join(root, 'rendered', env, 'bootstrap'), { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export const outputsFileExists = (root: string, env: string) => existsSync(join(root, 'environments', `${env}.outputs.yaml`));
