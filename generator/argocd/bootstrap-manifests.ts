/**
 * What a new node needs to hand the cluster to Argo CD: a K3s HelmChart that
 * installs Argo CD with the same values its self-managing Application uses,
 * the `platform` AppProject, and the root Application for rendered/<env>/apps.
 * `argocdBootstrapYaml` is rendered into rendered/<env>/bootstrap/, which the
 * node fetches from git at boot (never embedded in its user data); the Argo CD
 * layer renders the same objects (rendered/<env>/apps), so Argo CD takes them
 * over unchanged.
 */
import { stringify } from 'yaml';
import type { EnvConfig } from '../config/schema.js';
import { NAMESPACES } from '../platform-names.js';
import { APPLICATION_WAVE, application, appProject, ARGOCD_NAMESPACE, IN_CLUSTER, PROJECTS, SYNC_RETRY, type ArgoManifest } from './application.js';

export { ARGOCD_NAMESPACE, IN_CLUSTER, SYNC_RETRY };
export const ROOT_APPLICATION = 'root';
/** Folder of rendered/<env>/ the root Application syncs. */
export const APPS_FOLDER = 'apps';
export const PLATFORM_PROJECT = PROJECTS.platform;
export const APPS_PROJECT = PROJECTS.apps;
/**
 * Helm release name of Argo CD, the same for the K3s HelmChart and the
 * self-managing Application so both address the same objects (with the
 * chart's nameOverride "argocd" the server Service is `argocd-server`).
 */
export const ARGOCD_RELEASE = 'argocd';
export const ARGOCD_SERVER_SERVICE = 'argocd-server';

type Manifest = Record<string, unknown>;

/** Restores Application health so sync waves of child Applications wait (removed from Argo CD in 1.8). */
export const APPLICATION_HEALTH_LUA = [
  'hs = {}',
  'hs.status = "Progressing"',
  'hs.message = ""',
  'if obj.status ~= nil and obj.status.health ~= nil then',
  '  hs.status = obj.status.health.status',
  '  if obj.status.health.message ~= nil then',
  '    hs.message = obj.status.health.message',
  '  end',
  'end',
  'return hs',
  '',
].join('\n');

export function argocdHost(config: EnvConfig): string {
  return `${config.hostnames.argocd}.${config.hostnames.tailnetDomain}`;
}

/** Helm values of the argo-cd chart, shared by the bootstrap HelmChart and the self-managing Application. */
export function argocdHelmValues(config: EnvConfig): Record<string, unknown> {
  return {
    global: { domain: argocdHost(config) },
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
    // The UI is published by a Tailscale Ingress rendered in rendered/<env>/argocd.
    server: { ingress: { enabled: false } },
  };
}

export function argocdHelmChart(config: EnvConfig): Manifest {
  const chart = config.addons.argocd;
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name: ARGOCD_RELEASE, namespace: NAMESPACES.kubeSystem },
    spec: {
      chart: chart.chart,
      repo: chart.repoURL,
      version: chart.version,
      targetNamespace: ARGOCD_NAMESPACE,
      createNamespace: true,
      valuesContent: stringify(argocdHelmValues(config), { sortMapEntries: true, lineWidth: 0 }),
    },
  };
}

/** Chart repositories the platform project may pull from: exactly the pinned add-on charts. */
export function chartRepositories(config: EnvConfig): string[] {
  return [...new Set(Object.values(config.addons).map((chart) => chart.repoURL))].sort();
}

/** Namespaces the platform add-ons are installed into. */
export function platformNamespaces(config: EnvConfig): string[] {
  return [
    ARGOCD_NAMESPACE,
    NAMESPACES.externalSecrets,
    NAMESPACES.longhorn,
    NAMESPACES.tailscale,
    ...(config.publicIngress.enabled ? [NAMESPACES.certManager] : []),
  ].sort();
}

export function platformProject(config: EnvConfig): ArgoManifest {
  return appProject({
    name: PROJECTS.platform,
    description: 'Cluster-scoped platform add-ons and the Argo CD layer itself',
    sourceRepos: [config.git.repoURL, ...chartRepositories(config)],
    namespaces: platformNamespaces(config),
    // Add-on charts install CRDs, cluster roles, webhooks, storage and ingress classes.
    clusterResources: [{ group: '*', kind: '*' }],
  });
}

export function rootApplication(config: EnvConfig): ArgoManifest {
  return application(config, { name: ROOT_APPLICATION, folder: APPS_FOLDER, project: PROJECTS.platform, wave: APPLICATION_WAVE.projects, namespace: ARGOCD_NAMESPACE });
}

/** Multi-document YAML the node drops into /var/lib/rancher/k3s/server/manifests/. */
export function argocdBootstrapYaml(config: EnvConfig): string {
  return [argocdHelmChart(config), platformProject(config), rootApplication(config)]
    .map((manifest) => stringify(manifest, { sortMapEntries: true, lineWidth: 0 }))
    .join('---\n');
}
