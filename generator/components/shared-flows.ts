/**
 * Network flows several components share: the Aurora subnets, the internet on
 * 443 (never the metadata address), and the in-cluster services.
 */
import type { EnvConfig } from '../config/schema.js';
import { internet, type Flow } from '../k8s/network-policy.js';
import { selectorLabels } from '../k8s/labels.js';
import { NAMESPACES } from '../platform-names.js';

export const PORTS = { openWebUI: 8080, litellm: 4000, redis: 6379, postgres: 5432, https: 443 } as const;

export const APP_SELECTORS = {
  openWebUI: selectorLabels('open-webui', 'frontend'),
  litellm: selectorLabels('litellm', 'llm-proxy'),
  redis: selectorLabels('redis', 'cache'),
} as const;

export function toAurora(config: EnvConfig): Flow {
  return { peers: config.network.privateSubnetCidrs.map((cidr) => ({ cidr })), ports: [{ port: PORTS.postgres }] };
}

export function toInternetHttps(extraPorts: number[] = []): Flow {
  const ports = [...new Set([PORTS.https, ...extraPorts])].sort((a, b) => a - b);
  return { peers: [internet()], ports: ports.map((port) => ({ port })) };
}

export function toRedis(): Flow {
  return { peers: [{ namespace: NAMESPACES.redis, pods: APP_SELECTORS.redis }], ports: [{ port: PORTS.redis }] };
}

export function toLitellm(): Flow {
  return { peers: [{ namespace: NAMESPACES.litellm, pods: APP_SELECTORS.litellm }], ports: [{ port: PORTS.litellm }] };
}
