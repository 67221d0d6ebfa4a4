/**
 * Proves the controllers could create every Pod the rendered workloads ask
 * for: admission (PodSecurity on the namespace labels, the ServiceAccount
 * plugin, quotas, ...) judges each Pod when the ReplicaSet, StatefulSet, Job or
 * DaemonSet controller creates it, and a refusal shows only as a FailedCreate
 * event on the controller's object. No kubelet runs, so the Pods stay Pending:
 * creation is what is proved, not that the containers start.
 */
import type { Manifest } from '../../generator/validate/manifests.js';
import type { Kubectl } from './kubectl.js';
import { sleep } from './processes.js';

export interface Workload {
  kind: 'Deployment' | 'StatefulSet' | 'Job' | 'DaemonSet';
  namespace: string;
  name: string;
  /** Pods the controller creates at once without any Pod becoming Ready. */
  expected: number;
}

export interface WorkloadResult extends Workload {
  pods: string[];
  /** FailedCreate messages seen, even when the Pods were created later (transient). */
  failedCreate: string[];
  ok: boolean;
  problem?: string;
}

interface Owned {
  kind: string;
  metadata: { name: string; namespace: string; ownerReferences?: { kind: string; name: string }[] };
}

interface KubeEvent {
  reason?: string;
  message?: string;
  involvedObject: { kind: string; name: string; namespace?: string };
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'] as const;

/**
 * What each rendered workload should produce at once: a Deployment all its
 * replicas; a StatefulSet (OrderedReady) its first Pod only, as the next waits
 * for it to be Ready; a Job min(parallelism, completions); a DaemonSet one per
 * Node (the test registers one).
 */
export function workloadsOf(objects: Manifest[], nodes: number): Workload[] {
  return objects.flatMap((object) => {
    const kind = object.kind as Workload['kind'];
    if (!WORKLOAD_KINDS.includes(kind)) return [];
    const spec = (object.spec ?? {}) as { replicas?: number; parallelism?: number; completions?: number; podManagementPolicy?: string; suspend?: boolean };
    const replicas = spec.replicas ?? 1;
    const expected =
      kind === 'Deployment' ? replicas
      : kind === 'StatefulSet' ? (spec.podManagementPolicy === 'Parallel' ? replicas : Math.min(replicas, 1))
      : kind === 'Job' ? (spec.suspend ? 0 : Math.min(spec.parallelism ?? 1, spec.completions ?? spec.parallelism ?? 1))
      : nodes;
    return [{ kind, namespace: object.metadata?.namespace ?? 'default', name: object.metadata?.name ?? '', expected }];
  });
}

const key = (kind: string, namespace: string, name: string) => `${kind} ${namespace}/${name}`;

/** ReplicaSet key → the Deployment key that owns it. */
function replicaSetOwners(items: Owned[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const item of items.filter((item) => item.kind === 'ReplicaSet')) {
    const owner = item.metadata.ownerReferences?.find((reference) => reference.kind === 'Deployment');
    if (owner) owners.set(key('ReplicaSet', item.metadata.namespace, item.metadata.name), key('Deployment', item.metadata.namespace, owner.name));
  }
  return owners;
}

/** Maps each Pod to the rendered workload that owns it (through its ReplicaSet for a Deployment). */
function podsByWorkload(items: Owned[], replicaSets: Map<string, string>): Map<string, string[]> {
  const pods = new Map<string, string[]>();
  for (const pod of items.filter((item) => item.kind === 'Pod')) {
    for (const reference of pod.metadata.ownerReferences ?? []) {
      const direct = key(reference.kind, pod.metadata.namespace, reference.name);
      const workload = reference.kind === 'ReplicaSet' ? replicaSets.get(direct) : direct;
      if (workload) pods.set(workload, [...(pods.get(workload) ?? []), pod.metadata.name]);
    }
  }
  return pods;
}

/** Who a FailedCreate event is about, as the rendered workload's key. */
function eventWorkload(event: KubeEvent, replicaSets: Map<string, string>): string {
  const direct = key(event.involvedObject.kind, event.involvedObject.namespace ?? '', event.involvedObject.name);
  return event.involvedObject.kind === 'ReplicaSet' ? replicaSets.get(direct) ?? direct : direct;
}

/**
 * Waits until each workload has its Pods, failing a workload at once on a
 * PodSecurity refusal (permanent) and the rest at the deadline.
 */
export async function verifyWorkloads(kubectl: Kubectl, workloads: Workload[], timeoutMs = 180_000): Promise<WorkloadResult[]> {
  const deadline = Date.now() + timeoutMs;
  const failed = new Map<string, Set<string>>();
  for (;;) {
    const list = await kubectl.json<{ items: Owned[] }>(['get', 'pods,replicasets', '--all-namespaces']);
    const events = await kubectl.json<{ items: KubeEvent[] }>(['get', 'events', '--all-namespaces', '--field-selector', 'reason=FailedCreate']);
    const replicaSets = replicaSetOwners(list.items);
    for (const event of events.items) {
      const workload = eventWorkload(event, replicaSets);
      failed.set(workload, (failed.get(workload) ?? new Set()).add(event.message ?? '(no message)'));
    }
    const pods = podsByWorkload(list.items, replicaSets);
    const results = workloads.map((workload): WorkloadResult => {
      const id = key(workload.kind, workload.namespace, workload.name);
      const own = pods.get(id) ?? [];
      const failedCreate = [...(failed.get(id) ?? [])];
      const refused = failedCreate.find((message) => message.includes('violates PodSecurity'));
      if (refused) return { ...workload, pods: own, failedCreate, ok: false, problem: `a Pod was refused: ${refused}` };
      return { ...workload, pods: own, failedCreate, ok: own.length >= workload.expected };
    });
    const settled = results.every((result) => result.ok || result.problem);
    if (settled || Date.now() > deadline) {
      return results.map((result) =>
        result.ok || result.problem ? result : { ...result, problem: `${result.pods.length} of ${result.expected} Pods created after ${Math.round(timeoutMs / 1000)} s${result.failedCreate.length ? `; FailedCreate: ${result.failedCreate.join(' | ')}` : ''}` },
      );
    }
    await sleep(2000);
  }
}

/**
 * A Node object like K3s's single server node, so DaemonSets create their
 * Pods. Marked Ready once; no kubelet renews it, which is fine for creation.
 */
export async function registerNode(kubectl: Kubectl, name: string): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'node-role.kubernetes.io/control-plane': 'true' } },
  };
  const created = await kubectl.run(['create', '-f', '-'], JSON.stringify(node));
  if (!created.ok) throw new Error(`registering Node ${name}: ${created.stderr}`);
  const now = new Date().toISOString();
  const status = { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterTest', message: 'registered by the cluster test (no kubelet)', lastHeartbeatTime: now, lastTransitionTime: now }] } };
  const patched = await kubectl.run(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
  if (!patched.ok) throw new Error(`marking Node ${name} Ready: ${patched.stderr}`);
}
