/**
 * NetworkPolicies of the platform add-on namespaces (Argo CD, External
 * Secrets, Longhorn, Tailscale, cert-manager). Each starts from the same
 * default deny (ingress and egress) and DNS as the workload namespaces; then
 * its pods may talk to each other, and only the named flows are opened: the
 * flows every add-on declares out (the Kubernetes API server, HTTPS to AWS,
 * git or the tailnet) and in (admission webhooks, the tailnet proxies). The
 * instance metadata address 169.254.169.254 is closed in every namespace:
 * pods that need AWS use their own web-identity role (docs/network-policies.md).
 */
import type { Construct } from 'constructs';
import type { EnvConfig } from '../config/schema.js';
import type { Labels } from '../k8s/labels.js';
import { internet, namespaceBaseline, networkPolicy, type Flow, type Peer, type Port } from '../k8s/network-policy.js';

/** The API server calls admission and conversion webhooks from the node's network, whose source address depends on the CNI. */
export const FROM_THE_API_SERVER: Peer = { cidr: '0.0.0.0/0' };

/** K3s's API server listens on every server node; the `kubernetes` Service is translated to <node IP>:6443 before policies apply. */
export const API_SERVER_PORT = 6443;

/** The subnets that hold the K3s nodes (every zone). */
export function nodeSubnets(config: EnvConfig): Peer[] {
  return [config.network.publicSubnetCidr, ...config.network.additionalPublicSubnetCidrs].map((cidr) => ({ cidr }));
}

/** To the Kubernetes API server (operators, controllers, the Argo CD application controller). */
export function toApiServer(config: EnvConfig): Flow {
  return { peers: nodeSubnets(config), ports: [{ port: API_SERVER_PORT }] };
}

/** To anywhere on the internet (never the metadata address) on the given ports. */
export function toInternet(ports: Port[]): Flow {
  return { peers: [internet()], ports };
}

export interface AddOnIngress {
  /** Policy name suffix: `allow-<name>`. */
  name: string;
  /** Pods of the namespace that accept the flow. */
  pods: Labels;
  from: Peer[];
  ports: Port[];
}

export interface AddOnEgress {
  /** Policy name suffix: `allow-egress-<name>`. */
  name: string;
  /** Why the add-on opens this flow (rendered as an annotation). */
  reason: string;
  /** Pods of the namespace that start the flow; empty: every pod. */
  pods?: Labels;
  to: Flow[];
}

export interface AddOnNetworkProps {
  namespace: string;
  labels: Labels;
  /** Everything the namespace's pods may open besides DNS and each other; nothing else leaves the namespace. */
  egress: AddOnEgress[];
  ingress?: AddOnIngress[];
}

export function addOnNetworkPolicies(chart: Construct, props: AddOnNetworkProps): void {
  const { namespace, labels } = props;
  namespaceBaseline(chart, namespace, labels);
  networkPolicy(chart, {
    name: 'allow-same-namespace',
    namespace,
    labels,
    pods: {},
    ingress: [{ peers: [{ namespace }], ports: [] }],
    egress: [{ peers: [{ namespace }], ports: [] }],
  });
  for (const flow of props.egress) {
    networkPolicy(chart, { name: `allow-egress-${flow.name}`, namespace, labels, pods: flow.pods ?? {}, egress: flow.to, reason: flow.reason });
  }
  for (const flow of props.ingress ?? []) {
    networkPolicy(chart, { name: `allow-${flow.name}`, namespace, labels, pods: flow.pods, ingress: [{ peers: flow.from, ports: flow.ports }] });
  }
}
