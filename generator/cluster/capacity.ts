/**
 * The capacity check: the CPU and memory requests of every pod the render
 * produces (each pod template in the rendered resources: Deployments times
 * their replicas or their autoscaler's minimum, StatefulSets, DaemonSets once
 * per node, Jobs as one-off pods), against what the instance types offer at
 * the minimum node count, less what each node keeps for itself. Pods of Helm
 * charts are counted as soon as the charts are rendered into rendered/.
 */
import type { ConfigIssue } from '../config/errors.js';
import type { EnvConfig } from '../config/schema.js';
import type { Manifest } from '../render-environment.js';
import { INSTANCE_TYPES } from './instance-types.js';
import { schedulableNodes } from './topology.js';

/**
 * What a node keeps from the scheduler, our estimate (not measured): the OS,
 * the kubelet and containerd, and on a server the K3s control plane with
 * embedded etcd and K3s's own pods (CoreDNS, metrics-server, local-path).
 */
export const NODE_RESERVE = {
  server: { milliCpu: 1000, bytes: 2 * 2 ** 30 },
  agent: { milliCpu: 250, bytes: 2 ** 30 },
} as const;

export interface Resources {
  milliCpu: number;
  bytes: number;
}

export interface PodGroup {
  /** `Kind namespace/name`. */
  owner: string;
  pods: number;
  /** Requests of one pod. */
  each: Resources;
  /** Jobs run once and finish; they need room only while they run. */
  oneOff: boolean;
}

export interface CapacityBudget {
  nodes: { servers: number; agents: number; serverType: string; agentType: string };
  /** Allocatable at the minimum node count (instance capacity less the reserves). */
  allocatable: Resources;
  /** Pods that run all the time. */
  steady: Resources;
  /** The largest one-off pod (a migration Job), which must fit beside them. */
  largestOneOff: Resources;
  /** Requests at the autoscalers' maximum. */
  atMaximum: Resources;
  groups: PodGroup[];
}

const CPU = /^([0-9]+(?:\.[0-9]+)?)(m?)$/;
const MEMORY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_FACTORS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function milliCpu(quantity: unknown): number {
  const match = CPU.exec(String(quantity ?? '0'));
  if (!match) throw new Error(`not a CPU quantity: ${String(quantity)}`);
  return match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
}

export function memoryBytes(quantity: unknown): number {
  const match = MEMORY.exec(String(quantity ?? '0'));
  if (!match) throw new Error(`not a memory quantity: ${String(quantity)}`);
  return Number(match[1]) * MEMORY_FACTORS[match[2] ?? '']!;
}

type Json = Record<string, any>;

function requestsOf(containers: Json[] | undefined): Resources[] {
  return (containers ?? []).map((container) => ({ milliCpu: milliCpu(container['resources']?.requests?.cpu), bytes: memoryBytes(container['resources']?.requests?.memory) }));
}

const sum = (items: Resources[]): Resources => items.reduce((total, item) => ({ milliCpu: total.milliCpu + item.milliCpu, bytes: total.bytes + item.bytes }), { milliCpu: 0, bytes: 0 });
const max = (a: Resources, b: Resources): Resources => ({ milliCpu: Math.max(a.milliCpu, b.milliCpu), bytes: Math.max(a.bytes, b.bytes) });
const times = (r: Resources, n: number): Resources => ({ milliCpu: r.milliCpu * n, bytes: r.bytes * n });

/** What the scheduler reserves for one pod: its containers, or its largest init container if that is more. */
export function podRequests(spec: Json): Resources {
  return max(sum(requestsOf(spec['containers'])), requestsOf(spec['initContainers']).reduce(max, { milliCpu: 0, bytes: 0 }));
}

const TEMPLATE: Record<string, string[]> = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};

