/** Shared helpers for the validation tests: temp copies of the repository's inputs and outputs. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { copyOfRepository } from '../support/temp-repo.js';
import { REPO_ROOT } from '../../generator/validate/schemas.js';
import { kubernetesVersionOf } from '../../generator/kubernetes-version.js';
import { parseRendered, readRenderedInputs, type ManifestDoc } from '../../generator/validate/manifests.js';
import { crdSchemasOf, type CrdSchemas } from '../../generator/validate/crd-schemas.js';

export { REPO_ROOT };

/** A temp directory holding copies of environments/ and rendered/; removed by `cleanup`. */
export { copyOfRepository as copyRepository } from '../support/temp-repo.js';

/** For one test file: a function that makes a temp copy of the repository, each removed after its test. */
export function repositoryCopies(): () => string {
  let cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups) cleanup();
    cleanups = [];
  });
  return () => {
    const { root, cleanup } = copyOfRepository();
    cleanups.push(cleanup);
    return root;
  };
}

/** Replaces `from` with `to` in one file, failing loudly when `from` is not there (so the test cannot pass vacuously). */
export function corrupt(root: string, file: string, from: string | RegExp, to: string): void {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`corrupt(): ${String(from)} not found in ${file}`);
  writeFileSync(path, after);
}

/** Parses YAML text as if it were rendered/<env>/<name> of an environment on Kubernetes 1.36. */
export function docsFrom(name: string, content: string, env = 'fixture', k3s = 'v1.36.3+k3s1'): ManifestDoc[] {
  const { docs, problems } = parseRendered({ env, kubernetes: kubernetesVersionOf(k3s), files: new Map([[name, content]]) });
  if (problems.length > 0) throw new Error(`fixture ${name}: ${problems.map((problem) => problem.message).join('; ')}`);
  return docs;
}

/** The CRD schemas of a committed environment (rendered/<env>/), for validating fixtures as if they were part of it. */
export function committedCrds(env = 'dev'): CrdSchemas {
  const [input] = readRenderedInputs(REPO_ROOT, [env]);
  return crdSchemasOf(parseRendered(input!).docs, input!.kubernetes.schemaVersion, env);
}
