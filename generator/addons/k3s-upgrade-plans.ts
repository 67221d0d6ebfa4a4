/**
 * The K3s upgrade, driven from git: `k3s.version` of the environment config
 * becomes the version of two system-upgrade-controller Plans.
 *
 * - `k3s-server`: the servers, one at a time (etcd keeps its quorum). Before
 *   each server is touched, its prepare step takes an on-demand etcd snapshot
 *   with the node's own k3s (uploaded to the etcd bucket like the scheduled
 *   ones), so a failed upgrade is recovered from the state just before it.
 *   Then the node is cordoned and, when another node can take its pods,
 *   drained.
 * - `k3s-agent`: the agents, one at a time, drained, only once the server
 *   Plan is complete (the agent's prepare step waits for it), because agents
 *   must never run a newer kubelet than the servers.
 *
 * The snapshot is taken in the Plan and not by the ops verb over SSM: it then
 * runs on every server, right before that server changes, however the Plan
 * was started (a merged pull request, not only `npm run ops`), and a snapshot
 * that fails stops the upgrade of that node.
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import { schedulableNodes } from '../cluster/topology.js';
import type { RenderContext } from '../components/component.js';
import type { EnvConfig } from '../config/schema.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { SYSTEM_UPGRADE_SERVICE_ACCOUNT } from './system-upgrade.js';

const NAME = 'k3s-upgrade-plans';
export const SERVER_PLAN = 'k3s-server';
export const AGENT_PLAN = 'k3s-agent';
/** The K3s upgrade image; the controller tags it with the Plan's version (`+` becomes `-`). */
export const K3S_UPGRADE_IMAGE = 'docker.io/rancher/k3s-upgrade';
const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';

/** Name of the on-demand snapshot taken before a server is upgraded to `version`. */
export function preUpgradeSnapshotName(version: string): string {
  return `pre-upgrade-${version.replace(/[^a-z0-9]+/gi, '-')}`;
}

/** `kubectl drain` options: PodDisruptionBudgets are honoured for a minute per pod, then the drain goes on. */
export function drainOptions(): Record<string, unknown> {
  return { force: true, ignoreDaemonSets: true, deleteEmptydirData: true, skipWaitForDeleteTimeout: 60, timeout: '10m' };
}

function planSpec(config: EnvConfig, role: 'server' | 'agent'): Record<string, unknown> {
  const server = role === 'server';
  // With one schedulable node, a drain would evict every pod with nowhere to go and wait on the PodDisruptionBudgets.
  const drain = server ? schedulableNodes(config) > 1 : true;
  return {
    concurrency: 1,
    version: config.k3s.version,
    serviceAccountName: SYSTEM_UPGRADE_SERVICE_ACCOUNT,
    nodeSelector: { matchExpressions: [{ key: CONTROL_PLANE, operator: server ? 'Exists' : 'DoesNotExist' }] },
    ...(server ? { tolerations: [{ key: CONTROL_PLANE, operator: 'Exists', effect: 'NoSchedule' }, { key: 'CriticalAddonsOnly', operator: 'Exists' }] } : {}),
    prepare: server
      ? {
          image: K3S_UPGRADE_IMAGE,
          command: ['chroot', '/host'],
          args: ['k3s', 'etcd-snapshot', 'save', '--name', preUpgradeSnapshotName(config.k3s.version)],
        }
      : { image: K3S_UPGRADE_IMAGE, args: ['prepare', SERVER_PLAN] },
    cordon: true,
    ...(drain ? { drain: drainOptions() } : {}),
    upgrade: { image: K3S_UPGRADE_IMAGE },
  };
}

export function k3sUpgradePlans(config: EnvConfig): Record<string, unknown>[] {
  return (['server', 'agent'] as const).map((role) => ({
    apiVersion: 'upgrade.cattle.io/v1',
    kind: 'Plan',
    metadata: { name: role === 'server' ? SERVER_PLAN : AGENT_PLAN, namespace: NAMESPACES.systemUpgrade, labels: { ...addOnLabels(NAME), 'k3s-upgrade': role } },
    spec: planSpec(config, role),
  }));
}

export const k3sUpgradePlansAddOn: AddOn = {
  enabled: () => true,
  info: ({ config }: RenderContext) => ({ folder: NAME, description: `system-upgrade-controller Plans to K3s ${config.k3s.version}: servers one at a time with an etcd snapshot first, then agents`, versions: { k3s: config.k3s.version } }),
  build(chart: Chart, { config }: RenderContext) {
    for (const plan of k3sUpgradePlans(config)) new ApiObject(chart, `plan-${(plan.metadata as { name: string }).name}`, plan as never);
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.addOnConfig, namespace: NAMESPACES.systemUpgrade }),
};