/** Every pod the manifests run, grouped by owner; autoscaled counts at their minimum (and maximum). */
export function podGroups(manifests: Manifest[], nodes: number): (PodGroup & { maxPods: number })[] {
  const autoscalers = manifests.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler') as Json[];
  const groups: (PodGroup & { maxPods: number })[] = [];
  for (const manifest of manifests) {
    const path = TEMPLATE[manifest.kind];
    if (!path) continue;
    const spec = path.reduce<Json | undefined>((value, key) => value?.[key], manifest as Json);
    if (!spec) continue;
    const { name, namespace } = manifest.metadata;
    const hpa = autoscalers.find((a) => a['metadata'].namespace === namespace && a['spec'].scaleTargetRef.kind === manifest.kind && a['spec'].scaleTargetRef.name === name);
    const declared = (manifest as Json)['spec']?.replicas as number | undefined;
    const pods = manifest.kind === 'DaemonSet' ? nodes : manifest.kind === 'Job' ? ((manifest as Json)['spec'].parallelism ?? 1) : manifest.kind === 'CronJob' || manifest.kind === 'Pod' ? 1 : (declared ?? hpa?.['spec'].minReplicas ?? 1);
    groups.push({ owner: `${manifest.kind} ${namespace ?? ''}/${name}`, pods, maxPods: hpa ? Math.max(pods, hpa['spec'].maxReplicas) : pods, each: podRequests(spec), oneOff: manifest.kind === 'Job' || manifest.kind === 'CronJob' });
  }
  return groups;
}

function capacityOf(type: string): Resources | undefined {
  const known = INSTANCE_TYPES.get(type);
  return known ? { milliCpu: known.vcpus * 1000, bytes: known.memoryGiB * 2 ** 30 } : undefined;
}

function issue(config: EnvConfig, path: string, problem: string, expected: string, fix: string): ConfigIssue {
  return { file: `environments/${config.name}.yaml`, path, problem, expected, fix };
}

export const formatCpu = (r: Resources) => `${(r.milliCpu / 1000).toFixed(2)} vCPU`;
export const formatMemory = (r: Resources) => `${(r.bytes / 2 ** 30).toFixed(1)} GiB`;

