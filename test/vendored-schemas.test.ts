/** The vendored schemas are complete for the supported versions, unchanged, and strict where it matters. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_KUBERNETES_MINORS } from '../generator/kubernetes-version.js';
import { hasKubernetesSchemas, SCHEMAS_DIR, strictify } from '../generator/validate/schemas.js';

describe('schemas/', () => {
  it('holds the Kubernetes schemas of every supported minor, and the CRDs the platform renders', () => {
    for (const minor of SUPPORTED_KUBERNETES_MINORS) expect(hasKubernetesSchemas(`v1.${minor}.0`), `1.${minor}`).toBe(true);
    for (const crd of [
      'argoproj.io/application_v1alpha1.json',
      'argoproj.io/appproject_v1alpha1.json',
      'external-secrets.io/externalsecret_v1.json',
      'external-secrets.io/clustersecretstore_v1.json',
      'helm.cattle.io/helmchart_v1.json',
      'longhorn.io/recurringjob_v1beta2.json',
      'tailscale.com/proxyclass_v1alpha1.json',
      'cert-manager.io/clusterissuer_v1.json',
      'traefik.io/ingressroute_v1alpha1.json',
    ]) {
      expect(existsSync(join(SCHEMAS_DIR, 'crds', crd)), crd).toBe(true);
    }
    for (const licence of ['cdk8s-team-cdk8s-LICENSE', 'datreeio-CRDs-catalog-LICENSE']) expect(existsSync(join(SCHEMAS_DIR, 'licenses', licence))).toBe(true);
  });

  it('matches the checksums recorded in schemas/README.md (the files are vendored, never edited)', () => {
    const readme = readFileSync(join(SCHEMAS_DIR, 'README.md'), 'utf8');
    const entries = [...readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
    expect(entries.length).toBeGreaterThan(20);
    for (const [, sum, file] of entries) {
      expect(createHash('sha256').update(readFileSync(join(SCHEMAS_DIR, file!))).digest('hex'), file).toBe(sum);
    }
  });
});

describe('strictify', () => {
  it('closes objects that list properties, and leaves open ones, maps and preserve-unknown-fields alone', () => {
    const schema = {
      definitions: {
        Thing: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, labels: { type: 'object', additionalProperties: { type: 'string' } } } },
        Open: { type: 'object', properties: { x: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
        Free: { type: 'object' },
        Union: { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }] },
      },
    };
    const strict = strictify(schema);
    expect(strict.definitions.Thing).toMatchObject({ additionalProperties: false, properties: { spec: { additionalProperties: false } } });
    expect(strict.definitions.Thing.properties.labels).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(strict.definitions.Open).not.toHaveProperty('additionalProperties');
    expect(strict.definitions.Free).not.toHaveProperty('additionalProperties');
    expect(strict.definitions.Union.anyOf[0]).toHaveProperty('additionalProperties', false);
    expect(schema.definitions.Thing).not.toHaveProperty('additionalProperties');
  });
});
