/**
 * Replicas that survive a node or a zone: in the rendered trees no two
 * replicas of Open WebUI or LiteLLM are forced onto one node. Each
 * Deployment with several replicas (or an autoscaler's minimum above one)
 * spreads by hostname and zone with maxSkew 1, ignores tainted (lost) nodes,
 * pins itself to no node, and has a PodDisruptionBudget; in staging and prod
 * the spread is enforced (DoNotSchedule) and there are at least as many
 * schedulable nodes as replicas. The check fails on a tampered tree. It reads
 * the generator's own Deployments (the charts' workloads, hydrated into the
 * same folders, carry their charts' own anti-affinity and replica values).
 */
import { describe, expect, it } from 'vitest';
import { schedulableNodes } from '../generator/cluster/topology.js';
import type { EnvConfig } from '../generator/config/schema.js';
import type { Manifest } from '../generator/render-environment.js';
import { environment, render } from './support/environments.js';

type Json = Record<string, any>;

/** Why replicas of a Deployment could end up together on one node, or [] when they cannot be forced there. */
export function colocationRisks(manifests: Manifest[], config: EnvConfig): string[] {
  const risks: string[] = [];
  const nodes = schedulableNodes(config);
  for (const deployment of manifests.filter((manifest) => manifest.kind === 'Deployment')) {
    const { name, namespace } = deployment.metadata;
    const hpa = manifests.find((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.namespace === namespace && (m as Json)['spec'].scaleTargetRef.name === name) as Json | undefined;
    const replicas: number = (deployment as Json)['spec'].replicas ?? hpa?.['spec'].minReplicas ?? 1;
    if (replicas <= 1) continue;
    const where = `${namespace}/${name} (${replicas} replicas)`;
    const pod = (deployment as Json)['spec'].template.spec as Json;
    const labels = (deployment as Json)['spec'].selector.matchLabels;
    const constraints: Json[] = pod['topologySpreadConstraints'] ?? [];
    for (const key of ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']) {
      const constraint = constraints.find((c) => c['topologyKey'] === key);
      if (!constraint) risks.push(`${where}: no topology spread by ${key}`);
      else {
        if (constraint['maxSkew'] !== 1) risks.push(`${where}: ${key} spread allows a skew of ${constraint['maxSkew']}`);
        if (JSON.stringify(constraint['labelSelector']?.matchLabels) !== JSON.stringify(labels)) risks.push(`${where}: ${key} spread does not select the Deployment's own pods`);
        if (constraint['nodeTaintsPolicy'] !== 'Honor') risks.push(`${where}: ${key} spread counts tainted (lost) nodes`);
        if (constraint['whenUnsatisfiable'] !== config.cluster.whenUnsatisfiable) risks.push(`${where}: ${key} spread is ${constraint['whenUnsatisfiable']}, not cluster.whenUnsatisfiable ${config.cluster.whenUnsatisfiable}`);
      }
    }
    if (pod['nodeName'] || pod['nodeSelector']?.['kubernetes.io/hostname']) risks.push(`${where}: pinned to one node`);
    if (pod['affinity']?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution) risks.push(`${where}: required pod affinity pulls replicas together`);
    if (config.cluster.whenUnsatisfiable === 'DoNotSchedule' && nodes < replicas) risks.push(`${where}: only ${nodes} schedulable node(s)`);
    const budget = manifests.find((m) => m.kind === 'PodDisruptionBudget' && m.metadata.namespace === namespace && m.metadata.name === name) as Json | undefined;
    if (budget?.['spec'].maxUnavailable !== 1) risks.push(`${where}: no PodDisruptionBudget allowing one disruption`);
  }
  return risks;
}

const manifestsOf = (name: string) => render(environment(name)).resources.map(({ manifest }) => manifest);

describe.each(['dev', 'staging', 'prod'])('rendered/%s', (name) => {
  const config = environment(name).config;
  const manifests = manifestsOf(name);

  it('forces no two replicas of a component onto one node', () => {
    expect(colocationRisks(manifests, config)).toEqual([]);
  });
});

describe('staging and prod enforce the spread; dev, on one node, prefers it', () => {
  const spreadOf = (name: string, deployment: string) =>
    ((manifestsOf(name).find((m) => m.kind === 'Deployment' && m.metadata.name === deployment) as Json)['spec'].template.spec['topologySpreadConstraints'] ?? []) as Json[];

  it.each(['staging', 'prod'])('%s: Open WebUI and LiteLLM spread by hostname and zone with DoNotSchedule, LiteLLM autoscaled from its replica count', (name) => {
    for (const deployment of ['open-webui', 'litellm']) {
      expect(spreadOf(name, deployment).map((c) => [c['topologyKey'], c['whenUnsatisfiable']])).toEqual([
        ['kubernetes.io/hostname', 'DoNotSchedule'],
        ['topology.kubernetes.io/zone', 'DoNotSchedule'],
      ]);
    }
    const config = environment(name).config;
    const hpa = manifestsOf(name).find((m) => m.kind === 'HorizontalPodAutoscaler') as Json;
    expect(hpa['spec']).toMatchObject({ scaleTargetRef: { kind: 'Deployment', name: 'litellm' }, minReplicas: config.litellm.replicas, maxReplicas: config.litellm.autoscaling!.maxReplicas });
    expect((manifestsOf(name).find((m) => m.kind === 'Deployment' && m.metadata.name === 'litellm') as Json)['spec'].replicas).toBeUndefined();
  });

  it('dev runs one replica of each, without spread constraints or an autoscaler', () => {
    expect(spreadOf('dev', 'open-webui')).toEqual([]);
    expect(manifestsOf('dev').filter((m) => m.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });
});

describe('the check fails on trees that could put replicas together', () => {
  const config = environment('prod').config;
  const tamper = (change: (manifests: Manifest[]) => void) => {
    const manifests = structuredClone(manifestsOf('prod'));
    change(manifests);
    return colocationRisks(manifests, config).join('\n');
  };
  const podOf = (manifests: Manifest[], name: string) => ((manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name) as Json)['spec'].template.spec as Json);

  it.each<[string, (manifests: Manifest[]) => void, RegExp]>([
    ['no hostname spread', (m) => (podOf(m, 'open-webui')['topologySpreadConstraints'] = podOf(m, 'open-webui')['topologySpreadConstraints'].slice(1)), /open-webui\/open-webui \(3 replicas\): no topology spread by kubernetes.io\/hostname/],
    ['a preference only', (m) => (podOf(m, 'litellm')['topologySpreadConstraints'][0].whenUnsatisfiable = 'ScheduleAnyway'), /litellm\/litellm \(3 replicas\): kubernetes.io\/hostname spread is ScheduleAnyway/],
    ['a pinned node', (m) => (podOf(m, 'litellm')['nodeSelector'] = { 'kubernetes.io/hostname': 'k3s-prod' }), /litellm\/litellm \(3 replicas\): pinned to one node/],
    ['lost nodes counted', (m) => delete podOf(m, 'open-webui')['topologySpreadConstraints'][1].nodeTaintsPolicy, /topology.kubernetes.io\/zone spread counts tainted/],
    ['no budget', (m) => m.splice(m.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'open-webui'), 1), /open-webui\/open-webui \(3 replicas\): no PodDisruptionBudget/],
  ])('%s', (_name, change, expected) => {
    expect(tamper(change)).toMatch(expected);
  });

  it('too few nodes for an enforced spread', () => {
    const small = structuredClone(config);
    small.cluster.agents.min = 0;
    small.cluster.servers = 1;
    expect(colocationRisks(manifestsOf('prod'), small).join('\n')).toMatch(/only 1 schedulable node\(s\)/);
  });
});
