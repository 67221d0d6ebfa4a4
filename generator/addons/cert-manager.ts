/**
 * cert-manager, only where an environment turns on the public ingress: ACME
 * certificates for Open WebUI's public host, proven with DNS-01 on Route 53
 * so that port 80 stays closed. Its controller's ambient credentials come from
 * its own role through a projected service-account token
 * (generator/k8s/web-identity.ts, docs/workload-identity.md).
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, chartAddOn, type AddOn } from './addon.js';
import { ACME_CLUSTER_ISSUER } from './ingress.js';
import { FROM_THE_API_SERVER, toApiServer, toInternet } from './network.js';
import { scrapeIngressForAddOn } from '../observability/scrape-targets.js';
import { webIdentityEnv, webIdentityMount, webIdentityVolume } from '../k8s/web-identity.js';

const NAME = 'cert-manager';
const ISSUER_FOLDER = 'acme-issuer';
export const LETS_ENCRYPT_SERVER = 'https://acme-v02.api.letsencrypt.org/directory';

const publicIngressOn = ({ config }: RenderContext) => config.publicIngress.enabled;

export function certManagerValues({ config, outputs }: RenderContext): Record<string, unknown> {
  const roleArn = outputs.roles.certManager;
  // The controller only: it is the process that calls Route 53.
  const identity = roleArn ? { volumes: [webIdentityVolume], volumeMounts: [webIdentityMount], extraEnv: webIdentityEnv({ roleArn, region: config.aws.region }) } : {};
  return {
    ...identity,
    crds: { enabled: true, keep: true },
    // Leader election in its own namespace: the platform project does not deploy into kube-system.
    global: { leaderElection: { namespace: NAMESPACES.certManager } },
    prometheus: { enabled: false },
  };
}

export const certManager: AddOn = chartAddOn({
  folder: NAME,
  namespace: NAMESPACES.certManager,
  chart: 'certManager',
  releaseName: NAME,
  wave: APPLICATION_WAVE.crdAddOns,
  enabled: publicIngressOn,
  description: () => 'cert-manager (chart) and its namespace, for the public ingress',
  values: certManagerValues,
  network: ({ config }) => ({
    egress: [
      { name: 'api-server', reason: 'the controller, cainjector and webhook work through the API server', to: [toApiServer(config)] },
      {
        name: 'acme',
        reason: "the controller talks to Let's Encrypt and Route 53 over HTTPS and checks DNS-01 propagation against the zone's authoritative servers on port 53",
        pods: { 'app.kubernetes.io/name': 'cert-manager' },
        to: [toInternet([{ port: 443 }, { port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }])],
      },
    ],
    ingress: [
      { name: 'webhook-from-api-server', pods: { 'app.kubernetes.io/name': 'webhook' }, from: [FROM_THE_API_SERVER], ports: [{ port: 'https' }] },
      scrapeIngressForAddOn(config, 'cert-manager'),
    ],
  }),
});

export const acmeIssuer: AddOn = {
  enabled: publicIngressOn,
  info: ({ config }) => ({ folder: ISSUER_FOLDER, description: `ClusterIssuer ${ACME_CLUSTER_ISSUER}: Let's Encrypt, DNS-01 on Route 53 zone ${config.publicIngress.route53HostedZoneId}`, versions: {} }),
  build(chart: Chart, { config }: RenderContext) {
    const { acmeEmail, route53HostedZoneId } = config.publicIngress;
    new ApiObject(chart, 'cluster-issuer', {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: ACME_CLUSTER_ISSUER, labels: addOnLabels(ISSUER_FOLDER) },
      spec: {
        acme: {
          server: LETS_ENCRYPT_SERVER,
          email: acmeEmail,
          // cert-manager creates and keeps the ACME account key itself.
          privateKeySecretRef: { name: `${ACME_CLUSTER_ISSUER}-account-key` },
          solvers: [{ dns01: { route53: { region: config.aws.region, hostedZoneID: route53HostedZoneId } } }],
        },
      },
    });
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.secretStore, namespace: NAMESPACES.certManager }),
};
