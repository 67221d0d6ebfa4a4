/**
 * Writes rendered environments to rendered/<env>/ atomically: every tree is
 * staged next to its target first, then swapped in with renames, so a failed
 * render never leaves a half-written folder. Stale files go with the old tree.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export type Tree = Map<string, string>;

export interface TreeDiff {
  env: string;
  added: string[];
  changed: string[];
  removed: string[];
}

export function readTree(dir: string): Tree {
  const tree: Tree = new Map();
  if (!existsSync(dir)) return tree;
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else tree.set(relative(dir, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return tree;
}

export function diffTree(env: string, before: Tree, after: Tree): TreeDiff {
  const diff: TreeDiff = { env, added: [], changed: [], removed: [] };
  for (const [path, content] of after) {
    const old = before.get(path);
    if (old === undefined) diff.added.push(path);
    else if (old !== content) diff.changed.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) diff.removed.push(path);
  for (const list of [diff.added, diff.changed, diff.removed]) list.sort();
  return diff;
}

export function isClean(diff: TreeDiff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length === 0;
}

/** Environment folders present under rendered/ (hidden staging folders excluded). */
export function renderedEnvironments(renderedDir: string): string[] {
  if (!existsSync(renderedDir)) return [];
  return readdirSync(renderedDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

function writeTree(dir: string, tree: Tree): void {
  for (const [path, content] of tree) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/**
 * Replaces rendered/<env>/ for every given environment whose content differs,
 * and removes the folders of `staleEnvironments`. Returns the diffs applied.
 */
export function writeRendered(renderedDir: string, trees: Map<string, Tree>, staleEnvironments: string[] = []): TreeDiff[] {
  mkdirSync(renderedDir, { recursive: true });
  const diffs: TreeDiff[] = [];
  const staged: string[] = [];
  try {
    for (const [env, tree] of trees) {
      const diff = diffTree(env, readTree(join(renderedDir, env)), tree);
      diffs.push(diff);
      if (isClean(diff)) continue;
      const next = join(renderedDir, `.${env}.next`);
      rmSync(next, { recursive: true, force: true });
      staged.push(env);
      writeTree(next, tree);
    }
  } catch (error) {
    for (const env of staged) rmSync(join(renderedDir, `.${env}.next`), { recursive: true, force: true });
    throw error;
  }
  for (const env of staged) {
    const target = join(renderedDir, env);
    const previous = join(renderedDir, `.${env}.prev`);
    rmSync(previous, { recursive: true, force: true });
    if (existsSync(target)) renameSync(target, previous);
    renameSync(join(renderedDir, `.${env}.next`), target);
    rmSync(previous, { recursive: true, force: true });
  }
  for (const env of staleEnvironments) {
    const before = readTree(join(renderedDir, env));
    diffs.push(diffTree(env, before, new Map()));
    rmSync(join(renderedDir, env), { recursive: true, force: true });
  }
  return diffs;
}
