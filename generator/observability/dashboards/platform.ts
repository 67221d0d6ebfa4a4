/**
 * The platform dashboard: is the machinery healthy. Argo CD sync and health,
 * ExternalSecret readiness, Longhorn volumes and backup age, node resources.
 */
import { promql, type Dashboard } from './builder.js';

export const PLATFORM_DASHBOARD: Dashboard = {
  uid: 'platform',
  title: 'DubAI hub: platform health',
  description: 'Argo CD sync and health, ExternalSecret readiness, Longhorn volumes and backups, node CPU, memory and disk.',
  tags: ['dubai-hub', 'platform'],
  rows: [
    {
      title: 'Argo CD',
      panels: [
        { kind: 'stat', title: 'Applications not Synced', description: 'Applications whose live state differs from git.', width: 6, redFrom: 1, queries: [{ expr: 'count(argocd_app_info{sync_status!="Synced"}) or vector(0)' }] },
        { kind: 'stat', title: 'Applications not Healthy', description: 'Applications Degraded, Progressing, Missing or Unknown.', width: 6, redFrom: 1, queries: [{ expr: 'count(argocd_app_info{health_status!="Healthy"}) or vector(0)' }] },
        { kind: 'table', title: 'Applications out of line', description: 'Each Application that is not Synced and Healthy, with its states.', queries: [{ expr: 'argocd_app_info{sync_status!="Synced"} or argocd_app_info{health_status!="Healthy"}' }] },
        { kind: 'timeseries', title: 'Syncs by phase', description: 'Sync operations by result (Succeeded, Failed, Error).', width: 24, queries: [{ expr: promql.rateBy('argocd_app_sync_total', ['name', 'phase']), legend: '{{name}} {{phase}}' }] },
      ],
    },
    {
      title: 'External Secrets',
      panels: [
        { kind: 'stat', title: 'ExternalSecrets not Ready', description: 'ExternalSecrets whose Ready condition is not True: their Secret is stale or missing.', width: 6, redFrom: 1, queries: [{ expr: 'count(externalsecret_status_condition{condition="Ready", status!="True"} == 1) or vector(0)' }] },
        { kind: 'table', title: 'ExternalSecrets not Ready', description: 'Namespace and name of each ExternalSecret that is not Ready.', width: 18, queries: [{ expr: 'externalsecret_status_condition{condition="Ready", status!="True"} == 1' }] },
        { kind: 'timeseries', title: 'Sync errors', description: 'Failed reads of Secrets Manager, by ExternalSecret.', width: 24, queries: [{ expr: promql.rateBy('externalsecret_sync_calls_error', ['namespace', 'name']), legend: '{{namespace}}/{{name}}' }] },
      ],
    },
    {
      title: 'Longhorn',
      panels: [
        { kind: 'stat', title: 'Volumes degraded or faulted', description: 'Volume robustness: 1 healthy, 2 degraded, 3 faulted (0 unknown).', width: 6, redFrom: 1, queries: [{ expr: 'count(longhorn_volume_robustness > 1) or vector(0)' }] },
        { kind: 'table', title: 'Hours since the last backup, per volume', description: 'Age of each volume\'s newest backup. More than twice the backup schedule means backups stopped.', unit: 'short', width: 18, queries: [{ expr: '(time() - max by (volume) (longhorn_volume_last_backup_at > 0)) / 3600' }] },
        { kind: 'timeseries', title: 'Volume usage', description: 'Actual size of each volume over its capacity.', unit: 'percentunit', queries: [{ expr: 'max by (volume) (longhorn_volume_actual_size_bytes) / max by (volume) (longhorn_volume_capacity_bytes)', legend: '{{volume}}' }] },
        { kind: 'timeseries', title: 'Longhorn storage used per node', description: 'Storage Longhorn uses on each node over what it may use.', unit: 'percentunit', queries: [{ expr: 'longhorn_node_storage_usage_bytes / longhorn_node_storage_capacity_bytes', legend: '{{node}}' }] },
      ],
    },
    {
      title: 'Nodes',
      panels: [
        { kind: 'timeseries', title: 'CPU busy', description: 'Share of CPU time not idle, per node.', unit: 'percentunit', width: 8, queries: [{ expr: '1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', legend: '{{node}}' }] },
        { kind: 'timeseries', title: 'Memory used', description: 'Memory not available to new work, per node.', unit: 'percentunit', width: 8, queries: [{ expr: '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes', legend: '{{node}}' }] },
        { kind: 'timeseries', title: 'Disk used', description: 'Used share of each real filesystem.', unit: 'percentunit', width: 8, queries: [{ expr: '1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}', legend: '{{node}} {{mountpoint}}' }] },
        { kind: 'table', title: 'Node pressure conditions', description: 'Nodes reporting memory, disk or PID pressure, or not Ready.', queries: [{ expr: '(kube_node_status_condition{condition=~"MemoryPressure|DiskPressure|PIDPressure", status="true"} == 1) or (kube_node_status_condition{condition="Ready", status!="true"} == 1)' }] },
        { kind: 'timeseries', title: 'Container restarts', description: 'Restarts per pod over 15 minutes: a rising line is a crash loop.', queries: [{ expr: 'sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[15m])) > 0', legend: '{{namespace}}/{{pod}}' }] },
      ],
    },
  ],
};
