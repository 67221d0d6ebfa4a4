/**
 * Vitest global set-up of the slow lane: installs every tool the slow suites
 * run, once, before any test file starts, so no test spends its time-out on an
 * install. Each tool's cache entry is locked, so parallel runs wait for one another.
 *
 * The cluster test's control plane (scripts/cluster/binaries.ts) is built here
 * too, not in PROJECT_TOOLS: its cold build takes about 8 min (far more under load), which `npm run
 * tools` should not cost everyone. Without Go it is not built, and the cluster
 * suite skips with that reason.
 */
import { join } from 'node:path';
import { controlPlaneUnavailable, ensureControlPlane } from '../../scripts/cluster/binaries.js';
import { installTools, summary } from '../../scripts/tools/install-tools.js';
import { PROJECT_ROOT } from '../../scripts/tools/project-tools.js';
import { environmentKubernetesVersion } from '../../generator/validate/manifests.js';
import { renderedEnvironments } from '../../generator/write-rendered.js';

export default function setup(): void {
  const steps = installTools(undefined, (line) => process.stdout.write(`tools: ${line}\n`));
  process.stdout.write(`tools: ${summary(steps)}\n`);
  const unavailable = controlPlaneUnavailable();
  if (unavailable) {
    process.stdout.write(`tools: cluster control plane not built: ${unavailable}\n`);
    return;
  }
  const minors = new Set(renderedEnvironments(join(PROJECT_ROOT, 'rendered')).map((env) => environmentKubernetesVersion(PROJECT_ROOT, env).minor));
  for (const minor of minors) {
    const started = performance.now();
    ensureControlPlane(minor);
    process.stdout.write(`tools: cluster control plane for Kubernetes 1.${minor} ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
