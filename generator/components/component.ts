/**
 * A component renders into one folder of rendered/<env>/, which becomes one
 * Argo CD Application. Each component is one cdk8s Chart.
 */
import { Chart, type App } from 'cdk8s';
import type { Environment } from '../config/load-environment.js';
import type { BootstrapOutputs, EnvConfig } from '../config/schema.js';
import type { KubernetesVersion } from '../kubernetes-version.js';
import type { ApplicationSettings, ChartSource } from '../argocd/application.js';
import { standardLabels, type Labels } from '../k8s/labels.js';
import { restrictedNamespace } from '../k8s/namespace.js';
import { namespaceBaseline } from '../k8s/network-policy.js';

export interface RenderContext {
  config: EnvConfig;
  outputs: BootstrapOutputs;
  kubernetes: KubernetesVersion;
}

export interface ComponentInfo {
  /** Folder under rendered/<env>/ and name of its Argo CD Application. */
  folder: string;
  /** One line for the environment README. */
  description: string;
  /** Pinned versions of what the component runs (image tags, chart versions). */
  versions: Record<string, string>;
}

export interface Component {
  info(context: RenderContext): ComponentInfo;
  /** Whether the environment runs this component at all. */
  enabled(context: RenderContext): boolean;
  build(chart: Chart, context: RenderContext): void;
  /**
   * How the Argo CD Application of this folder syncs it. Workload folders
   * without it use the table in generator/argocd/layer.ts.
   */
  application?(context: RenderContext): ApplicationSettings;
  /** The pinned Helm chart whose output the render adds to this folder (platform add-ons). */
  chart?(context: RenderContext): { namespace: string; source: ChartSource };
  /**
   * Runs after every component's build, with all their charts: for what is
   * derived from the other folders' objects (the reloader add-on's RBAC and
   * reload annotations).
   */
  finalize?(chart: Chart, context: RenderContext, charts: readonly Chart[]): void;
}

export function renderContext(environment: Environment, kubernetes: KubernetesVersion): RenderContext {
  return { config: environment.config, outputs: environment.outputs, kubernetes };
}

export function componentChart(app: App, folder: string): Chart {
  return new Chart(app, folder, { disableResourceNameHashes: true });
}

/** `repository:tag`, or `repository:tag@digest` once Renovate has pinned the digest. */
export function imageRef(image: { repository: string; tag: string; digest?: string }): string {
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
}

/**
 * The namespace a component owns: restricted Pod Security, default-deny
 * NetworkPolicies plus DNS. Returns the labels the component's objects carry.
 */
export function componentNamespace(
  chart: Chart,
  context: RenderContext,
  props: { namespace: string; name: string; component: string; version: string; holdsData: boolean },
): Labels {
  const labels = standardLabels(props.name, props.component, props.version);
  restrictedNamespace(chart, { name: props.namespace, labels: standardLabels(props.name, props.component), kubernetes: context.kubernetes, holdsData: props.holdsData });
  namespaceBaseline(chart, props.namespace, labels);
  return labels;
}
