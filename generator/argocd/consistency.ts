/**
 * Checks that a rendered environment is deliverable by its Argo CD layer:
 * every folder and file is synced by exactly one Application, namespaces
 * exist before what lives in them, custom resources come after the
 * Application that syncs their CRD (the hydrated charts put every CRD in the
 * tree), every ExternalSecret reads the one store from a namespace it admits,
 * objects too large for client-side apply sync server-side, and the
 * AppProjects allow what their Applications deploy. (Which Secrets a pod may
 * read is the policy rule secret-from-external-secret.)
 * Each check returns a list of problems (empty when it holds), phrased for the
 * person who has to fix the generator.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadDocuments } from '../validate/fast-yaml.js';
import type { RenderContext } from '../components/component.js';
import { readsNoStore } from '../k8s/external-secret.js';
import { CLUSTER_SECRET_STORE, NAMESPACES } from '../platform-names.js';
import { ARGOCD_NAMESPACE, CREATE_NAMESPACE, GENERATE_PATHS_ANNOTATION, IGNORED_FIELDS_ANNOTATION, RESOURCES_FINALIZER, SYNC_OPTIONS_ANNOTATION, SYNC_WAVE_ANNOTATION } from './application.js';
import { APPS_FOLDER } from './bootstrap-manifests.js';

export interface Resource {
  /** Path relative to rendered/<env>/. */
  file: string;
  manifest: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [key: string]: unknown };
    spec?: any;
    [key: string]: unknown;
  };
}

/** Folders of rendered/<env>/ that no Application syncs. */
export const UNSYNCED_FOLDERS = ['bootstrap'] as const;

/** API groups served by Kubernetes (K3s) itself. */
export const BUILT_IN_GROUPS: readonly string[] = [
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apps',
  'autoscaling',
  'batch',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
];

export interface LayerFacts {
  /** Groups whose CRDs exist before Argo CD syncs anything (the bootstrap applies Argo CD's own). */
  preinstalledGroups: string[];
  /** Namespaces that exist before Argo CD syncs anything (made by K3s and the bootstrap). */
  preinstalledNamespaces: string[];
}

/** What the rendered tree cannot show: what exists before Argo CD's first sync. */
export function layerFacts(_context: RenderContext): LayerFacts {
  // The node applies rendered/<env>/argocd/ (Argo CD, its CRDs and namespace) before the root Application exists.
  return { preinstalledGroups: ['argoproj.io'], preinstalledNamespaces: [ARGOCD_NAMESPACE, NAMESPACES.kubeSystem] };
}

/** Every manifest under rendered/<env>/ (README.md and bootstrap/ aside). */
export function readRenderedResources(envDir: string): Resource[] {
  const resources: Resource[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const file = relative(envDir, path).split('\\').join('/');
      if (entry.isDirectory()) {
        if (!(UNSYNCED_FOLDERS as readonly string[]).includes(file)) walk(path);
      } else if (entry.name.endsWith('.yaml')) {
        resources.push({ file, manifest: loadDocuments(readFileSync(path, 'utf8'))[0] as Resource['manifest'] });
      }
    }
  };
  if (existsSync(envDir)) walk(envDir);
  return resources.sort((a, b) => (a.file < b.file ? -1 : 1));
}