/** The budget of an environment and the problems that make it unschedulable (none when it fits). */
export function capacityBudget(config: EnvConfig, manifests: Manifest[]): { budget?: CapacityBudget; issues: ConfigIssue[] } {
  const { servers, agents } = config.cluster;
  const issues: ConfigIssue[] = [];
  const serverType = capacityOf(config.node.instanceType);
  const agentType = capacityOf(agents.instanceType);
  const known = [...INSTANCE_TYPES.keys()].filter((type) => type.endsWith('.xlarge')).join(', ');
  if (!serverType) issues.push(issue(config, 'node.instanceType', `the capacity check does not know instance type ${config.node.instanceType}`, `one of the types in generator/cluster/instance-types.ts (e.g. ${known})`, `add ${config.node.instanceType} with its vCPUs and memory to generator/cluster/instance-types.ts, or choose a listed type`));
  if (agents.max > 0 && !agentType) issues.push(issue(config, 'cluster.agents.instanceType', `the capacity check does not know instance type ${agents.instanceType}`, `one of the types in generator/cluster/instance-types.ts (e.g. ${known})`, `add ${agents.instanceType} to generator/cluster/instance-types.ts, or choose a listed type`));
  if (!serverType || (agents.max > 0 && !agentType)) return { issues };

  const perServer = { milliCpu: serverType.milliCpu - NODE_RESERVE.server.milliCpu, bytes: serverType.bytes - NODE_RESERVE.server.bytes };
  const perAgent = agentType ? { milliCpu: agentType.milliCpu - NODE_RESERVE.agent.milliCpu, bytes: agentType.bytes - NODE_RESERVE.agent.bytes } : { milliCpu: 0, bytes: 0 };
  const allocatable = sum([times(perServer, servers), times(perAgent, agents.min)]);
  const groups = podGroups(manifests, schedulableNodes(config));
  const steady = sum(groups.filter((group) => !group.oneOff).map((group) => times(group.each, group.pods)));
  const largestOneOff = groups.filter((group) => group.oneOff).map((group) => group.each).reduce(max, { milliCpu: 0, bytes: 0 });
  const atMaximum = sum(groups.filter((group) => !group.oneOff).map((group) => times(group.each, group.maxPods)));
  const budget: CapacityBudget = { nodes: { servers, agents: agents.min, serverType: config.node.instanceType, agentType: agents.instanceType }, allocatable, steady, largestOneOff, atMaximum, groups };

  const needed = sum([steady, largestOneOff]);
  const shape = `${servers} × ${config.node.instanceType}${agents.min > 0 ? ` + ${agents.min} × ${agents.instanceType}` : ''}`;
  const fix = agents.max > 0 ? 'raise cluster.agents.min or choose larger instance types, or lower replicas and requests' : 'choose a larger node.instanceType, add agents (cluster.agents), or lower replicas and requests';
  if (needed.milliCpu > allocatable.milliCpu) {
    issues.push(issue(config, agents.max > 0 ? 'cluster.agents.min' : 'node.instanceType', `the pods request ${formatCpu(needed)} (steady ${formatCpu(steady)} plus the largest one-off Job) but ${shape} offer ${formatCpu(allocatable)} after each node's reserve`, `requests within ${formatCpu(allocatable)} at the minimum node count`, fix));
  }
  if (needed.bytes > allocatable.bytes) {
    issues.push(issue(config, agents.max > 0 ? 'cluster.agents.min' : 'node.instanceType', `the pods request ${formatMemory(needed)} of memory (steady ${formatMemory(steady)} plus the largest one-off Job) but ${shape} offer ${formatMemory(allocatable)} after each node's reserve`, `requests within ${formatMemory(allocatable)} at the minimum node count`, fix));
  }
  // Node kinds present at the minimum count: a pod must fit on one of them, a DaemonSet's pod on each.
  const kinds = agents.min > 0 ? [perServer, perAgent] : [perServer];
  const fits = (pod: Resources, node: Resources) => pod.milliCpu <= node.milliCpu && pod.bytes <= node.bytes;
  for (const group of groups) {
    const daemon = group.owner.startsWith('DaemonSet ');
    if (daemon ? kinds.every((node) => fits(group.each, node)) : kinds.some((node) => fits(group.each, node))) continue;
    const largest = kinds.reduce(max);
    issues.push(
      issue(
        config,
        'node.instanceType',
        `one pod of ${group.owner} requests ${formatCpu(group.each)} and ${formatMemory(group.each)}, more than ${daemon ? 'every' : 'any'} node offers (the largest: ${formatCpu(largest)}, ${formatMemory(largest)})`,
        daemon ? 'a DaemonSet pod that fits on every node' : 'every pod fits on one node',
        'lower its requests or choose a larger instance type',
      ),
    );
  }
  return { budget, issues };
}

/** The budget as the environment README shows it. */
export function budgetLines(budget: CapacityBudget): string[] {
  const { nodes } = budget;
  const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;
  const shape = `${nodes.servers} server(s) (${nodes.serverType})${nodes.agents > 0 ? ` and ${nodes.agents} agent(s) (${nodes.agentType})` : ''}`;
  return [
    '## Capacity',
    '',
    `At the minimum node count, ${shape}, after each node's reserve (server ${formatCpu({ milliCpu: NODE_RESERVE.server.milliCpu, bytes: 0 })} and ${formatMemory({ milliCpu: 0, bytes: NODE_RESERVE.server.bytes })}, agent ${formatCpu({ milliCpu: NODE_RESERVE.agent.milliCpu, bytes: 0 })} and ${formatMemory({ milliCpu: 0, bytes: NODE_RESERVE.agent.bytes })}). Requests of every pod in this folder; chart pods count once their charts are rendered here.`,
    '',
    '| | CPU | memory |',
    '| --- | ---: | ---: |',
    `| allocatable | ${formatCpu(budget.allocatable)} | ${formatMemory(budget.allocatable)} |`,
    `| requested by running pods | ${formatCpu(budget.steady)} (${pct(budget.steady.milliCpu, budget.allocatable.milliCpu)}) | ${formatMemory(budget.steady)} (${pct(budget.steady.bytes, budget.allocatable.bytes)}) |`,
    `| largest one-off Job beside them | ${formatCpu(budget.largestOneOff)} | ${formatMemory(budget.largestOneOff)} |`,
    `| at the autoscalers' maximum | ${formatCpu(budget.atMaximum)} | ${formatMemory(budget.atMaximum)} |`,
    '',
  ];
}
