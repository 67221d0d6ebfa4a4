/**
 * One benchmark run in its own process (so peak memory is this run's own):
 * renders every environment under --root through each phase of the pipeline
 * and prints the timings as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listEnvironments, loadEnvironment, type Environment } from '../../generator/config/load-environment.js';
import { Hydrator } from '../../generator/charts/hydrate.js';
import { serializeEnvironment, synthesizeEnvironment, type RenderedEnvironment } from '../../generator/render-environment.js';
import { kubernetesVersionOf } from '../../generator/kubernetes-version.js';
import { ensureKubeconform, runKubeconform } from '../../generator/validate/kubeconform.js';
import { parseRendered, type ManifestDoc } from '../../generator/validate/manifests.js';
import { checkPolicy } from '../../generator/validate/policy/index.js';
import { schemaFindingsOf } from '../../generator/validate/schema-validator.js';
import { writeRendered } from '../../generator/write-rendered.js';

export interface SizeResult {
  environments: number;
  resources: number;
  phases: Record<string, number>;
  peakRssMiB: number;
  /** Findings of the in-process gates (must be 0: the tree is the real generator's). */
  findings: number;
  /** kubeconform binary over the same written tree, and the in-process schema validation of it. */
  kubeconformMs: number;
  inProcessSchemaMs: number;
  cdk8sSynthMs?: number;
  projectRenderWarmMs?: number;
  /** The first, untimed-in-phases hydration pass: cold when the cache had none of these inputs. */
  hydrateFirstMs: number;
}

function timed<T>(phases: Record<string, number>, name: string, work: () => T): T {
  const started = performance.now();
  const result = work();
  phases[name] = (phases[name] ?? 0) + performance.now() - started;
  return result;
}

const { values } = parseArgs({ options: { root: { type: 'string' }, 'compare-cdk8s': { type: 'boolean', default: false } } });
const root = values.root!;
const phases: Record<string, number> = {};
const names = listEnvironments(join(root, 'environments'));
const environments: Environment[] = timed(phases, 'load', () => names.map((name) => loadEnvironment(root, name)));
const synthesized = timed(phases, 'synth', () => environments.map((environment) => synthesizeEnvironment(environment)));
// Hydration is measured warm: a first, untimed pass fills the per-user render cache (helm runs only on a miss).
const hydrator = new Hydrator({ root });
const hydrateAll = () => Promise.all(synthesized.map((item) => hydrator.hydrate(item.environment, item.chartRequests)));
const coldStarted = performance.now();
await hydrateAll();
const hydrateFirstMs = performance.now() - coldStarted;
const hydrateStarted = performance.now();
const hydrated = await hydrateAll();
phases['hydrate'] = performance.now() - hydrateStarted;
const rendered: RenderedEnvironment[] = timed(phases, 'serialise', () => synthesized.map((item, index) => serializeEnvironment(item, hydrated[index])));
const out = mkdtempSync(join(tmpdir(), 'dubai-hub-bench-out-'));
timed(phases, 'write', () => writeRendered(join(out, 'rendered'), new Map(rendered.map((env) => [env.name, env.files]))));

const kubernetesOf = (env: RenderedEnvironment) => kubernetesVersionOf(environments.find((item) => item.config.name === env.name)!.config.k3s.version);
let findings = 0;
const parsed: { env: string; docs: ManifestDoc[] }[] = [];
timed(phases, 'schema', () => {
  for (const env of rendered) {
    const kubernetes = kubernetesOf(env);
    const { docs, problems } = parseRendered({ env: env.name, kubernetes, files: env.files });
    findings += schemaFindingsOf(docs, problems, kubernetes).length;
    parsed.push({ env: env.name, docs });
  }
});
timed(phases, 'policy', () => {
  for (const { env, docs } of parsed) findings += checkPolicy(env, docs).findings.length;
});

// The same written tree through kubeconform (one run per Kubernetes version, as `npm run validate` does).
const binary = ensureKubeconform();
const byVersion = new Map<string, string[]>();
for (const env of rendered) {
  const version = kubernetesOf(env).schemaVersion.slice(1);
  byVersion.set(version, [...(byVersion.get(version) ?? []), join(out, 'rendered', env.name)]);
}
let started = performance.now();
const kubeconformResults = await Promise.all([...byVersion].map(([version, targets]) => runKubeconform(out, targets, version, binary)));
const kubeconformMs = performance.now() - started;
if (kubeconformResults.some((item) => item.issues.length > 0)) throw new Error('kubeconform found problems in the benchmark tree');

const result: SizeResult = {
  environments: names.length,
  resources: rendered.reduce((sum, env) => sum + env.resources.length, 0),
  phases,
  peakRssMiB: 0,
  findings,
  kubeconformMs,
  inProcessSchemaMs: phases['schema']!,
  hydrateFirstMs,
};

if (values['compare-cdk8s']) {
  // Both measured warm, after the run above: cdk8s's own synth of the same
  // apps (writing its YAML files) against the project's synth + write.
  started = performance.now();
  for (const environment of environments) {
    const { app } = synthesizeEnvironment(environment);
    (app as unknown as { outdir: string }).outdir = join(out, 'cdk8s', environment.config.name);
    app.synth();
  }
  result.cdk8sSynthMs = performance.now() - started;
  started = performance.now();
  const again = environments.map((environment) => serializeEnvironment(synthesizeEnvironment(environment)));
  writeRendered(join(out, 'again'), new Map(again.map((env) => [env.name, env.files])));
  result.projectRenderWarmMs = performance.now() - started;
}
rmSync(out, { recursive: true, force: true });
result.peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(result)}\n`);
