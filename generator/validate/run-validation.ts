/**
 * Runs every validation gate over rendered/ and returns one report:
 * kubeconform (the pinned binary, strict, one run per environment), ajv over
 * the same schemas (custom resources against the CRDs each environment
 * renders), the policy rules, the secrets scan, the next-minor upgrade
 * check and the scanners (checkov and kube-score, generator/validate/scanners/).
 */
import { join } from 'node:path';
import { crdSchemasOf } from './crd-schemas.js';
import { checkUpgrade, type UpgradeCheck } from './deprecations.js';
import { fieldPath, sortFindings, type ExceptionUse, type Finding, type Gate } from './findings.js';
import { ensureKubeconform, runKubeconform, type KubeconformResult } from './kubeconform.js';
import { parseRendered, readRenderedInputs, type ManifestDoc, type RenderedInput } from './manifests.js';
import { checkPolicy, POLICY_RULES } from './policy/index.js';
import { schemaFindingsOf } from './schema-validator.js';
import { scannerGate } from './scanners/index.js';
import { renderedSecretData, scanRepositoryFiles, SCANNED_FOLDERS } from './secrets-scan.js';

export const GATES: readonly Gate[] = ['kubeconform', 'schema', 'policy', 'secrets', 'deprecations', 'scanners'];

export interface ValidationOptions {
  /** Repository (or copy) holding environments/ and rendered/. */
  root: string;
  envs?: string[];
  gates?: readonly Gate[];
  /** kubeconform binary to use instead of the project-installed one. */
  kubeconform?: string;
  /** Progress for people (the one-time kubeconform install). */
  log?: (line: string) => void;
}

export interface GateSummary {
  gate: Gate;
  ran: boolean;
  /** What the gate looked at, in words: `113 resources`, `152 files`. */
  checked: string;
  /** How many resources, files or environments it looked at; 0 is never "ok". */
  count: number;
  errors: number;
  warnings: number;
  ms: number;
}

export interface ValidationReport {
  ok: boolean;
  environments: { env: string; kubernetes: string; resources: number }[];
  resources: number;
  gates: GateSummary[];
  findings: Finding[];
  exceptions: ExceptionUse[];
  upgrades: UpgradeCheck[];
  notes: string[];
  ms: number;
}

interface GateRun<T> {
  value: T;
  /** Resources, files or environments the gate looked at. */
  count: number;
  findings: Finding[];
}

const NO_MANIFESTS = 'no rendered manifests (run `npm run render`, or check --env)';

function fatal(gate: Gate, message: string): Finding {
  return { gate, severity: 'error', file: '', resource: '', path: '', message };
}

async function kubeconformGate(root: string, parsed: { input: RenderedInput; docs: ManifestDoc[] }[], docs: ManifestDoc[], binary: string): Promise<{ findings: Finding[]; resources: number }> {
  // One kubeconform per environment, in parallel: each reads the CRD schemas of its own environment.
  const results: KubeconformResult[] = await Promise.all(
    parsed.map(({ input, docs: envDocs }) =>
      runKubeconform(root, [join(root, 'rendered', input.env)], input.kubernetes.schemaVersion.slice(1), crdSchemasOf(envDocs, input.kubernetes.schemaVersion, input.env), binary),
    ),
  );
  const findings: Finding[] = [];
  for (const issue of results.flatMap((result) => result.issues)) {
    const doc = docs.find((candidate) => candidate.file === issue.file && candidate.object.kind === issue.kind && candidate.object.metadata?.name === issue.name);
    findings.push({
      gate: 'kubeconform',
      severity: 'error',
      file: issue.file,
      line: doc?.lineOf(issue.path),
      resource: doc?.resource ?? `${issue.kind} ${issue.name}`.trim(),
      path: fieldPath(issue.path),
      message: issue.message,
    });
  }
  const resources = results.reduce((sum, result) => sum + result.resources, 0);
  if (resources !== docs.length) {
    findings.push(fatal('kubeconform', `kubeconform checked ${resources} resources but rendered/ holds ${docs.length}: a file was skipped or not read`));
  }
  return { findings, resources };
}

