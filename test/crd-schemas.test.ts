/**
 * Custom resources are validated against the CRDs their environment renders
 * from the pinned charts: the conversion of openAPIV3Schema to strict JSON
 * Schema, where each schema comes from (and proof that it is that file), the
 * errors for a custom resource whose CRD is not rendered, and the add-on
 * table those errors name.
 */
import { describe, expect, it } from 'vitest';
import { CRD_PROVIDERS, crdSchemasOf, crdToJsonSchema, type CrdSchemas } from '../generator/validate/crd-schemas.js';
import { parseRendered, readRenderedInputs, type Manifest, type ManifestDoc } from '../generator/validate/manifests.js';
import { SchemaValidator, type SchemaIssue } from '../generator/validate/schema-validator.js';
import { gvkKey, type JsonSchema } from '../generator/validate/schemas.js';
import { REPO_ROOT } from './helpers/validation.js';
import { committed, ENVIRONMENTS } from './support/environments.js';

const V136 = { short: '1.36', schemaVersion: 'v1.36.0' };
const validator = SchemaValidator.for(V136);

function committedDocs(env: string): ManifestDoc[] {
  const [input] = readRenderedInputs(REPO_ROOT, [env]);
  return parseRendered(input!).docs;
}

function docOf(docs: ManifestDoc[], file: string): ManifestDoc {
  const doc = docs.find((candidate) => candidate.file === file);
  if (!doc) throw new Error(`no ${file} in the committed tree`);
  return doc;
}

/** A copy of an environment's docs where `edit` changed one CRD (deep copy: the committed docs stay as they are). */
function withEditedCrd(docs: ManifestDoc[], file: string, edit: (openApi: JsonSchema) => void): ManifestDoc[] {
  return docs.map((doc) => {
    if (doc.file !== file) return doc;
    const object = structuredClone(doc.object) as Manifest & { spec: { versions: { served: boolean; schema: { openAPIV3Schema: JsonSchema } }[] } };
    for (const version of object.spec.versions) if (version.served) edit(version.schema.openAPIV3Schema);
    return { ...doc, object };
  });
}

function paths(issues: SchemaIssue[]): string[] {
  return issues.map((issue) => issue.path.join('.'));
}

const EXTERNAL_SECRET = 'rendered/dev/redis/externalsecret_redis_redis-auth.yaml';
const EXTERNAL_SECRET_CRD = 'rendered/dev/external-secrets/customresourcedefinition_externalsecrets.external-secrets.io.yaml';
const RECURRING_JOB = 'rendered/dev/longhorn-backups/recurringjob_longhorn-system_backup.yaml';
const RECURRING_JOB_CRD = 'rendered/dev/longhorn/customresourcedefinition_recurringjobs.longhorn.io.yaml';

