/** Temporary repository roots for tests: environments/ from fixtures, the vendored charts, rendered/ on demand. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

export interface TempRepo {
  root: string;
  write(path: string, content: string): void;
  cleanup(): void;
}

export function tempRepo(): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'dubai-hub-test-'));
  mkdirSync(join(root, 'environments'), { recursive: true });
  // The render hydrates the pinned charts from charts/ of the root it renders.
  cpSync(join(REPO_ROOT, 'charts'), join(root, 'charts'), { recursive: true });
  return {
    root,
    write(path, content) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A temporary copy of the real repository's environments/ (and rendered/ when asked). */
export function copyOfRepository(withRendered = true): TempRepo {
  const repo = tempRepo();
  cpSync(join(REPO_ROOT, 'environments'), join(repo.root, 'environments'), { recursive: true });
  if (withRendered) cpSync(join(REPO_ROOT, 'rendered'), join(repo.root, 'rendered'), { recursive: true });
  return repo;
}
