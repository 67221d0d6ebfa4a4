/**
 * The control-plane binaries of `npm run test:cluster`: kube-apiserver,
 * kube-controller-manager, kubectl and etcd, built with CGO_ENABLED=0 from the
 * Go module proxy by the small module in ./go (its go.mod pins the versions;
 * `go install` refuses k8s.io/kubernetes itself because of its replace
 * directives). Installed once per version into the per-user tool cache
 * (scripts/tools/tool-cache.ts) and linked into `.tools/cluster-v1.<minor>/`.
 *
 * Not in PROJECT_TOOLS: a cold build takes about 8 minutes on 2 cores (37 were
 * seen under heavy load), too much
 * for every `npm run tools`; `npm run test:cluster` and the cluster vitest
 * file install it through the same cache (warm: nothing to do).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, TOOLS_DIR } from '../tools/project-tools.js';
import { ensureCachedTool, type CachedTool } from '../tools/tool-cache.js';

export const CONTROL_PLANE_MODULE = join(PROJECT_ROOT, 'scripts', 'cluster', 'go');

export const CONTROL_PLANE_COMMANDS = {
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  etcd: 'go.etcd.io/etcd/server/v3',
} as const;

export type ControlPlaneCommand = keyof typeof CONTROL_PLANE_COMMANDS;

export interface ControlPlaneVersions {
  kubernetes: string;
  etcd: string;
  minor: number;
}

export class ControlPlaneBuildError extends Error {}

/** The versions pinned in scripts/cluster/go/go.mod (its require block is the single source). */
export function controlPlaneVersions(goMod = readFileSync(join(CONTROL_PLANE_MODULE, 'go.mod'), 'utf8')): ControlPlaneVersions {
  const kubernetes = /^\s*k8s\.io\/kubernetes (v1\.([0-9]+)\.[0-9]+)\b/m.exec(goMod);
  const etcd = /^\s*go\.etcd\.io\/etcd\/server\/v3 (v3\.[0-9]+\.[0-9]+)\b/m.exec(goMod);
  if (!kubernetes || !etcd) throw new ControlPlaneBuildError('scripts/cluster/go/go.mod: expected `require` lines for k8s.io/kubernetes v1.x.y and go.etcd.io/etcd/server/v3 v3.x.y');
  return { kubernetes: kubernetes[1]!, etcd: etcd[1]!, minor: Number(kubernetes[2]) };
}

/** Why the binaries cannot be built on this machine (no Go), or undefined when they can. */
export function controlPlaneUnavailable(): string | undefined {
  const probe = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return undefined;
  return `the cluster test builds kube-apiserver, kube-controller-manager, kubectl and etcd with Go, but \`go\` is not available (${probe.error?.message ?? probe.stderr.trim()}). Install Go 1.26 or newer and run it again.`;
}

function goVersion(): string {
  const unavailable = controlPlaneUnavailable();
  if (unavailable) throw new ControlPlaneBuildError(unavailable);
  return spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
}

/** `-X` flags so the binaries report the pinned version (kubectl and the API server compare them). */
function versionFlags(versions: ControlPlaneVersions): string {
  const pkg = 'k8s.io/component-base/version';
  return [`-X ${pkg}.gitVersion=${versions.kubernetes}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${versions.minor}`].join(' ');
}

/**
 * Builds the four commands into `dir/bin`. `go build -v` names each package as
 * it compiles and Go each module it downloads; a line every 250 packages and
 * every 50 modules shows progress, other output (errors) passes through.
 */
function build(dir: string, versions: ControlPlaneVersions): void {
  const bin = join(dir, 'bin');
  const packages = Object.values(CONTROL_PLANE_COMMANDS).join(' ');
  const ldflags = `-s -w ${versionFlags(versions)}`;
  const script = [
    'set -o pipefail',
    `go build -v -trimpath -buildvcs=false -ldflags='${ldflags}' -o '${bin}/' ${packages} 2>&1 | awk '/^[^ :]+$/ { n++; if (n % 250 == 0) { printf "  cluster binaries: %d packages compiled\\n", n; fflush() } next } /^go: downloading / { m++; if (m % 50 == 0) { printf "  cluster binaries: %d modules downloaded\\n", m; fflush() } next } { print; fflush() }'`,
    `mv '${bin}/server' '${bin}/etcd'`,
  ].join('\n');
  const started = Date.now();
  const result = spawnSync('bash', ['-c', script], { cwd: CONTROL_PLANE_MODULE, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CGO_ENABLED: '0' } });
  if (result.error || result.status !== 0) {
    throw new ControlPlaneBuildError(`building the control plane (go build in scripts/cluster/go) failed${result.error ? `: ${result.error.message}` : ` with exit ${result.status}`}; the output above says why`);
  }
  process.stdout.write(`  cluster binaries: built in ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
}

export function controlPlaneTool(versions = controlPlaneVersions()): CachedTool {
  const folder = `cluster-v1.${versions.minor}`;
  return {
    name: 'cluster-control-plane',
    version: `kubernetes-${versions.kubernetes}-etcd-${versions.etcd}-${goVersion()}`,
    links: [folder],
    install: (dir) => {
      process.stdout.write(
        `cluster binaries: building kube-apiserver, kube-controller-manager, kubectl ${versions.kubernetes} and etcd ${versions.etcd} from the Go module proxy (CGO_ENABLED=0).\n` +
          '  First use (Go caches cold) takes about 8 min on a 2-core machine (up to 37 min under heavy load); later runs reuse the per-user tool cache.\n',
      );
      build(join(dir, folder), versions);
    },
  };
}

export type ControlPlaneBinaries = Record<ControlPlaneCommand, string>;

/**
 * The binaries for Kubernetes 1.<minor>, built on first use. An environment on
 * another minor than go.mod pins is an error that says what to change.
 */
export function ensureControlPlane(minor: number, toolsDir = TOOLS_DIR): ControlPlaneBinaries {
  const versions = controlPlaneVersions();
  if (versions.minor !== minor) {
    throw new ControlPlaneBuildError(
      `scripts/cluster/go/go.mod: pins k8s.io/kubernetes ${versions.kubernetes}, but an environment targets Kubernetes 1.${minor} (k3s.version).\n` +
        `  Expected the module to match the environments' minor. Fix: require k8s.io/kubernetes v1.${minor}.x there, replace every k8s.io staging module by v0.${minor}.x, and run \`go mod tidy\` in scripts/cluster/go.`,
    );
  }
  ensureCachedTool(controlPlaneTool(versions), toolsDir);
  const dir = join(toolsDir, `cluster-v1.${minor}`, 'bin');
  const binaries = Object.fromEntries(Object.keys(CONTROL_PLANE_COMMANDS).map((name) => [name, join(dir, name)])) as ControlPlaneBinaries;
  const missing = Object.values(binaries).filter((path) => !existsSync(path));
  if (missing.length > 0) throw new ControlPlaneBuildError(`the cached control plane lacks ${missing.join(', ')}: remove ${dir} from the tool cache and run again`);
  return binaries;
}