export function folderOf(file: string): string {
  return file.split('/')[0]!;
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export interface SyncedApplication {
  name: string;
  wave: number;
  project: string;
  namespace: string;
  syncOptions: string[];
  /** Folders under rendered/<env>/ its git sources point at, with their recurse flag. */
  paths: { folder: string; recurse: boolean }[];
  sources: any[];
  manifest: Resource['manifest'];
}

export function applications(resources: Resource[], env: string): SyncedApplication[] {
  const prefix = `rendered/${env}/`;
  return resources
    .filter((resource) => folderOf(resource.file) === APPS_FOLDER && resource.manifest.kind === 'Application')
    .map(({ manifest }) => {
      const spec = manifest.spec ?? {};
      const sources: any[] = spec.sources ?? (spec.source ? [spec.source] : []);
      return {
        name: manifest.metadata.name,
        wave: Number(manifest.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? 0),
        project: spec.project,
        namespace: spec.destination?.namespace,
        syncOptions: spec.syncPolicy?.syncOptions ?? [],
        paths: sources
          .filter((source) => typeof source.path === 'string')
          .map((source) => ({
            folder: `${source.path}/`.startsWith(prefix) ? source.path.slice(prefix.length) : `(outside ${prefix}) ${source.path}`,
            recurse: source.directory?.recurse === true,
          })),
        sources,
        manifest,
      };
    });
}

function syncsFile(app: SyncedApplication, file: string): boolean {
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  return app.paths.some((path) => path.folder === dir || (path.recurse && (path.folder === '' || file.startsWith(`${path.folder}/`))));
}

/** Every folder (except bootstrap/) and every file is synced by exactly one Application. */
export function checkCoverage(resources: Resource[], env: string): string[] {
  const apps = applications(resources, env);
  const problems: string[] = [];
  const folders = [...new Set(resources.map((resource) => folderOf(resource.file)))].sort();
  for (const folder of folders) {
    const owners = apps.filter((app) => app.paths.some((path) => path.folder === folder)).map((app) => app.name);
    if (owners.length !== 1) problems.push(`folder ${folder}/ is synced by ${owners.length} Applications (${owners.join(', ') || 'none'}); expected exactly one`);
  }
  for (const app of apps) {
    for (const path of app.paths) {
      if (!folders.includes(path.folder)) problems.push(`Application ${app.name} syncs ${path.folder}, which is not a rendered folder of ${env}`);
    }
  }
  for (const { file } of resources) {
    const owners = apps.filter((app) => syncsFile(app, file)).map((app) => app.name);
    if (owners.length !== 1) problems.push(`${file} is synced by ${owners.length} Applications (${owners.join(', ') || 'none'}); expected exactly one`);
  }
  return problems;
}

/**
 * Client-side apply keeps the whole object in its last-applied annotation,
 * which the API server caps at 256 KiB; larger objects must sync server-side.
 */
export const CLIENT_SIDE_APPLY_LIMIT = 256 * 1024;

function syncsServerSide(app: SyncedApplication, manifest: Resource['manifest']): boolean {
  const own = (manifest.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION] ?? '').split(',').map((option) => option.trim());
  return own.includes('ServerSideApply=true') || (app.syncOptions.includes('ServerSideApply=true') && !own.includes('ServerSideApply=false'));
}

/** The sync rules every Application follows. */
export function checkApplicationPolicy(resources: Resource[], env: string): string[] {
  const problems: string[] = [];
  const renderedNamespaces = new Set(resources.filter((resource) => resource.manifest.kind === 'Namespace').map((resource) => resource.manifest.metadata.name));
  for (const app of applications(resources, env)) {
    const { metadata, spec } = app.manifest;
    const say = (problem: string) => problems.push(`Application ${app.name}: ${problem}`);
    if (!metadata.finalizers?.includes(RESOURCES_FINALIZER)) say(`no ${RESOURCES_FINALIZER}`);
    if (metadata.annotations?.[GENERATE_PATHS_ANNOTATION] === undefined) say(`no ${GENERATE_PATHS_ANNOTATION} annotation`);
    if (metadata.annotations?.[SYNC_WAVE_ANNOTATION] === undefined) say('no sync wave');
    if (!app.project || app.project === 'default') say(`project "${app.project ?? ''}": the default project is never used`);
    const automated = spec?.syncPolicy?.automated;
    if (automated?.prune !== true || automated?.selfHeal !== true) say('sync is not automated with prune and selfHeal');
    if (!spec?.syncPolicy?.retry?.backoff) say('no retry with backoff');
    if (app.sources.length === 0) say('no source');
    for (const resource of resources) {
      if (!syncsFile(app, resource.file) || syncsServerSide(app, resource.manifest)) continue;
      const size = Buffer.byteLength(JSON.stringify(resource.manifest));
      if (size > CLIENT_SIDE_APPLY_LIMIT) say(`${resource.file} is ${Math.round(size / 1024)} KiB, over client-side apply's 256 KiB annotation limit: sync it with ServerSideApply=true`);
    }
    if (app.syncOptions.includes(CREATE_NAMESPACE) && renderedNamespaces.has(app.namespace)) {
      say(`CreateNamespace=true although Namespace ${app.namespace} is rendered; drop the option`);
    }
    if (spec?.ignoreDifferences) {
      if (!metadata.annotations?.[IGNORED_FIELDS_ANNOTATION]) say(`ignoreDifferences without ${IGNORED_FIELDS_ANNOTATION} naming the controller that owns each field`);
      if (!app.syncOptions.includes('RespectIgnoreDifferences=true')) say('ignoreDifferences without RespectIgnoreDifferences=true (a sync would overwrite the controller)');
    }
  }
  return problems;
}

