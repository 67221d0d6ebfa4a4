/** Cluster hygiene: namespaces, network isolation, data safety of volumes. */
import { isNamespaced, scopeOf } from '../../k8s/api-scope.js';
import { SYNC_OPTIONS_ANNOTATION as SYNC_OPTIONS } from '../../argocd/application.js';
import { podTemplates } from './pods.js';
import { get, isRecord, namespaceOf, selects, violation, type PolicyRule, type Violation } from './rule.js';

const POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';

function keepsData(annotations: Record<string, string> | undefined): boolean {
  const options = (annotations?.[SYNC_OPTIONS] ?? '').split(',').map((option) => option.trim());
  return options.includes('Prune=false') && options.includes('Delete=false');
}

export const PLATFORM_RULES: PolicyRule[] = [
  {
    id: 'network-policy-selects-pod',
    reason: 'A pod no NetworkPolicy selects accepts traffic from anywhere and can reach the node metadata service.',
    mirrors: ['kube-score pod-networkpolicy', 'kube-linter non-isolated-pod'],
    check: (context) => {
      const policies = context.ofKind('NetworkPolicy');
      return podTemplates(context.docs)
        .filter((pod) => !policies.some((policy) => namespaceOf(policy.object) === namespaceOf(pod.doc.object) && selects(get(policy.object, ['spec', 'podSelector']), pod.labels)))
        .map((pod) => violation(pod.doc, [...pod.specPath.slice(0, -1), 'metadata', 'labels'], `no NetworkPolicy in namespace ${namespaceOf(pod.doc.object) ?? '(none)'} selects these pods; add a default-deny policy and the allows they need`));
    },
  },
  {
    id: 'no-default-namespace',
    reason: 'Objects in `default` escape the per-namespace policies, quotas and Argo CD project limits.',
    mirrors: ['checkov CKV_K8S_21'],
    check: (context) => {
      // Namespaced unless the API or a CRD of the tree says it is cluster-scoped (a kind of unknown scope counts as namespaced).
      const scope = scopeOf(context.docs.map((doc) => doc.object));
      return context.docs
        .filter((doc) => isNamespaced(doc.object, scope) !== false)
        .filter((doc) => namespaceOf(doc.object) === undefined || namespaceOf(doc.object) === 'default')
        .map((doc) => violation(doc, ['metadata', 'namespace'], `is in the ${namespaceOf(doc.object) === undefined ? 'implicit ' : ''}default namespace; set metadata.namespace to the component's namespace`));
    },
  },
  {
    id: 'pvc-data-safety',
    reason: 'Neither an Argo CD prune nor deleting an Application may delete a volume holding data.',
    mirrors: ['Argo CD sync options Prune=false / Delete=false (project rule)'],
    check: (context) => {
      const found: Violation[] = [];
      const withClaims = new Set<string>();
      for (const claim of context.ofKind('PersistentVolumeClaim')) {
        withClaims.add(namespaceOf(claim.object) ?? '');
        if (!keepsData(claim.object.metadata?.annotations)) found.push(violation(claim, ['metadata', 'annotations', SYNC_OPTIONS], `must carry ${SYNC_OPTIONS}: Prune=false,Delete=false`));
      }
      for (const namespace of context.ofKind('Namespace')) {
        if (withClaims.has(String(namespace.object.metadata?.name)) && !keepsData(namespace.object.metadata?.annotations)) {
          found.push(violation(namespace, ['metadata', 'annotations', SYNC_OPTIONS], `holds a PersistentVolumeClaim, so it must carry ${SYNC_OPTIONS}: Prune=false,Delete=false`));
        }
      }
      return found;
    },
  },
  {
    id: 'pod-security-restricted',
    reason: 'Every namespace enforces the restricted Pod Security Standard, so the API server rejects what the policy would.',
    mirrors: ['PSS restricted via Pod Security Admission (pod-security.kubernetes.io/enforce)'],
    check: (context) =>
      context.ofKind('Namespace').flatMap((namespace) => {
        const labels = namespace.object.metadata?.labels;
        return isRecord(labels) && labels[POD_SECURITY_ENFORCE] === 'restricted'
          ? []
          : [violation(namespace, ['metadata', 'labels', POD_SECURITY_ENFORCE], `must be labelled ${POD_SECURITY_ENFORCE}: restricted`)];
      }),
  },
];
