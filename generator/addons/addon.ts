/**
 * A platform add-on: one folder of rendered/<env>/ (a Component) synced by
 * one Argo CD Application, usually together with a pinned Helm chart whose
 * values come from the environment config.
 */
import type { ApplicationSettings } from '../argocd/application.js';
import type { Component, RenderContext } from '../components/component.js';
import type { ChartConfig } from '../config/schema.js';
import { standardLabels, type Labels } from '../k8s/labels.js';

export interface SecretRef {
  namespace: string;
  name: string;
}

export interface AddOn extends Component {
  application(context: RenderContext): ApplicationSettings;
  /** API groups whose CRDs this add-on's chart installs; custom resources of these groups sync in later waves. */
  readonly providesApiGroups?: readonly string[];
  /** Secrets the chart's pods read, which an ExternalSecret of the same namespace must produce. */
  chartSecrets?(context: RenderContext): SecretRef[];
}

/** Labels of every object an add-on folder renders. */
export function addOnLabels(name: string): Labels {
  return standardLabels(name, 'platform');
}

/** `chart-name version` for the environment README. */
export function chartVersion(chart: ChartConfig): Record<string, string> {
  return { [`${chart.chart} chart`]: chart.version };
}
