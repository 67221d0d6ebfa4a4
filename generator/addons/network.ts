/**
 * NetworkPolicies of the platform add-on namespaces (Argo CD, External
 * Secrets, Longhorn, Tailscale, cert-manager). Each starts from the same
 * default deny and DNS as the workload namespaces; then its pods may talk to
 * each other, reach anything outside the namespace they start a connection
 * to (the Kubernetes API, git, AWS, the tailnet), and accept only the named
 * flows from elsewhere. The instance metadata address stays closed unless the
 * add-on reads AWS with the node's instance profile, which is said per add-on.
 */
import type { Construct } from 'constructs';
import type { Labels } from '../k8s/labels.js';
import { internet, namespaceBaseline, networkPolicy, type Flow, type Peer, type Port } from '../k8s/network-policy.js';

/** The API server calls admission and conversion webhooks from the node's network, whose source address depends on the CNI. */
export const FROM_THE_API_SERVER: Peer = { cidr: '0.0.0.0/0' };

export interface AddOnIngress {
  /** Policy name suffix: `allow-<name>`. */
  name: string;
  /** Pods of the namespace that accept the flow. */
  pods: Labels;
  from: Peer[];
  ports: Port[];
}

export interface AddOnNetworkProps {
  namespace: string;
  labels: Labels;
  /** Why the add-on's pods must reach the instance metadata service; without it, 169.254.169.254 is closed. */
  instanceMetadataReason?: string;
  ingress?: AddOnIngress[];
  /** The only flows the namespace's pods may start (besides DNS and the namespace itself); without it, anywhere but the metadata address. */
  egress?: Flow[];
}

export function addOnNetworkPolicies(chart: Construct, props: AddOnNetworkProps): void {
  const { namespace, labels } = props;
  namespaceBaseline(chart, namespace, labels);
  networkPolicy(chart, { name: 'allow-same-namespace', namespace, labels, pods: {}, ingress: [{ peers: [{ namespace }], ports: [] }] });
  networkPolicy(chart, {
    name: props.instanceMetadataReason ? 'allow-egress-with-instance-metadata' : 'allow-egress',
    namespace,
    labels,
    pods: {},
    egress: props.egress ? [{ peers: [{ namespace }], ports: [] }, ...props.egress] : [{ peers: [props.instanceMetadataReason ? { cidr: '0.0.0.0/0' } : internet()], ports: [] }],
  });
  for (const flow of props.ingress ?? []) {
    networkPolicy(chart, { name: `allow-${flow.name}`, namespace, labels, pods: flow.pods, ingress: [{ peers: flow.from, ports: flow.ports }] });
  }
}
