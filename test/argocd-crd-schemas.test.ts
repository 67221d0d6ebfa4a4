/**
 * The custom resources of the Argo CD layer and the add-ons are valid against
 * the CRDs the pinned charts install, as each environment renders them (the
 * strict schemas both validation gates use), in every environment; and the
 * Argo CD CRDs are those of the pinned chart's Argo CD release, not of
 * another one. (With the public ingress on, the ClusterIssuer against the
 * hydrated cert-manager chart: test/crd-schema-gates.test.ts, which runs helm.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CRD_PROVIDERS, crdSchemasOf, type CrdSchemas } from '../generator/validate/crd-schemas.js';
import { parseRendered, readRenderedInputs, type Manifest, type ManifestDoc } from '../generator/validate/manifests.js';
import { SchemaValidator } from '../generator/validate/schema-validator.js';
import { ENVIRONMENTS, ROOT } from './support/environments.js';

interface Tree {
  docs: ManifestDoc[];
  crds: CrdSchemas;
  validator: SchemaValidator;
}

function committedTree(env: string): Tree {
  const [input] = readRenderedInputs(ROOT, [env]);
  const { docs } = parseRendered(input!);
  return { docs, crds: crdSchemasOf(docs, input!.kubernetes.schemaVersion, env), validator: SchemaValidator.for(input!.kubernetes) };
}

const customResources = (tree: Tree) => tree.docs.filter((doc) => isCustom(tree, doc));

/** A kind Kubernetes itself does not serve: a custom resource (with or without a rendered CRD). */
function isCustom(tree: Tree, doc: ManifestDoc): boolean {
  const lookup = tree.validator.lookup(String(doc.object.apiVersion), String(doc.object.kind), tree.crds);
  return !lookup.found || lookup.source === 'crd';
}

function errorsOf(tree: Tree, docs = tree.docs): string[] {
  return docs
    .filter((doc) => isCustom(tree, doc))
    .flatMap((doc) => tree.validator.validate(doc.object, tree.crds).map((issue) => `${doc.file}: ${issue.path.join('.')}: ${issue.message}`));
}

describe('custom resources against the CRDs their environment renders', () => {
  it.each(ENVIRONMENTS)('rendered/%s: every custom resource is valid, against a CRD of the add-on that provides its group', (name) => {
    const tree = committedTree(name);
    const kinds = new Set(customResources(tree).map((doc) => doc.object.kind));
    expect([...kinds].sort()).toEqual(['AppProject', 'Application', 'ClusterSecretStore', 'ExternalSecret', 'Fake', 'Plan', 'ProxyClass', 'RecurringJob']);
    expect(errorsOf(tree)).toEqual([]);
    for (const doc of customResources(tree)) {
      const lookup = tree.validator.lookup(String(doc.object.apiVersion), String(doc.object.kind), tree.crds);
      if (!lookup.found || lookup.source !== 'crd') throw new Error(`${doc.file}: no CRD schema`);
      expect(lookup.id, doc.file).toMatch(new RegExp(`^rendered/${name}/${CRD_PROVIDERS[lookup.crd.group]}/customresourcedefinition_[a-z0-9-]+\\.${lookup.crd.group.replaceAll('.', '\\.')}\\.yaml$`));
    }
  });

  it('rejects a custom resource the CRD does not describe', () => {
    const tree = committedTree('dev');
    const docs = tree.docs.map((doc) => ({ ...doc, object: structuredClone(doc.object) }));
    const job = docs.find((doc) => doc.object.kind === 'RecurringJob')!;
    (job.object.spec as { task: string }).task = 'defragment';
    const store = docs.find((doc) => doc.object.kind === 'ClusterSecretStore')!;
    (store.object.spec as { provider: { aws: Record<string, unknown> } }).provider.aws.accessKey = 'AKIA...';
    const errors = errorsOf(tree, docs);
    expect(errors).toContainEqual(expect.stringMatching(/^rendered\/dev\/longhorn-backups\/recurringjob_longhorn-system_[a-z]+\.yaml: spec\.task: must be one of "snapshot"/));
    expect(errors).toContainEqual(expect.stringMatching(/^rendered\/dev\/secret-store\/[^:]+: spec\.provider\.aws\.accessKey: unknown field "accessKey"/));
  });
});

describe('the Argo CD CRDs are those of the pinned chart', () => {
  const lock = parse(readFileSync(join(ROOT, 'charts', 'charts.lock.yaml'), 'utf8')) as { charts: { name: string; version: string; appVersion: string }[] };
  const argo = lock.charts.find((chart) => chart.name === 'argo-cd')!;

  it.each(ENVIRONMENTS)('rendered/%s: Application, AppProject and ApplicationSet come from the hydrated argo-cd chart', (name) => {
    const tree = committedTree(name);
    for (const [kind, plural] of [['Application', 'applications'], ['AppProject', 'appprojects'], ['ApplicationSet', 'applicationsets']] as const) {
      const file = `rendered/${name}/argocd/customresourcedefinition_${plural}.argoproj.io.yaml`;
      expect(tree.validator.lookup('argoproj.io/v1alpha1', kind, tree.crds)).toMatchObject({ found: true, id: file });
      expect(readFileSync(join(ROOT, file), 'utf8').split('\n')[0]).toContain(`from charts/argo-cd-${argo.version}.tgz`);
    }
  });

  it(`takes the Application schema of Argo CD ${argo.appVersion}: fields of that release pass, a field added in 3.5 does not`, () => {
    expect(argo.appVersion).toBe('v3.3.7');
    const tree = committedTree('dev');
    const doc = tree.docs.find((candidate) => candidate.file === 'rendered/dev/apps/application_argocd_open-webui.yaml')!;
    const application = structuredClone(doc.object) as Manifest & { spec: { source?: Record<string, unknown>; sources?: Record<string, unknown>[] } };
    expect(tree.validator.validate(application, tree.crds)).toEqual([]);
    const source = application.spec.source ?? application.spec.sources![0]!;
    const at = application.spec.source ? 'source' : 'sources.0';
    // spec.source.ref is in 3.3.7's CRD; spec.source.tagPrefix came with Argo CD 3.5 (the CRD schemas vendored before had it).
    source.ref = 'values';
    expect(tree.validator.validate(application, tree.crds)).toEqual([]);
    source.tagPrefix = 'component-b/';
    expect(tree.validator.validate(application, tree.crds).map((issue) => issue.path.join('.'))).toEqual([`spec.${at}.tagPrefix`]);
  });
});
