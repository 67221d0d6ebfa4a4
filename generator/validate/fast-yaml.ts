/**
 * Fast reading of rendered manifests. js-yaml builds plain objects about ten
 * times faster than the `yaml` library builds its positioned documents, which
 * the gates need only to name the line of a finding; so manifests are read
 * with js-yaml and positions are computed lazily, for the few files that have
 * a finding.
 *
 * Kubernetes reads YAML 1.1: an unquoted yes/no/on/off is a boolean there. The
 * core schema plus those booleans reads manifests the way the cluster will
 * (timestamps stay strings, as they do once Kubernetes turns YAML into JSON).
 */
import { CORE_SCHEMA, loadAll, Type } from 'js-yaml';

const YAML_1_1_BOOLEANS: Record<string, boolean> = {};
for (const word of ['true', 'y', 'yes', 'on']) for (const form of [word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1)]) YAML_1_1_BOOLEANS[form] = true;
for (const word of ['false', 'n', 'no', 'off']) for (const form of [word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1)]) YAML_1_1_BOOLEANS[form] = false;

const yaml11Boolean = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && data in YAML_1_1_BOOLEANS,
  construct: (data: string) => YAML_1_1_BOOLEANS[data],
});

/** Core schema with YAML 1.1 booleans (this type replaces the core boolean, so it knows true and false too). */
export const KUBERNETES_YAML_SCHEMA = CORE_SCHEMA.extend({ implicit: [yaml11Boolean] });

/** Every document of a YAML text as plain data; throws js-yaml's error (with its line) on invalid YAML. */
export function loadDocuments(text: string): unknown[] {
  return loadAll(text, undefined, { schema: KUBERNETES_YAML_SCHEMA, json: false }) as unknown[];
}
