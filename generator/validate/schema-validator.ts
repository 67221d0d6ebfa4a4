/**
 * In-process schema validation with ajv over the same schemas kubeconform
 * uses: the vendored Kubernetes definitions for built-in kinds, and for custom
 * resources the CRDs the environment itself renders (crd-schemas.ts).
 * Compilation is lazy and per kind: only the kinds present in the manifests
 * are compiled, once per machine (compiled-cache.ts).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { join } from 'node:path';
import { CompiledCache, fileHash, STANDALONE_FORMATS } from './compiled-cache.js';
import { crdSchemasOf, missingCrdMessage, type CrdSchema, type CrdSchemas } from './crd-schemas.js';
import { pointerToPath } from '../config/schema-check.js';
import type { KubernetesVersion } from '../kubernetes-version.js';
import { fieldPath, type Finding } from './findings.js';
import type { Manifest, ManifestDoc, ParseProblem } from './manifests.js';
import { gvkKey, hasKubernetesSchemas, kubernetesDefinitions, kubernetesSchemaFile, splitApiVersion, TOOLS_DIR } from './schemas.js';

export interface SchemaIssue {
  path: (string | number)[];
  message: string;
}

/** Go's time.ParseDuration syntax, which kubeconform accepts for `format: duration` (besides ISO 8601). */
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const ISO_DURATION = /^P(?=\d|T\d)(\d+W|(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)$/;
/** A RegExp (not a function) so that cached standalone code carries it inline. */
const DURATION = new RegExp(`(?:${GO_DURATION.source})|(?:${ISO_DURATION.source})`);
export const DEFAULT_COMPILED_CACHE = join(TOOLS_DIR, 'cache', 'ajv');

function newAjv(): Ajv {
  // Each kind is compiled once per run and validates a handful of objects, so compile speed wins:
  // skipping ajv's code optimisation compiles the big CRD schemas ~40% faster (Application: ~310 → ~190 ms).
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    validateSchema: false,
    unicodeRegExp: false,
    addUsedSchema: false,
    code: { optimize: false, source: true, formats: STANDALONE_FORMATS },
  });
  // kubeconform (santhosh-tekuri/jsonschema, draft 4) asserts the formats it knows and ignores the
  // OpenAPI-only ones (int32, int64, double, byte, cidr); mirror that so both validators agree.
  // ajv-formats is CommonJS: under NodeNext its plugin is the `default` export of the module namespace.
  const addFormats = ((formatsPlugin as unknown as { default?: unknown }).default ?? formatsPlugin) as (ajv: Ajv, formats: string[]) => Ajv;
  addFormats(ajv, ['date-time', 'date', 'time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uri-reference', 'uuid']);
  for (const ignored of ['int32', 'int64', 'double', 'float', 'byte', 'binary', 'password', 'cidr', 'quantity']) ajv.addFormat(ignored, true);
  ajv.addFormat('duration', DURATION);
  return ajv;
}

export type SchemaLookup =
  | { found: true; source: 'kubernetes'; id: string }
  | { found: true; source: 'crd'; id: string; crd: CrdSchema }
  | { found: false; message: string };

/** Validates manifests for one Kubernetes version; keeps compiled kinds in memory and on disk. */
export class SchemaValidator {
  private static readonly instances = new Map<string, SchemaValidator>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly cache: CompiledCache;
  private kubernetesAjv: Ajv | undefined;

  /** One validator per Kubernetes version per process, so compiled kinds are reused across environments. */
  static for(kubernetes: Pick<KubernetesVersion, 'short' | 'schemaVersion'>): SchemaValidator {
    let instance = SchemaValidator.instances.get(kubernetes.schemaVersion);
    if (!instance) {
      instance = new SchemaValidator(kubernetes, DEFAULT_COMPILED_CACHE);
      SchemaValidator.instances.set(kubernetes.schemaVersion, instance);
    }
    return instance;
  }

  /** A separate validator with its own compiled-code cache folder (undefined: memory only). */
  static withCache(kubernetes: Pick<KubernetesVersion, 'short' | 'schemaVersion'>, cacheDir: string | undefined): SchemaValidator {
    return new SchemaValidator(kubernetes, cacheDir);
  }

  private constructor(
    readonly kubernetes: Pick<KubernetesVersion, 'short' | 'schemaVersion'>,
    cacheDir: string | undefined,
  ) {
    if (!hasKubernetesSchemas(kubernetes.schemaVersion)) {
      throw new Error(`No vendored schemas for Kubernetes ${kubernetes.short}: expected schemas/kubernetes/${kubernetes.schemaVersion}/_definitions.json (see schemas/README.md)`);
    }
    this.cache = new CompiledCache(cacheDir);
  }

  /**
   * Where the schema for an apiVersion/kind comes from, or why there is none:
   * built-in kinds from the Kubernetes definitions, custom resources from the
   * CRDs of the environment (`crds`, from crdSchemasOf).
   */
  lookup(apiVersion: string, kind: string, crds: CrdSchemas): SchemaLookup {
    const { group, version } = splitApiVersion(apiVersion);
    const key = gvkKey(group, version, kind);
    const definition = kubernetesDefinitions(this.kubernetes.schemaVersion).byGroupVersionKind.get(key);
    if (definition) return { found: true, source: 'kubernetes', id: definition };
    const crd = group === '' ? undefined : crds.byGvk.get(key);
    if (crd) return { found: true, source: 'crd', id: crd.file, crd };
    if (!crds.byGroup.has(group) && builtInGroups(this.kubernetes.schemaVersion).has(group)) {
      return { found: false, message: `no schema for ${kind} ${apiVersion} in Kubernetes ${this.kubernetes.short}: check apiVersion and kind` };
    }
    return { found: false, message: missingCrdMessage(crds, group, version, kind) };
  }

