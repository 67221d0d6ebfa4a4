/**
 * The render command's gate: schema-validates the rendered trees in memory,
 * before anything is written, so `npm run render` never writes an invalid
 * manifest. Only ajv runs here (in-process, lazily compiled per kind); the
 * full gates run in `npm run validate`.
 */
import { formatFinding, fieldPath, type Finding } from './findings.js';
import { environmentKubernetesVersion, parseRendered } from './manifests.js';
import { SchemaValidator } from './schema-validator.js';
import type { Tree } from '../write-rendered.js';

export function schemaFindings(root: string, trees: Map<string, Tree>): Finding[] {
  const findings: Finding[] = [];
  for (const [env, files] of trees) {
    const kubernetes = environmentKubernetesVersion(root, env);
    const validator = SchemaValidator.for(kubernetes);
    const { docs, problems } = parseRendered({ env, kubernetes, files });
    for (const problem of problems) findings.push({ gate: 'schema', severity: 'error', resource: '', path: '', ...problem });
    for (const doc of docs) {
      for (const issue of validator.validate(doc.object)) {
        findings.push({ gate: 'schema', severity: 'error', file: doc.file, line: doc.lineOf(issue.path), resource: doc.resource, path: fieldPath(issue.path), message: issue.message });
      }
    }
  }
  return findings;
}

/** A message for people when a rendered manifest is invalid, else undefined. */
export function invalidRenderMessage(root: string, trees: Map<string, Tree>): string | undefined {
  const findings = schemaFindings(root, trees);
  if (findings.length === 0) return undefined;
  return [
    `${findings.length} rendered manifest problem${findings.length === 1 ? '' : 's'} (Kubernetes/CRD schema, strict):`,
    ...findings.map((finding) => `  ${formatFinding(finding)}`),
    '',
    'Nothing was written; rendered/ is unchanged. Fix the generator (generator/components, generator/k8s) so it renders valid objects.',
    '',
  ].join('\n');
}
