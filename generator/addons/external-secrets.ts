/**
 * External Secrets Operator: the only way a Kubernetes Secret comes to exist.
 * Its controller reads AWS Secrets Manager with the node's instance profile
 * (IMDSv2, hop limit 2 on the node): the external-secrets namespace has no
 * NetworkPolicy denying 169.254.169.254, unlike the application namespaces.
 */
import { APPLICATION_WAVE } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { NAMESPACES } from '../platform-names.js';
import { chartAddOn, type AddOn } from './addon.js';

const NAME = 'external-secrets';

export function externalSecretsValues(_context: RenderContext): Record<string, unknown> {
  const small = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } };
  return {
    installCRDs: true,
    replicaCount: 1,
    // Only the ClusterSecretStore rendered by this repository; no namespaced stores.
    processClusterStore: true,
    resources: small,
    serviceMonitor: { enabled: false },
    webhook: { replicaCount: 1, resources: small },
    certController: { replicaCount: 1, resources: small },
  };
}

export const externalSecrets: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.externalSecrets,
  chart: 'externalSecrets',
  releaseName: NAME,
  wave: APPLICATION_WAVE.crdAddOns,
  providesApiGroups: ['external-secrets.io', 'generators.external-secrets.io'],
  description: () => 'External Secrets Operator (chart) and its namespace',
  values: externalSecretsValues,
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
