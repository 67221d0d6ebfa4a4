/**
 * One environment against a fresh control plane: start it, apply the plan
 * (./plan.ts) the way Argo CD would, collect every refusal and every admission
 * warning not allowed with a reason (./warnings.ts), prove every workload's
 * Pods were admitted (./workloads.ts), stop what was started.
 */
import { rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { RenderedInput } from '../../generator/validate/manifests.js';
import type { ControlPlaneBinaries } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import type { K3sNodeConfig } from './k3s-node-config.js';
import type { Kubectl } from './kubectl.js';
import { batches, planEnvironment, type Plan, type Step } from './plan.js';
import { allowedWarning } from './warnings.js';
import { registerNode, verifyWorkloads, workloadsOf, type WorkloadResult } from './workloads.js';

export const ARGOCD_FIELD_MANAGER = 'argocd-controller';
/** The Node the test registers so DaemonSets create Pods (K3s runs one server node). */
export const TEST_NODE = 'cluster-test-node';
const TEST_NODES = 1;

/** The test's three stages: CRDs, Namespaces, then the Applications' folders. */
export type Stage = 'crds' | 'namespaces' | 'apps';

export interface StepOutcome {
  stage: Stage;
  step: Step;
  ok: boolean;
  /** kubectl's own message on a refusal. */
  message?: string;
  warnings: { text: string; allowedBecause?: string }[];
  ms: number;
}

export interface EnvironmentReport {
  env: string;
  plan: Plan;
  outcomes: StepOutcome[];
  workloads: WorkloadResult[];
  failures: string[];
  seconds: { start: number; apply: number; workloads: number; total: number };
  logs: string;
  /** What was started, each stopped by its PID before the report is made. */
  processes: { name: string; pid: number }[];
  /** The node's settings the control plane ran with (undefined when it did not get that far). */
  node?: K3sNodeConfig;
}

export interface RunOptions {
  root: string;
  input: RenderedInput;
  binaries: ControlPlaneBinaries;
  extraCrds: Step[];
  workDir: string;
  log: (line: string) => void;
  /** Keep etcd data and logs after a green run (always kept after a failure). */
  keep?: boolean;
}

function applyArgs(step: Step, root: string): string[] {
  const file = isAbsolute(step.file) ? step.file : join(root, step.file);
  const mode = step.mode === 'server-side' ? ['--server-side', `--field-manager=${ARGOCD_FIELD_MANAGER}`] : [];
  return ['apply', '-f', file, ...mode, ...(step.dryRunOnly ? ['--dry-run=server'] : [])];
}

async function applyStep(kubectl: Kubectl, stage: Stage, step: Step, root: string): Promise<StepOutcome> {
  const started = Date.now();
  const result = await kubectl.run(applyArgs(step, root));
  const warnings = result.warnings.map((text) => {
    const allowed = allowedWarning(text, step.resources);
    return allowed ? { text, allowedBecause: allowed.reason } : { text };
  });
  return { stage, step, ok: result.ok, ...(result.ok ? {} : { message: result.stderr }), warnings, ms: Date.now() - started };
}

/** kubectl processes at once within a batch: enough to hide their start-up on 2 cores. */
const APPLY_CONCURRENCY = 4;

/** Applies the steps batch by batch (./plan.ts batches), each batch concurrently; outcomes keep the steps' order. */
async function applySteps(kubectl: Kubectl, stage: Stage, steps: Step[], root: string): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const batch of batches(steps)) {
    const results: StepOutcome[] = new Array(batch.length);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < batch.length; index = next++) results[index] = await applyStep(kubectl, stage, batch[index]!, root);
    };
    await Promise.all(Array.from({ length: Math.min(APPLY_CONCURRENCY, batch.length) }, worker));
    outcomes.push(...results);
  }
  return outcomes;
}

function hint(message: string): string {
  if (/no matches for kind|ensure CRDs are installed first/.test(message)) {
    return 'expected its CustomResourceDefinition in rendered/<env>/ (hydrated chart output) or in a --crds folder';
  }
  if (/violates PodSecurity/.test(message)) return "expected the Pod template to meet its namespace's pod-security.kubernetes.io/enforce level (generator/k8s/security.ts)";
  return 'expected the API server to accept it as Argo CD would apply it; fix the generator input that renders it and run npm run render';
}

