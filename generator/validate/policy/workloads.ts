/** Reliability rules: resources, probes, disruption budgets, pinned images, Services that select something. */
import { isDeepStrictEqual } from 'node:util';
import { containersOf, podTemplates, type PodTemplate } from './pods.js';
import { get, isRecord, mapSelects, namespaceOf, selects, violation, type PolicyContext, type PolicyRule, type Violation } from './rule.js';

function servedPods(context: PolicyContext): { pod: PodTemplate; service: string }[] {
  const pods = podTemplates(context.docs);
  return context.ofKind('Service').flatMap((service) => {
    const selector = get(service.object, ['spec', 'selector']);
    return pods
      .filter((pod) => namespaceOf(pod.doc.object) === namespaceOf(service.object) && mapSelects(selector, pod.labels))
      .map((pod) => ({ pod, service: String(service.object.metadata?.name) }));
  });
}

/** `0`, `"0"` and `"0%"` allow no disruption; so does minAvailable equal to (or above) the replicas. */
function allowsDisruption(spec: Record<string, unknown>, replicas: number): boolean {
  const asCount = (value: unknown, ofTotal: number): number | undefined => {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\d+%$/.test(value)) return Math.floor((Number(value.slice(0, -1)) / 100) * ofTotal);
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
    return undefined;
  };
  if (spec.maxUnavailable !== undefined) return (asCount(spec.maxUnavailable, replicas) ?? 0) > 0;
  if (spec.minAvailable !== undefined) {
    const min = typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%') ? Math.ceil((Number(spec.minAvailable.slice(0, -1)) / 100) * replicas) : asCount(spec.minAvailable, replicas);
    return min !== undefined && min < replicas;
  }
  return false;
}

