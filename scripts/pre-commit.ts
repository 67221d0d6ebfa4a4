/**
 * The pre-commit hook (`.husky/pre-commit` runs `node generator/launch.mjs
 * scripts/pre-commit`): checks the commit, not the working tree.
 *
 * 1. Renders what is staged and compares it with the staged rendered/: the
 *    staged environments/ and rendered/ are written to a temporary folder
 *    and `render --check` runs there. When the generator code (generator/,
 *    bootstrap/, scripts/, schemas/, package files) has unstaged changes,
 *    the staged code is written out too and renders from its own bundle;
 *    otherwise the cached bundle this hook runs from is that code already.
 * 2. Scans the staged content of added, copied or modified files for
 *    secrets (scripts/secrets-staged.ts).
 *
 * Both run in one Node process from the cached esbuild bundle, so a warm
 * hook costs one process start, two renders' worth of work and the scan.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { main as render } from '../generator/cli.js';
import { reportStagedSecrets } from './secrets-staged.js';
import { checkoutIndex, unstagedChanges } from './staged-index.js';

/** What the render reads and writes. */
export const RENDER_DATA = ['environments', 'charts', 'rendered'] as const;
/** What the render is made of: when these differ from the index, the staged version renders. */
export const RENDER_CODE = ['generator', 'bootstrap', 'scripts', 'schemas', 'vendor', 'package.json', 'package-lock.json', 'tsconfig.json'] as const;

const STALE = [
  'pre-commit: the staged rendered/ is not what the staged inputs render to (see above).',
  '  fix: run `npm run render`, then `git add rendered/` (with the inputs you mean to commit staged), and commit again.',
].join('\n');

/** Renders the staged code in `dir` from its own bundle; node_modules and the compiled-schema cache are the checkout's. */
function renderWithStagedCode(root: string, dir: string): number {
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const ajvCache = join(root, '.tools', 'cache', 'ajv');
  if (existsSync(ajvCache)) {
    mkdirSync(join(dir, '.tools', 'cache'), { recursive: true });
    symlinkSync(ajvCache, join(dir, '.tools', 'cache', 'ajv'), 'dir');
  }
  const result = spawnSync(process.execPath, [join(dir, 'generator', 'launch.mjs'), 'cli', '--check', '--root', dir], { stdio: 'inherit' });
  return result.status ?? 1;
}

/** Exit code of `render --check` over the index: 0 when the staged rendered/ matches the staged inputs. */
export async function checkStagedRender(root: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'dubai-hub-staged-'));
  try {
    const unstagedCode = unstagedChanges(root, RENDER_CODE);
    let status: number;
    if (unstagedCode.length === 0) {
      checkoutIndex(root, dir, RENDER_DATA);
      status = await render(['--check', '--root', dir]);
    } else {
      process.stderr.write(`pre-commit: ${unstagedCode.length} unstaged change${unstagedCode.length === 1 ? '' : 's'} to the generator code (${unstagedCode.slice(0, 3).join(', ')}${unstagedCode.length > 3 ? ', …' : ''}): rendering with the staged code.\n`);
      checkoutIndex(root, dir, [...RENDER_DATA, ...RENDER_CODE]);
      status = renderWithStagedCode(root, dir);
    }
    if (status !== 0) process.stderr.write(`${STALE}\n`);
    return status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { root: { type: 'string' } }, strict: true });
  const root = resolve(values.root ?? process.cwd());
  const rendered = await checkStagedRender(root);
  const secrets = await reportStagedSecrets(root);
  return rendered !== 0 ? rendered : secrets;
}
