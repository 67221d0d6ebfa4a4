/**
 * Reads rendered trees (from disk or from the render in memory) into parsed
 * manifests that remember their file and can map a field path to a line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parse, parseAllDocuments, type Document } from 'yaml';
import { kubernetesVersionOf, type KubernetesVersion } from '../kubernetes-version.js';
import { loadDocuments } from './fast-yaml.js';
import { readTree, renderedEnvironments, type Tree } from '../write-rendered.js';

/**
 * Files under rendered/<env>/ that are not Kubernetes manifests, excluded by
 * name from every gate (kubeconform gets the same patterns). Patterns match the
 * path relative to rendered/<env>/; anything else there must be a manifest.
 */
export const NON_MANIFEST_PATTERNS: readonly string[] = [
  'README\\.md$',
  'bootstrap/', // CloudFormation for the AWS base, deployed by scripts, not by Argo CD
];

export function isManifestFile(relativePath: string): boolean {
  return !NON_MANIFEST_PATTERNS.some((pattern) => new RegExp(`^${pattern}`).test(relativePath));
}

/** The same exclusions for kubeconform's -ignore-filename-pattern, which sees whole paths. */
export function kubeconformIgnorePatterns(): string[] {
  return NON_MANIFEST_PATTERNS.map((pattern) => `(^|/)rendered/[^/]+/${pattern}`);
}

export interface Manifest {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ManifestDoc {
  env: string;
  /** Relative to the repository root. */
  file: string;
  /** Position of the document in its file. */
  index: number;
  object: Manifest;
  /** `Deployment litellm/litellm` */
  resource: string;
  /** Line (1-based) of the field at `path`, or of the closest parent that exists. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export interface RenderedInput {
  env: string;
  kubernetes: KubernetesVersion;
  files: Tree;
  /**
   * Files whose one object the caller already holds, exactly as serialised
   * into the text (the render's hydrated chart files): not parsed again.
   */
  known?: ReadonlyMap<string, object>;
}

export function resourceName(object: Manifest): string {
  const kind = typeof object.kind === 'string' ? object.kind : '(no kind)';
  const name = object.metadata?.name ?? '(no name)';
  return object.metadata?.namespace ? `${kind} ${object.metadata.namespace}/${name}` : `${kind} ${name}`;
}

/** Line lookups for the documents of one file; the positioned parse happens on the first lookup only. */
function lazyPositions(content: string): (index: number, path: readonly (string | number)[]) => number | undefined {
  let parsed: { documents: Document[]; counter: LineCounter } | undefined;
  return (index, path) => {
    if (!parsed) {
      const counter = new LineCounter();
      parsed = { documents: parseAllDocuments(content, { lineCounter: counter, version: '1.1' }) as Document[], counter };
    }
    const document = parsed.documents[index];
    return document ? lineIn(document, parsed.counter, path) : undefined;
  };
}

function lineIn(document: Document, counter: LineCounter, path: readonly (string | number)[]): number | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const node = document.getIn(path.slice(0, length), true) as { range?: [number, number, number] } | undefined;
    const start = node?.range?.[0];
    if (start !== undefined && (length > 0 || isMap(node) || isSeq(node))) {
      // For a scalar or collection value, the key sits on the same line or the one above.
      return counter.linePos(start).line;
    }
  }
  return undefined;
}

export class ManifestParseError extends Error {}

/** A file under rendered/ that is not a readable manifest. */
export interface ParseProblem {
  file: string;
  line?: number;
  message: string;
}

/** Parses every manifest file of one rendered environment. */
export function parseRendered(input: RenderedInput): { docs: ManifestDoc[]; problems: ParseProblem[] } {
  const docs: ManifestDoc[] = [];
  const problems: ParseProblem[] = [];
  for (const [relative, content] of input.files) {
    if (!isManifestFile(relative)) continue;
    const file = `rendered/${input.env}/${relative}`;
    if (!/\.ya?ml$/.test(relative)) {
      problems.push({ file, message: 'not a YAML manifest: every file under rendered/<env>/ must be a Kubernetes manifest, or be excluded in NON_MANIFEST_PATTERNS (generator/validate/manifests.ts)' });
      continue;
    }
    let documents: unknown[];
    try {
      const held = input.known?.get(relative);
      documents = held ? [held] : loadDocuments(content);
    } catch {
      // Only invalid YAML pays for the positioned parse, which says where and why.
      const counter = new LineCounter();
      const error = parseAllDocuments(content, { lineCounter: counter, version: '1.1' })
        .flatMap((document) => (Array.isArray(document) ? [] : document.errors))
        .find(Boolean);
      problems.push({ file, line: error ? counter.linePos(error.pos[0]).line : undefined, message: `invalid YAML: ${error?.message.split('\n')[0] ?? 'unreadable'}` });
      continue;
    }
    const positions = lazyPositions(content);
    documents.forEach((object, index) => {
      if (object === null || object === undefined) return;
      if (typeof object !== 'object' || Array.isArray(object)) {
        problems.push({ file, message: 'document is not a YAML mapping (a Kubernetes object)' });
        return;
      }
      const manifest = object as Manifest;
      docs.push({ env: input.env, file, index, object: manifest, resource: resourceName(manifest), lineOf: (path) => positions(index, path) });
    });
  }
  return { docs, problems };
}

/** The Kubernetes version an environment targets, from `k3s.version` in environments/<env>.yaml. */
export function environmentKubernetesVersion(root: string, env: string): KubernetesVersion {
  const file = join(root, 'environments', `${env}.yaml`);
  if (!existsSync(file)) throw new ManifestParseError(`rendered/${env}/ has no environments/${env}.yaml: cannot tell which Kubernetes version to validate against`);
  const config = parse(readFileSync(file, 'utf8')) as { k3s?: { version?: unknown } } | null;
  const version = config?.k3s?.version;
  if (typeof version !== 'string') throw new ManifestParseError(`environments/${env}.yaml: k3s.version is missing; it selects the Kubernetes schemas to validate against`);
  return kubernetesVersionOf(version);
}

/** Every rendered environment on disk, with its target Kubernetes version. */
export function readRenderedInputs(root: string, envs?: string[]): RenderedInput[] {
  const renderedDir = join(root, 'rendered');
  const names = envs && envs.length > 0 ? envs : renderedEnvironments(renderedDir);
  return names.map((env) => ({ env, kubernetes: environmentKubernetesVersion(root, env), files: readTree(join(renderedDir, env)) }));
}
