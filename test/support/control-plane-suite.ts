/**
 * One real control plane for a describe block: started before its tests with
 * the environment's foundation applied (CRDs Established, namespaces), stopped
 * by PID and its folder removed after them. The tests read `.current`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { parse } from 'yaml';
import type { Manifest, RenderedInput } from '../../generator/validate/manifests.js';
import { ensureControlPlane } from '../../scripts/cluster/binaries.js';
import { ControlPlane } from '../../scripts/cluster/control-plane.js';
import { planEnvironment } from '../../scripts/cluster/plan.js';
import { applyFoundation } from '../../scripts/cluster/run-environment.js';
import { REPO_ROOT } from './temp-repo.js';

/** Building the binaries on a cold machine takes minutes; starting and applying, well under this. */
export const BUILD_TIMEOUT_MS = 60 * 60_000;
export const RUN_TIMEOUT_MS = 10 * 60_000;

export interface ControlPlaneSuite {
  readonly current: ControlPlane;
}

export function useControlPlane(input: RenderedInput, prefix: string): ControlPlaneSuite {
  let controlPlane: ControlPlane | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    controlPlane = new ControlPlane({ binaries: ensureControlPlane(input.kubernetes.minor), root: REPO_ROOT, dir });
    await controlPlane.start();
    const foundation = await applyFoundation(controlPlane.kubectl, planEnvironment(input), REPO_ROOT);
    expect(foundation.filter((outcome) => !outcome.ok).map((outcome) => outcome.message)).toEqual([]);
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await controlPlane?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, RUN_TIMEOUT_MS);
  return {
    get current() {
      if (!controlPlane) throw new Error('the control plane has not started (its beforeAll failed)');
      return controlPlane;
    },
  };
}

/** The objects of one rendered folder (rendered/<env>/<folder>/*.yaml), in file order; `match` picks files. */
export function renderedFolder(env: string, folder: string, match: (file: string) => boolean = () => true): Manifest[] {
  const dir = join(REPO_ROOT, 'rendered', env, folder);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml') && match(file))
    .sort()
    .map((file) => parse(readFileSync(join(dir, file), 'utf8')) as Manifest);
}
