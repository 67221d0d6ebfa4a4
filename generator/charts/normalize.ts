/**
 * The one step between `helm template` and rendered/: what changes in a
 * chart's output before it is written, each rule with its reason.
 *
 * 1. Null values are dropped. The API server reads an explicit `null` as an
 *    absent field, but strict schema validation refuses it. Upstream charts
 *    emit three: `Role argocd-repo-server` `rules: null`, `Service
 *    longhorn-frontend` `nodePort: null` and the Tailscale operator's
 *    `OPERATOR_LOGIN_SERVER` `value: null`. Dropping them writes exactly what
 *    the cluster stores.
 * 2. Namespaced resources without a namespace get the release namespace,
 *    which is where Argo CD would put them (the Application's destination);
 *    writing it makes file names, gates and reviews say where each object lives.
 * 3. CustomResourceDefinitions are never pruned nor deleted with their
 *    Application (deleting a CRD deletes every object of its kind, Longhorn
 *    volumes included), and always sync with server-side apply (the large ones
 *    exceed client-side apply's annotation limit).
 * 4. PodDisruptionBudgets get `unhealthyPodEvictionPolicy: AlwaysAllow` when
 *    the chart leaves it out (policy rule pdb-unhealthy-eviction): the pinned
 *    argo-cd and external-secrets charts have no value for it, and a budget
 *    that counts unready pods blocks node drains while a pod crash-loops.
 *
 * Nothing else is touched: labels, annotations (Helm hooks included) and
 * values stay as the chart wrote them.
 */
import { SYNC_OPTIONS_ANNOTATION } from '../argocd/application.js';
import { CLUSTER_SCOPED_KINDS, isNamespaced, type Scope } from '../k8s/api-scope.js';
import type { Manifest } from '../render-environment.js';
import { UNHEALTHY_POD_EVICTION_POLICY } from '../k8s/workload.js';

/** Sync options of every rendered CRD. */
export const CRD_SYNC_OPTIONS = 'Prune=false,Delete=false,ServerSideApply=true';

/** Drops every mapping entry whose value is null, at any depth. Returns how many were dropped. */
export function dropNulls(value: unknown): number {
  let dropped = 0;
  if (Array.isArray(value)) {
    for (const item of value) dropped += dropNulls(item);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (record[key] === null) {
        delete record[key];
        dropped++;
      } else dropped += dropNulls(record[key]);
    }
  }
  return dropped;
}

/** Applies the three rules to one manifest in place. */
export function normalizeManifest(manifest: Manifest, namespace: string, scope: Scope): { nullsDropped: number; unknownScope: boolean } {
  const nullsDropped = dropNulls(manifest);
  const namespaced = isNamespaced(manifest, scope);
  if (namespaced === true && !manifest.metadata.namespace) manifest.metadata.namespace = namespace;
  if (manifest.kind === 'CustomResourceDefinition') {
    const annotations = (manifest.metadata.annotations ?? {}) as Record<string, string>;
    annotations[SYNC_OPTIONS_ANNOTATION] = CRD_SYNC_OPTIONS;
    manifest.metadata.annotations = annotations;
  }
  if (manifest.kind === 'PodDisruptionBudget') {
    const spec = (manifest.spec ?? {}) as Record<string, unknown>;
    spec['unhealthyPodEvictionPolicy'] ??= UNHEALTHY_POD_EVICTION_POLICY;
    manifest.spec = spec;
  }
  return { nullsDropped, unknownScope: namespaced === undefined };
}

/** `--api-versions` values for the CRDs among `manifests`: `group/version` and `group/version/Kind` of every served version. */
export function crdApiVersions(manifests: readonly Manifest[]): string[] {
  const versions = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.kind !== 'CustomResourceDefinition') continue;
    const spec = manifest.spec as { group?: string; names?: { kind?: string }; versions?: { name?: string; served?: boolean }[] } | undefined;
    if (!spec?.group || !spec.names?.kind) continue;
    for (const version of spec.versions ?? []) {
      if (!version.name || version.served === false) continue;
      versions.add(`${spec.group}/${version.name}`);
      versions.add(`${spec.group}/${version.name}/${spec.names.kind}`);
    }
  }
  return [...versions].sort();
}

/** The code of these rules: part of the hydration cache key, so changing a rule re-renders every chart. */
export const NORMALIZATION = [dropNulls, isNamespaced, normalizeManifest, [...CLUSTER_SCOPED_KINDS].join(','), CRD_SYNC_OPTIONS, UNHEALTHY_POD_EVICTION_POLICY].map(String).join('\n');
