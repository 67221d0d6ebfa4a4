/**
 * NetworkPolicy builders: each namespace starts from default deny, then only
 * named flows are opened. No pod may reach the instance metadata address.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Labels } from './labels.js';

export const INSTANCE_METADATA_CIDR = '169.254.169.254/32';

export type Peer =
  | { namespace: string; pods?: Labels }
  | { cidr: string; except?: string[] };

export interface Port {
  /** A number, or the name of a container port. */
  port: number | string;
  protocol?: 'TCP' | 'UDP';
}

export interface Flow {
  peers: Peer[];
  ports: Port[];
}

/** Anywhere on the internet, never the instance metadata service. */
export function internet(): Peer {
  return { cidr: '0.0.0.0/0', except: [INSTANCE_METADATA_CIDR] };
}

function peer(value: Peer): k8s.NetworkPolicyPeer {
  if ('cidr' in value) return { ipBlock: { cidr: value.cidr, ...(value.except ? { except: value.except } : {}) } };
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': value.namespace } },
    ...(value.pods ? { podSelector: { matchLabels: value.pods } } : {}),
  };
}

function ports(values: Port[]): k8s.NetworkPolicyPort[] {
  return values.map((value) => ({
    port: typeof value.port === 'number' ? k8s.IntOrString.fromNumber(value.port) : k8s.IntOrString.fromString(value.port),
    protocol: value.protocol ?? 'TCP',
  }));
}

export interface PolicyProps {
  name: string;
  namespace: string;
  labels: Labels;
  /** Pods the policy applies to; empty means every pod of the namespace. */
  pods: Labels;
  ingress?: Flow[];
  egress?: Flow[];
  /** Why the flows are open, for readers of the rendered tree (annotation policy.dubai-hub.example/flow-reason). */
  reason?: string;
}

export const REASON_ANNOTATION = 'policy.dubai-hub.example/flow-reason';

export function networkPolicy(scope: Construct, props: PolicyProps): k8s.KubeNetworkPolicy {
  const policyTypes: string[] = [];
  if (props.ingress) policyTypes.push('Ingress');
  if (props.egress) policyTypes.push('Egress');
  return new k8s.KubeNetworkPolicy(scope, `netpol-${props.name}`, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels, ...(props.reason ? { annotations: { [REASON_ANNOTATION]: props.reason } } : {}) },
    spec: {
      podSelector: Object.keys(props.pods).length > 0 ? { matchLabels: props.pods } : {},
      policyTypes,
      ...(props.ingress ? { ingress: props.ingress.map((flow) => ({ from: flow.peers.map(peer), ports: ports(flow.ports) })) } : {}),
      ...(props.egress ? { egress: props.egress.map((flow) => ({ to: flow.peers.map(peer), ports: ports(flow.ports) })) } : {}),
    },
  });
}

/** Default deny in both directions, plus DNS to the cluster resolver for every pod. */
export function namespaceBaseline(scope: Construct, namespace: string, labels: Labels): void {
  networkPolicy(scope, { name: 'default-deny-all', namespace, labels, pods: {}, ingress: [], egress: [] });
  networkPolicy(scope, {
    name: 'allow-dns',
    namespace,
    labels,
    pods: {},
    egress: [
      {
        peers: [{ namespace: 'kube-system', pods: { 'k8s-app': 'kube-dns' } }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      },
    ],
  });
}

/**
 * Namespaces whose pods may still reach the instance metadata address, each
 * with its reason. Empty: every pod that needs AWS has its own web-identity
 * role and the node's hop limit is 1 (docs/network-policies.md); a namespace
 * added here is the documented exception the rendered-tree test accepts.
 */
export const INSTANCE_METADATA_EXCEPTIONS: Readonly<Record<string, string>> = {};