describe('openAPIV3Schema to JSON Schema', () => {
  const convert = (properties: JsonSchema) => crdToJsonSchema({ type: 'object', properties }, V136.schemaVersion);

  it('makes int-or-string an integer or a string, and nullable fields accept null', () => {
    const schema = convert({
      port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      bare: { 'x-kubernetes-int-or-string': true },
      old: { type: 'string', format: 'int-or-string' },
      note: { type: 'string', nullable: true, enum: ['a', 'b'] },
      size: { type: 'integer' },
    }) as { properties: Record<string, JsonSchema> };
    expect(schema.properties.bare).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }] });
    expect(schema.properties.old).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }] });
    expect(schema.properties.note).toEqual({ type: ['string', 'null'], enum: ['a', 'b', null] });
    expect(schema.properties.size).toEqual({ type: 'integer' });
  });

  it('closes every object that lists properties, the root too, and keeps preserve-unknown-fields open', () => {
    const schema = convert({
      spec: { type: 'object', properties: { a: { type: 'string' } } },
      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
      map: { type: 'object', additionalProperties: { type: 'string' } },
    }) as JsonSchema & { properties: Record<string, JsonSchema> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.spec!.additionalProperties).toBe(false);
    expect(schema.properties.free).not.toHaveProperty('additionalProperties');
    expect(schema.properties.map!.additionalProperties).toEqual({ type: 'string' });
  });

  it('gives apiVersion, kind and the Kubernetes ObjectMeta to every custom resource, whatever the CRD says of them', () => {
    const schema = convert({ spec: { type: 'object' } }) as JsonSchema & { properties: Record<string, JsonSchema>; definitions: Record<string, JsonSchema> };
    expect(schema.properties.apiVersion).toEqual({ type: 'string' });
    expect(schema.properties.kind).toEqual({ type: 'string' });
    expect(schema.properties.metadata).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    expect(Object.keys(schema.definitions)).toContain('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(schema.definitions['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']!.additionalProperties).toBe(false);
  });

  it('applies a CRD\'s own metadata.name constraint on top of ObjectMeta', () => {
    const openApi = { type: 'object', properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } }, spec: { type: 'object' } } };
    const docs = [{ env: 'fixture', file: 'rendered/fixture/x/crd.yaml', index: 0, resource: 'CustomResourceDefinition widgets.example.com', lineOf: () => undefined, object: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com', names: { kind: 'Widget' }, versions: [{ name: 'v1', served: true, schema: { openAPIV3Schema: openApi } }] } } }];
    const crds = crdSchemasOf(docs, V136.schemaVersion);
    const widget = (name: string) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, labels: { a: 'b' } }, spec: {} });
    expect(validator.validate(widget('short'), crds)).toEqual([]);
    expect(paths(validator.validate(widget('much-too-long'), crds))).toEqual(['metadata.name']);
    expect(paths(validator.validate({ ...widget('short'), metadata: { name: 'short', labelz: {} } }, crds))).toEqual(['metadata.labelz']);
  });

  it('drops what does not validate (descriptions, defaults, CEL rules) but keeps a field named description', () => {
    const schema = convert({
      description: { type: 'string', description: 'a field called description' },
      ttl: { type: 'string', default: '1h', 'x-kubernetes-validations': [{ rule: 'self != ""' }], 'x-kubernetes-list-type': 'atomic' },
    }) as { properties: Record<string, JsonSchema> };
    expect(schema.properties.description).toEqual({ type: 'string' });
    expect(schema.properties.ttl).toEqual({ type: 'string' });
  });

  it('turns OpenAPI boolean exclusive bounds into draft-07 numbers, and says the draft', () => {
    const schema = convert({ ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 } }) as JsonSchema & { properties: Record<string, JsonSchema> };
    expect(schema.properties.ratio).toEqual({ type: 'number', maximum: 1, exclusiveMinimum: 0 });
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(convert({ n: { type: 'integer', minimum: 0 } })).not.toHaveProperty('$schema');
  });

  it('is deterministic: the same CRDs give the same schemas and hashes', () => {
    const first = crdSchemasOf(committedDocs('dev'), V136.schemaVersion);
    const second = crdSchemasOf(committedDocs('dev'), V136.schemaVersion);
    expect(second.hash).toBe(first.hash);
    const key = gvkKey('external-secrets.io', 'v1', 'ExternalSecret');
    expect(JSON.stringify(second.byGvk.get(key)!.schema())).toBe(JSON.stringify(first.byGvk.get(key)!.schema()));
  });
});

describe('the schema of a custom resource is the CRD its environment renders', () => {
  const dev = committedDocs('dev');
  const crds = crdSchemasOf(dev, V136.schemaVersion);

  it('takes one schema per served version of every rendered CRD, and none for versions no longer served', () => {
    const crdFiles = dev.filter((doc) => doc.object.kind === 'CustomResourceDefinition');
    expect(crdFiles.length).toBeGreaterThan(50);
    expect(new Set([...crds.byGvk.values()].map((crd) => crd.file))).toEqual(new Set(crdFiles.map((doc) => doc.file)));
    expect(crds.byGvk.has(gvkKey('external-secrets.io', 'v1', 'ExternalSecret'))).toBe(true);
    // The External Secrets 2.5.0 CRD still lists v1beta1, but no longer serves it.
    expect(crds.byGvk.has(gvkKey('external-secrets.io', 'v1beta1', 'ExternalSecret'))).toBe(false);
    const legacy = { ...structuredClone(docOf(dev, EXTERNAL_SECRET).object), apiVersion: 'external-secrets.io/v1beta1' };
    expect(validator.validate(legacy, crds)).toEqual([
      { path: ['apiVersion'], message: 'no CRD rendered in rendered/dev/ serves ExternalSecret external-secrets.io/v1beta1: rendered/dev/external-secrets/customresourcedefinition_externalsecrets.external-secrets.io.yaml serves external-secrets.io/v1; use a served version' },
    ]);
  });

  it('ExternalSecret in rendered/dev: from rendered/dev/external-secrets/, proven by a field only an edited copy of that CRD has, and one it lacks', () => {
    const lookup = validator.lookup('external-secrets.io/v1', 'ExternalSecret', crds);
    expect(lookup).toMatchObject({ found: true, source: 'crd', id: EXTERNAL_SECRET_CRD });
    const secret = docOf(dev, EXTERNAL_SECRET).object;
    expect(validator.validate(secret, crds)).toEqual([]);

    // Lacks: the same tree with that CRD's refreshInterval removed rejects the committed ExternalSecret, which sets it.
    const without = crdSchemasOf(withEditedCrd(dev, EXTERNAL_SECRET_CRD, (openApi) => {
      delete ((openApi.properties as Record<string, JsonSchema>).spec!.properties as Record<string, unknown>).refreshInterval;
    }), V136.schemaVersion);
    expect(paths(validator.validate(secret, without))).toEqual(['spec.refreshInterval']);

    // Has: a field that only the edited CRD declares is accepted there and rejected by the committed CRD.
    const extended = { ...structuredClone(secret), spec: { ...(secret.spec as object), onlyInThisCrd: 'x' } };
    const withField = crdSchemasOf(withEditedCrd(dev, EXTERNAL_SECRET_CRD, (openApi) => {
      ((openApi.properties as Record<string, JsonSchema>).spec!.properties as Record<string, unknown>).onlyInThisCrd = { type: 'string' };
    }), V136.schemaVersion);
    expect(validator.validate(extended, withField)).toEqual([]);
    expect(validator.validate(extended, crds)).toEqual([{ path: ['spec', 'onlyInThisCrd'], message: expect.stringMatching(/unknown field "onlyInThisCrd"/) }]);
  });

  it('RecurringJob: the Longhorn 1.12.0 CRD, whose task enum includes system-backup and rejects anything else', () => {
    expect(validator.lookup('longhorn.io/v1beta2', 'RecurringJob', crds)).toMatchObject({ found: true, id: RECURRING_JOB_CRD });
    const job = structuredClone(docOf(dev, RECURRING_JOB).object) as Manifest & { spec: { task: string } };
    job.spec.task = 'system-backup';
    expect(validator.validate(job, crds)).toEqual([]);
    job.spec.task = 'defragment';
    expect(validator.validate(job, crds)).toEqual([{ path: ['spec', 'task'], message: expect.stringMatching(/^must be one of "snapshot", .*"system-backup"$/) }]);
  });

  it('checks custom resource metadata as Kubernetes does (ObjectMeta, strict)', () => {
    const secret = structuredClone(docOf(dev, EXTERNAL_SECRET).object);
    secret.metadata = { ...secret.metadata, label: { a: 'b' } } as Manifest['metadata'];
    expect(validator.validate(secret, crds)).toEqual([{ path: ['metadata', 'label'], message: expect.stringMatching(/unknown field "label"/) }]);
  });
});

