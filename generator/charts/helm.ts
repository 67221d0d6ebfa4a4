/**
 * The pinned helm that renders the vendored charts. Built once per machine
 * with `go install` into the per-user tool cache and linked into `.tools/bin`,
 * like the other tools; `npm run render` installs it on first use.
 *
 * Argo CD 3.3.7 (the argo-cd chart 9.5.2) bundles helm 3.19.4; this is the
 * newest helm 3 the Go module proxy serves. Argo CD no longer runs helm for
 * this repository (every Application syncs plain YAML), so the one helm that
 * matters is this one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCachedTool, type CachedTool } from '../../scripts/tools/tool-cache.js';
import { describeExit, runCaptured } from '../run-captured.js';

export const HELM_MODULE = 'helm.sh/helm/v3/cmd/helm';
// renovate: datasource=go depName=helm.sh/helm/v3
export const HELM_VERSION = 'v3.22.0';

export class HelmError extends Error {}

export const HELM_TOOL: CachedTool = {
  name: 'helm',
  version: HELM_VERSION,
  links: [join('bin', 'helm')],
  install(dir) {
    const go = spawnSync('go', ['version'], { encoding: 'utf8' });
    if (go.error || go.status !== 0) {
      throw new HelmError(
        [
          `helm ${HELM_VERSION} is not installed, and Go is not available to build it.`,
          '  needed: Go 1.24 or newer on PATH (https://go.dev/doc/install).',
          `  the project then builds it itself: go install ${HELM_MODULE}@${HELM_VERSION}`,
        ].join('\n'),
      );
    }
    process.stderr.write(`installing helm ${HELM_VERSION} (go install, once per machine; about 2 minutes on 2 cores)…\n`);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const install = spawnSync('go', ['install', `${HELM_MODULE}@${HELM_VERSION}`], {
      encoding: 'utf8',
      env: { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (install.status !== 0) throw new HelmError(`go install ${HELM_MODULE}@${HELM_VERSION} failed (it needs the Go module proxy):\n${install.stderr || install.stdout}`);
  },
};

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the pinned helm, installing it on first use. `DUBAI_HUB_HELM` overrides it (tests only). */
export function ensureHelm(root = PROJECT_ROOT): string {
  if (process.env.DUBAI_HUB_HELM) return process.env.DUBAI_HUB_HELM;
  const toolsDir = join(root, '.tools');
  const binary = join(toolsDir, 'bin', 'helm');
  if (!existsSync(binary)) ensureCachedTool(HELM_TOOL, toolsDir);
  return binary;
}

export interface HelmRun {
  stdout: string;
  stderr: string;
}

/** Runs helm with a time-out; rejects with its stderr on a non-zero exit. */
export async function runHelm(helm: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<HelmRun> {
  const result = await runCaptured(helm, args, { env: options.env ?? helmEnvironment(), timeoutMs: options.timeoutMs ?? 120_000 }).catch((error: Error) => {
    throw new HelmError(error.message);
  });
  if (result.code === 0) return { stdout: result.stdout, stderr: result.stderr };
  throw new HelmError(result.signal ? `helm ${args[0]} ${describeExit(result)}` : result.stderr.trim() || `helm ${args[0]} exited ${result.code}`);
}

/**
 * helm with no access to the user's helm configuration: no repositories, no
 * plugins, no registry logins, so a render is the same on every machine.
 */
export function helmEnvironment(root = PROJECT_ROOT): NodeJS.ProcessEnv {
  const isolated = join(root, '.tools', 'helm-home');
  return {
    PATH: process.env.PATH ?? '',
    HOME: isolated,
    HELM_CACHE_HOME: join(isolated, 'cache'),
    HELM_CONFIG_HOME: join(isolated, 'config'),
    HELM_DATA_HOME: join(isolated, 'data'),
    HELM_PLUGINS: join(isolated, 'plugins'),
    HELM_REGISTRY_CONFIG: join(isolated, 'registry.json'),
    HELM_REPOSITORY_CONFIG: join(isolated, 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(isolated, 'repository'),
  };
}