function ownerOf(apps: SyncedApplication[], file: string): SyncedApplication | undefined {
  return apps.find((app) => syncsFile(app, file));
}

/**
 * Every namespace a resource lives in is rendered by the same Application or
 * one of an earlier wave, or created by its Application (CreateNamespace=true),
 * or made before Argo CD runs (argocd by the bootstrap, kube-system by K3s).
 */
export function checkNamespaces(resources: Resource[], env: string, facts: LayerFacts): string[] {
  const apps = applications(resources, env);
  const problems: string[] = [];
  const namespaceWave = new Map<string, number>();
  for (const resource of resources) {
    if (resource.manifest.kind !== 'Namespace') continue;
    const owner = ownerOf(apps, resource.file);
    if (owner) namespaceWave.set(resource.manifest.metadata.name, owner.wave);
  }
  const exists = (namespace: string, app: SyncedApplication) => {
    const wave = namespaceWave.get(namespace);
    if (facts.preinstalledNamespaces.includes(namespace)) return true;
    return (wave !== undefined && wave <= app.wave) || (app.syncOptions.includes(CREATE_NAMESPACE) && app.namespace === namespace);
  };
  for (const resource of resources) {
    const namespace = resource.manifest.metadata.namespace;
    const owner = ownerOf(apps, resource.file);
    if (!namespace || !owner) continue;
    if (!exists(namespace, owner)) {
      problems.push(`${resource.file}: namespace ${namespace} is neither rendered by Application ${owner.name} or an earlier wave, nor created by it (CreateNamespace)`);
    }
  }
  return problems;
}

/** Every custom resource's CRD comes from an add-on in an earlier wave (or from the bootstrap). */
export function checkCrdOrder(resources: Resource[], env: string, facts: LayerFacts): string[] {
  const apps = applications(resources, env);
  const crds = new Map<string, Resource>();
  for (const resource of resources) {
    if (resource.manifest.kind !== 'CustomResourceDefinition') continue;
    crds.set(`${resource.manifest.spec?.group}/${resource.manifest.spec?.names?.kind}`, resource);
  }
  const problems: string[] = [];
  for (const resource of resources) {
    const group = groupOf(resource.manifest.apiVersion);
    if (BUILT_IN_GROUPS.includes(group) || facts.preinstalledGroups.includes(group)) continue;
    const what = `${resource.file} (${resource.manifest.kind} ${group})`;
    const crd = crds.get(`${group}/${resource.manifest.kind}`);
    if (!crd) {
      problems.push(`${what}: no rendered CRD defines ${resource.manifest.kind} in ${group}; the add-on whose chart provides it must be enabled`);
      continue;
    }
    const consumer = ownerOf(apps, resource.file);
    const provider = ownerOf(apps, crd.file);
    if (consumer && provider && provider !== consumer && provider.wave >= consumer.wave) {
      problems.push(`${what}: synced by ${consumer.name} in wave ${consumer.wave}, but its CRD (${crd.file}) by ${provider.name} in wave ${provider.wave}; the provider must sync in an earlier wave`);
    }
  }
  return problems;
}

/** Secret names a pod template reads: envFrom, env valueFrom and volumes. */
export function podSecretNames(podSpec: any): string[] {
  const names = new Set<string>();
  const containers = [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])];
  for (const container of containers) {
    for (const source of container.envFrom ?? []) if (source.secretRef?.name) names.add(source.secretRef.name);
    for (const variable of container.env ?? []) if (variable.valueFrom?.secretKeyRef?.name) names.add(variable.valueFrom.secretKeyRef.name);
  }
  for (const volume of podSpec?.volumes ?? []) {
    if (volume.secret?.secretName) names.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) if (source.secret?.name) names.add(source.secret.name);
  }
  return [...names].sort();
}

function podSpecOf(manifest: Resource['manifest']): any {
  if (manifest.kind === 'Pod') return manifest.spec;
  if (manifest.kind === 'CronJob') return manifest.spec?.jobTemplate?.spec?.template?.spec;
  return manifest.spec?.template?.spec;
}

