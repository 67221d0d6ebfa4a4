/**
 * The cluster test's apply order and its warning allow-list, without a
 * control plane: the order Argo CD would apply rendered/<env>/ in, the apply
 * mode each Application asks for, and what the plan refuses to skip.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubernetesVersionOf } from '../generator/kubernetes-version.js';
import { readRenderedInputs, type RenderedInput } from '../generator/validate/manifests.js';
import { k3sNodeConfig } from '../scripts/cluster/k3s-node-config.js';
import { planEnvironment } from '../scripts/cluster/plan.js';
import { allowedWarning } from '../scripts/cluster/warnings.js';
import { workloadsOf } from '../scripts/cluster/workloads.js';
import { REPO_ROOT } from './support/temp-repo.js';

const yaml = (object: unknown) => stringify(object);

function application(name: string, wave: number, path: string, serverSide = false) {
  return yaml({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', annotations: { 'argocd.argoproj.io/sync-wave': String(wave) } },
    spec: { source: { path, directory: { recurse: false } }, syncPolicy: { syncOptions: serverSide ? ['ServerSideApply=true'] : [] } },
  });
}

const resource = (kind: string, name: string, namespace?: string, wave?: number, annotations: Record<string, string> = {}) =>
  yaml({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}), annotations: { ...(wave === undefined ? {} : { 'argocd.argoproj.io/sync-wave': String(wave) }), ...annotations } } });

function fixture(): RenderedInput {
  return {
    env: 'fx',
    kubernetes: kubernetesVersionOf('v1.36.3+k3s1'),
    files: new Map([
      ['apps/application_argocd_root.yaml', application('root', -60, 'rendered/fx/apps')],
      ['apps/application_argocd_late.yaml', application('late', 10, 'rendered/fx/late')],
      ['apps/application_argocd_early.yaml', application('early', -20, 'rendered/fx/early', true)],
      ['late/deployment_late_app.yaml', resource('Deployment', 'app', 'late')],
      ['late/serviceaccount_late_app.yaml', resource('ServiceAccount', 'app', 'late')],
      ['late/job_late_migrate.yaml', resource('Job', 'migrate', 'late', -2)],
      ['late/namespace_late.yaml', resource('Namespace', 'late')],
      ['late/job_late_pre.yaml', resource('Job', 'pre', 'late', undefined, { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '5' })],
      ['late/job_late_post.yaml', resource('Job', 'post', 'late', undefined, { 'helm.sh/hook': 'post-upgrade' })],
      ['late/job_late_uninstall.yaml', resource('Job', 'uninstall', 'late', undefined, { 'helm.sh/hook': 'pre-delete' })],
      ['late/job_late_on-failure.yaml', resource('Job', 'on-failure', 'late', undefined, { 'argocd.argoproj.io/hook': 'SyncFail' })],
      ['early/customresourcedefinition_things.example.io.yaml', resource('CustomResourceDefinition', 'things.example.io')],
      ['early/validatingwebhookconfiguration_guard.yaml', resource('ValidatingWebhookConfiguration', 'guard')],
      ['stray/configmap_nobody.yaml', resource('ConfigMap', 'nobody', 'late')],
      ['README.md', '# not a manifest\n'],
    ]),
  };
}

describe('cluster test: the plan', () => {
  it('applies CRDs, then Namespaces, then Applications by wave; inside one, resource wave then kind order', () => {
    const plan = planEnvironment(fixture());
    expect(plan.crds.map((step) => step.resources)).toEqual([['CustomResourceDefinition things.example.io']]);
    expect(plan.crds[0]!.mode).toBe('server-side');
    expect(plan.namespaces.map((step) => [step.resources, step.mode])).toEqual([[['Namespace late'], 'client-side']]);
    expect(plan.apps.map((app) => [app.name, app.mode])).toEqual([['root', 'client-side'], ['early', 'server-side'], ['late', 'client-side']]);
    expect(plan.apps[2]!.steps.filter((step) => !step.dryRunOnly).map((step) => [step.phase, step.resources[0]])).toEqual([
      ['PreSync', 'Job late/pre'],
      ['Sync', 'Job late/migrate'],
      ['Sync', 'ServiceAccount late/app'],
      ['Sync', 'Deployment late/app'],
      ['PostSync', 'Job late/post'],
    ]);
  });

  it('checks hooks Argo CD does not run on a sync (deletion, SyncFail) with a dry run only, saying why', () => {
    const steps = planEnvironment(fixture()).apps[2]!.steps.filter((step) => step.dryRunOnly);
    expect(steps.map((step) => [step.resources[0], step.dryRunOnly])).toEqual([
      ['Job late/on-failure', expect.stringMatching(/^Argo CD hook "SyncFail" does not run on a sync/)],
      ['Job late/uninstall', expect.stringMatching(/^Helm hook "pre-delete" is not run by Argo CD on a sync/)],
    ]);
  });

  it('checks admission webhooks with a dry run only, and reports files no Application holds', () => {
    const plan = planEnvironment(fixture());
    const webhook = plan.apps[1]!.steps.find((step) => step.resources[0] === 'ValidatingWebhookConfiguration guard');
    expect(webhook?.dryRunOnly).toMatch(/no running Pod here/);
    expect(plan.unowned.map((doc) => doc.file)).toEqual(['rendered/fx/stray/configmap_nobody.yaml']);
  });

  it('puts every manifest of the real environments in the plan, with Argo CD and External Secrets applied server-side', () => {
    for (const input of readRenderedInputs(REPO_ROOT)) {
      const plan = planEnvironment(input);
      expect(plan.problems).toEqual([]);
      expect(plan.unowned.map((doc) => doc.file)).toEqual([]);
      const modes = Object.fromEntries(plan.apps.map((app) => [app.name, app.mode]));
      expect(modes).toMatchObject({ argocd: 'server-side', 'external-secrets': 'server-side', litellm: 'client-side' });
      expect(plan.apps[0]!.name).toBe('root');
    }
  });
});

describe('cluster test: the warning allow-list', () => {
  const finalizer = 'metadata.finalizers: "resources-finalizer.argocd.argoproj.io": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers';

  it("allows Argo CD's finalizer warning on Applications, with a reason", () => {
    expect(allowedWarning(finalizer, ['Application argocd/root'])?.reason).toMatch(/Argo CD's own finalizer/);
  });

  it('allows it nowhere else, and no other warning', () => {
    expect(allowedWarning(finalizer, ['ConfigMap litellm/config'])).toBeUndefined();
    expect(allowedWarning('would violate PodSecurity "restricted:v1.36": privileged', ['Deployment litellm/litellm'])).toBeUndefined();
    expect(allowedWarning('unrecognized format "int64"', ['CustomResourceDefinition things.example.io'])).toBeUndefined();
  });
});

describe('cluster test: the Pods each workload must get', () => {
  const workload = (kind: string, spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind, metadata: { name: kind.toLowerCase(), namespace: 'ns' }, spec });

  it('expects all replicas of a Deployment, the first Pod of an ordered StatefulSet, a Job\'s parallel Pods and one Pod per Node of a DaemonSet', () => {
    const expected = workloadsOf(
      [workload('Deployment', { replicas: 3 }), workload('StatefulSet', { replicas: 3 }), workload('Job', { parallelism: 2, completions: 5 }), workload('DaemonSet', {}), workload('ConfigMap', {})],
      1,
    );
    expect(expected.map((entry) => [entry.kind, entry.expected])).toEqual([['Deployment', 3], ['StatefulSet', 1], ['Job', 2], ['DaemonSet', 1]]);
  });

  it('expects no Pod of a Deployment scaled to zero or a suspended Job, and every replica of a Parallel StatefulSet', () => {
    const expected = workloadsOf([workload('Deployment', { replicas: 0 }), workload('Job', { suspend: true }), workload('StatefulSet', { replicas: 2, podManagementPolicy: 'Parallel' })], 1);
    expect(expected.map((entry) => entry.expected)).toEqual([0, 0, 2]);
  });
});

describe('npm run test:cluster: options', () => {
  it('refuses an unknown environment (exit 2) before building or starting anything, naming the known ones', async () => {
    const { main } = await import('../scripts/cluster/cli.js');
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (errors.push(chunk), true)) as typeof process.stderr.write;
    try {
      expect(await main(['--env', 'qa', '--root', REPO_ROOT])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toBe('test:cluster: --env qa: no such environment under rendered/ (known: dev, prod, staging)\n');
  });
});

describe("cluster test: the node's API server settings", () => {
  it('come from bootstrap/node/user-data.sh: its PodSecurity configuration and flags, audit logging and the service-account keys left out with their reasons', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-node-'));
    try {
      const node = k3sNodeConfig(REPO_ROOT, dir);
      expect(node.apiserverFlags).toEqual([`--admission-control-config-file=${join(dir, 'psa.yaml')}`, '--enable-admission-plugins=NodeRestriction']);
      expect(readFileSync(join(dir, 'psa.yaml'), 'utf8')).toMatch(/kind: PodSecurityConfiguration[\s\S]*enforce: baseline/);
      expect(node.controllerManagerFlags).toEqual(['--terminated-pod-gc-threshold=10']);
      expect(node.skipped.map((skipped) => skipped.flag.split('=')[0])).toEqual([
        'audit-policy-file',
        'audit-log-path',
        'audit-log-maxage',
        'audit-log-maxbackup',
        'audit-log-maxsize',
        // Workload identity: the node's issuer and keys; the test control plane signs with its own.
        'service-account-issuer',
        'service-account-issuer',
        'service-account-jwks-uri',
        'service-account-signing-key-file',
        'service-account-key-file',
        'service-account-key-file',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are an error naming the script when its PodSecurity here-document is gone', () => {
    const root = mkdtempSync(join(tmpdir(), 'cluster-node-'));
    try {
      mkdirSync(join(root, 'bootstrap', 'node'), { recursive: true });
      const source = readFileSync(join(REPO_ROOT, 'bootstrap', 'node', 'user-data.sh'), 'utf8');
      writeFileSync(join(root, 'bootstrap', 'node', 'user-data.sh'), source.replace("<<'PSA'", '<<PSA'));
      expect(() => k3sNodeConfig(root, root)).toThrow("bootstrap/node/user-data.sh: expected a <<'PSA' here-document");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
