/**
 * The cluster test's apply order and its warning allow-list, without a
 * control plane: the order Argo CD would apply rendered/<env>/ in, the apply
 * mode each Application asks for, and what the plan refuses to skip.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubernetesVersionOf } from '../generator/kubernetes-version.js';
import { readRenderedInputs, type RenderedInput } from '../generator/validate/manifests.js';
import { planEnvironment } from '../scripts/cluster/plan.js';
import { allowedWarning } from '../scripts/cluster/warnings.js';
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

const resource = (kind: string, name: string, namespace?: string, wave?: number) =>
  yaml({ apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(wave === undefined ? {} : { annotations: { 'argocd.argoproj.io/sync-wave': String(wave) } }) } });

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
    expect(plan.apps[2]!.steps.map((step) => step.resources[0])).toEqual(['Job late/migrate', 'ServiceAccount late/app', 'Deployment late/app']);
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
