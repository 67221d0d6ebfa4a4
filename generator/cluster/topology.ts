/**
 * The shape of an environment's K3s cluster, computed once from the config:
 * how many zones, where each server runs, how many nodes can take pods at the
 * minimum node count, and what follows from that (etcd's failure tolerance,
 * Longhorn's replica count, whether zones can hold the servers apart).
 */
import type { EnvConfig } from '../config/schema.js';

/** Longhorn never keeps more than this many copies of a volume. */
export const MAX_LONGHORN_REPLICAS = 3;

/** Availability zones the environment spans: the first public subnet plus one per additional subnet. */
export function zoneCount(config: EnvConfig): number {
  return 1 + config.network.additionalPublicSubnetCidrs.length;
}

/** Zone index (0-based) of each server: round-robin, server 1 in the first zone. */
export function serverZones(config: EnvConfig): number[] {
  const zones = zoneCount(config);
  return Array.from({ length: config.cluster.servers }, (_, index) => index % zones);
}

/** Whether the environment runs K3s in HA mode (several servers behind a registration address). */
export function isHighlyAvailable(config: EnvConfig): boolean {
  return config.cluster.servers > 1;
}

/** Servers etcd can lose and keep its quorum: 1 of 3, 2 of 5. */
export function serverFailureTolerance(servers: number): number {
  return Math.floor((servers - 1) / 2);
}

/** The most servers one zone holds with the round-robin placement. */
export function serversInLargestZone(config: EnvConfig): number {
  return Math.ceil(config.cluster.servers / zoneCount(config));
}

/** Nodes that take pods at the minimum node count: every server (K3s servers are schedulable) and the minimum of agents. */
export function schedulableNodes(config: EnvConfig): number {
  return config.cluster.servers + config.cluster.agents.min;
}

/** Longhorn replicas per volume: the configured count, or one per schedulable node up to three. */
export function longhornReplicaCount(config: EnvConfig): number {
  return config.longhorn.replicaCount ?? Math.min(MAX_LONGHORN_REPLICAS, schedulableNodes(config));
}

/**
 * Longhorn's placement settings: replicas on different nodes, and in different
 * zones when there are at least as many zones as replicas (hard rules, so a
 * lost zone never holds every copy); soft rules otherwise, so a volume can
 * still be scheduled.
 */
export function longhornPlacement(config: EnvConfig): { replicas: number; replicaSoftAntiAffinity: boolean; replicaZoneSoftAntiAffinity: boolean } {
  const replicas = longhornReplicaCount(config);
  return {
    replicas,
    replicaSoftAntiAffinity: schedulableNodes(config) < replicas,
    replicaZoneSoftAntiAffinity: zoneCount(config) < replicas,
  };
}
