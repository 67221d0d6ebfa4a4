/**
 * Semantic checks of the `cluster` section and of what depends on the node
 * count: an etcd quorum that survives a server (and a zone), an agent pool
 * whose bounds make sense, Longhorn replicas the nodes can hold apart, spread
 * constraints the nodes can satisfy, an Aurora failover target in production,
 * and a warning for replicas that all share one node.
 */
import { longhornReplicaCount, schedulableNodes, serverFailureTolerance, serversInLargestZone, zoneCount } from '../cluster/topology.js';
import type { EnvConfig } from './schema.js';

type Path = (string | number)[];
export type AddIssue = (path: Path, problem: string, expected: string, fix: string) => void;

export function checkCluster(config: EnvConfig, add: AddIssue, warn: AddIssue): void {
  const { cluster } = config;
  const { servers, agents } = cluster;
  const zones = zoneCount(config);
  const nodes = schedulableNodes(config);

  if (servers % 2 === 0) {
    add(
      ['cluster', 'servers'],
      `${servers} servers: etcd needs a majority, so an even count tolerates no more failures than ${servers - 1} and splits evenly across two zones`,
      'cluster.servers: 1, or an odd number of 3 or more',
      `set cluster.servers: ${servers - 1} or ${servers + 1}`,
    );
  } else if (servers > 1 && serversInLargestZone(config) > serverFailureTolerance(servers)) {
    add(
      ['cluster', 'servers'],
      `${servers} servers in ${zones} zone(s) put ${serversInLargestZone(config)} servers in one zone: losing that zone loses etcd's quorum (it tolerates ${serverFailureTolerance(servers)} lost server(s))`,
      `at most ${serverFailureTolerance(servers)} server(s) per zone, i.e. at least ${Math.ceil(servers / Math.max(1, serverFailureTolerance(servers)))} zones for ${servers} servers`,
      'add public subnets of more zones in network.additionalPublicSubnetCidrs (up to three zones), or run fewer servers',
    );
  }

  if (agents.min > agents.desired || agents.desired > agents.max) {
    add(
      ['cluster', 'agents'],
      `the agent pool has min ${agents.min}, desired ${agents.desired}, max ${agents.max}`,
      'min <= desired <= max',
      'set cluster.agents.min, desired and max so that min <= desired <= max',
    );
  }

  const replicas = longhornReplicaCount(config);
  if (replicas > nodes) {
    add(
      ['longhorn', 'replicaCount'],
      `${replicas} Longhorn replicas per volume but only ${nodes} schedulable node(s) at the minimum node count: volumes would stay degraded`,
      `longhorn.replicaCount of at most ${nodes} (servers + cluster.agents.min)`,
      `lower longhorn.replicaCount to ${nodes} (or leave it out to follow the node count), or raise cluster.agents.min`,
    );
  }

  const spread: [Path, string, number][] = [
    [['openWebUI', 'replicas'], 'Open WebUI', config.openWebUI.replicas],
    [['litellm', 'replicas'], 'LiteLLM', config.litellm.replicas],
  ];
  for (const [path, what, count] of spread) {
    if (count <= 1) continue;
    if (cluster.whenUnsatisfiable === 'DoNotSchedule' && count > nodes) {
      add(
        path,
        `${count} ${what} replicas with cluster.whenUnsatisfiable DoNotSchedule but ${nodes} schedulable node(s): ${count - nodes} replica(s) would never be scheduled`,
        `at most ${nodes} replicas, or cluster.whenUnsatisfiable: ScheduleAnyway`,
        `lower ${path.join('.')} to ${nodes}, raise cluster.agents.min, or set cluster.whenUnsatisfiable: ScheduleAnyway`,
      );
    } else if (nodes === 1) {
      warn(
        path,
        `${count} ${what} replicas all run on the one node: they survive a crashed pod, not a lost node or zone (the PodDisruptionBudget and spread protect nothing there)`,
        'several replicas on several nodes (cluster.servers 3 or cluster.agents.min >= 1)',
        `add nodes (cluster.servers: 3 with network.additionalPublicSubnetCidrs, or agents), or set ${path.join('.')}: 1 if one node is intended`,
      );
    }
  }
  const autoscaling = config.litellm.autoscaling;
  if (autoscaling && autoscaling.maxReplicas < config.litellm.replicas) {
    add(
      ['litellm', 'autoscaling', 'maxReplicas'],
      `the autoscaler's maximum ${autoscaling.maxReplicas} is below litellm.replicas ${config.litellm.replicas} (its minimum)`,
      'litellm.autoscaling.maxReplicas >= litellm.replicas',
      `raise litellm.autoscaling.maxReplicas to at least ${config.litellm.replicas}`,
    );
  }

  cluster.serverAmiOverrides.forEach((override, index) => {
    if (override.server > servers) {
      add(['cluster', 'serverAmiOverrides', index, 'server'], `server ${override.server} does not exist: the cluster has ${servers} server(s)`, `a server number from 1 to ${servers}`, 'remove the entry or fix the number');
    }
  });
  const restore = cluster.etcdRestore;
  const firstGeneration = cluster.serverGenerations.find((entry) => entry.server === 1)?.generation ?? 1;
  if (restore && restore.generation > firstGeneration) {
    add(['cluster', 'etcdRestore', 'generation'], `server 1 is at generation ${firstGeneration}, so the restore at generation ${restore.generation} would never run`, `a generation server 1 has reached (cluster.serverGenerations), at most ${firstGeneration}`, 'let `npm run ops -- recover-cluster` write both, or remove cluster.etcdRestore');
  }
  cluster.serverGenerations.forEach((entry, index) => {
    if (entry.server > servers) {
      add(['cluster', 'serverGenerations', index, 'server'], `server ${entry.server} does not exist: the cluster has ${servers} server(s)`, `a server number from 1 to ${servers}`, 'remove the entry or fix the number');
    } else if (cluster.serverGenerations.findIndex((other) => other.server === entry.server) !== index) {
      add(['cluster', 'serverGenerations', index, 'server'], `server ${entry.server} is listed twice`, 'one entry per server', 'keep only the entry with the highest generation');
    }
  });

  if (config.tier === 'production' && config.aurora.readers < 1) {
    add(
      ['aurora', 'readers'],
      'production has no Aurora reader: a failed writer (or its zone) leaves nothing to fail over to',
      'aurora.readers of at least 1 in a production environment',
      'set aurora.readers: 1',
    );
  }
}
