/**
 * Generates the schema layout kubeconform reads from the vendored files, into
 * the git-ignored .tools/schemas/<hash>/ (one folder per content hash, so a
 * schema update regenerates it and parallel runs never see a half-written one).
 *
 * Layout: kubernetes/vX.Y.Z-strict/_definitions.json (strict variant) plus one
 * file per kind, `{{.ResourceKind}}{{.KindSuffix}}.json`, that references it.
 * CRD schemas are read straight from schemas/crds/ (already strict).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubernetesDefinitions, kubernetesSchemaFile, SCHEMAS_DIR, TOOLS_DIR } from './schemas.js';

export { TOOLS_DIR };

/** Bump when the generated layout changes. */
const LAYOUT_VERSION = '1';

export function vendoredKubernetesVersions(): string[] {
  const dir = join(SCHEMAS_DIR, 'kubernetes');
  return existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(kubernetesSchemaFile(name))).sort() : [];
}

/** kubeconform's `{{.KindSuffix}}`: `-v1` for `v1`, `-apps-v1` for `apps/v1`, `-networking-v1` for `networking.k8s.io/v1`. */
export function kindSuffix(apiVersion: string): string {
  const groupParts = apiVersion.split('/');
  const firstLabel = groupParts[0]!.split('.')[0]!.toLowerCase();
  return groupParts.length > 1 ? `-${firstLabel}-${groupParts[1]!.toLowerCase()}` : `-${firstLabel}`;
}

function contentHash(versions: string[]): string {
  const hash = createHash('sha256').update(`layout ${LAYOUT_VERSION}\n`);
  for (const version of versions) hash.update(version).update(readFileSync(kubernetesSchemaFile(version)));
  return hash.digest('hex').slice(0, 16);
}

function writeLayout(dir: string, versions: string[]): void {
  for (const version of versions) {
    const target = join(dir, 'kubernetes', `${version}-strict`);
    mkdirSync(target, { recursive: true });
    const definitions = kubernetesDefinitions(version);
    writeFileSync(join(target, '_definitions.json'), JSON.stringify(definitions.strict));
    const written = new Set<string>();
    for (const [key, name] of definitions.byGroupVersionKind) {
      const [group, apiVersionPart, kind] = key.split('/') as [string, string, string];
      const file = `${kind.toLowerCase()}${kindSuffix(group ? `${group}/${apiVersionPart}` : apiVersionPart)}.json`;
      if (written.has(file)) continue;
      written.add(file);
      writeFileSync(join(target, file), JSON.stringify({ $ref: `_definitions.json#/definitions/${name}` }));
    }
  }
}

export interface KubeconformSchemas {
  /** `-schema-location` templates, in lookup order. */
  locations: string[];
}

/** Makes sure the kubeconform layout for the vendored schemas exists; cheap when it does. */
export function ensureKubeconformSchemas(): KubeconformSchemas {
  const versions = vendoredKubernetesVersions();
  const base = join(TOOLS_DIR, 'schemas');
  const dir = join(base, contentHash(versions));
  if (!existsSync(join(dir, 'COMPLETE'))) {
    mkdirSync(base, { recursive: true });
    const staging = `${dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    writeLayout(staging, versions);
    writeFileSync(join(staging, 'COMPLETE'), `${versions.join('\n')}\n`);
    try {
      renameSync(staging, dir);
    } catch {
      // Another process finished the same layout first: use theirs.
      rmSync(staging, { recursive: true, force: true });
    }
    for (const old of readdirSync(base)) {
      if (join(base, old) !== dir && !old.includes('.tmp-')) rmSync(join(base, old), { recursive: true, force: true });
    }
  }
  return {
    locations: [
      join(dir, 'kubernetes', '{{.NormalizedKubernetesVersion}}{{.StrictSuffix}}', '{{.ResourceKind}}{{.KindSuffix}}.json'),
      join(SCHEMAS_DIR, 'crds', '{{.Group}}', '{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'),
    ],
  };
}
