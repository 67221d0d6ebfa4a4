/**
 * The alerting rules Prometheus evaluates, rendered from the environment
 * config into the monitoring add-on. Each alert carries its runbook (what it
 * means, what to do first) in its annotations; every rule has a promtool unit
 * test (test/alert-rules.test.ts). Metric names were read from the pinned
 * versions:
 *
 * - LiteLLM 1.85.1 litellm/types/integrations/prometheus.py:
 *   litellm_deployment_total_requests, litellm_deployment_failure_responses
 *   (counters, exposed with _total; label api_provider), and the histogram
 *   litellm_llm_api_latency_metric (label model);
 * - Argo CD 3.3 controller: argocd_app_info (labels name, sync_status, health_status);
 * - External Secrets 2.5.0: externalsecret_status_condition (labels name, namespace, condition, status);
 * - Longhorn 1.12.0 manager: longhorn_volume_robustness (0 unknown, 1 healthy, 2 degraded, 3 faulted);
 * - kube-state-metrics 2.x (chart 8.4.0): kube_node_status_condition,
 *   kube_pod_container_status_waiting_reason, kube_deployment_status_replicas_available,
 *   and the custom-resource metrics this repository defines (kubeStateMetricsCustomResources);
 * - cert-manager v1.19.1: certmanager_certificate_expiration_timestamp_seconds.
 */
import type { EnvConfig } from '../config/schema.js';
import { NAMESPACES } from '../platform-names.js';
import { cronMaxIntervalSeconds } from './cron-interval.js';

/** K3s's etcd snapshot schedule; bootstrap/node/user-data.sh writes the same (a test keeps them equal). */
export const ETCD_SNAPSHOT_CRON = '0 */6 * * *';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: 'critical' | 'warning';
  summary: string;
  /** What it means and what to do first (the README's 3 a.m. table is made of these). */
  runbook: string;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** Share of failed LiteLLM requests to one provider above which it alerts. */
export const PROVIDER_ERROR_RATIO = 0.05;
/** p95 seconds of a model's upstream latency above which it alerts. */
export const PROVIDER_LATENCY_P95_SECONDS = 30;
/** Days before a certificate's expiry it alerts (cert-manager renews at 30 days left). */
export const CERTIFICATE_DAYS_LEFT = 14;

const hours = (seconds: number) => `${Math.round(seconds / 3600)}h`;