function failuresOf(env: string, plan: Plan, outcomes: StepOutcome[], workloads: WorkloadResult[]): string[] {
  const failures = [...plan.problems];
  for (const doc of plan.unowned) failures.push(`${doc.file}: ${doc.resource}: no Application's folder holds this file, so Argo CD never applies it; expected it under a folder an Application in rendered/${env}/apps/ points at`);
  for (const outcome of outcomes) {
    const what = `${outcome.step.file}: ${outcome.step.resources.join(', ')}`;
    if (!outcome.ok) failures.push(`${what}: refused by the API server (${outcome.step.mode} apply${outcome.step.dryRunOnly ? ', dry run' : ''}):\n    ${outcome.message?.replaceAll('\n', '\n    ')}\n    ${hint(outcome.message ?? '')}`);
    for (const warning of outcome.warnings.filter((warning) => !warning.allowedBecause)) {
      failures.push(`${what}: admission warning: ${warning.text}\n    expected no warning; fix the resource, or allow the warning with its reason in scripts/cluster/warnings.ts`);
    }
  }
  for (const workload of workloads.filter((workload) => !workload.ok)) failures.push(`${workload.kind} ${workload.namespace}/${workload.name}: ${workload.problem}\n    ${hint(workload.problem ?? '')}`);
  return failures;
}

/**
 * The first two stages: every CRD (then waits until each is Established), the
 * Namespaces; then the test Node. The cluster vitest file starts from here too.
 */
export async function applyFoundation(kubectl: Kubectl, plan: Plan, root: string): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  outcomes.push(...(await applySteps(kubectl, 'crds', plan.crds, root)));
  const crdNames = outcomes.filter((outcome) => outcome.ok).flatMap((outcome) => outcome.step.objects.map((object) => `crd/${object.metadata?.name}`));
  if (crdNames.length > 0) {
    const established = await kubectl.run(['wait', '--for=condition=Established', '--timeout=180s', ...crdNames], undefined, 190_000);
    if (!established.ok) throw new Error(`CRDs not Established within 180 s: ${established.stderr}`);
  }
  outcomes.push(...(await applySteps(kubectl, 'namespaces', plan.namespaces, root)));
  await registerNode(kubectl, TEST_NODE);
  return outcomes;
}

export async function runEnvironment(options: RunOptions): Promise<EnvironmentReport> {
  const { root, input, log } = options;
  const env = input.env;
  const plan = planEnvironment(input, options.extraCrds);
  const logs = join(options.workDir, env);
  rmSync(logs, { recursive: true, force: true });
  const controlPlane = new ControlPlane({ binaries: options.binaries, root, dir: logs, log });
  const outcomes: StepOutcome[] = [];
  let workloads: WorkloadResult[] = [];
  let aborted: string | undefined;
  const t0 = Date.now();
  const seconds = { start: 0, apply: 0, workloads: 0, total: 0 };
  try {
    log(`${env}: starting etcd, kube-apiserver and kube-controller-manager on 127.0.0.1`);
    await controlPlane.start();
    seconds.start = (Date.now() - t0) / 1000;
    const kubectl = controlPlane.kubectl;
    const t1 = Date.now();
    log(`${env}: ${plan.crds.length} CRD files (waiting until Established), then ${plan.namespaces.length} namespaces`);
    outcomes.push(...(await applyFoundation(kubectl, plan, root)));
    for (const app of plan.apps) {
      log(`${env}: wave ${String(app.wave).padStart(3)}  ${app.name.padEnd(18)} ${app.mode.padEnd(11)} ${app.steps.length} files${app.charts.length ? `  (chart ${app.charts.join(', ')} not hydrated: not applied)` : ''}`);
      outcomes.push(...(await applySteps(kubectl, 'apps', app.steps, root)));
    }
    controlPlane.assertAlive();
    seconds.apply = (Date.now() - t1) / 1000;
    const t2 = Date.now();
    const expected = workloadsOf(outcomes.filter((outcome) => outcome.ok && !outcome.step.dryRunOnly).flatMap((outcome) => outcome.step.objects), TEST_NODES);
    log(`${env}: waiting for the Pods of ${expected.length} workloads (created by the controllers, judged by admission)`);
    workloads = await verifyWorkloads(kubectl, expected);
    seconds.workloads = (Date.now() - t2) / 1000;
    controlPlane.assertAlive();
  } catch (error) {
    // The control plane itself failed (did not start, died, a wait timed out): one failure, with where to look.
    aborted = `control plane: ${(error as Error).message}\n    logs: ${logs}/ (etcd.log, kube-apiserver.log, kube-controller-manager.log)`;
  } finally {
    await controlPlane.stop();
  }
  seconds.total = (Date.now() - t0) / 1000;
  const failures = [...failuresOf(env, plan, outcomes, workloads), ...(aborted ? [aborted] : [])];
  // Keep the logs; etcd's data, the throw-away keys and kubectl's cache only after a failure (or with --keep).
  if (failures.length === 0 && !options.keep) for (const dir of ['etcd', 'pki', 'kubectl-cache']) rmSync(join(logs, dir), { recursive: true, force: true });
  const processes = controlPlane.processes.map(({ name, pid }) => ({ name, pid }));
  return { env, plan, outcomes, workloads, failures, seconds, logs, processes, ...(controlPlane.node ? { node: controlPlane.node } : {}) };
}
