/**
 * The Tailscale operator: IngressClass `tailscale` and the proxies that
 * publish Open WebUI and the Argo CD UI on the tailnet over HTTPS. Its OAuth
 * client comes from Secrets Manager through an ExternalSecret, synced before
 * the operator's pods in the same Application.
 */
import { APPLICATION_WAVE } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import type { EnvConfig } from '../config/schema.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { restrictedContainerSecurityContext } from '../k8s/security.js';
import type { ChartException } from '../argocd/application.js';
import { MANUAL_SECRETS, NAMESPACES, secretsManagerName } from '../platform-names.js';
import { scrapeIngressForAddOn } from '../observability/scrape-targets.js';
import { chartAddOn, type AddOn } from './addon.js';
import { toApiServer, toInternet } from './network.js';
import { ARGOCD_NAMESPACE } from '../argocd/application.js';
import { ARGOCD_SERVER_PORT, ARGOCD_SERVER_SERVICE } from '../argocd/bootstrap-manifests.js';
import { APP_SELECTORS, PORTS } from '../components/shared-flows.js';

const NAME = 'tailscale';
/** The chart mounts this Secret when no OAuth values are given. */
export const TAILSCALE_OAUTH_SECRET = 'operator-oauth';
/** ProxyClass applied to every proxy the operator creates (rendered by tailscale-proxies). */
export const TAILSCALE_PROXY_CLASS = 'hardened';
/** Runs the operator as a non-root user; it keeps its state in a Kubernetes Secret. */
const OPERATOR_UID = 65532;

/** Tailnet machine name of the operator, where its Kubernetes API server proxy listens (https, port 443). */
export function operatorHostname(config: EnvConfig): string {
  return `tailscale-operator-${config.name}`;
}

export function tailscaleValues({ config }: RenderContext): Record<string, unknown> {
  return {
    installCRDs: true,
    operatorConfig: {
      hostname: operatorHostname(config),
      defaultTags: ['tag:k8s-operator'],
      podSecurityContext: { runAsNonRoot: true, runAsUser: OPERATOR_UID, runAsGroup: OPERATOR_UID, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { ...restrictedContainerSecurityContext(), readOnlyRootFilesystem: false },
      resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    },
    proxyConfig: { defaultTags: 'tag:k8s', defaultProxyClass: TAILSCALE_PROXY_CLASS },
    // People reach the Kubernetes API through the operator's proxy in auth mode: it impersonates their
    // tailnet login name and the groups their tailnet grants give them (generator/addons/access.ts binds them).
    apiServerProxyConfig: { mode: 'true' },
  };
}

/** What the chart renders that the policy rules would refuse, and why it is right here. */
export function tailscaleExceptions(): ChartException[] {
  return [
    {
      kind: 'Deployment',
      name: 'operator',
      allow: {
        'service-account-token-automount': 'the operator creates the proxies (StatefulSets, Secrets, Services) for every tailnet Ingress through the API',
        'read-only-root-filesystem': 'the operator writes its tailnet client state and logs under its home directory, for which the chart has no volume',
        'no-plaintext-secret-env': 'OPERATOR_SECRET holds the name of the Secret the operator keeps its state in, and CLIENT_SECRET_FILE a file path: neither is a credential',
      },
    },
  ];
}

export const tailscale: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.tailscale,
  chart: 'tailscaleOperator',
  releaseName: 'tailscale-operator',
  wave: APPLICATION_WAVE.addOnsWithSecrets,
  description: () => 'Tailscale operator (chart), its namespace and the ExternalSecret of its OAuth client',
  values: tailscaleValues,
  exceptions: tailscaleExceptions,
  // The proxies reach the tailnet outward (DERP and direct connections start from inside); nothing reads AWS.
  network: ({ config }) => ({
    egress: [
      { name: 'api-server', reason: 'the operator watches Ingresses and manages its proxies; proxies keep their state in Secrets', to: [toApiServer(config)] },
      {
        name: 'tailnet',
        reason: 'the control plane and DERP relays over HTTPS, STUN (3478/udp) and direct WireGuard (41641/udp); other peers are reached through DERP',
        to: [toInternet([{ port: 443 }, { port: 3478, protocol: 'UDP' }, { port: 41641, protocol: 'UDP' }])],
      },
      {
        name: 'proxy-backends',
        reason: 'the tailnet Ingress proxies forward to Open WebUI and the Argo CD UI',
        to: [
          { peers: [{ namespace: NAMESPACES.openWebUI, pods: APP_SELECTORS.openWebUI }], ports: [{ port: PORTS.openWebUI }] },
          { peers: [{ namespace: ARGOCD_NAMESPACE, pods: { 'app.kubernetes.io/name': ARGOCD_SERVER_SERVICE } }], ports: [{ port: ARGOCD_SERVER_PORT }] },
        ],
      },
    ],
    ingress: [scrapeIngressForAddOn(config, 'tailscale-operator')],
  }),
  build(chart, { config }, labels) {
    const remoteKey = secretsManagerName(config, MANUAL_SECRETS.tailscaleOAuth);
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
});
