/**
 * A cached virtual environment with the LiteLLM version an image tag pins
 * (`main-v1.85.1` → `litellm[proxy]==1.85.1`) and the prisma client its
 * `extra-proxy` extra pins, from PyPI only, in the per-user tool cache
 * (scripts/tools/tool-cache.ts; keyed by LiteLLM version, Python version and
 * platform), so a fresh clone on a warm machine installs nothing.
 * A venv cannot be moved (its scripts name their interpreter by absolute path),
 * so it is built in place and marked complete last: an interrupted install is
 * removed and redone, never mistaken for a finished one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, toolCacheRoot } from '../../scripts/tools/tool-cache.js';

export interface LitellmVenv {
  version: string;
  python: string;
  bin: string;
  /** site-packages: where `litellm/proxy/prisma_migration.py` is, as /app is in the image. */
  sitePackages: string;
  /** HOME for the runs, so prisma's CLI download is cached beside the venv. */
  home: string;
}

/** The PyPI version of a LiteLLM image tag, or undefined when the tag names no release. */
export function litellmVersionOf(tag: string): string | undefined {
  return /^(?:main-)?v?(\d+\.\d+\.\d+)(?:-stable)?$/.exec(tag)?.[1];
}

function run(command: string, args: string[], timeout: number): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout });
  if (result.error || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? ''}\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
}

function describe(root: string, version: string): LitellmVenv {
  const lib = join(root, 'lib');
  const pythonDir = readdirSync(lib).find((name) => name.startsWith('python'))!;
  return { version, python: join(root, 'bin', 'python'), bin: join(root, 'bin'), sitePackages: join(lib, pythonDir, 'site-packages'), home: join(root, 'home') };
}

/** Installs once per version (about 45 s and 530 MB here); later calls reuse it. */
export function ensureLitellmVenv(version: string): LitellmVenv {
  const python = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 20_000 }).stdout.trim();
  const root = join(toolCacheRoot(), 'litellm', cacheKey(`${version}-py${python}`));
  if (existsSync(join(root, '.complete'))) return describe(root, version);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, '..'), { recursive: true });
  console.log(`installing litellm[proxy]==${version} into ${root} (once per machine and version, ~530 MB)`);
  run('python3', ['-m', 'venv', root], 120_000);
  const pip = join(root, 'bin', 'pip');
  run(pip, ['install', '--quiet', '--disable-pip-version-check', `litellm[proxy]==${version}`], 600_000);
  // The prisma client is in litellm's extra-proxy extra; take its pin from the installed metadata.
  const venv = describe(root, version);
  const metadata = readFileSync(join(venv.sitePackages, `litellm-${version}.dist-info`, 'METADATA'), 'utf8');
  const prisma = /^Requires-Dist: (prisma==[\w.]+)/m.exec(metadata)?.[1];
  if (!prisma) throw new Error(`litellm ${version} pins no prisma client in its METADATA`);
  run(pip, ['install', '--quiet', '--disable-pip-version-check', prisma], 300_000);
  mkdirSync(venv.home, { recursive: true });
  writeFileSync(join(root, '.complete'), `litellm[proxy]==${version} ${prisma}\n`);
  return venv;
}
