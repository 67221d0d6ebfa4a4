/**
 * A schema migration Job per application version: named after the version so
 * it runs once per version, in the migrations sync wave (after the secrets,
 * before the serving pods), with a NetworkPolicy that lets it reach Aurora only.
 */
import type { Chart } from 'cdk8s';
import type { EnvConfig } from '../config/schema.js';
import type { Labels } from '../k8s/labels.js';
import { networkPolicy } from '../k8s/network-policy.js';
import type { RunAs } from '../k8s/security.js';
import { SYNC_WAVE } from '../k8s/sync-waves.js';
import { job, versionedJobName, type ContainerProps } from '../k8s/workload.js';
import { toAurora } from './shared-flows.js';

export interface MigrationJobProps {
  /** The application: its pods are `<app>-migrate`, the Job that plus the version, run under the app's ServiceAccount. */
  app: string;
  namespace: string;
  component: string;
  version: string;
  /** Labels of the component's namespace resources, for the NetworkPolicy. */
  labels: Labels;
  runAs: RunAs;
  container: ContainerProps;
  annotations?: Record<string, string>;
}

export function migrationJob(chart: Chart, config: EnvConfig, props: MigrationJobProps): void {
  const appName = `${props.app}-migrate`;
  const pods = { 'app.kubernetes.io/name': appName, 'app.kubernetes.io/component': props.component };
  networkPolicy(chart, { name: appName, namespace: props.namespace, labels: props.labels, pods, egress: [toAurora(config)] });
  job(chart, {
    name: versionedJobName(appName, props.version),
    appName,
    namespace: props.namespace,
    component: props.component,
    version: props.version,
    wave: SYNC_WAVE.migrations,
    runAs: props.runAs,
    serviceAccountName: props.app,
    podLabels: pods,
    annotations: props.annotations,
    containers: [props.container],
  });
}
