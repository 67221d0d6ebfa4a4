/**
 * The render command's gate: schema-validates the rendered trees in memory,
 * before anything is written, so `npm run render` never writes an invalid
 * manifest. Only ajv runs here (in-process, lazily compiled per kind); the
 * full gates run in `npm run validate`.
 */
import { formatFinding, type Finding } from './findings.js';
import { environmentKubernetesVersion, parseRendered } from './manifests.js';
import { schemaFindingsOf } from './schema-validator.js';
import type { Tree } from '../write-rendered.js';

/** `known`: per environment, the files whose object the render holds (hydrated chart files), validated without a second parse. */
export function schemaFindings(root: string, trees: Map<string, Tree>, known?: ReadonlyMap<string, ReadonlyMap<string, object>>): Finding[] {
  return [...trees].flatMap(([env, files]) => {
    const kubernetes = environmentKubernetesVersion(root, env);
    const held = known?.get(env);
    const { docs, problems } = parseRendered({ env, kubernetes, files, ...(held ? { known: held } : {}) });
    return schemaFindingsOf(docs, problems, kubernetes);
  });
}

/** A message for people when a rendered manifest is invalid, else undefined. */
export function invalidRenderMessage(root: string, trees: Map<string, Tree>, known?: ReadonlyMap<string, ReadonlyMap<string, object>>): string | undefined {
  const findings = schemaFindings(root, trees, known);
  if (findings.length === 0) return undefined;
  return [
    `${findings.length} rendered manifest problem${findings.length === 1 ? '' : 's'} (Kubernetes/CRD schema, strict):`,
    ...findings.map((finding) => `  ${formatFinding(finding)}`),
    '',
    'Nothing was written; rendered/ is unchanged. Fix the generator (generator/components, generator/k8s) so it renders valid objects.',
    '',
  ].join('\n');
}
