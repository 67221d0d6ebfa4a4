/**
 * The vendored JSON schemas under schemas/: where a kind's schema lives, and
 * the strict variant of the Kubernetes definitions (unknown fields rejected).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout this code is in; schemas always come from here, whatever is
 * validated. Found by walking up, so it also holds when the code runs from the
 * esbuild bundle in .tools/cache/ (generator/launch.mjs).
 */
export const REPO_ROOT = findRepositoryRoot(dirname(fileURLToPath(import.meta.url)));

function findRepositoryRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'schemas', 'README.md')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no schemas/ folder above ${start}: run from a checkout of the repository`);
  }
}
export const SCHEMAS_DIR = join(REPO_ROOT, 'schemas');
/** Project-local, git-ignored tools and caches. */
export const TOOLS_DIR = join(REPO_ROOT, '.tools');

export type JsonSchema = { [key: string]: unknown };

export interface GroupVersion {
  /** '' for the core group (`apiVersion: v1`). */
  group: string;
  version: string;
}

export function splitApiVersion(apiVersion: string): GroupVersion {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export function kubernetesSchemaFile(schemaVersion: string): string {
  return join(SCHEMAS_DIR, 'kubernetes', schemaVersion, '_definitions.json');
}

export function hasKubernetesSchemas(schemaVersion: string): boolean {
  return existsSync(kubernetesSchemaFile(schemaVersion));
}

/** kubeconform's CRD layout: `crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`. */
export function crdSchemaFile(group: string, kind: string, version: string): string {
  return join(SCHEMAS_DIR, 'crds', group, `${kind.toLowerCase()}_${version}.json`);
}

/**
 * Adds `additionalProperties: false` to every object schema that lists
 * `properties` and says nothing about other fields, the way kubeconform's
 * strict schemas are made. Returns a new tree; the input is not changed.
 */
export function strictify<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item) => strictify(item)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'properties' || key === 'definitions' || key === 'patternProperties') && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([name, sub]) => [name, strictify(sub)]));
    } else if (key === 'enum' || key === 'required' || key === 'default' || key === 'example' || key.startsWith('x-kubernetes-')) {
      out[key] = value;
    } else {
      out[key] = strictify(value);
    }
  }
  if ('properties' in node && !('additionalProperties' in node) && !('x-kubernetes-preserve-unknown-fields' in node)) {
    out.additionalProperties = false;
  }
  return out as T;
}

/**
 * The same schema without `description` keywords (a field named
 * `description` under `properties` stays): what validation never reads, and
 * most of the bytes of the Kubernetes and CRD schemas.
 */
export function withoutDescriptions<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item) => withoutDescriptions(item)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    if (key === 'description') continue;
    if ((key === 'properties' || key === 'definitions' || key === 'patternProperties') && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([name, sub]) => [name, withoutDescriptions(sub)]));
    } else if (key === 'enum' || key === 'required' || key === 'default' || key === 'example' || key.startsWith('x-kubernetes-')) {
      out[key] = value;
    } else {
      out[key] = withoutDescriptions(value);
    }
  }
  return out as T;
}

export interface KubernetesDefinitions {
  schemaVersion: string;
  /** Strict definitions, `{ definitions: {...} }`. */
  strict: { definitions: Record<string, JsonSchema> };
  /** `apps/v1/Deployment` (core: `/v1/Pod`) → definition name. */
  byGroupVersionKind: Map<string, string>;
}

export function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

const definitionsCache = new Map<string, KubernetesDefinitions>();

/** Loads (once per process) the strict definitions of one vendored Kubernetes version. */
export function kubernetesDefinitions(schemaVersion: string): KubernetesDefinitions {
  const cached = definitionsCache.get(schemaVersion);
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(kubernetesSchemaFile(schemaVersion), 'utf8')) as { definitions: Record<string, JsonSchema> };
  const byGroupVersionKind = new Map<string, string>();
  for (const [name, definition] of Object.entries(raw.definitions)) {
    const gvks = (definition['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
    for (const gvk of gvks) {
      const key = gvkKey(gvk.group, gvk.version, gvk.kind);
      if (!byGroupVersionKind.has(key)) byGroupVersionKind.set(key, name);
    }
  }
  const loaded = { schemaVersion, strict: strictify(raw), byGroupVersionKind };
  definitionsCache.set(schemaVersion, loaded);
  return loaded;
}
