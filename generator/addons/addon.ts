/**
 * A platform add-on: one folder of rendered/<env>/ (a Component) synced by
 * one Argo CD Application, usually together with a pinned Helm chart whose
 * values come from the environment config.
 */
import type { Chart } from 'cdk8s';
import { PROJECTS, type ApplicationSettings, type ChartException, type IgnoredField } from '../argocd/application.js';
import type { Component, RenderContext } from '../components/component.js';
import type { ChartConfig, EnvConfig } from '../config/schema.js';
import { standardLabels, type Labels } from '../k8s/labels.js';
import { podSecurityNamespace, restrictedNamespace } from '../k8s/namespace.js';
import { addOnNetworkPolicies, type AddOnNetworkProps } from './network.js';
import { withChartImagePins } from '../images/chart-images.js';

export interface AddOn extends Component {
  application(context: RenderContext): ApplicationSettings;
}

/** Labels of every object an add-on folder renders. */
export function addOnLabels(name: string): Labels {
  return standardLabels(name, 'platform');
}

/** `chart-name version` for the environment README. */
export function chartVersion(chart: ChartConfig): Record<string, string> {
  return { [`${chart.chart} chart`]: chart.version };
}

export interface ChartAddOnProps {
  /** Folder, Application name and label name. */
  folder: string;
  /** Release namespace; the folder renders it. */
  namespace: string;
  /** Key of the pinned chart in `addons` of the environment config. */
  chart: keyof EnvConfig['addons'];
  releaseName: string;
  wave: number;
  description(context: RenderContext): string;
  values(context: RenderContext): Record<string, unknown>;
  /** Policy exceptions for what the chart renders, each with its reason (a stale one is a render error). */
  exceptions?(context: RenderContext): ChartException[];
  enabled?(context: RenderContext): boolean;
  /** The namespace holds volume data or Argo CD itself: never pruned or deleted. */
  holdsData?: boolean;
  /** Makes the namespace privileged instead of restricted; says why. */
  privilegedReason?: string;
  /** The namespace's NetworkPolicies: what may reach its pods, and whether they need the instance metadata service. */
  network(context: RenderContext): Omit<AddOnNetworkProps, 'namespace' | 'labels'>;
  /** What the folder holds besides the namespace, its NetworkPolicies and the chart. */
  build?(chart: Chart, context: RenderContext, labels: Labels): void;
  serverSideApply?: boolean;
  ignoreDifferences?: IgnoredField[];
}

/** An add-on made of a pinned chart in its own namespace, plus whatever its folder adds. */
export function chartAddOn(props: ChartAddOnProps): AddOn {
  return {
    enabled: (context) => props.enabled?.(context) ?? true,
    info: (context) => ({ folder: props.folder, description: props.description(context), versions: chartVersion(context.config.addons[props.chart]) }),
    chart: (context) => ({
      namespace: props.namespace,
      source: {
        configKey: props.chart,
        chart: context.config.addons[props.chart],
        releaseName: props.releaseName,
        values: withChartImagePins(context.config, props.chart, props.values(context)),
        exceptions: props.exceptions?.(context) ?? [],
      },
    }),
    build(chart, context) {
      const labels = addOnLabels(props.folder);
      const namespace = { name: props.namespace, labels, kubernetes: context.kubernetes, holdsData: props.holdsData ?? false };
      if (props.privilegedReason) podSecurityNamespace(chart, { ...namespace, level: 'privileged', exceptionReason: props.privilegedReason });
      else restrictedNamespace(chart, namespace);
      addOnNetworkPolicies(chart, { namespace: props.namespace, labels, ...props.network(context) });
      props.build?.(chart, context, labels);
    },
    application: (context) => ({
      project: PROJECTS.platform,
      wave: props.wave,
      namespace: props.namespace,
      ...(props.serverSideApply ? { serverSideApply: true } : {}),
      ...(props.ignoreDifferences ? { ignoreDifferences: props.ignoreDifferences } : {}),
    }),
  };
}
