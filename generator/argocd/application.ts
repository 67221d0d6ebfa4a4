/**
 * The one Application builder and the one AppProject builder of the Argo CD
 * layer. Every Application (root, add-ons, workloads) is made by
 * `application()`, so the finalizer, automated sync, retry, refresh paths and
 * full target ref hold everywhere by construction.
 */
import type { ChartConfig, EnvConfig } from '../config/schema.js';

export const ARGOCD_NAMESPACE = 'argocd';
export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
/** Per-resource sync options (Prune=false, ServerSideApply=true, …). */
export const SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
export const GENERATE_PATHS_ANNOTATION = 'argocd.argoproj.io/manifest-generate-paths';
/** Names the controller that owns each ignored field (ignoreDifferences entries cannot carry a comment). */
export const IGNORED_FIELDS_ANNOTATION = 'dubai-hub.example/ignore-differences';
export const CREATE_NAMESPACE = 'CreateNamespace=true';

export const PROJECTS = { platform: 'platform', apps: 'apps' } as const;
export type ProjectName = (typeof PROJECTS)[keyof typeof PROJECTS];

/**
 * Sync waves of the Applications in rendered/<env>/apps. With the Application
 * health check configured, each wave waits until the Applications of the
 * previous one are Healthy.
 */
export const APPLICATION_WAVE = {
  /** AppProjects and the root Application itself. */
  projects: -60,
  /** Add-ons whose charts install CRDs: External Secrets, Longhorn, cert-manager. */
  crdAddOns: -40,
  /** The ClusterSecretStore and custom resources of the add-ons above (RecurringJobs, ClusterIssuer). */
  secretStore: -30,
  /** Add-ons whose pods need a Secret from an ExternalSecret first (Tailscale operator). */
  addOnsWithSecrets: -20,
  /** Custom resources of those add-ons (the Tailscale ProxyClass). */
  addOnConfig: -15,
  /** Argo CD managing itself: repository credentials, its UI on the tailnet. */
  argocd: -10,
  /** Database set-up Job and Valkey. */
  databaseSetup: 0,
  /** LiteLLM: its migration Job runs before its pods. */
  migrations: 10,
  /** Open WebUI, which needs all of the above. */
  workloads: 20,
  /** Add-ons that act in the workloads' namespaces once they exist (Reloader's Roles there). */
  afterWorkloads: 30,
} as const;

export const SYNC_RETRY = { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } } as const;

export type ArgoManifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  spec: Record<string, unknown>;
};

/** A pinned Helm chart, hydrated into its folder by the render (generator/charts/) with values from the environment config. */
export interface ChartSource {
  /** Key of the chart pin in `addons` of the environment config. */
  configKey: keyof EnvConfig['addons'];
  chart: ChartConfig;
  releaseName: string;
  values: Record<string, unknown>;
  /** Policy exceptions for objects the chart renders, added as annotations when it is hydrated. */
  exceptions?: ChartException[];
}

/** Exceptions to policy rules for one object of a chart: rule id → the reason, in a sentence. */
export interface ChartException {
  kind: string;
  name: string;
  allow: Record<string, string>;
}

/** A field a controller writes, which Argo CD must neither diff nor overwrite. */
export interface IgnoredField {
  group: string;
  kind: string;
  name?: string;
  jqPathExpressions: string[];
  /** The controller that owns the field. */
  owner: string;
}

export interface ApplicationSpec {
  /** Application name; also the folder under rendered/<env>/ it syncs unless `folder` says otherwise. */
  name: string;
  folder?: string;
  project: ProjectName;
  wave: number;
  /** Destination namespace (the chart's release namespace). */
  namespace: string;
  /** Needed where CRDs are too large for client-side apply (Argo CD itself, External Secrets). */
  serverSideApply?: boolean;
  /** Only where the folder renders no Namespace for the destination. */
  createNamespace?: boolean;
  ignoreDifferences?: IgnoredField[];
}

/** What a component says about its Application; the layer adds the name and folder. */
export type ApplicationSettings = Omit<ApplicationSpec, 'name' | 'folder'>;

export function renderedPath(config: EnvConfig, folder: string): string {
  return `rendered/${config.name}/${folder}`;
}

export function gitSource(config: EnvConfig, folder: string): Record<string, unknown> {
  return { repoURL: config.git.repoURL, targetRevision: config.git.targetRevision, path: renderedPath(config, folder), directory: { recurse: false } };
}

export function syncOptions(spec: Pick<ApplicationSpec, 'serverSideApply' | 'createNamespace' | 'ignoreDifferences'>): string[] {
  return [
    'PrunePropagationPolicy=foreground',
    'PruneLast=true',
    ...(spec.serverSideApply ? ['ServerSideApply=true'] : []),
    ...(spec.createNamespace ? [CREATE_NAMESPACE] : []),
    ...(spec.ignoreDifferences && spec.ignoreDifferences.length > 0 ? ['RespectIgnoreDifferences=true'] : []),
  ];
}

/** An Application syncing rendered/<env>/<name>: plain YAML, charts included (they are hydrated into the folder). */
export function application(config: EnvConfig, spec: ApplicationSpec): ArgoManifest {
  const git = gitSource(config, spec.folder ?? spec.name);
  const ignored = spec.ignoreDifferences ?? [];
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: spec.name,
      namespace: ARGOCD_NAMESPACE,
      finalizers: [RESOURCES_FINALIZER],
      annotations: {
        [SYNC_WAVE_ANNOTATION]: String(spec.wave),
        // Relative to each git source's path: only commits touching the folder refresh the Application.
        [GENERATE_PATHS_ANNOTATION]: '.',
        ...(ignored.length > 0 ? { [IGNORED_FIELDS_ANNOTATION]: ignored.map((field) => `${field.kind}: ${field.owner}`).join('; ') } : {}),
      },
    },
    spec: {
      project: spec.project,
      source: git,
      destination: { server: IN_CLUSTER, namespace: spec.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, retry: SYNC_RETRY, syncOptions: syncOptions(spec) },
      ...(ignored.length > 0
        ? { ignoreDifferences: ignored.map(({ owner: _owner, ...field }) => field) }
        : {}),
    },
  };
}

export interface GroupKind {
  group: string;
  kind: string;
}

export interface AppProjectSpec {
  name: ProjectName;
  description: string;
  sourceRepos: string[];
  namespaces: string[];
  clusterResources: GroupKind[];
  /** Omitted: every namespaced kind is allowed in the destinations. */
  namespacedResources?: GroupKind[];
}

export function appProject(spec: AppProjectSpec): ArgoManifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: spec.name, namespace: ARGOCD_NAMESPACE, finalizers: [RESOURCES_FINALIZER] },
    spec: {
      description: spec.description,
      sourceRepos: [...spec.sourceRepos],
      destinations: [...spec.namespaces].sort().map((namespace) => ({ server: IN_CLUSTER, namespace })),
      clusterResourceWhitelist: spec.clusterResources,
      ...(spec.namespacedResources ? { namespaceResourceWhitelist: spec.namespacedResources } : {}),
    },
  };
}
