/**
 * Longhorn RecurringJobs: local snapshots and backups to the environment's
 * bucket for every volume (the "default" group holds every volume that names
 * no other group), and the backup target's credential Secret (the role ARN
 * only; ESO's CRDs exist by this wave).
 */
import { ApiObject, type Chart } from 'cdk8s';
import { APPLICATION_WAVE, PROJECTS } from '../argocd/application.js';
import type { RenderContext } from '../components/component.js';
import { NAMESPACES } from '../platform-names.js';
import { addOnLabels, type AddOn } from './addon.js';
import { longhornBackupCredential } from './longhorn-identity.js';

const NAME = 'longhorn-backups';

interface RecurringJobProps {
  name: string;
  task: 'snapshot' | 'backup';
  cron: string;
  retain: number;
}

function recurringJob(chart: Chart, props: RecurringJobProps): ApiObject {
  return new ApiObject(chart, `recurring-job-${props.name}`, {
    apiVersion: 'longhorn.io/v1beta2',
    kind: 'RecurringJob',
    metadata: { name: props.name, namespace: NAMESPACES.longhorn, labels: addOnLabels(NAME) },
    spec: { name: props.name, task: props.task, cron: props.cron, retain: props.retain, concurrency: 1, groups: ['default'], labels: {} },
  });
}

export const longhornBackups: AddOn = {
  enabled: () => true,
  info: ({ config }) => ({
    folder: NAME,
    description: `Longhorn RecurringJobs: snapshots (${config.longhorn.snapshots.cron}, keep ${config.longhorn.snapshots.retain}) and backups (${config.longhorn.backups.cron}, keep ${config.longhorn.backups.retain})`,
    versions: {},
  }),
  build(chart: Chart, context: RenderContext) {
    const { config } = context;
    longhornBackupCredential(chart, context, addOnLabels(NAME));
    recurringJob(chart, { name: 'snapshot', task: 'snapshot', ...config.longhorn.snapshots });
    recurringJob(chart, { name: 'backup', task: 'backup', ...config.longhorn.backups });
  },
  application: () => ({ project: PROJECTS.platform, wave: APPLICATION_WAVE.secretStore, namespace: NAMESPACES.longhorn }),
};