export const WORKLOAD_RULES: PolicyRule[] = [
  {
    id: 'resource-requests',
    reason: 'The scheduler places pods by their requests; without them a node is overcommitted silently.',
    mirrors: ['checkov CKV_K8S_10', 'checkov CKV_K8S_12', 'kube-score container-resources', 'kube-linter unset-cpu-requirements', 'kube-linter unset-memory-requirements'],
    check: (context) =>
      podTemplates(context.docs).flatMap((pod) =>
        containersOf(pod, ['initContainers', 'containers']).flatMap((ref) =>
          ['cpu', 'memory']
            .filter((resource) => get(ref.container, ['resources', 'requests', resource]) === undefined)
            .map((resource) => violation(pod.doc, [...ref.path, 'resources', 'requests', resource], `container "${String(ref.container.name)}" has no ${resource} request`)),
        ),
      ),
  },
  {
    id: 'memory-limit',
    reason: 'A container without a memory limit can take the node down with it when it leaks.',
    mirrors: ['checkov CKV_K8S_13', 'kube-score container-resources', 'kube-linter unset-memory-requirements'],
    check: (context) =>
      podTemplates(context.docs).flatMap((pod) =>
        containersOf(pod, ['initContainers', 'containers'])
          .filter((ref) => get(ref.container, ['resources', 'limits', 'memory']) === undefined)
          .map((ref) => violation(pod.doc, [...ref.path, 'resources', 'limits', 'memory'], `container "${String(ref.container.name)}" has no memory limit`)),
      ),
  },
  {
    id: 'readiness-probe',
    reason: 'A Service sends traffic to a pod as soon as it is ready; without a readiness probe that is before the app can answer.',
    mirrors: ['kube-score pod-probes', 'checkov CKV_K8S_9', 'kube-linter no-readiness-probe'],
    check: (context) =>
      servedPods(context).flatMap(({ pod, service }) =>
        containersOf(pod, ['containers'])
          .filter((ref) => ref.container.readinessProbe === undefined)
          .map((ref) => violation(pod.doc, [...ref.path, 'readinessProbe'], `container "${String(ref.container.name)}" sits behind Service "${service}" but has no readinessProbe`)),
      ),
  },
  {
    id: 'liveness-differs-from-readiness',
    reason: 'Identical probes restart a pod that is only busy, turning a slow dependency into a restart loop.',
    mirrors: ['kube-score pod-probes'],
    check: (context) =>
      podTemplates(context.docs).flatMap((pod) =>
        containersOf(pod, ['containers'])
          .filter((ref) => ref.container.livenessProbe !== undefined && isDeepStrictEqual(ref.container.livenessProbe, ref.container.readinessProbe))
          .map((ref) => violation(pod.doc, [...ref.path, 'livenessProbe'], `container "${String(ref.container.name)}" uses the same liveness and readiness probe; liveness should check only that the process is alive`)),
      ),
  },
  {
    id: 'pod-disruption-budget',
    reason: 'With several replicas, node drains must keep some serving and still be able to evict one.',
    mirrors: ['kube-score deployment-has-poddisruptionbudget', 'kube-score poddisruptionbudget-has-policy', 'kube-linter pdb-max-unavailable', 'kube-linter pdb-min-available'],
    check: (context) => {
      const budgets = context.ofKind('PodDisruptionBudget');
      const found: Violation[] = [];
      for (const pod of podTemplates(context.docs)) {
        if (pod.replicas === undefined || pod.replicas <= 1) continue;
        const matching = budgets.filter((budget) => namespaceOf(budget.object) === namespaceOf(pod.doc.object) && selects(get(budget.object, ['spec', 'selector']), pod.labels));
        if (matching.length === 0) {
          found.push(violation(pod.doc, ['spec', 'replicas'], `${pod.replicas} replicas but no PodDisruptionBudget selects the pods; add one with maxUnavailable: 1`));
          continue;
        }
        for (const budget of matching) {
          const spec = get(budget.object, ['spec']);
          if (!isRecord(spec) || !allowsDisruption(spec, pod.replicas)) {
            found.push(violation(budget, ['spec'], `allows no voluntary disruption of ${pod.doc.resource} (${pod.replicas} replicas): node drains would hang; use maxUnavailable: 1`));
          }
        }
      }
      return found;
    },
  },
  {
    id: 'pdb-unhealthy-eviction',
    reason:
      "A PodDisruptionBudget counts pods that are running but not Ready as the ones it protects: with the default policy a crash-looping replica blocks every node drain and upgrade. AlwaysAllow lets the eviction of unhealthy pods through.",
    mirrors: ['kube-linter pdb-unhealthy-pod-eviction-policy'],
    check: (context) =>
      context.ofKind('PodDisruptionBudget').flatMap((budget) => {
        const policy = get(budget.object, ['spec', 'unhealthyPodEvictionPolicy']);
        return policy === 'AlwaysAllow'
          ? []
          : [violation(budget, ['spec', 'unhealthyPodEvictionPolicy'], `unhealthyPodEvictionPolicy is ${policy === undefined ? 'not set (IfHealthyBudget)' : String(policy)}; set spec.unhealthyPodEvictionPolicy: AlwaysAllow so unready pods never block a drain`)];
      }),
  },
  {
    id: 'image-tag-pinned',
    reason: 'An image without a pinned tag changes under the same manifest: nothing is reproducible.',
    mirrors: ['checkov CKV_K8S_14', 'kube-score container-image-tag', 'kube-linter latest-tag'],
    check: (context) =>
      podTemplates(context.docs).flatMap((pod) =>
        containersOf(pod).flatMap((ref) => {
          const image = String(ref.container.image ?? '');
          if (image.includes('@sha256:')) return [];
          const lastSegment = image.slice(image.lastIndexOf('/') + 1);
          const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
          return tag === '' || tag === 'latest'
            ? [violation(pod.doc, [...ref.path, 'image'], `image "${image}" is ${tag === '' ? 'untagged' : 'tagged latest'}; pin a version tag (Renovate updates it)`)]
            : [];
        }),
      ),
  },
  {
    id: 'dangling-service',
    reason: 'A Service whose selector matches no rendered pod sends traffic nowhere.',
    mirrors: ['kube-linter dangling-service'],
    check: (context) => {
      const pods = podTemplates(context.docs);
      return context.ofKind('Service').flatMap((service) => {
        const selector = get(service.object, ['spec', 'selector']);
        if (get(service.object, ['spec', 'type']) === 'ExternalName' || !isRecord(selector)) return [];
        const matched = pods.some((pod) => namespaceOf(pod.doc.object) === namespaceOf(service.object) && mapSelects(selector, pod.labels));
        return matched ? [] : [violation(service, ['spec', 'selector'], 'selects no pod rendered in this namespace')];
      });
    },
  },
];
