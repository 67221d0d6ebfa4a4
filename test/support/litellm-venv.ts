/**
 * A cached virtual environment with the LiteLLM version an image tag pins
 * (`v1.85.1` → `litellm[proxy]==1.85.1`) and the packages the image adds
 * (IMAGE_PACKAGES, at litellm's own pins), from PyPI only, in the per-user tool cache
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

/**
 * Packages the image has beyond litellm[proxy], at the pins of litellm's
 * METADATA: the prisma client (extra-proxy) and prometheus-client
 * (proxy-runtime), without which the prometheus callback cannot mount /metrics.
 */
const IMAGE_PACKAGES = ['prisma', 'prometheus-client'] as const;

function imagePins(venv: LitellmVenv): string[] {
  const metadata = readFileSync(join(venv.sitePackages, `litellm-${venv.version}.dist-info`, 'METADATA'), 'utf8');
  return IMAGE_PACKAGES.map((name) => {
    const pin = new RegExp(`^Requires-Dist: (${name}==[\\w.]+)`, 'm').exec(metadata)?.[1];
    if (!pin) throw new Error(`litellm ${venv.version} pins no ${name} in its METADATA`);
    return pin;
  });
}

/** Installs once per version (about 45 s and 530 MB here); later calls reuse it. */
export function ensureLitellmVenv(version: string): LitellmVenv {
  const python = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', timeout: 20_000 }).stdout.trim();
  const root = join(toolCacheRoot(), 'litellm', cacheKey(`${version}-py${python}`));
  const marker = join(root, '.complete');
  if (existsSync(marker)) {
    // A venv made before a package joined IMAGE_PACKAGES gets just that package.
    const venv = describe(root, version);
    const recorded = readFileSync(marker, 'utf8');
    const missing = imagePins(venv).filter((pin) => !recorded.split(/\s+/).includes(pin));
    if (missing.length === 0) return venv;
    console.log(`installing ${missing.join(' ')} into ${root}`);
    run(join(root, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...missing], 300_000);
    writeFileSync(marker, `litellm[proxy]==${version} ${imagePins(venv).join(' ')}\n`);
    return venv;
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, '..'), { recursive: true });
  console.log(`installing litellm[proxy]==${version} into ${root} (once per machine and version, ~530 MB)`);
  run('python3', ['-m', 'venv', root], 120_000);
  const pip = join(root, 'bin', 'pip');
  run(pip, ['install', '--quiet', '--disable-pip-version-check', `litellm[proxy]==${version}`], 600_000);
  const venv = describe(root, version);
  const pins = imagePins(venv);
  run(pip, ['install', '--quiet', '--disable-pip-version-check', ...pins], 300_000);
  mkdirSync(venv.home, { recursive: true });
  writeFileSync(marker, `litellm[proxy]==${version} ${pins.join(' ')}\n`);
  return venv;
}
