/**
 * Every namespace of every committed rendered/<env>/ tree starts from default
 * deny egress, and none but a documented exception can reach the instance
 * metadata address, computed from the NetworkPolicies' ipBlock/except rules.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../generator/render-environment.js';
import { INSTANCE_METADATA_CIDR, INSTANCE_METADATA_EXCEPTIONS } from '../generator/k8s/network-policy.js';
import { cidrContains, hasDefaultDenyEgress, namespaceReaches, renderedNamespaces } from '../generator/validate/egress-reachability.js';
import { copyOf, environment, ENVIRONMENTS, render } from './support/environments.js';
import { loadRenderedTree, podSpecOf } from './support/rendered-tree.js';

const METADATA = INSTANCE_METADATA_CIDR.split('/')[0]!;
const tree = loadRenderedTree();
const manifestsOf = (env: string): Manifest[] => tree.filter((entry) => entry.env === env).map((entry) => entry.manifest);

/** Namespaces that can reach the metadata address and are not a documented exception. */
function metadataLeaks(manifests: Manifest[], exceptions: Readonly<Record<string, string>> = INSTANCE_METADATA_EXCEPTIONS): string[] {
  return renderedNamespaces(manifests).filter((ns) => namespaceReaches(manifests, ns, METADATA) && !(ns in exceptions));
}

function policy(namespace: string, name: string, spec: Record<string, unknown>): Manifest {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec } as Manifest;
}

describe.each(ENVIRONMENTS)('rendered/%s egress', (env) => {
  const manifests = manifestsOf(env);
  const namespaces = renderedNamespaces(manifests);

  it('renders the namespaces it runs pods in', () => {
    expect(namespaces.length).toBeGreaterThan(5);
    const podNamespaces = new Set(manifests.filter((m) => podSpecOf(m)).map((m) => (m.metadata as { namespace?: string }).namespace ?? 'default'));
    expect([...podNamespaces].filter((ns) => !namespaces.includes(ns))).toEqual([]);
  });

  it('has a default-deny egress policy in every namespace', () => {
    expect(namespaces.filter((ns) => !hasDefaultDenyEgress(manifests, ns))).toEqual([]);
  });

  it('reaches 169.254.169.254 from no namespace outside the documented exceptions', () => {
    expect(metadataLeaks(manifests)).toEqual([]);
  });

  it('still reaches the internet on HTTPS where a component calls out (the analysis is not vacuous)', () => {
    expect(namespaceReaches(manifests, 'litellm', '52.94.0.1')).toBe(true);
    expect(namespaceReaches(manifests, 'redis', '52.94.0.1')).toBe(false);
  });
});

describe('an environment with a public ingress (cert-manager, Traefik peers)', () => {
  const env = copyOf(environment('dev'));
  env.config.publicIngress = { enabled: true, host: 'chat.dubai-hub.example', acmeEmail: 'platform@dubai-hub.example', route53HostedZoneId: 'Z0123456789ABCDEFGHIJ' };
  const manifests = render(env).resources.map((resource) => resource.manifest);

  it('renders cert-manager with default-deny egress and no way to the metadata address', () => {
    expect(renderedNamespaces(manifests)).toContain('cert-manager');
    expect(renderedNamespaces(manifests).filter((ns) => !hasDefaultDenyEgress(manifests, ns))).toEqual([]);
    expect(metadataLeaks(manifests)).toEqual([]);
    // DNS-01 needs the zone's name servers and the ACME and Route 53 APIs: the namespace still reaches the internet.
    expect(namespaceReaches(manifests, 'cert-manager', '205.251.192.1')).toBe(true);
  });
});

describe('the metadata reachability check catches a planted opening', () => {
  const base = manifestsOf('dev');
  const planted: [string, Record<string, unknown>][] = [
    ['an ipBlock without except', { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }],
    ['the address itself, on port 80 only', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ port: 80 }] }] }],
    ['an except that misses the address', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.253/32'] } }] }] }],
    ['a rule without to', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] }],
    ['an egress section without policyTypes', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '169.254.0.0/16' } }] }] }],
  ];
  it.each(planted)('%s', (_name, spec) => {
    const manifests = [...base, policy('argocd', 'planted', spec)];
    expect(metadataLeaks(manifests)).toEqual(['argocd']);
    expect(metadataLeaks(manifests, { argocd: 'a planted exception' })).toEqual([]);
  });

  it('an except of the link-local range closes it again', () => {
    const manifests = [...base, policy('argocd', 'planted', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] }] })];
    expect(metadataLeaks(manifests)).toEqual([]);
  });

  it('a namespace without its default deny is caught, and one without any policy for every pod is unrestricted', () => {
    const inRedis = (m: Manifest, name?: string) =>
      m.kind === 'NetworkPolicy' && (m.metadata as { namespace?: string }).namespace === 'redis' && (name === undefined || (m.metadata as { name: string }).name === name);
    const withoutDeny = base.filter((m) => !inRedis(m, 'default-deny-all'));
    expect(hasDefaultDenyEgress(withoutDeny, 'redis')).toBe(false);
    const withoutPolicies = base.filter((m) => !inRedis(m));
    expect(metadataLeaks(withoutPolicies)).toEqual(['redis']);
  });

  it('computes CIDR containment', () => {
    expect(cidrContains('169.254.0.0/16', METADATA)).toBe(true);
    expect(cidrContains('10.40.0.0/16', METADATA)).toBe(false);
    expect(cidrContains('0.0.0.0/0', METADATA)).toBe(true);
    expect(cidrContains('::/0', METADATA)).toBe(false);
  });
});
