/**
 * The Tailscale operator: IngressClass `tailscale` and the proxies that
 * publish Open WebUI and the Argo CD UI on the tailnet over HTTPS. Its OAuth
 * client comes from Secrets Manager through an ExternalSecret, synced before
 * the operator's pods in the same Application.
 */
import type { Chart } from 'cdk8s';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { restrictedNamespace } from '../k8s/namespace.js';
import { restrictedContainerSecurityContext } from '../k8s/security.js';
import { MANUAL_SECRETS, NAMESPACES, secretsManagerName } from '../platform-names.js';
import { addOnLabels, chartVersion, type AddOn } from './addon.js';

const NAME = 'tailscale';
/** The chart mounts this Secret when no OAuth values are given. */
export const TAILSCALE_OAUTH_SECRET = 'operator-oauth';
/** ProxyClass applied to every proxy the operator creates (rendered by tailscale-proxies). */
export const TAILSCALE_PROXY_CLASS = 'hardened';
/** Runs the operator as a non-root user; it keeps its state in a Kubernetes Secret. */
const OPERATOR_UID = 65532;

export function tailscaleValues({ config }: RenderContext): Record<string, unknown> {
  return {
    installCRDs: true,
    operatorConfig: {
      hostname: `tailscale-operator-${config.name}`,
      defaultTags: ['tag:k8s-operator'],
      podSecurityContext: { runAsNonRoot: true, runAsUser: OPERATOR_UID, runAsGroup: OPERATOR_UID, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { ...restrictedContainerSecurityContext(), readOnlyRootFilesystem: false },
      resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    },
    proxyConfig: { defaultTags: 'tag:k8s', defaultProxyClass: TAILSCALE_PROXY_CLASS },
    // The Kubernetes API is reached through the node's own tailnet address, not through the operator.
    apiServerProxyConfig: { mode: 'false' },
  };
}

export const tailscale: AddOn = {
  providesApiGroups: ['tailscale.com'],
  enabled: () => true,
  info: ({ config }) => ({
    folder: NAME,
    description: 'Tailscale operator (chart), its namespace and the ExternalSecret of its OAuth client',
    versions: chartVersion(config.addons.tailscaleOperator),
  }),
  build(chart: Chart, context: RenderContext) {
    const labels = addOnLabels(NAME);
    restrictedNamespace(chart, { name: NAMESPACES.tailscale, labels, kubernetes: context.kubernetes, holdsData: false });
    const remoteKey = secretsManagerName(context.config, MANUAL_SECRETS.tailscaleOAuth);
    new ExternalSecret(chart, {
      name: TAILSCALE_OAUTH_SECRET,
      namespace: NAMESPACES.tailscale,
      labels,
      values: [
        { secretKey: 'client_id', remoteKey, property: 'client_id' },
        { secretKey: 'client_secret', remoteKey, property: 'client_secret' },
      ],
    });
  },
  chartSecrets: () => [{ namespace: NAMESPACES.tailscale, name: TAILSCALE_OAUTH_SECRET }],
  application: (context) => ({
    project: PROJECTS.platform,
    wave: APPLICATION_WAVE.addOnsWithSecrets,
    namespace: NAMESPACES.tailscale,
    chart: { chart: context.config.addons.tailscaleOperator, releaseName: 'tailscale-operator', values: tailscaleValues(context) },
  }),
};
