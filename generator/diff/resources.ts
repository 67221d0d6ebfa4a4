/**
 * What a rendered file holds, as reviewers think of it: Kubernetes resources
 * (kind, namespace, name), CloudFormation resources (type, logical id), or,
 * for anything else, the file itself.
 */
import { isMap, parseAllDocuments } from 'yaml';
import { loadDocuments } from '../validate/fast-yaml.js';

export interface Resource {
  /** Stable identity across files and folders: the same resource moved elsewhere keeps it. */
  key: string;
  /** What a reviewer reads: `Deployment litellm/litellm`, `AWS::EC2::Instance Node`, `README.md`. */
  label: string;
  /** Kind (Kubernetes), Type (CloudFormation) or `File`, for rename pairing. */
  kind: string;
  /** Namespace or scope used to pair renames (renames only pair within one scope). */
  scope: string;
  /** Canonical content: equal strings mean an unchanged resource. */
  content: string;
}

const YAML_FILE = /\.(ya?ml|json)$/;

/** Object keys sorted recursively, so formatting or key order alone is no change. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

const text = (value: unknown) => JSON.stringify(canonical(value), null, 1);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function kubernetesResource(doc: Json): Resource | undefined {
  const metadata = doc['metadata'];
  if (typeof doc['kind'] !== 'string' || typeof doc['apiVersion'] !== 'string' || !isObject(metadata) || typeof metadata['name'] !== 'string') {
    return undefined;
  }
  const kind = doc['kind'];
  const group = doc['apiVersion'].includes('/') ? doc['apiVersion'].split('/')[0]! : '';
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : '';
  const name = metadata['name'];
  return {
    key: `k8s:${group}/${kind}/${namespace}/${name}`,
    label: `${kind} ${namespace ? `${namespace}/` : ''}${name}`,
    kind: `${group}/${kind}`,
    scope: namespace,
    content: text(doc),
  };
}

function cloudFormationResources(doc: Json): Resource[] | undefined {
  const resources = doc['Resources'];
  if (!isObject(resources)) return undefined;
  const entries = Object.entries(resources);
  if (!('AWSTemplateFormatVersion' in doc) && !entries.every(([, value]) => isObject(value) && typeof value['Type'] === 'string')) return undefined;
  const out: Resource[] = entries.map(([logicalId, value]) => {
    const type = isObject(value) && typeof value['Type'] === 'string' ? value['Type'] : 'Unknown';
    return { key: `cfn:${logicalId}`, label: `${type} ${logicalId}`, kind: type, scope: 'cloudformation', content: text(value) };
  });
  const rest = Object.fromEntries(Object.entries(doc).filter(([key]) => key !== 'Resources'));
  for (const [section, value] of Object.entries(rest)) {
    out.push({ key: `cfn-section:${section}`, label: `template ${section}`, kind: 'TemplateSection', scope: 'cloudformation', content: text(value) });
  }
  return out;
}

function fileResource(path: string, content: string): Resource {
  const name = path.split('/').pop()!;
  return { key: `file:${path}`, label: name, kind: 'File', scope: 'file', content };
}

/**
 * The resources of one file. `path` is relative to the environment folder
 * (`litellm/deployment_litellm_litellm.yaml`); it names file resources and
 * resources of documents that could not be identified.
 */
export function resourcesOf(path: string, content: string): Resource[] {
  if (!YAML_FILE.test(path)) return [fileResource(path, content)];
  const values = parsedDocuments(content);
  if (values === undefined) return [fileResource(path, content)];
  const out: Resource[] = [];
  values.forEach((value, index) => {
    if (!isObject(value)) return;
    const found = kubernetesResource(value) ?? cloudFormationResources(value);
    if (Array.isArray(found)) out.push(...found);
    else if (found) out.push(found);
    else out.push({ ...fileResource(path, text(value)), key: `file:${path}#${index}`, label: values.length > 1 ? `${path.split('/').pop()} (document ${index + 1})` : path.split('/').pop()! });
  });
  return out.length > 0 ? out : [fileResource(path, content)];
}

/**
 * The documents of a YAML (or JSON) file as plain data, read the way the
 * cluster reads manifests (the gates' fast loader, ~10× quicker on the
 * megabyte CRDs of a chart); a file it refuses (CloudFormation short forms
 * such as !Ref are unknown tags) is read with the `yaml` library, whose
 * unknown tags only warn. Undefined when neither can read it; a document
 * with errors is left out (as an empty slot).
 */
function parsedDocuments(content: string): unknown[] | undefined {
  try {
    return loadDocuments(content);
  } catch {
    // fall through to the tolerant reader
  }
  try {
    return parseAllDocuments(content, { logLevel: 'silent', uniqueKeys: false }).map((doc) =>
      doc.errors.length > 0 || doc.contents === null || !isMap(doc.contents) ? undefined : doc.toJS({ maxAliasCount: -1 }),
    );
  } catch {
    return undefined;
  }
}
