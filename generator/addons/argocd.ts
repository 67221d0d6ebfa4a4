/**
 * Argo CD managing itself: the argo-cd chart hydrated into rendered/<env>/argocd
 * (the node's bootstrap applies the same files), its namespace and
 * NetworkPolicies, repository credentials from an ExternalSecret when the
 * repository is private, and its UI on the tailnet.
 */
import type { ChartException } from '../argocd/application.js';
import { APPLICATION_WAVE, ARGOCD_NAMESPACE } from '../argocd/application.js';
import { APPLICATION_HEALTH_LUA, ARGOCD_RELEASE, ARGOCD_SERVER_PORT, ARGOCD_SERVER_SERVICE, argocdHost } from '../argocd/bootstrap-manifests.js';
import type { RenderContext } from '../components/component.js';
import { isHighlyAvailable } from '../cluster/topology.js';
import { chartTopologySpread } from '../k8s/workload.js';
import { ExternalSecret } from '../k8s/external-secret.js';
import { NAMESPACES, secretsManagerName } from '../platform-names.js';
import { scrapeIngressForAddOn } from '../observability/scrape-targets.js';
import { chartAddOn, type AddOn } from './addon.js';
import { tailnetIngress } from './ingress.js';
import { toApiServer, toInternet } from './network.js';
import type { EnvConfig } from '../config/schema.js';

const NAME = 'argocd';
export const REPOSITORY_SECRET = 'repository-credentials';
/** Port of argocd-server's HTTP listener (TLS ends at the Tailscale proxy). */
const SERVER_PORT = ARGOCD_SERVER_PORT;

const resources = (cpu: string, memory: string, memoryLimit: string) => ({ requests: { cpu, memory }, limits: { memory: memoryLimit } });

/**
 * Where the cluster has several servers, the stateless parts run twice, each
 * with a disruption budget of one, so a lost node or a drain keeps the UI, the
 * repo server and ApplicationSets up. The application controller stays one
 * (sharding only pays with many clusters) and Redis stays one: it is a cache
 * the controller rebuilds, and redis-ha would need three more nodes' worth of
 * pods for it.
 */
function highAvailability(replicated: boolean): (values: Record<string, unknown>) => Record<string, unknown> {
  return (values) => (replicated ? { ...values, replicas: 2, pdb: { enabled: true, maxUnavailable: 1 } } : values);
}

/** Values of the argo-cd chart. */
export function argocdValues({ config }: RenderContext): Record<string, unknown> {
  const replicated = isHighlyAvailable(config);
  const ha = highAvailability(replicated);
  return {
    // Pod-level defaults next to the chart's container-level context (checkov CKV_K8S_29); Redis has its own.
    global: { domain: argocdHost(config), securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, ...(replicated ? { topologySpreadConstraints: chartTopologySpread(config.cluster.whenUnsatisfiable) } : {}) },
    configs: {
      // TLS ends at the Tailscale proxy in front of the UI; inside the cluster the server speaks HTTP.
      params: { 'server.insecure': true },
      cm: {
        'application.resourceTrackingMethod': 'annotation',
        'exec.enabled': false,
        'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
      },
    },
    dex: { enabled: false },
    notifications: { enabled: false },
    // The UI is published by a Tailscale Ingress rendered in this folder.
    server: ha({ ingress: { enabled: false }, resources: resources('50m', '128Mi', '512Mi') }),
    controller: { resources: resources('250m', '512Mi', '1536Mi') },
    repoServer: ha({ resources: resources('100m', '256Mi', '1Gi') }),
    applicationSet: ha({ resources: resources('10m', '64Mi', '256Mi'), readinessProbe: { enabled: true } }),
    // Redis is a cache of the controller; it never calls the Kubernetes API.
    redis: { resources: resources('50m', '64Mi', '256Mi'), readinessProbe: { enabled: true }, automountServiceAccountToken: false },
    redisSecretInit: { resources: resources('10m', '32Mi', '64Mi') },
  };
}

const CALLS_THE_API = 'an Argo CD component that reads and writes Kubernetes objects through the API with its ServiceAccount';
const REDIS_PASSWORD = 'reads Secret argocd-redis, which the chart\'s argocd-redis-secret-init PreSync Job creates in the cluster with a random password (a cache password, never in git nor in Secrets Manager)';
const OPTIONAL_TLS = 'mounts the optional argocd-repo-server-tls Secret; without it Argo CD uses a self-signed certificate it makes at start';

