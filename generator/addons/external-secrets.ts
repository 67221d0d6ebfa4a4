/**
 * External Secrets Operator: the only way a Kubernetes Secret comes to exist.
 * Its controller reads AWS Secrets Manager with its own IAM role: the
 * ClusterSecretStore names the controller's service account (JWT auth), the
 * controller requests a token for it (audience sts.amazonaws.com) and assumes
 * the role in that account's annotation (docs/workload-identity.md). Like
 * every namespace, external-secrets cannot reach the instance metadata
 * address 169.254.169.254.
 */
import { APPLICATION_WAVE, type ChartException } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { isHighlyAvailable } from '../cluster/topology.js';
import { chartTopologySpread } from '../k8s/workload.js';
import { SERVICE_IDS } from '../k8s/security.js';
import { NAMESPACES } from '../platform-names.js';
import { scrapeIngressForAddOn } from '../observability/scrape-targets.js';
import { chartAddOn, type AddOn } from './addon.js';
import { FROM_THE_API_SERVER, toApiServer, toInternet } from './network.js';
import { WORKLOAD_IDENTITIES } from '../../bootstrap/names.js';

/** The service-account annotation external-secrets reads a role ARN from (the EKS convention). */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

const NAME = 'external-secrets';

/**
 * Where the cluster has several servers, the controller, the webhook and the
 * cert-controller run twice (the controllers with leader election), spread
 * over nodes and zones, each with a disruption budget of one: a lost node
 * neither stops Secrets syncing nor blocks every ExternalSecret change at the
 * webhook.
 */
export function externalSecretsValues({ config, outputs }: RenderContext): Record<string, unknown> {
  const small = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } };
  const replicated = isHighlyAvailable(config);
  const replicas = replicated ? 2 : 1;
  const budget = replicated ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {};
  // The chart's default user is 1000, the node's `ubuntu`; merged into the chart's restricted securityContext.
  const securityContext = { runAsUser: SERVICE_IDS.externalSecrets, runAsGroup: SERVICE_IDS.externalSecrets };
  // Pod-level defaults next to the chart's container-level context (checkov CKV_K8S_29).
  const podSecurityContext = { enabled: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  return {
    installCRDs: true,
    ...(replicated ? { global: { topologySpreadConstraints: chartTopologySpread(config.cluster.whenUnsatisfiable) } } : {}),
    replicaCount: replicas,
    leaderElect: replicated,
    // external-secrets v2.5.0 (providers/v1/aws/auth/auth.go) reads the role from this annotation of the
    // service account the store's JWT auth names, and requests that account's token for sts.amazonaws.com.
    serviceAccount: { name: WORKLOAD_IDENTITIES.externalSecrets.serviceAccount, annotations: { [ROLE_ARN_ANNOTATION]: outputs.roles.externalSecrets } },
    // Only the ClusterSecretStore rendered by this repository; no namespaced stores.
    processClusterStore: true,
    resources: small,
    securityContext,
    podSecurityContext,
    serviceMonitor: { enabled: false },
    ...budget,
    webhook: { replicaCount: replicas, resources: small, securityContext, podSecurityContext, ...budget },
    certController: { replicaCount: replicas, resources: small, securityContext, podSecurityContext, ...budget },
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
  network: ({ config }) => ({
    egress: [
      { name: 'api-server', reason: 'the controller, webhook and cert controller read and write ExternalSecrets, Secrets and webhook certificates', to: [toApiServer(config)] },
      { name: 'aws', reason: 'the controller reads Secrets Manager (and STS for its web-identity role) over HTTPS', pods: { 'app.kubernetes.io/name': 'external-secrets' }, to: [toInternet([{ port: 443 }])] },
    ],
    ingress: [
      { name: 'webhook-from-api-server', pods: { 'app.kubernetes.io/name': 'external-secrets-webhook' }, from: [FROM_THE_API_SERVER], ports: [{ port: 'webhook' }] },
      scrapeIngressForAddOn(config, 'external-secrets'),
    ],
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
