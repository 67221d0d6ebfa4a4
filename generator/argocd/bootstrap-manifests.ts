/**
 * What a new node needs to hand the cluster to Argo CD: a K3s HelmChart that
 * installs Argo CD with the same values its self-managing Application uses,
 * the `platform` AppProject, and the root Application for rendered/<env>/apps.
 * The AWS bootstrap embeds `argocdBootstrapYaml` in the node's user data; the
 * Argo CD layer renders the same objects so Argo CD takes them over.
 */
import { stringify } from 'yaml';
import type { EnvConfig } from '../config/schema.js';

export const ARGOCD_NAMESPACE = 'argocd';
export const ROOT_APPLICATION = 'root';
export const PLATFORM_PROJECT = 'platform';
export const APPS_PROJECT = 'apps';
export const IN_CLUSTER = 'https://kubernetes.default.svc';

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
      params: { 'server.insecure': true },
      cm: {
        'application.resourceTrackingMethod': 'annotation',
        'exec.enabled': false,
        'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
      },
    },
    dex: { enabled: false },
    notifications: { enabled: false },
  };
}

export function argocdHelmChart(config: EnvConfig): Manifest {
  const chart = config.addons.argocd;
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name: 'argo-cd', namespace: 'kube-system' },
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

/** Chart repositories the platform project may pull from. */
export function chartRepositories(config: EnvConfig): string[] {
  return [...new Set(Object.values(config.addons).map((chart) => chart.repoURL))].sort();
}

export function platformProject(config: EnvConfig): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: PLATFORM_PROJECT, namespace: ARGOCD_NAMESPACE, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
    spec: {
      description: 'Cluster-scoped platform add-ons and the Argo CD layer itself',
      sourceRepos: [config.git.repoURL, ...chartRepositories(config)],
      destinations: [{ server: IN_CLUSTER, namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  };
}

export const SYNC_RETRY = { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } } as const;

export function rootApplication(config: EnvConfig): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: ROOT_APPLICATION,
      namespace: ARGOCD_NAMESPACE,
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
      annotations: { 'argocd.argoproj.io/manifest-generate-paths': '.' },
    },
    spec: {
      project: PLATFORM_PROJECT,
      source: { repoURL: config.git.repoURL, targetRevision: config.git.targetRevision, path: `rendered/${config.name}/apps`, directory: { recurse: false } },
      destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: SYNC_RETRY, syncOptions: ['PrunePropagationPolicy=foreground'] },
    },
  };
}

/** Multi-document YAML the node drops into /var/lib/rancher/k3s/server/manifests/. */
export function argocdBootstrapYaml(config: EnvConfig): string {
  return [argocdHelmChart(config), platformProject(config), rootApplication(config)]
    .map((manifest) => stringify(manifest, { sortMapEntries: true, lineWidth: 0 }))
    .join('---\n');
}