export async function runValidation(options: ValidationOptions): Promise<ValidationReport> {
  const started = performance.now();
  const gates = new Set(options.gates ?? GATES);
  const findings: Finding[] = [];
  const summaries: GateSummary[] = [];
  const notes: string[] = [];
  let exceptions: ExceptionUse[] = [];
  let upgrades: UpgradeCheck[] = [];

  let inputs: RenderedInput[];
  try {
    inputs = readRenderedInputs(options.root, options.envs);
  } catch (error) {
    const finding = fatal('schema', (error as Error).message);
    return { ok: false, environments: [], resources: 0, gates: [], findings: [finding], exceptions, upgrades, notes, ms: performance.now() - started };
  }
  const parsed = inputs.map((input) => ({ input, ...parseRendered(input) }));
  const docs = parsed.flatMap((entry) => entry.docs);

  /**
   * Runs one gate. `count` is how many things it looked at: a gate that checked
   * nothing is an error (`nothing`), except where that is a stated skip (the
   * upgrade check without the next minor's schemas, reported as skipped).
   */
  const time = async <T>(
    gate: Gate,
    checked: (value: T) => string,
    run: () => Promise<GateRun<T>> | GateRun<T>,
    nothing?: string,
  ) => {
    if (!gates.has(gate)) return;
    const t0 = performance.now();
    let result: GateRun<T> | undefined;
    try {
      result = await run();
    } catch (error) {
      findings.push(fatal(gate, (error as Error).message));
    }
    const gateFindings = [...(result?.findings ?? [])];
    if (result && result.count === 0 && nothing) gateFindings.push(fatal(gate, `the ${gate} gate checked nothing: ${nothing}`));
    findings.push(...gateFindings);
    summaries.push({
      gate,
      ran: result !== undefined,
      checked: result ? checked(result.value) : 'not run',
      count: result?.count ?? 0,
      errors: gateFindings.filter((finding) => finding.severity === 'error').length + (result ? 0 : 1),
      warnings: gateFindings.filter((finding) => finding.severity === 'warning').length,
      ms: performance.now() - t0,
    });
  };

  // kubeconform runs as child processes while the in-process gates work.
  const kubeconform = time('kubeconform', (resources: number) => `${resources} resources (strict)`, async () => {
    const binary = options.kubeconform ?? ensureKubeconform(options.log ? { log: options.log } : {});
    const result = await kubeconformGate(options.root, parsed, docs, binary);
    return { value: result.resources, count: result.resources, findings: result.findings };
  }, NO_MANIFESTS);

  await time('schema', () => `${docs.length} resources`, () => ({
    value: undefined,
    count: docs.length,
    findings: parsed.flatMap(({ input, docs: envDocs, problems }) => schemaFindingsOf(envDocs, problems, input.kubernetes)),
  }), NO_MANIFESTS);

  await time('policy', () => `${POLICY_RULES.length} rules over ${docs.length} resources`, () => {
    const results = parsed.map(({ input, docs: envDocs }) => checkPolicy(input.env, envDocs));
    exceptions = results.flatMap((result) => result.exceptions);
    return { value: undefined, count: docs.length, findings: results.flatMap((result) => result.findings) };
  }, NO_MANIFESTS);

  await time('secrets', (files: number) => `${files} files`, async () => {
    const scan = await scanRepositoryFiles(options.root);
    return { value: scan.files, count: scan.files, findings: [...scan.findings, ...renderedSecretData(docs)] };
  }, `no files under ${SCANNED_FOLDERS.join('/, ')}/`);

  await time('deprecations', ({ checked, missing }: { checked: number; missing: string }) => `${checked} of ${inputs.length} environments checked against the next minor${missing ? ` (no schemas for ${missing}: see note)` : ''}`, () => {
    upgrades = parsed.map(({ input, docs: envDocs }) => checkUpgrade(input.env, input.kubernetes, envDocs));
    const unchecked = upgrades.filter((upgrade) => !upgrade.checked);
    const byTarget = new Map<string, string[]>();
    for (const upgrade of unchecked) byTarget.set(upgrade.to, [...(byTarget.get(upgrade.to) ?? []), upgrade.env]);
    for (const [to, envs] of byTarget) {
      notes.push(`Kubernetes ${to} schemas are not vendored (schemas/kubernetes/v${to}.0/): the upgrade check did not run for ${envs.join(', ')}. Vendor them to see what would break on upgrade.`);
    }
    const missing = [...byTarget.keys()].map((to) => `Kubernetes ${to}`).join(', ');
    const checkedEnvs = upgrades.length - unchecked.length;
    return { value: { checked: checkedEnvs, missing }, count: checkedEnvs, findings: upgrades.flatMap((upgrade) => upgrade.findings) };
  });

  // checkov and kube-score over every environment, accepted findings in generator/validate/scanner-allowlist.yaml.
  await time('scanners', (checked: string) => checked, async () => {
    const result = await scannerGate({ root: options.root, envs: inputs.map((input) => input.env), complete: options.envs === undefined, docs, ...(options.log ? { log: options.log } : {}) });
    return { value: result.checked, count: result.count, findings: result.findings };
  }, NO_MANIFESTS);

  await kubeconform;
  const order = (gate: Gate) => GATES.indexOf(gate);
  summaries.sort((a, b) => order(a.gate) - order(b.gate));
  const sorted = sortFindings(findings);
  return {
    ok: !sorted.some((finding) => finding.severity === 'error'),
    environments: parsed.map(({ input, docs: envDocs }) => ({ env: input.env, kubernetes: input.kubernetes.short, resources: envDocs.length })),
    resources: docs.length,
    gates: summaries,
    findings: sorted,
    exceptions,
    upgrades,
    notes,
    ms: performance.now() - started,
  };
}