/** The alert groups of the environment. */
export function alertRuleGroups(config: EnvConfig): RuleGroup[] {
  const backupMax = 2 * cronMaxIntervalSeconds(config.longhorn.backups.cron);
  const etcdMax = 2 * cronMaxIntervalSeconds(ETCD_SNAPSHOT_CRON);
  const groups: RuleGroup[] = [
    {
      name: 'hub',
      rules: [
        {
          alert: 'LiteLLMProviderErrorRatioHigh',
          expr: `sum by (api_provider) (rate(litellm_deployment_failure_responses_total[10m])) / sum by (api_provider) (rate(litellm_deployment_total_requests_total[10m])) > ${PROVIDER_ERROR_RATIO}`,
          for: '10m',
          severity: 'warning',
          summary: 'More than 5 % of the requests LiteLLM sends to provider {{ $labels.api_provider }} fail.',
          runbook: 'The provider is failing or refusing us (outage, quota, revoked key). Check the provider\'s status page and the LiteLLM logs (kubectl -n litellm logs deploy/litellm) for the exception class; a 401 means the key in Secrets Manager is wrong (npm run secrets).',
        },
        {
          alert: 'LiteLLMProviderLatencyHigh',
          expr: `histogram_quantile(0.95, sum by (model, le) (rate(litellm_llm_api_latency_metric_bucket[10m]))) > ${PROVIDER_LATENCY_P95_SECONDS}`,
          for: '15m',
          severity: 'warning',
          summary: `The 95th percentile of model {{ $labels.model }}'s upstream latency is above ${PROVIDER_LATENCY_P95_SECONDS} s.`,
          runbook: 'Users wait for answers from this model. Check the provider\'s status page; if one provider is slow, tell users to switch model. Nothing in the cluster is wrong unless every model is slow (then check the node\'s CPU and network).',
        },
        {
          alert: 'LiteLLMDown',
          expr: `up{job="litellm"} == 0 or absent(up{job="litellm"}) or kube_deployment_status_replicas_available{namespace="${NAMESPACES.litellm}",deployment="litellm"} == 0`,
          for: '5m',
          severity: 'critical',
          summary: 'LiteLLM is not answering: no model works for anyone.',
          runbook: 'Look at the pods first: kubectl -n litellm get pods, then describe and logs of the failing one. Crash at start: a missing secret (npm run secrets -- list) or the database (the migration Job\'s logs). Argo CD shows whether a sync changed it.',
        },
        {
          alert: 'OpenWebUIDown',
          expr: `kube_deployment_status_replicas_available{namespace="${NAMESPACES.openWebUI}",deployment="open-webui"} == 0 or absent(kube_deployment_status_replicas_available{namespace="${NAMESPACES.openWebUI}",deployment="open-webui"})`,
          for: '5m',
          severity: 'critical',
          summary: 'Open WebUI has no available pod: users cannot reach the hub.',
          runbook: 'kubectl -n open-webui get pods; describe and logs of the failing pod. Common: database unreachable (Aurora), a missing secret, a failed volume attach (Longhorn).',
        },
      ],
    },
    {
      name: 'platform',
      rules: [
        {
          alert: 'ArgoCDApplicationNotSyncedOrHealthy',
          expr: 'max by (name) (argocd_app_info{sync_status!="Synced"} or argocd_app_info{health_status!="Healthy"}) > 0',
          for: '15m',
          severity: 'warning',
          summary: 'Argo CD Application {{ $labels.name }} has not been Synced and Healthy for 15 minutes.',
          runbook: 'Open the Application in the Argo CD UI (tailnet): the sync result names the resource that fails. OutOfSync with a sync error: fix the change in git (npm run render, validate). Degraded: the pod or volume it names.',
        },
        {
          alert: 'ExternalSecretNotReady',
          expr: 'max by (namespace, name) (externalsecret_status_condition{condition="Ready",status="False"}) == 1',
          for: '10m',
          severity: 'warning',
          summary: 'ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} is not Ready: its Secret is not being refreshed.',
          runbook: 'kubectl -n {{ $labels.namespace }} describe externalsecret {{ $labels.name }}: the event names the missing Secrets Manager entry or the access denied. An empty hand-set secret: npm run secrets -- list, then set it.',
        },
        {
          alert: 'LonghornVolumeDegraded',
          expr: 'max by (volume) (longhorn_volume_robustness) >= 2',
          for: '15m',
          severity: 'warning',
          summary: 'Longhorn volume {{ $labels.volume }} is degraded or faulted (fewer healthy replicas than configured).',
          runbook: 'Longhorn UI (port-forward longhorn-frontend in longhorn-system) shows the replica that failed and why; a node down or out of disk is the usual cause. Faulted (value 3): the data may be unreadable, restore from backup (docs/operations.md).',
        },
        {
          alert: 'LonghornBackupTooOld',
          expr: `time() - max by (volume) (longhorn_backup_created_timestamp_seconds) > ${backupMax}`,
          for: '30m',
          severity: 'warning',
          summary: `The last Longhorn backup of volume {{ $labels.volume }} is older than ${hours(backupMax)} (twice the schedule ${config.longhorn.backups.cron}).`,
          runbook: 'Backups stopped: check the backup target in the Longhorn UI (Settings → Backup Target: S3 reachable, the node role\'s S3 access) and the recurring job\'s last run (kubectl -n longhorn-system get recurringjobs, and the backup objects).',
        },
        {
          alert: 'EtcdSnapshotsMissing',
          expr: `time() - max(k3s_etcd_snapshot_created_timestamp_seconds) > ${etcdMax} or absent(k3s_etcd_snapshot_created_timestamp_seconds)`,
          for: '30m',
          severity: 'critical',
          summary: `No K3s etcd snapshot in the last ${hours(etcdMax)} (twice the schedule ${ETCD_SNAPSHOT_CRON}).`,
          runbook: 'Without snapshots the cluster cannot be recovered. On a server: journalctl -u k3s | grep -i snapshot, and k3s etcd-snapshot ls; an S3 error means the node role lost access to the etcd bucket.',
        },
        {
          alert: 'NodeDiskPressure',
          expr: 'max by (node) (kube_node_status_condition{condition="DiskPressure",status="true"}) == 1 or max by (node) (1 - node_filesystem_avail_bytes{mountpoint="/",fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{mountpoint="/",fstype!~"tmpfs|overlay"}) > 0.9',
          for: '10m',
          severity: 'critical',
          summary: 'Node {{ $labels.node }} is running out of disk (DiskPressure, or its root filesystem over 90 % full).',
          runbook: 'The kubelet evicts pods under disk pressure. On the node: df -h, then du on /var/lib/rancher (images: k3s crictl rmi --prune) and /var/lib/longhorn (volumes: grow the disk or move replicas).',
        },
        {
          alert: 'NodeMemoryPressure',
          expr: 'max by (node) (kube_node_status_condition{condition="MemoryPressure",status="true"}) == 1',
          for: '10m',
          severity: 'critical',
          summary: 'Node {{ $labels.node }} reports memory pressure.',
          runbook: 'Pods are being evicted. kubectl top pods -A --sort-by=memory names the largest; lower replicas or requests, or choose a larger instance type (the capacity check in npm run render tells whether it fits).',
        },
        {
          alert: 'PodCrashLooping',
          expr: 'max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}) == 1',
          for: '15m',
          severity: 'warning',
          summary: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping.',
          runbook: 'kubectl -n {{ $labels.namespace }} logs {{ $labels.pod }} -c {{ $labels.container }} --previous shows why it exited; describe shows OOMKilled (raise its memory limit) or a failed probe.',
        },
      ],
    },
  ];
  if (config.publicIngress.enabled) {
    groups[1]!.rules.push({
      alert: 'CertificateExpiringSoon',
      expr: `min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time() < ${CERTIFICATE_DAYS_LEFT * 86400}`,
      for: '1h',
      severity: 'critical',
      summary: `Certificate {{ $labels.namespace }}/{{ $labels.name }} of the public ingress expires in less than ${CERTIFICATE_DAYS_LEFT} days.`,
      runbook: 'cert-manager should have renewed it at 30 days left. kubectl -n {{ $labels.namespace }} describe certificate {{ $labels.name }}, then the CertificateRequest and Order: a failed ACME challenge usually means DNS or the port-80 path is wrong.',
    });
  }
  return groups;
}

