/**
 * Runs the pinned kubeconform binary in strict mode against the vendored
 * Kubernetes schemas and the CRD schemas of the environment validated. The project installs it on first use with `go install` into the
 * git-ignored .tools/bin; without Go it stops with a message saying what to
 * install, never skipping silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pointerToPath } from '../config/schema-check.js';
import { withInstallLock } from './install-lock.js';
import { ProcessGate } from '../process-gate.js';
import { describeExit, runCaptured } from '../run-captured.js';
import type { CrdSchemas } from './crd-schemas.js';
import { ensureKubeconformSchemas, TOOLS_DIR } from './kubeconform-schemas.js';
import { kubeconformIgnorePatterns } from './manifests.js';

export const KUBECONFORM_MODULE = 'github.com/yannh/kubeconform/cmd/kubeconform';
// renovate: datasource=go depName=github.com/yannh/kubeconform
export const KUBECONFORM_VERSION = 'v0.7.0';

export class ToolMissingError extends Error {}

export interface KubeconformInstall {
  binDir?: string;
  /** PATH to look for `go` in (tests pass an empty one). */
  path?: string;
  log?: (line: string) => void;
}

/** Path of the pinned kubeconform, installing it with `go install` when absent. */
export function ensureKubeconform(options: KubeconformInstall = {}): string {
  const binDir = options.binDir ?? join(TOOLS_DIR, 'bin');
  const binary = join(binDir, process.platform === 'win32' ? 'kubeconform.exe' : 'kubeconform');
  const stamp = join(binDir, `.kubeconform-${KUBECONFORM_VERSION}`);
  const installed = () => existsSync(binary) && existsSync(stamp);
  if (installed()) return binary;
  const env = { ...process.env, PATH: options.path ?? process.env.PATH ?? '', GOBIN: binDir };
  const go = spawnSync('go', ['version'], { env, encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new ToolMissingError(
      [
        `kubeconform ${KUBECONFORM_VERSION} is not installed in ${relative(process.cwd(), binDir) || binDir}, and Go is not available to install it.`,
        '  needed: Go 1.24 or newer on PATH (https://go.dev/doc/install; Debian/Ubuntu: a golang package of 1.24+).',
        `  then re-run; the project installs it itself with: GOBIN=${binDir} go install ${KUBECONFORM_MODULE}@${KUBECONFORM_VERSION}`,
        '  The schema gate does not run without it: this is a failure, not a skip.',
      ].join('\n'),
    );
  }
  mkdirSync(binDir, { recursive: true });
  // Several test workers may need it at once: one installs, the others wait for it.
  withInstallLock(join(binDir, '.install.lock'), installed, () => {
    options.log?.(`installing kubeconform ${KUBECONFORM_VERSION} into ${binDir} (go install, once)…`);
    const install = spawnSync('go', ['install', `${KUBECONFORM_MODULE}@${KUBECONFORM_VERSION}`], { env, encoding: 'utf8' });
    if (install.status !== 0 || !existsSync(binary)) {
      throw new ToolMissingError(`go install ${KUBECONFORM_MODULE}@${KUBECONFORM_VERSION} failed (it needs the Go module proxy):\n${install.stderr || install.stdout}`);
    }
    writeFileSync(stamp, `${KUBECONFORM_MODULE}@${KUBECONFORM_VERSION}\n`);
  });
  return binary;
}

export interface KubeconformIssue {
  file: string;
  kind: string;
  name: string;
  /** Pointer-style path split in segments; for a missing or unknown field, ends with the field. */
  path: (string | number)[];
  message: string;
}

export interface KubeconformResult {
  resources: number;
  issues: KubeconformIssue[];
}

interface KubeconformJson {
  resources?: { filename: string; kind: string; name: string; version: string; status: string; msg: string }[];
}

/**
 * kubeconform puts the whole error tree of santhosh-tekuri/jsonschema in `msg`
 * (`- at '/spec': missing property 'selector'   - at '/metadata': …`); its
 * `validationErrors` only hold the top level. Keep the leaves.
 */
export function parseKubeconformMessage(msg: string): { path: (string | number)[]; message: string }[] {
  const entries = [...msg.matchAll(/- at '([^']*)': (.*?)(?=\s+- at '|$)/g)].map((match) => ({ pointer: match[1]!, message: match[2]!.trim() }));
  const leaves = entries.filter((entry, index) => {
    const next = entries[index + 1];
    const isParent = entry.message === 'validation failed' || /^'?(anyOf|oneOf|allOf)'? failed/.test(entry.message);
    return !(isParent && next !== undefined);
  });
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const leaf of leaves) {
    const path = pointerToPath(leaf.pointer);
    const missing = /^missing propert(?:y|ies) (.*)$/.exec(leaf.message);
    const additional = /^additional propert(?:y|ies) (.*) not allowed$/.exec(leaf.message);
    const names = (list: string) => [...list.matchAll(/'([^']*)'/g)].map((match) => match[1]!);
    if (missing) for (const name of names(missing[1]!)) out.push({ path: [...path, name], message: leaf.message });
    else if (additional) for (const name of names(additional[1]!)) out.push({ path: [...path, name], message: leaf.message });
    else out.push({ path, message: leaf.message });
  }
  return out;
}