  private validatorFor(found: Extract<SchemaLookup, { found: true }>): ValidateFunction {
    const memoryKey = found.source === 'crd' ? `crd:${found.crd.hash}` : `kubernetes:${found.id}`;
    let validate = this.compiled.get(memoryKey);
    if (validate) return validate;
    if (found.source === 'crd') {
      const { crd } = found;
      validate = this.cache.get(this.cache.key('crd', crd.hash), () => {
        const ajv = newAjv();
        return { ajv, validate: ajv.compile(crd.schema()) };
      });
    } else {
      const definitions = kubernetesSchemaFile(this.kubernetes.schemaVersion);
      validate = this.cache.get(this.cache.key('kubernetes', fileHash(definitions), found.id), () => {
        const key = `k8s-${this.kubernetes.schemaVersion}`;
        if (!this.kubernetesAjv) {
          this.kubernetesAjv = newAjv();
          this.kubernetesAjv.addSchema(kubernetesDefinitions(this.kubernetes.schemaVersion).strict, key);
        }
        return { ajv: this.kubernetesAjv, validate: this.kubernetesAjv.compile({ $ref: `${key}#/definitions/${found.id}` }) };
      });
    }
    this.compiled.set(memoryKey, validate);
    return validate;
  }

  /** Schema problems of one manifest; custom resources are looked up in `crds`, the CRDs of its environment. */
  validate(manifest: Manifest, crds: CrdSchemas): SchemaIssue[] {
    if (typeof manifest.apiVersion !== 'string' || manifest.apiVersion === '') return [{ path: ['apiVersion'], message: 'missing apiVersion' }];
    if (typeof manifest.kind !== 'string' || manifest.kind === '') return [{ path: ['kind'], message: 'missing kind' }];
    const found = this.lookup(manifest.apiVersion, manifest.kind, crds);
    if (!found.found) return [{ path: ['apiVersion'], message: found.message }];
    const validate = this.validatorFor(found);
    if (validate(manifest)) return [];
    return toIssues(validate.errors ?? []);
  }
}

const builtInGroupsCache = new Map<string, Set<string>>();

/** API groups Kubernetes itself serves at one version ('' is the core group). */
function builtInGroups(schemaVersion: string): Set<string> {
  let groups = builtInGroupsCache.get(schemaVersion);
  if (!groups) {
    groups = new Set([...kubernetesDefinitions(schemaVersion).byGroupVersionKind.keys()].map((key) => key.slice(0, key.indexOf('/'))));
    builtInGroupsCache.set(schemaVersion, groups);
  }
  return groups;
}

function describe(error: ErrorObject): { extra?: string; message: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { extra: String(params.additionalProperty), message: `unknown field "${String(params.additionalProperty)}" (not in the schema; check spelling and indentation)` };
    case 'required':
      return { extra: String(params.missingProperty), message: `missing required field "${String(params.missingProperty)}"` };
    case 'enum':
      return { message: `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}` };
    case 'type':
      return { message: `must be ${String(params.type)}` };
    case 'anyOf':
    case 'oneOf':
      return { message: error.message === undefined ? `must match the ${error.keyword} schemas` : `${error.message} (e.g. an int-or-string field)` };
    default:
      return { message: error.message ?? error.keyword };
  }
}

/**
 * ajv reports every branch of an anyOf/oneOf; keep the anyOf/oneOf error itself
 * and drop the branch errors under it, so one mistake gives one message.
 */
function toIssues(errors: ErrorObject[]): SchemaIssue[] {
  const unions = errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf');
  const insideUnion = (error: ErrorObject) =>
    unions.some((union) => union !== error && error.schemaPath.startsWith(`${union.schemaPath}/`) && error.instancePath.startsWith(union.instancePath));
  const seen = new Set<string>();
  const issues: SchemaIssue[] = [];
  for (const error of errors) {
    if (insideUnion(error)) continue;
    const { extra, message } = describe(error);
    const path = pointerToPath(error.instancePath);
    if (extra !== undefined) path.push(extra);
    const key = `${JSON.stringify(path)} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}

/** Schema findings for parsed manifests of one environment, and for files that did not parse. */
export function schemaFindingsOf(docs: ManifestDoc[], problems: ParseProblem[], kubernetes: Pick<KubernetesVersion, 'short' | 'schemaVersion'>): Finding[] {
  const findings: Finding[] = problems.map((problem) => ({ gate: 'schema', severity: 'error', resource: '', path: '', ...problem }));
  const validator = SchemaValidator.for(kubernetes);
  const crds = crdSchemasOf(docs, kubernetes.schemaVersion);
  for (const doc of docs) {
    for (const issue of validator.validate(doc.object, crds)) {
      findings.push({ gate: 'schema', severity: 'error', file: doc.file, line: doc.lineOf(issue.path), resource: doc.resource, path: fieldPath(issue.path), message: issue.message });
    }
  }
  return findings;
}
