/**
 * Generates the schema layouts kubeconform reads, into the git-ignored
 * .tools/schemas/ (one folder per content hash, written under a temporary
 * name and renamed, so a schema update regenerates it and parallel runs never
 * see a half-written one).
 *
 * - `<hash>/kubernetes/vX.Y.Z-strict/{{.ResourceKind}}{{.KindSuffix}}.json`: one
 *   standalone file per built-in kind, its strict definition and the ones it
 *   refers to, descriptions dropped. kubeconform compiles each kind from its
 *   own file, so a small file per kind (rather than a reference into the whole
 *   1.3 MB definitions file, parsed again for every kind) halves its run time.
 * - `crds/<hash>/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`: the
 *   CRD schemas of one environment (crd-schemas.ts), one file per served
 *   version; the hash covers every schema in it, so environments rendering
 *   the same CRDs share one folder. Folders unused for a day are removed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { CrdSchemas } from './crd-schemas.js';
import { join } from 'node:path';
import { kubernetesDefinitions, kubernetesSchemaFile, SCHEMAS_DIR, TOOLS_DIR, withoutDescriptions, type JsonSchema } from './schemas.js';

export { TOOLS_DIR };

/** Bump when the generated layout changes. */
const LAYOUT_VERSION = '2';

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

/** The definitions `name` refers to, transitively, itself included, sorted by name. */
function closureOf(definitions: Record<string, JsonSchema>, name: string, refs: Map<string, string[]>): Record<string, JsonSchema> {
  const seen = new Set<string>();
  const pending = [name];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next) || !definitions[next]) continue;
    seen.add(next);
    let out = refs.get(next);
    if (!out) {
      out = [...JSON.stringify(definitions[next]).matchAll(/"#\/definitions\/([^"]+)"/g)].map((match) => match[1]!);
      refs.set(next, out);
    }
    pending.push(...out);
  }
  return Object.fromEntries([...seen].sort().map((item) => [item, definitions[item]!]));
}

function writeLayout(dir: string, versions: string[]): void {
  for (const version of versions) {
    const target = join(dir, 'kubernetes', `${version}-strict`);
    mkdirSync(target, { recursive: true });
    const definitions = kubernetesDefinitions(version);
    const lean = withoutDescriptions(definitions.strict).definitions;
    const refs = new Map<string, string[]>();
    const written = new Set<string>();
    for (const [key, name] of definitions.byGroupVersionKind) {
      const [group, apiVersionPart, kind] = key.split('/') as [string, string, string];
      const file = `${kind.toLowerCase()}${kindSuffix(group ? `${group}/${apiVersionPart}` : apiVersionPart)}.json`;
      if (written.has(file)) continue;
      written.add(file);
      writeFileSync(join(target, file), JSON.stringify({ $ref: `#/definitions/${name}`, definitions: closureOf(lean, name, refs) }));
    }
  }
}

export interface KubeconformSchemas {
  /** `-schema-location` templates, in lookup order. */
  locations: string[];
}

/** Writes `dir` with `write` unless it is complete already; atomic (staging folder, then rename). */
function ensureFolder(dir: string, write: (staging: string) => string): void {
  if (existsSync(join(dir, 'COMPLETE'))) return;
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const summary = write(staging);
  writeFileSync(join(staging, 'COMPLETE'), summary);
  try {
    renameSync(staging, dir);
  } catch {
    // Another process finished the same layout first: use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
}

const CRD_LAYOUTS = 'crds';
/** A CRD layout not used for this long is removed by the next run that writes one. */
const CRD_LAYOUT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function ensureCrdLayout(base: string, crds: CrdSchemas): string {
  const root = join(base, CRD_LAYOUTS);
  const dir = join(root, `${crds.schemaVersion}-${crds.hash}`);
  if (existsSync(join(dir, 'COMPLETE'))) {
    // Mark it used, so the clean-up below keeps it.
    const now = new Date();
    utimesSync(join(dir, 'COMPLETE'), now, now);
    return dir;
  }
  mkdirSync(root, { recursive: true });
  ensureFolder(dir, (staging) => {
    const lines: string[] = [];
    for (const crd of [...crds.byGvk.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1))) {
      mkdirSync(join(staging, crd.group), { recursive: true });
      writeFileSync(join(staging, crd.group, `${crd.kind.toLowerCase()}_${crd.version}.json`), JSON.stringify(crd.schema()));
      lines.push(`${crd.group}/${crd.version}/${crd.kind} ${crd.hash} ${crd.file}`);
    }
    return `${lines.sort().join('\n')}\n`;
  });
  const cutoff = Date.now() - CRD_LAYOUT_MAX_AGE_MS;
  for (const old of readdirSync(root)) {
    const path = join(root, old);
    if (path === dir || old.includes('.tmp-')) continue;
    let used = 0;
    try {
      used = statSync(join(path, 'COMPLETE')).mtimeMs;
    } catch {
      // no COMPLETE: a leftover of a run that died; remove it
    }
    if (used < cutoff) rmSync(path, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Makes sure the kubeconform layouts exist (the vendored Kubernetes schemas,
 * and the CRD schemas of one environment when given); cheap when they do.
 */
export function ensureKubeconformSchemas(crds?: CrdSchemas): KubeconformSchemas {
  const versions = vendoredKubernetesVersions();
  const base = join(TOOLS_DIR, 'schemas');
  const dir = join(base, contentHash(versions));
  if (!existsSync(join(dir, 'COMPLETE'))) {
    mkdirSync(base, { recursive: true });
    ensureFolder(dir, (staging) => {
      writeLayout(staging, versions);
      return `${versions.join('\n')}\n`;
    });
    for (const old of readdirSync(base)) {
      if (join(base, old) !== dir && old !== CRD_LAYOUTS && !old.includes('.tmp-')) rmSync(join(base, old), { recursive: true, force: true });
    }
  }
  const locations = [join(dir, 'kubernetes', '{{.NormalizedKubernetesVersion}}{{.StrictSuffix}}', '{{.ResourceKind}}{{.KindSuffix}}.json')];
  if (crds) locations.push(join(ensureCrdLayout(base, crds), '{{.Group}}', '{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'));
  return { locations };
}