/** kubeconform runs once per environment: at most cores + 1 at a time from this process. */
const gate = new ProcessGate();

function run(binary: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return gate.run(() => spawnOnce(binary, args));
}

async function spawnOnce(binary: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runCaptured(binary, args);
  return { code: result.code ?? 1, stdout: result.stdout, stderr: result.timedOut ? `kubeconform ${describeExit(result)}\n${result.stderr}` : result.stderr };
}

/**
 * Validates the given folders (or files) with kubeconform -strict against one
 * Kubernetes version and, for custom resources, the CRD schemas `crds` (those
 * of the environment the targets belong to; without them every custom
 * resource is an error). Paths in the result are relative to `root`.
 */
export async function runKubeconform(root: string, targets: string[], kubernetesVersion: string, crds: CrdSchemas | undefined, binary = ensureKubeconform()): Promise<KubeconformResult> {
  const schemas = ensureKubeconformSchemas(crds);
  const args = [
    '-strict',
    '-output',
    'json',
    '-verbose',
    '-kubernetes-version',
    kubernetesVersion,
    ...schemas.locations.flatMap((location) => ['-schema-location', location]),
    ...kubeconformIgnorePatterns().flatMap((pattern) => ['-ignore-filename-pattern', pattern]),
    ...targets,
  ];
  const { code, stdout, stderr } = await run(binary, args);
  let parsed: KubeconformJson;
  try {
    parsed = JSON.parse(stdout) as KubeconformJson;
  } catch {
    throw new Error(`kubeconform exited ${code} without JSON output: ${stderr || stdout}`);
  }
  const resources = parsed.resources ?? [];
  const issues: KubeconformIssue[] = [];
  for (const resource of resources) {
    if (resource.status === 'statusValid') continue;
    const file = relative(root, resource.filename).split('\\').join('/');
    const base = { file, kind: resource.kind, name: resource.name };
    if (resource.status === 'statusInvalid') {
      const leaves = parseKubeconformMessage(resource.msg);
      if (leaves.length === 0) issues.push({ ...base, path: [], message: resource.msg });
      for (const leaf of leaves) issues.push({ ...base, ...leaf });
    } else {
      // statusError (no schema, unparsable YAML) and statusSkipped both fail the gate: nothing may go unchecked.
      issues.push({ ...base, path: [], message: `${resource.status.replace('status', '').toLowerCase()}: ${resource.msg}` });
    }
  }
  if (code !== 0 && issues.length === 0) throw new Error(`kubeconform exited ${code} but reported no invalid resource: ${stderr}`);
  return { resources: resources.length, issues };
}
