/**
 * Every `npm run X` the documentation, the workflows and the code comments
 * name is a script in package.json, so nobody is sent to a command that does
 * not exist.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/temp-repo.js';

const SCANNED = ['README.md', 'docs', '.github', '.husky', '.ci', 'bootstrap', 'generator', 'scripts'];
const TEXT = /\.(md|ts|mjs|sh|yml|yaml|json)$|^(pre-commit|run|CODEOWNERS)$/;

function filesUnder(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return [];
  }
  if (stat.isFile()) return [path];
  return readdirSync(path).flatMap((entry) => (entry === 'node_modules' ? [] : filesUnder(join(path, entry))));
}

/** `npm run -s render -- --check` → render; `npm run-script diff` → diff. */
function namedScripts(text: string): string[] {
  return [...text.matchAll(/\bnpm run(?:-script)?(?:\s+-s|\s+--silent)?\s+([a-z][a-z0-9_-]*(?::[a-z0-9_-]+)*)/g)].map((match) => match[1]!);
}

const scripts = Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

describe('commands named in documentation and comments', () => {
  const named = SCANNED.flatMap((entry) => filesUnder(join(REPO_ROOT, entry)))
    .filter((file) => TEXT.test(file.split('/').pop()!))
    .flatMap((file) => namedScripts(readFileSync(file, 'utf8')).map((script) => ({ file: relative(REPO_ROOT, file), script })));

  it('finds the commands README.md and the workflows name', () => {
    expect(named.filter((entry) => entry.file === 'README.md').map((entry) => entry.script)).toEqual(expect.arrayContaining(['render', 'diff', 'validate', 'bootstrap', 'secrets']));
    expect(named.some((entry) => entry.file.startsWith('.github/'))).toBe(true);
  });

  it('are all scripts in package.json', () => {
    expect(named.filter((entry) => !scripts.includes(entry.script)).map((entry) => `${entry.file}: npm run ${entry.script}`)).toEqual([]);
  });

  it('reads the forms people write, and a missing script is caught', () => {
    expect(namedScripts('run `npm run -s render -- --check`, then npm run-script diff and npm run --silent lint:renovate')).toEqual(['render', 'diff', 'lint:renovate']);
    expect(namedScripts('`npm run schema`').filter((script) => !scripts.includes(script))).toEqual(['schema']);
  });
});
