/**
 * The JSON schemas of an environment's custom resources, taken from the
 * CustomResourceDefinitions that environment renders (the pinned charts'
 * CRDs, hydrated into rendered/<env>/<add-on>/), so a custom resource is
 * checked against exactly the CRD the cluster will serve.
 *
 * Each served version's openAPIV3Schema becomes a JSON Schema the way
 * kubeconform's openapi2jsonschema converts CRDs, with what the API server
 * adds on top of the OpenAPI text:
 * - `x-kubernetes-int-or-string` (and the old `format: int-or-string`) → integer or string;
 * - `nullable: true` → null is allowed too (a non-nullable field rejects null, as strict kubeconform does);
 * - `x-kubernetes-preserve-unknown-fields: true` stays open; anything else that lists
 *   `properties` is closed (`strictify`), the root included (strict field validation);
 * - `apiVersion` and `kind` are strings and `metadata` is the Kubernetes ObjectMeta
 *   (strict, from the environment's Kubernetes schemas), whatever the CRD says of them;
 * - OpenAPI's boolean `exclusiveMinimum`/`exclusiveMaximum` become draft-07 numbers;
 * - keywords that do not validate (descriptions, defaults, CEL rules, list and map
 *   types) are dropped, so schemas stay small and compile fast.
 *
 * Conversion is lazy and memoised by a content hash (CRD version schema,
 * Kubernetes definitions, converter version): the compiled-validator cache and
 * the kubeconform layout are keyed by the same hash, so an unchanged CRD is
 * converted at most once per process and usually not at all.
 */
import { createHash } from 'node:crypto';
import { fileHash } from './compiled-cache.js';
import type { ManifestDoc } from './manifests.js';
import { gvkKey, kubernetesDefinitions, kubernetesSchemaFile, strictify, withoutDescriptions, type JsonSchema } from './schemas.js';

/** Bump when the conversion changes: every converted schema, compiled validator and layout is then made afresh. */
const CONVERTER_VERSION = '2';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * The add-on folder whose pinned chart installs the CRDs of each API group,
 * named in the error for a custom resource whose CRD an environment does not
 * render. test/crd-schemas.test.ts keeps it equal to the folders the rendered
 * CRDs are in; it lives here so the validation bundle does not load the
 * generator's add-on modules (and cdk8s with them).
 */
export const CRD_PROVIDERS: Readonly<Record<string, string>> = {
  'argoproj.io': 'argocd',
  'external-secrets.io': 'external-secrets',
  'generators.external-secrets.io': 'external-secrets',
  'longhorn.io': 'longhorn',
  'cert-manager.io': 'cert-manager',
  'acme.cert-manager.io': 'cert-manager',
  'tailscale.com': 'tailscale',
  'upgrade.cattle.io': 'system-upgrade',
};

/** One served version of one CRD. */
export interface CrdSchema {
  group: string;
  version: string;
  kind: string;
  /** The CRD's file, relative to the repository root: `rendered/dev/longhorn/customresourcedefinition_….yaml`. */
  file: string;
  /** Content hash of the converted schema's inputs; keys every cache. */
  hash: string;
  /** The strict JSON Schema (converted on first use, then memoised by hash). */
  schema(): JsonSchema;
}

/** The custom resource schemas of one environment, for one Kubernetes schema version. */
export interface CrdSchemas {
  env: string;
  schemaVersion: string;
  /** `group/version/Kind` → schema. */
  byGvk: ReadonlyMap<string, CrdSchema>;
  /** API group → the kinds and versions its rendered CRDs serve, with their files. */
  byGroup: ReadonlyMap<string, { kind: string; version: string; file: string }[]>;
  /** Hash over every schema's hash: names the kubeconform layout of this set. */
  hash: string;
}

interface CrdVersion {
  name?: unknown;
  served?: unknown;
  schema?: { openAPIV3Schema?: unknown };
}

interface CrdObject {
  apiVersion?: unknown;
  kind?: unknown;
  spec?: { group?: unknown; names?: { kind?: unknown }; versions?: CrdVersion[] };
}

const converted = new Map<string, JsonSchema>();
const setsByDocs = new WeakMap<readonly ManifestDoc[], Map<string, CrdSchemas>>();

