/**
 * External Secrets Operator: the only way a Kubernetes Secret comes to exist.
 * Its controller reads AWS Secrets Manager with the node's instance profile
 * (IMDSv2, hop limit 2 on the node): the external-secrets namespace is one of
 * the two whose NetworkPolicies leave 169.254.169.254 open (Longhorn is the other).
 */
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { isHighlyAvailable } from '../cluster/topology.js';
import { chartTopologySpread } from '../k8s/workload.js';
import { NAMESPACES } from '../platform-names.js';
import { chartAddOn, type AddOn } from './addon.js';
import { FROM_THE_API_SERVER } from './network.js';

const NAME = 'external-secrets';

/**
 * Where the cluster has several servers, the controller, the webhook and the
 * cert-controller run twice (the controllers with leader election), spread
 * over nodes and zones, each with a disruption budget of one: a lost node
 * neither stops Secrets syncing nor blocks every ExternalSecret change at the
 * webhook.
 */
export function externalSecretsValues({ config }: RenderContext): Record<string, unknown> {
  const small = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } };
  const replicated = isHighlyAvailable(config);
  const replicas = replicated ? 2 : 1;
  const budget = replicated ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {};
  // Pod-level defaults next to the chart's container-level context (checkov CKV_K8S_29).
  const podSecurityContext = { enabled: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  return {
    installCRDs: true,
    ...(replicated ? { global: { topologySpreadConstraints: chartTopologySpread(config.cluster.whenUnsatisfiable) } } : {}),
    replicaCount: replicas,
    leaderElect: replicated,
    // Only the ClusterSecretStore rendered by this repository; no namespaced stores.
    processClusterStore: true,
    resources: small,
    podSecurityContext,
    serviceMonitor: { enabled: false },
    ...budget,
    webhook: { replicaCount: replicas, resources: small, podSecurityContext, ...budget },
    certController: { replicaCount: replicas, resources: small, podSecurityContext, ...budget },
  };
}

/** What the chart renders that the policy rules would refuse, and why it is right here. */
export function externalSecretsExceptions(): ChartException[] {
  return [
    { kind: 'Deployment', name: 'external-secrets', allow: { 'service-account-token-automount': 'the controller reads ExternalSecrets and writes the Secrets they describe through the API' } },
    {
      kind: 'Deployment',
      name: 'external-secrets-cert-controller',
      allow: { 'service-account-token-automount': 'the cert-controller writes the webhook certificate into its Secret and the CA bundle into the webhook configuration and CRDs' },
    },
    {
      kind: 'Deployment',
      name: 'external-secrets-webhook',
      allow: {
        'service-account-token-automount': 'the webhook reads the stores an ExternalSecret names to validate it',
        'secret-from-external-secret': 'mounts Secret external-secrets-webhook, which the cert-controller fills with the webhook serving certificate in the cluster',
      },
    },
  ];
}

export const externalSecrets: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.externalSecrets,
  chart: 'externalSecrets',
  releaseName: NAME,
  wave: APPLICATION_WAVE.crdAddOns,
  description: () => 'External Secrets Operator (chart) and its namespace',
  values: externalSecretsValues,
  exceptions: externalSecretsExceptions,
  network: () => ({
    instanceMetadataReason: 'the controller reads Secrets Manager with the node instance profile',
    ingress: [{ name: 'webhook-from-api-server', pods: { 'app.kubernetes.io/name': 'external-secrets-webhook' }, from: [FROM_THE_API_SERVER], ports: [{ port: 'webhook' }] }],
  }),
  // Its CRDs exceed the annotation size limit of client-side apply.
  serverSideApply: true,
  ignoreDifferences: [
    {
      group: 'admissionregistration.k8s.io',
      kind: 'ValidatingWebhookConfiguration',
      jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'],
      owner: 'the external-secrets cert-controller injects the webhook CA bundle',
    },
    {
      group: 'apiextensions.k8s.io',
      kind: 'CustomResourceDefinition',
      jqPathExpressions: ['.spec.conversion.webhook.clientConfig.caBundle'],
      owner: 'the external-secrets cert-controller injects the conversion webhook CA bundle',
    },
  ],
});
