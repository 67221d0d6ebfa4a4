/**
 * A per-user cache of the project's tools, outside any clone, keyed by tool,
 * version and platform: `${XDG_CACHE_HOME:-~/.cache}/dubai-hub-tools/<tool>/<key>/`
 * (or `$DUBAI_HUB_TOOL_CACHE`). An entry counts only once its `.installed`
 * marker is written, so an interrupted install is redone, and a new pin is a
 * new key, so a cache is reused only when it holds that very version. The
 * checkout's git-ignored `.tools/` links to the entries: a fresh clone on a
 * warm machine installs nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { withInstallLock } from '../../generator/validate/install-lock.js';

export function toolCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DUBAI_HUB_TOOL_CACHE) return env.DUBAI_HUB_TOOL_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dubai-hub-tools');
}

/** The cache key of a version on this platform, safe as a folder name. */
export function cacheKey(version: string): string {
  return `${version}-${process.platform}-${process.arch}`.replace(/[^A-Za-z0-9._@+-]+/g, '_');
}

export interface CachedTool {
  name: string;
  version: string;
  /** Installs into an empty folder laid out like `.tools/`. */
  install(dir: string): void;
  /** Paths, relative to `.tools/`, that the install creates and the checkout links to. */
  links: string[];
}

export interface CacheResult {
  dir: string;
  /** false when the entry was already complete and nothing was installed. */
  installed: boolean;
}

/** Points `path` at `target` with a symlink, replacing whatever was there. */
function linkTo(path: string, target: string): void {
  const current = lstatSync(path, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && readlinkSync(path) === target) return;
  if (current) rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

/** Installs `tool` once per machine (locked against parallel runs) and links it into `toolsDir`. */
export function ensureCachedTool(tool: CachedTool, toolsDir: string, cacheRoot = toolCacheRoot()): CacheResult {
  const dir = join(cacheRoot, tool.name, cacheKey(tool.version));
  const marker = join(dir, '.installed');
  let installed = false;
  mkdirSync(dirname(dir), { recursive: true });
  withInstallLock(`${dir}.lock`, () => existsSync(marker), () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    tool.install(dir);
    const missing = tool.links.filter((link) => !existsSync(join(dir, link)));
    if (missing.length > 0) throw new Error(`installing ${tool.name} ${tool.version} did not create ${missing.join(', ')} in ${dir}`);
    writeFileSync(marker, `${tool.name} ${tool.version}\n`);
    installed = true;
  });
  for (const link of tool.links) linkTo(join(toolsDir, link), join(dir, link));
  return { dir, installed };
}

/** Disk usage of a folder in bytes, as `du` counts it (symlinks not followed). */
export function diskUsage(dir: string): number {
  const du = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return du.status === 0 ? Number(du.stdout.split(/\s/)[0]) * 1024 : 0;
}