/** The CRD schemas of the environment whose parsed manifests these are (memoised per docs array and version). */
export function crdSchemasOf(docs: readonly ManifestDoc[], schemaVersion: string, env = docs[0]?.env ?? ''): CrdSchemas {
  let perVersion = setsByDocs.get(docs);
  const cached = perVersion?.get(schemaVersion);
  if (cached) return cached;
  const definitionsHash = fileHash(kubernetesSchemaFile(schemaVersion));
  const byGvk = new Map<string, CrdSchema>();
  const byGroup = new Map<string, { kind: string; version: string; file: string }[]>();
  for (const doc of docs) {
    const crd = doc.object as CrdObject;
    if (crd.kind !== 'CustomResourceDefinition' || crd.apiVersion !== 'apiextensions.k8s.io/v1') continue;
    const group = crd.spec?.group;
    const kind = crd.spec?.names?.kind;
    if (typeof group !== 'string' || typeof kind !== 'string') continue;
    for (const version of crd.spec?.versions ?? []) {
      const openApi = version.schema?.openAPIV3Schema;
      if (version.served !== true || typeof version.name !== 'string' || !openApi || typeof openApi !== 'object') continue;
      const name = version.name;
      const hash = createHash('sha256')
        .update([CONVERTER_VERSION, definitionsHash, group, name, kind, JSON.stringify(openApi)].join('\n'))
        .digest('hex')
        .slice(0, 32);
      byGvk.set(gvkKey(group, name, kind), {
        group,
        version: name,
        kind,
        file: doc.file,
        hash,
        schema: () => {
          let schema = converted.get(hash);
          if (!schema) {
            schema = crdToJsonSchema(openApi as JsonSchema, schemaVersion);
            converted.set(hash, schema);
          }
          return schema;
        },
      });
      byGroup.set(group, [...(byGroup.get(group) ?? []), { kind, version: name, file: doc.file }]);
    }
  }
  const setHash = createHash('sha256');
  for (const key of [...byGvk.keys()].sort()) setHash.update(`${key} ${byGvk.get(key)!.hash}\n`);
  const set: CrdSchemas = { env, schemaVersion, byGvk, byGroup, hash: setHash.digest('hex').slice(0, 16) };
  if (!perVersion) {
    perVersion = new Map();
    setsByDocs.set(docs, perVersion);
  }
  perVersion.set(schemaVersion, set);
  return set;
}

/** Why a custom resource has no schema in this environment, for the person who has to fix it. */
export function missingCrdMessage(crds: CrdSchemas, group: string, version: string, kind: string): string {
  const apiVersion = `${group}/${version}`;
  const served = crds.byGroup.get(group);
  const where = `rendered/${crds.env}/`;
  const provider = CRD_PROVIDERS[group];
  if (served) {
    const sameKind = served.filter((entry) => entry.kind === kind);
    if (sameKind.length > 0) {
      return `no CRD rendered in ${where} serves ${kind} ${apiVersion}: ${sameKind[0]!.file} serves ${sameKind.map((entry) => `${group}/${entry.version}`).join(', ')}; use a served version`;
    }
    const files = new Set(served.map((entry) => entry.file)).size;
    const from = provider ? `the ${provider} add-on renders the ${group} CRDs (${files} in ${where}${provider}/)` : `${where} renders ${files} CRD${files === 1 ? '' : 's'} of ${group}`;
    return `no CRD rendered in ${where} serves ${kind} ${apiVersion}: ${from}, and none of them is for ${kind}. Check the kind's spelling, and whether the pinned chart still installs that CRD`;
  }
  if (provider) {
    return `no CustomResourceDefinition for ${kind} ${apiVersion} is rendered in ${where}: the ${provider} add-on must provide it (its chart installs the ${group} CRDs into ${where}${provider}/), and this environment does not render it. Enable the ${provider} add-on in environments/${crds.env}.yaml, or remove the resource`;
  }
  return `no CustomResourceDefinition for ${kind} ${apiVersion} is rendered in ${where}, and no platform add-on provides API group "${group}": check apiVersion and kind, or add the add-on whose chart installs that CRD (generator/addons/, and its group in CRD_PROVIDERS in generator/validate/crd-schemas.ts)`;
}

/** Keywords copied as they are (validation keywords of JSON Schema that OpenAPI v3 structural schemas use). */
const VALUE_KEYWORDS = [
  'type',
  'format',
  'enum',
  'required',
  'pattern',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
] as const;

interface Conversion {
  /** Set when an exclusive bound needed the draft-07 form. */
  draft07: boolean;
}

