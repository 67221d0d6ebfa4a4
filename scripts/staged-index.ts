/**
 * The git index as the pre-commit hook sees it: what the commit will hold,
 * not the working tree. Lists staged files, reads staged blobs, writes the
 * staged version of chosen paths into a folder, and tells whether the
 * generator code in the working tree is the code that is staged.
 *
 * Every command runs in the repository and inherits GIT_INDEX_FILE, so
 * `git commit -a` and `git commit <paths>` (which commit a temporary index)
 * are checked against that index.
 */
import { spawnSync } from 'node:child_process';

export function git(args: string[], cwd: string, input?: Buffer): Buffer {
  const result = spawnSync('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, ...(input ? { input } : {}) });
  if (result.error || result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.error?.message ?? result.stderr.toString('utf8').trim()}`);
  return result.stdout;
}

const nulList = (output: Buffer) => output.toString('utf8').split('\0').filter(Boolean);

/** Paths of staged files that were added, copied or modified. */
export function stagedFiles(cwd: string): string[] {
  return nulList(git(['diff', '--cached', '--name-only', '--diff-filter=ACM', '-z'], cwd));
}

/** The staged content of one file. */
export function stagedBlob(cwd: string, file: string): Buffer {
  return git(['show', `:${file}`], cwd);
}

/**
 * Writes the staged version of every indexed file under `paths` into `dir`
 * (same relative layout), and returns how many files were written.
 */
export function checkoutIndex(cwd: string, dir: string, paths: readonly string[]): number {
  const files = git(['ls-files', '--cached', '-z', '--', ...paths], cwd);
  const count = nulList(files).length;
  if (count > 0) git(['checkout-index', '-z', '--stdin', `--prefix=${dir.endsWith('/') ? dir : `${dir}/`}`], cwd, files);
  return count;
}

/**
 * Working-tree paths under `paths` that differ from the index: modified or
 * deleted but not staged, or untracked (and not ignored). Empty when the
 * working tree holds exactly the staged version of them.
 */
export function unstagedChanges(cwd: string, paths: readonly string[]): string[] {
  const modified = nulList(git(['diff', '--name-only', '-z', '--', ...paths], cwd));
  const untracked = nulList(git(['ls-files', '--others', '--exclude-standard', '-z', '--', ...paths], cwd));
  return [...modified, ...untracked].sort();
}
