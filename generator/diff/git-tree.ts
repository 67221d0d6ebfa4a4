/**
 * Reads the files under a folder (rendered/) as they are at a git ref, without
 * checking anything out: `git ls-tree` lists the blobs, one `git cat-file
 * --batch` reads them all.
 */
import { spawnSync } from 'node:child_process';
import type { Tree } from '../write-rendered.js';

export class GitRefError extends Error {}

function git(root: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync('git', ['-C', root, ...args], { input, maxBuffer: 1024 * 1024 * 1024 });
  if (result.error) throw new GitRefError(`cannot run git (${result.error.message}); install git to compare rendered/ with a ref`);
  if (result.status !== 0) {
    throw new GitRefError(`git ${args.join(' ')} failed in ${root}: ${result.stderr.toString('utf8').trim()}`);
  }
  return result.stdout;
}

/** The commit a ref names, or a GitRefError that says how to get it. */
export function resolveCommit(root: string, ref: string): string {
  const result = spawnSync('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf8' });
  if (result.error) throw new GitRefError(`cannot run git (${result.error.message}); install git to compare rendered/ with a ref`);
  if (result.status !== 0) {
    const remote = ref.includes('/') ? ref.split('/')[0] : undefined;
    const hint = remote ? `fetch it first (git fetch ${remote} ${ref.slice(remote.length + 1)})` : 'check the name (git branch -a, git log)';
    throw new GitRefError(`--base ${ref}: no such commit in ${root}; ${hint}, or pass another --base`);
  }
  return result.stdout.trim();
}

/**
 * Files under `folder` at `commit`, keyed by their path relative to `folder`
 * (the same keys readTree gives for the working tree). Symlinks and
 * submodules are ignored: rendered/ holds only plain files.
 */
export function readTreeAtCommit(root: string, commit: string, folder: string): Tree {
  const listing = git(root, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', folder]).toString('utf8');
  const entries: { sha: string; path: string }[] = [];
  for (const record of listing.split('\0')) {
    if (!record) continue;
    const tab = record.indexOf('\t');
    const [mode, type, sha] = record.slice(0, tab).split(' ');
    if (type !== 'blob' || mode === '120000' || !sha) continue;
    entries.push({ sha, path: record.slice(tab + 1) });
  }
  const tree: Tree = new Map();
  if (entries.length === 0) return tree;
  const output = git(root, ['cat-file', '--batch'], Buffer.from(entries.map((entry) => entry.sha).join('\n') + '\n'));
  let offset = 0;
  for (const entry of entries) {
    const newline = output.indexOf(0x0a, offset);
    const header = output.subarray(offset, newline).toString('utf8');
    const size = Number(header.split(' ')[2]);
    if (!header.startsWith(entry.sha) || !Number.isInteger(size)) {
      throw new GitRefError(`git cat-file returned "${header}" for ${entry.path}; the repository may be damaged (git fsck)`);
    }
    const content = output.subarray(newline + 1, newline + 1 + size).toString('utf8');
    offset = newline + 1 + size + 1;
    tree.set(entry.path.slice(folder.length + 1), content);
  }
  return tree;
}