function convertNode(node: unknown, conversion: Conversion): unknown {
  if (typeof node === 'boolean') return node;
  if (!node || typeof node !== 'object' || Array.isArray(node)) return {};
  const input = node as JsonSchema;
  const out: JsonSchema = {};
  const intOrString = input['x-kubernetes-int-or-string'] === true || input.format === 'int-or-string';
  for (const keyword of VALUE_KEYWORDS) {
    if (!(keyword in input)) continue;
    if (intOrString && (keyword === 'type' || keyword === 'format')) continue;
    out[keyword] = structuredClone(input[keyword]);
  }
  for (const [bound, limit] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (input[bound] === true && typeof input[limit] === 'number') {
      out[bound] = input[limit];
      delete out[limit];
      conversion.draft07 = true;
    } else if (typeof input[bound] === 'number') {
      out[bound] = input[bound];
      conversion.draft07 = true;
    }
  }
  for (const keyword of ['properties', 'patternProperties'] as const) {
    const map = input[keyword];
    if (map && typeof map === 'object') {
      out[keyword] = Object.fromEntries(Object.entries(map as JsonSchema).map(([name, sub]) => [name, convertNode(sub, conversion)]));
    }
  }
  if ('additionalProperties' in input) out.additionalProperties = convertNode(input.additionalProperties, conversion);
  if ('items' in input) out.items = Array.isArray(input.items) ? input.items.map((item) => convertNode(item, conversion)) : convertNode(input.items, conversion);
  for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = input[keyword];
    if (Array.isArray(list)) out[keyword] = list.map((item) => convertNode(item, conversion));
  }
  if ('not' in input) out.not = convertNode(input.not, conversion);
  if (intOrString && !Array.isArray(out.anyOf) && !Array.isArray(out.oneOf)) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (input.nullable === true) allowNull(out);
  if (input['x-kubernetes-preserve-unknown-fields'] === true) out['x-kubernetes-preserve-unknown-fields'] = true;
  if (input['x-kubernetes-embedded-resource'] === true) {
    // An embedded object carries its own apiVersion, kind and metadata, whether or not the schema lists them.
    const properties = (out.properties ?? {}) as JsonSchema;
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...properties };
  }
  return out;
}

function allowNull(schema: JsonSchema): void {
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (Array.isArray(schema.type) && !schema.type.includes('null')) schema.type = [...(schema.type as string[]), 'null'];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...(schema.enum as unknown[]), null];
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const list = schema[keyword];
    if (Array.isArray(list)) schema[keyword] = [...(list as unknown[]), { type: 'null' }];
  }
}

/** The strict definitions ObjectMeta refers to (transitively), from one Kubernetes version. */
function objectMetaDefinitions(schemaVersion: string): Record<string, JsonSchema> {
  const all = kubernetesDefinitions(schemaVersion).strict.definitions;
  const out: Record<string, JsonSchema> = {};
  const pending = [OBJECT_META];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (name in out) continue;
    const definition = all[name];
    if (!definition) throw new Error(`Kubernetes ${schemaVersion} schemas have no definition ${name} (needed for custom resource metadata)`);
    out[name] = withoutDescriptions(definition);
    for (const match of JSON.stringify(definition).matchAll(/"#\/definitions\/([^"]+)"/g)) pending.push(match[1]!);
  }
  return Object.fromEntries(Object.keys(out).sort().map((name) => [name, out[name]!]));
}

/** One CRD version's openAPIV3Schema as the strict JSON Schema both validators read. */
export function crdToJsonSchema(openApi: JsonSchema, schemaVersion: string): JsonSchema {
  const conversion: Conversion = { draft07: false };
  const root = convertNode(openApi, conversion) as JsonSchema;
  const properties = (root.properties ?? {}) as JsonSchema;
  const crdMetadata = properties.metadata as JsonSchema | undefined;
  const objectMeta = { $ref: `#/definitions/${OBJECT_META}` };
  // A CRD may constrain metadata.name and generateName only; those constraints apply on top of ObjectMeta.
  const metadataConstraints = crdMetadata?.properties ? { ...crdMetadata, 'x-kubernetes-preserve-unknown-fields': true } : undefined;
  root.type = 'object';
  root.properties = {
    ...properties,
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: metadataConstraints ? { allOf: [objectMeta, metadataConstraints] } : objectMeta,
  };
  const schema: JsonSchema = {
    ...(conversion.draft07 ? { $schema: 'http://json-schema.org/draft-07/schema#' } : {}),
    ...root,
    definitions: objectMetaDefinitions(schemaVersion),
  };
  return strictify(schema);
}
