/**
 * rendered/<env>/apps: the AppProjects, the root Application (which syncs
 * this folder, itself included) and one Application per rendered folder.
 */
import { ApiObject, type Chart } from 'cdk8s';
import type { Component, ComponentInfo, RenderContext } from '../components/component.js';
import { NAMESPACES } from '../platform-names.js';
import { APPLICATION_WAVE, application, appProject, PROJECTS, type ApplicationSettings, type ArgoManifest, type GroupKind } from './application.js';
import { platformProject, rootApplication } from './bootstrap-manifests.js';

/** The workload folders (project `apps`): their namespace and wave. */
export const WORKLOAD_APPLICATIONS: Readonly<Record<string, { namespace: string; wave: number }>> = {
  database: { namespace: NAMESPACES.database, wave: APPLICATION_WAVE.databaseSetup },
  redis: { namespace: NAMESPACES.redis, wave: APPLICATION_WAVE.databaseSetup },
  litellm: { namespace: NAMESPACES.litellm, wave: APPLICATION_WAVE.migrations },
  'open-webui': { namespace: NAMESPACES.openWebUI, wave: APPLICATION_WAVE.workloads },
};

/** The only namespaces the `apps` project deploys into. */
export const APPS_NAMESPACES: readonly string[] = [NAMESPACES.openWebUI, NAMESPACES.litellm, NAMESPACES.redis, NAMESPACES.database];

/** The only kinds the `apps` project deploys. */
export const APPS_CLUSTER_KINDS: readonly GroupKind[] = [{ group: '', kind: 'Namespace' }];
export const APPS_NAMESPACED_KINDS: readonly GroupKind[] = [
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'PersistentVolumeClaim' },
  { group: '', kind: 'Service' },
  { group: '', kind: 'ServiceAccount' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' },
  { group: 'batch', kind: 'Job' },
  { group: 'external-secrets.io', kind: 'ExternalSecret' },
  { group: 'networking.k8s.io', kind: 'Ingress' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
];

export function appsProject(context: RenderContext): ArgoManifest {
  return appProject({
    name: PROJECTS.apps,
    description: 'Open WebUI, LiteLLM, Valkey and the database set-up, in their own namespaces only',
    sourceRepos: [context.config.git.repoURL],
    namespaces: [...APPS_NAMESPACES],
    clusterResources: [...APPS_CLUSTER_KINDS],
    namespacedResources: [...APPS_NAMESPACED_KINDS],
  });
}

export class MissingApplicationError extends Error {}

export function applicationSettings(component: Component, info: ComponentInfo, context: RenderContext): ApplicationSettings {
  if (component.application) return component.application(context);
  const workload = WORKLOAD_APPLICATIONS[info.folder];
  if (!workload) {
    throw new MissingApplicationError(
      `rendered/${context.config.name}/${info.folder} has no Argo CD Application: give its component an application() or add "${info.folder}" to WORKLOAD_APPLICATIONS in generator/argocd/layer.ts`,
    );
  }
  return { project: PROJECTS.apps, ...workload };
}

/** Every object of rendered/<env>/apps. */
export function argocdLayer(context: RenderContext, folders: { component: Component; info: ComponentInfo }[]): ArgoManifest[] {
  const { config } = context;
  return [
    platformProject(config),
    appsProject(context),
    rootApplication(config),
    ...folders.map(({ component, info }) => application(config, { name: info.folder, ...applicationSettings(component, info, context) })),
  ];
}

export function buildArgocdLayer(chart: Chart, context: RenderContext, folders: { component: Component; info: ComponentInfo }[]): void {
  for (const manifest of argocdLayer(context, folders)) {
    new ApiObject(chart, `${manifest.kind}-${manifest.metadata.name}`, manifest);
  }
}
