/**
 * Which namespaces of a rendered tree can open a connection to an IPv4
 * address, computed from their NetworkPolicies (not from names): a pod is
 * egress-isolated only when a policy with policyType Egress selects it, and
 * then it may reach an address when any egress rule of any such policy in
 * its namespace allows it — a rule without `to`, or an ipBlock whose cidr
 * contains the address and whose `except` does not. Namespace and pod
 * selectors name pods, never the node's link-local metadata service. Ports
 * are ignored on purpose: a rule that reaches the address on any port counts.
 */
import type { Manifest } from '../render-environment.js';

type Rule = { to?: { ipBlock?: { cidr: string; except?: string[] } }[] };
type PolicySpec = { podSelector?: { matchLabels?: object; matchExpressions?: unknown[] }; policyTypes?: string[]; egress?: Rule[] };

function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Whether an IPv4 CIDR holds the address (IPv6 blocks never hold an IPv4 address). */
export function cidrContains(cidr: string, address: string): boolean {
  if (cidr.includes(':')) return false;
  const [base, bits] = cidr.split('/');
  const length = Number(bits ?? 32);
  const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
  return ((ipv4(base!) & mask) >>> 0) === ((ipv4(address) & mask) >>> 0);
}

function namespaceOf(manifest: Manifest): string | undefined {
  return (manifest.metadata as { namespace?: string }).namespace;
}

function hasEgressType(spec: PolicySpec): boolean {
  // Without policyTypes, Egress applies exactly when the policy has an egress section.
  return spec.policyTypes ? spec.policyTypes.includes('Egress') : spec.egress !== undefined;
}

function selectsEveryPod(spec: PolicySpec): boolean {
  const selector = spec.podSelector ?? {};
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

function policiesIn(manifests: readonly Manifest[], namespace: string): PolicySpec[] {
  return manifests.filter((m) => m.kind === 'NetworkPolicy' && namespaceOf(m) === namespace).map((m) => (m['spec'] ?? {}) as PolicySpec);
}

/** Every Namespace object of the tree. */
export function renderedNamespaces(manifests: readonly Manifest[]): string[] {
  return manifests.filter((m) => m.kind === 'Namespace').map((m) => (m.metadata as { name: string }).name).sort();
}

/** A policy that selects every pod of the namespace and allows no egress at all. */
export function hasDefaultDenyEgress(manifests: readonly Manifest[], namespace: string): boolean {
  return policiesIn(manifests, namespace).some((spec) => hasEgressType(spec) && selectsEveryPod(spec) && (spec.egress ?? []).length === 0);
}

function ruleReaches(rule: Rule, address: string): boolean {
  if (!rule.to || rule.to.length === 0) return true;
  return rule.to.some(({ ipBlock }) => ipBlock !== undefined && cidrContains(ipBlock.cidr, address) && !(ipBlock.except ?? []).some((cidr) => cidrContains(cidr, address)));
}

/**
 * Whether some pod of the namespace can reach the address: no egress policy
 * selects every pod (so some pod may be unrestricted), or an egress rule allows it.
 */
export function namespaceReaches(manifests: readonly Manifest[], namespace: string, address: string): boolean {
  const egress = policiesIn(manifests, namespace).filter(hasEgressType);
  if (!egress.some(selectsEveryPod)) return true;
  return egress.some((spec) => (spec.egress ?? []).some((rule) => ruleReaches(rule, address)));
}
