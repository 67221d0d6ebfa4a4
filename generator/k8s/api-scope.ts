/**
 * Which kinds are namespaced: the Kubernetes API's own cluster-scoped kinds,
 * and for custom resources the scope their CRD declares. The CRDs are part of
 * the rendered tree (the hydrated charts), so no custom kind is listed here.
 */

/** Kinds of the Kubernetes API that are cluster-scoped (every other built-in kind is namespaced). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'ClusterTrustBundle',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'DeviceClass',
  'FlowSchema',
  'IngressClass',
  'IPAddress',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'RuntimeClass',
  'ServiceCIDR',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
  'VolumeAttributesClass',
]);

interface Typed {
  apiVersion?: unknown;
  kind?: unknown;
  spec?: unknown;
}

export interface Scope {
  /** `group/Kind` of custom resources, from the CRDs the environment renders. */
  namespacedCustomKinds: ReadonlySet<string>;
  clusterCustomKinds: ReadonlySet<string>;
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/** Built-in API groups: the core group, `*.k8s.io` and the dot-less ones (apps, batch, policy, …). */
export function isBuiltInGroup(group: string): boolean {
  return group === '' || group.endsWith('.k8s.io') || !group.includes('.');
}

/** Whether an object's kind is namespaced, or undefined when neither the API nor a rendered CRD says. */
export function isNamespaced(object: Typed, scope: Scope): boolean | undefined {
  const group = groupOf(String(object.apiVersion ?? ''));
  const key = `${group}/${String(object.kind)}`;
  if (scope.clusterCustomKinds.has(key)) return false;
  if (scope.namespacedCustomKinds.has(key)) return true;
  if (!isBuiltInGroup(group)) return undefined;
  return !CLUSTER_SCOPED_KINDS.has(String(object.kind));
}

/** The scopes the CRDs among `objects` declare. */
export function scopeOf(objects: readonly Typed[]): Scope {
  const namespacedCustomKinds = new Set<string>();
  const clusterCustomKinds = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition') continue;
    const spec = object.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (!spec?.group || !spec.names?.kind) continue;
    (spec.scope === 'Cluster' ? clusterCustomKinds : namespacedCustomKinds).add(`${spec.group}/${spec.names.kind}`);
  }
  return { namespacedCustomKinds, clusterCustomKinds };
}