/** What the chart renders that the policy rules would refuse, and why it is right here. */
export function argocdExceptions(): ChartException[] {
  return [
    {
      kind: 'StatefulSet',
      name: 'argocd-application-controller',
      allow: { 'service-account-token-automount': `${CALLS_THE_API} (it syncs every Application)`, 'secret-from-external-secret': `${REDIS_PASSWORD}; and ${OPTIONAL_TLS}` },
    },
    {
      kind: 'Deployment',
      name: 'argocd-server',
      allow: {
        'service-account-token-automount': `${CALLS_THE_API} (the UI and CLI show and change Applications)`,
        'secret-from-external-secret': `${REDIS_PASSWORD}; ${OPTIONAL_TLS}; the optional argocd-dex-server-tls is unused (Dex is off)`,
      },
    },
    {
      kind: 'Deployment',
      name: 'argocd-repo-server',
      allow: {
        'service-account-token-automount': 'the chart mounts the token, but the repo server\'s Role argocd-repo-server has no rules: the token authorises nothing',
        'secret-from-external-secret': `${REDIS_PASSWORD}; and ${OPTIONAL_TLS}`,
      },
    },
    {
      kind: 'Deployment',
      name: 'argocd-applicationset-controller',
      allow: { 'service-account-token-automount': `${CALLS_THE_API} (it generates Applications)`, 'secret-from-external-secret': OPTIONAL_TLS },
    },
    { kind: 'Deployment', name: 'argocd-redis', allow: { 'secret-from-external-secret': REDIS_PASSWORD } },
    { kind: 'Job', name: 'argocd-redis-secret-init', allow: { 'service-account-token-automount': 'the PreSync hook Job writes Secret argocd-redis through the API' } },
  ];
}

/** The port Argo CD reaches the git repository on: 443 for https://, the URL's port or 22 for ssh. */
export function gitPort(config: EnvConfig): number {
  const url = config.git.repoURL;
  if (url.startsWith('https://')) return Number(new URL(url).port || 443);
  if (url.startsWith('ssh://')) return Number(new URL(url).port || 22);
  return 22;
}

export const argocd: AddOn = chartAddOn({
  folder: NAME,
  namespace: ARGOCD_NAMESPACE,
  chart: 'argocd',
  releaseName: ARGOCD_RELEASE,
  wave: APPLICATION_WAVE.argocd,
  description: ({ config }) => `Argo CD (chart, self-managed), its namespace, its UI on the tailnet${config.git.credentialsSecret ? ' and repository credentials' : ''}`,
  values: argocdValues,
  exceptions: argocdExceptions,
  // The UI comes only through the Tailscale proxy; nothing in Argo CD reads AWS.
  network: ({ config }) => ({
    egress: [
      { name: 'api-server', reason: 'the application controller, server and ApplicationSet controller manage the cluster through the API server', to: [toApiServer(config)] },
      { name: 'git', reason: `the repo server fetches ${config.git.repoURL}`, pods: { 'app.kubernetes.io/name': 'argocd-repo-server' }, to: [toInternet([{ port: gitPort(config) }])] },
    ],
    ingress: [
      { name: 'ui-from-tailscale', pods: { 'app.kubernetes.io/name': ARGOCD_SERVER_SERVICE }, from: [{ namespace: NAMESPACES.tailscale }], ports: [{ port: SERVER_PORT }] },
      ...['argocd-application-controller', 'argocd-server', 'argocd-repo-server'].map((job) => scrapeIngressForAddOn(config, job)),
    ],
  }),
  // Deleting this namespace would delete Argo CD itself: never pruned, never deleted.
  holdsData: true,
  // Its CRDs (ApplicationSet above all) are too large for client-side apply.
  serverSideApply: true,
  build(chart, { config }, labels) {
    tailnetIngress(chart, {
      name: 'argocd-server-tailnet',
      namespace: ARGOCD_NAMESPACE,
      labels,
      service: { name: ARGOCD_SERVER_SERVICE, port: 80 },
      machineName: config.hostnames.argocd,
    });
    if (config.git.credentialsSecret) {
      const remoteKey = secretsManagerName(config, config.git.credentialsSecret);
      new ExternalSecret(chart, {
        name: REPOSITORY_SECRET,
        namespace: ARGOCD_NAMESPACE,
        labels,
        values: [
          { secretKey: 'username', remoteKey, property: 'username' },
          { secretKey: 'password', remoteKey, property: 'password' },
        ],
        secretLabels: { 'argocd.argoproj.io/secret-type': 'repository' },
        template: { type: 'git', url: config.git.repoURL, username: '{{ .username }}', password: '{{ .password }}' },
      });
    }
  },
});