/** The rule file Prometheus loads (alerting_rules.yml). */
export function alertingRulesFile(config: EnvConfig): Record<string, unknown> {
  return {
    groups: alertRuleGroups(config).map((group) => ({
      name: group.name,
      rules: group.rules.map((rule) => ({
        alert: rule.alert,
        expr: rule.expr,
        for: rule.for,
        labels: { severity: rule.severity, environment: config.name },
        annotations: { summary: rule.summary, runbook: rule.runbook },
      })),
    })),
  };
}

/**
 * kube-state-metrics custom-resource metrics the alerts use: when each
 * Longhorn backup and each K3s etcd snapshot was made (RFC 3339 timestamps in
 * their status, which kube-state-metrics turns into Unix seconds).
 */
export function kubeStateMetricsCustomResources(): Record<string, unknown> {
  return {
    kind: 'CustomResourceStateMetrics',
    spec: {
      resources: [
        {
          groupVersionKind: { group: 'longhorn.io', version: 'v1beta2', kind: 'Backup' },
          metricNamePrefix: 'longhorn_backup',
          labelsFromPath: { name: ['metadata', 'name'], volume: ['status', 'volumeName'] },
          metrics: [{ name: 'created_timestamp_seconds', help: 'When the Longhorn backup was created (status.backupCreatedAt).', each: { type: 'Gauge', gauge: { path: ['status', 'backupCreatedAt'] } } }],
        },
        {
          groupVersionKind: { group: 'k3s.cattle.io', version: 'v1', kind: 'ETCDSnapshotFile' },
          metricNamePrefix: 'k3s_etcd_snapshot',
          labelsFromPath: { name: ['metadata', 'name'], node: ['spec', 'nodeName'] },
          metrics: [{ name: 'created_timestamp_seconds', help: 'When the K3s etcd snapshot was taken (status.creationTime).', each: { type: 'Gauge', gauge: { path: ['status', 'creationTime'] } } }],
        },
      ],
    },
  };
}
