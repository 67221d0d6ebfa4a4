/**
 * Two lanes, one suite. `npm run test:fast` runs the fast lane (project
 * `fast`), `npm run test:slow` the slow lane; `npm test` runs the type check, both lanes and `npm run validate`.
 *
 * - fast: in-process tests (config, render, policy, Argo CD layer, diff,
 *   schemas). Files share their worker's module graph (`isolate: false`), so
 *   cdk8s is imported and the schemas compiled once per worker, not per file.
 *   A file that replaces modules with `vi.mock` would leak its mocks there: it
 *   belongs in the slow lane, which isolates every file.
 *   Time-out 30 s per test: generous on a loaded 2-core machine, low enough
 *   that a test starting a process stands out here.
 * - slow: suites that start processes or run installed tools. The tools are
 *   installed once before any of them (test/support/install-tools.global.ts);
 *   tests that start a process set their own time-out, the lane default is 120 s.
 *
 * One worker per core: on 2 cores Vitest's default (cores - 1) ran the fast
 * lane in one worker, 23 s instead of 11 s.
 *
 * A new suite that spawns processes or tools belongs in SLOW_TESTS.
 */
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export const SLOW_TESTS = [
  'test/adding-a-model.test.ts',
  'test/alert-rules.test.ts',
  'test/argocd-config-isolation.test.ts',
  'test/bootstrap-moto-e2e.test.ts',
  'test/bootstrap-moto-ha.test.ts',
  'test/bootstrap-scripts-cli.test.ts',
  'test/bootstrap-template-lint.test.ts',
  'test/charts-pull.test.ts',
  'test/cluster-control-plane.test.ts',
  'test/cpu-hogs.test.ts',
  'test/crd-schema-gates.test.ts',
  'test/cross-environment-checks.test.ts',
  'test/hydrate-charts.test.ts',
  'test/kubeconform-install.test.ts',
  'test/litellm-migration-exit.test.ts',
  'test/new-environment.test.ts',
  'test/node-k3s-installer.test.ts',
  'test/node-roles.test.ts',
  'test/node-tailscale-key.test.ts',
  'test/ops-k8s-control-plane.test.ts',
  'test/ops-valkey-password.test.ts',
  'test/pre-commit-hook.test.ts',
  'test/render-cli.test.ts',
  'test/render-refuses-invalid.test.ts',
  'test/provider-keys.test.ts',
  'test/renovate.test.ts',
  'test/run-captured.test.ts',
  'test/scanner-gate.test.ts',
  'test/secrets-list-cli.test.ts',
  'test/validation-gates.test.ts',
  'test/validators-agree.test.ts',
  'test/workflows.test.ts',
  'test/ops-recover-node-moto.test.ts',
  'test/ops-recover-cluster-moto.test.ts',
  'test/ops-recreate-stack-moto.test.ts',
  'test/upgrade-k3s-control-plane.test.ts',
  'test/upgrade-k3s-verb.test.ts',
  'test/access-control-plane.test.ts',
  'test/bootstrap-template-restore-lint.test.ts',
  'test/ops-restore-database-moto.test.ts',
  'test/reloader-control-plane.test.ts',
  'test/bootstrap-moto-replication.test.ts',
];


const FAST_TIMEOUTS = { testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest's default leaves a core idle (cores - 1: one worker on 2 cores); use them all.
    maxWorkers: availableParallelism(),
    projects: [
      { test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SLOW_TESTS, isolate: false, ...FAST_TIMEOUTS } },
      {
        test: {
          name: 'slow',
          include: SLOW_TESTS,
          globalSetup: ['test/support/install-tools.global.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
