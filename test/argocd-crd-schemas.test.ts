/**
 * The custom resources of the Argo CD layer and the add-ons are valid against
 * the CRD schemas of the pinned versions (the strict schemas kubeconform uses),
 * in every environment and with the optional public ingress on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { groupOf, type Resource } from '../generator/argocd/consistency.js';
import { BUILT_IN_GROUPS } from '../generator/argocd/consistency.js';
import { committed, copyOf, ENVIRONMENTS, environment, render, resourcesOf, ROOT } from './support/environments.js';

/** Vendored into the repository by the validation gate, else the shared copy beside the checkout. */
const SCHEMA_DIRS = [join(ROOT, 'schemas', 'crds'), join(ROOT, '..', 'shared', 'schemas', 'crds')];
const schemaDir = SCHEMA_DIRS.find((dir) => existsSync(dir));

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const compiled = new Map<string, ValidateFunction>();

function validatorFor(manifest: Resource['manifest']): ValidateFunction {
  const [group, version] = manifest.apiVersion.split('/');
  const path = join(schemaDir!, group!, `${manifest.kind.toLowerCase()}_${version}.json`);
  let validate = compiled.get(path);
  if (!validate) {
    if (!existsSync(path)) throw new Error(`no CRD schema ${path} for ${manifest.apiVersion} ${manifest.kind}`);
    validate = ajv.compile(JSON.parse(readFileSync(path, 'utf8')));
    compiled.set(path, validate);
  }
  return validate;
}

function errorsOf(resources: Resource[]): string[] {
  return resources
    .filter((resource) => !BUILT_IN_GROUPS.includes(groupOf(resource.manifest.apiVersion)))
    .flatMap((resource) => {
      const validate = validatorFor(resource.manifest);
      return validate(resource.manifest) ? [] : (validate.errors ?? []).map((error) => `${resource.file}: ${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
    });
}

describe('custom resources against their CRD schemas', () => {
  it('finds the CRD schemas', () => {
    expect(schemaDir, `CRD schemas in one of ${SCHEMA_DIRS.join(', ')}`).toBeDefined();
  });

  it.each(ENVIRONMENTS)('rendered/%s', (name) => {
    const resources = committed(name);
    const kinds = new Set(resources.filter((r) => !BUILT_IN_GROUPS.includes(groupOf(r.manifest.apiVersion))).map((r) => r.manifest.kind));
    expect([...kinds].sort()).toEqual(['AppProject', 'Application', 'ClusterSecretStore', 'ExternalSecret', 'ProxyClass', 'RecurringJob']);
    expect(errorsOf(resources)).toEqual([]);
  });

  it('with the public ingress and private repository credentials on', () => {
    const dev = copyOf(environment('dev'));
    dev.config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
    dev.config.git.credentialsSecret = 'git/repository-credentials';
    const resources = resourcesOf(render(dev));
    expect(resources.some((r) => r.manifest.kind === 'ClusterIssuer')).toBe(true);
    expect(errorsOf(resources)).toEqual([]);
  });

  it('rejects a custom resource the schema does not describe', () => {
    const resources = structuredClone(committed('dev'));
    const job = resources.find((r) => r.manifest.kind === 'RecurringJob')!;
    job.manifest.spec.task = 'defragment';
    const store = resources.find((r) => r.manifest.kind === 'ClusterSecretStore')!;
    store.manifest.spec.provider.aws.accessKey = 'AKIA...';
    const errors = errorsOf(resources);
    expect(errors.some((error) => error.startsWith('longhorn-backups/recurringjob_longhorn-system_') && error.includes('/spec/task must be equal to one of the allowed values'))).toBe(true);
    expect(errors.some((error) => error.startsWith('secret-store/') && error.includes('must NOT have additional properties'))).toBe(true);
  });
});