/** Every ExternalSecret reads the one ClusterSecretStore, from a namespace the store admits. */
export function checkSecretStore(resources: Resource[]): string[] {
  const problems: string[] = [];
  const externalSecrets = resources.filter((resource) => resource.manifest.kind === 'ExternalSecret');
  const store = resources.find((resource) => resource.manifest.kind === 'ClusterSecretStore' && resource.manifest.metadata.name === CLUSTER_SECRET_STORE);
  if (externalSecrets.length > 0 && !store) problems.push(`no ClusterSecretStore ${CLUSTER_SECRET_STORE} is rendered, but ${externalSecrets.length} ExternalSecrets read it`);
  const admitted: string[] | undefined = store?.manifest.spec?.conditions?.flatMap((condition: any) => condition.namespaces ?? []);
  for (const { file, manifest } of externalSecrets) {
    const namespace = manifest.metadata.namespace ?? '';
    // A settings Secret (generator/k8s/external-secret.ts settingsSecret) reads only a Fake generator, never the store.
    if (readsNoStore(manifest.spec)) continue;
    const ref = manifest.spec?.secretStoreRef;
    if (ref?.kind !== 'ClusterSecretStore' || ref?.name !== CLUSTER_SECRET_STORE) problems.push(`${file}: reads ${ref?.kind}/${ref?.name}, expected ClusterSecretStore/${CLUSTER_SECRET_STORE}`);
    if (admitted && !admitted.includes(namespace)) problems.push(`${file}: namespace ${namespace} is not among the namespaces ClusterSecretStore ${CLUSTER_SECRET_STORE} admits (${admitted.join(', ')})`);
  }
  return problems;
}

function allows(list: { group: string; kind: string }[] | undefined, group: string, kind: string): boolean {
  return (list ?? []).some((entry) => (entry.group === '*' || entry.group === group) && (entry.kind === '*' || entry.kind === kind));
}

/** The AppProjects allow every source, destination and kind their Applications deploy. */
export function checkProjects(resources: Resource[], env: string): string[] {
  const problems: string[] = [];
  const projects = new Map(resources.filter((resource) => resource.manifest.kind === 'AppProject').map((resource) => [resource.manifest.metadata.name, resource.manifest.spec ?? {}]));
  if (projects.has('default')) problems.push('an AppProject named default is rendered; nothing may use it');
  const apps = applications(resources, env);
  for (const app of apps) {
    const project = projects.get(app.project);
    if (!project) {
      problems.push(`Application ${app.name}: project ${app.project} is not rendered`);
      continue;
    }
    const destinations: string[] = (project.destinations ?? []).map((destination: any) => destination.namespace);
    const inDestinations = (namespace: string) => destinations.includes('*') || destinations.includes(namespace);
    for (const source of app.sources) {
      if (!(project.sourceRepos ?? []).includes(source.repoURL)) problems.push(`Application ${app.name}: project ${app.project} does not allow source ${source.repoURL}`);
    }
    if (!inDestinations(app.namespace)) problems.push(`Application ${app.name}: project ${app.project} does not allow destination namespace ${app.namespace}`);
  }
  for (const { file, manifest } of resources) {
    const app = ownerOf(apps, file);
    const project = app ? projects.get(app.project) : undefined;
    if (!app || !project) continue;
    const group = groupOf(manifest.apiVersion);
    const namespace = manifest.metadata.namespace;
    if (namespace) {
      const destinations: string[] = (project.destinations ?? []).map((destination: any) => destination.namespace);
      if (!destinations.includes('*') && !destinations.includes(namespace)) problems.push(`${file}: project ${app.project} does not allow namespace ${namespace}`);
      if (project.namespaceResourceWhitelist && !allows(project.namespaceResourceWhitelist, group, manifest.kind)) {
        problems.push(`${file}: project ${app.project} does not allow ${manifest.kind} (${group || 'core'}) in namespaces`);
      }
    } else if (!allows(project.clusterResourceWhitelist, group, manifest.kind)) {
      problems.push(`${file}: project ${app.project} does not allow cluster-scoped ${manifest.kind} (${group || 'core'})`);
    }
  }
  return problems;
}

/** Every check at once, for one rendered environment. */
export function checkArgocdLayer(resources: Resource[], env: string, facts: LayerFacts): string[] {
  return [
    ...checkCoverage(resources, env),
    ...checkApplicationPolicy(resources, env),
    ...checkNamespaces(resources, env, facts),
    ...checkCrdOrder(resources, env, facts),
    ...checkSecretStore(resources),
    ...checkProjects(resources, env),
  ];
}