describe('a custom resource whose CRD the environment does not render', () => {
  const dev = committedDocs('dev');
  const without = (file: string): CrdSchemas => crdSchemasOf(dev.filter((doc) => doc.file !== file), V136.schemaVersion, 'dev');

  it('is an error naming the kind and the add-on that must provide it', () => {
    const job = docOf(dev, RECURRING_JOB).object;
    const longhornCrds = dev.filter((doc) => doc.object.kind === 'CustomResourceDefinition' && doc.file.startsWith('rendered/dev/longhorn/'));
    const crds = crdSchemasOf(dev.filter((doc) => !longhornCrds.includes(doc)), V136.schemaVersion, 'dev');
    expect(validator.validate(job, crds)).toEqual([
      {
        path: ['apiVersion'],
        message: expect.stringMatching(/^no CustomResourceDefinition for RecurringJob longhorn\.io\/v1beta2 is rendered in rendered\/dev\/: the longhorn add-on must provide it .*Enable the longhorn add-on in environments\/dev\.yaml/),
      },
    ]);
  });

  it('names the cert-manager add-on for a ClusterIssuer in an environment without the public ingress', () => {
    const issuer = { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt' }, spec: { acme: {} } };
    expect(validator.validate(issuer, without(''))[0]!.message).toMatch(/the cert-manager add-on must provide it/);
  });

  it('says when no add-on provides the group, and keeps built-in kinds apart', () => {
    const crds = without('');
    expect(validator.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, crds)[0]!.message).toMatch(/no platform add-on provides API group "example\.com"/);
    expect(validator.validate({ apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'd' } }, crds)[0]!.message).toMatch(/^no schema for Deploymnt apps\/v1 in Kubernetes 1\.36/);
  });
});

describe('CRD_PROVIDERS', () => {
  it('names, for every group a rendered CRD defines, the folder that renders it (and nothing else)', () => {
    const seen = new Map<string, string>();
    for (const name of ENVIRONMENTS) {
      for (const { file, manifest } of committed(name)) {
        if (manifest.kind !== 'CustomResourceDefinition') continue;
        expect(CRD_PROVIDERS[manifest.spec.group], file).toBe(file.split('/')[0]);
        seen.set(manifest.spec.group, file.split('/')[0]!);
      }
    }
    // cert-manager renders only with a public ingress (no committed environment has one): test/crd-schema-gates.test.ts covers it.
    const unseen = Object.keys(CRD_PROVIDERS).filter((group) => !seen.has(group));
    expect(unseen.sort()).toEqual(['acme.cert-manager.io', 'cert-manager.io']);
  });
});
