/**
 * What a new node needs to hand the cluster to Argo CD: Argo CD itself, from
 * the very files of rendered/<env>/argocd/ its self-managing Application syncs
 * (listed in `argocd-install.txt`), then the `platform` AppProject and the
 * root Application for rendered/<env>/apps (`argocd-bootstrap.yaml`). Both are
 * rendered into rendered/<env>/bootstrap/, which the node fetches from git at
 * boot (never embedded in its user data); it applies them server-side with
 * Argo CD's own field manager, so Argo CD takes them over unchanged.
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
/** Helm release name of Argo CD (with the chart's nameOverride "argocd" the server Service is `argocd-server`). */
export const ARGOCD_RELEASE = 'argocd';
export const ARGOCD_SERVER_SERVICE = 'argocd-server';
/** The container port argocd-server serves the UI and API on (behind Service port 80). */
export const ARGOCD_SERVER_PORT = 8080;

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

/** Namespaces the platform add-ons are installed into. */
export function platformNamespaces(config: EnvConfig): string[] {
  return [
    ARGOCD_NAMESPACE,
    NAMESPACES.externalSecrets,
    NAMESPACES.longhorn,
    NAMESPACES.tailscale,
    NAMESPACES.systemUpgrade,
    ...(config.publicIngress.enabled ? [NAMESPACES.certManager] : []),
    NAMESPACES.monitoring,
    NAMESPACES.nodeExporter,
    NAMESPACES.grafana,
    NAMESPACES.logging,
    NAMESPACES.reloader,
    // Reloader's Roles only (generator/addons/reloader.ts derives these from the workloads that read the RDS-managed password; checkProjects refuses one outside this list).
    NAMESPACES.litellm,
    NAMESPACES.openWebUI,
  ].sort();
}

export function platformProject(config: EnvConfig): ArgoManifest {
  return appProject({
    name: PROJECTS.platform,
    description: 'Cluster-scoped platform add-ons and the Argo CD layer itself',
    // Charts are hydrated into rendered/: this repository is the only source.
    sourceRepos: [config.git.repoURL],
    namespaces: platformNamespaces(config),
    // Add-on charts install CRDs, cluster roles, webhooks, storage and ingress classes.
    clusterResources: [{ group: '*', kind: '*' }],
  });
}

export function rootApplication(config: EnvConfig): ArgoManifest {
  return application(config, { name: ROOT_APPLICATION, folder: APPS_FOLDER, project: PROJECTS.platform, wave: APPLICATION_WAVE.projects, namespace: ARGOCD_NAMESPACE });
}

/** The field manager of Argo CD's server-side apply: the bootstrap applies as Argo CD will. */
export const ARGOCD_FIELD_MANAGER = 'argocd-controller';

/** Multi-document YAML the node applies once Argo CD runs: the platform AppProject and the root Application. */
export function argocdBootstrapYaml(config: EnvConfig): string {
  return [platformProject(config), rootApplication(config)]
    .map((manifest) => stringify(manifest, { sortMapEntries: true, lineWidth: 0 }))
    .join('---\n');
}

/** A rendered file and its object, as the render holds them. */
interface RenderedFile {
  file: string;
  manifest: { apiVersion: string; kind: string };
}

const ARGOCD_GROUP = 'argoproj.io';

/**
 * The files of rendered/<env>/argocd/ the node applies before Argo CD runs, in
 * order: the namespace, the CRDs, then every object of the Kubernetes API or
 * of Argo CD's own CRDs. Custom resources of other add-ons (the repository
 * credentials' ExternalSecret) wait for Argo CD, whose Application syncs the
 * whole folder, these files included, unchanged.
 */
export function argocdInstallFiles(resources: readonly RenderedFile[], folder = 'argocd'): string[] {
  const rank = ({ manifest }: RenderedFile) => (manifest.kind === 'Namespace' ? 0 : manifest.kind === 'CustomResourceDefinition' ? 1 : 2);
  const installable = ({ manifest }: RenderedFile) => {
    const group = manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/')[0]! : '';
    return group === '' || group.endsWith('.k8s.io') || !group.includes('.') || group === ARGOCD_GROUP;
  };
  return resources
    .filter((resource) => resource.file.startsWith(`${folder}/`) && installable(resource))
    .sort((a, b) => rank(a) - rank(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .map((resource) => resource.file);
}
